package api

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// maxImportBody bounds an import's body; it is read as it comes, so this
// bounds how long one request may keep a node busy, not memory.
const maxImportBody = 4 << 30

// boolParam reads an optional boolean query parameter.
func boolParam(c echo.Context, name string) (bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest(name, "must be true or false")
	}
	return b, nil
}

// ndjsonWriter writes JSON lines to the answer, beginning it (200) at the
// first line, so that an error before any line is still a problem
// document.
type ndjsonWriter struct {
	c       echo.Context
	name    string
	started bool
	n       int
	enc     *json.Encoder
}

func (w *ndjsonWriter) write(v any) error {
	res := w.c.Response()
	if !w.started {
		w.start()
	}
	if err := w.enc.Encode(v); err != nil {
		return err // the client went away
	}
	if w.n++; w.n%500 == 0 {
		res.Flush()
	}
	return nil
}

func (w *ndjsonWriter) start() {
	res := w.c.Response()
	res.Header().Set(echo.HeaderContentType, "application/x-ndjson")
	if w.name != "" {
		res.Header().Set("Content-Disposition", `attachment; filename="`+w.name+`"`)
	}
	res.WriteHeader(http.StatusOK)
	w.enc, w.started = json.NewEncoder(res), true
}

// end finishes the answer after err (nil: success): an error after the
// answer began aborts it, so that the caller sees a broken transfer.
func (w *ndjsonWriter) end(err error, what string) error {
	if err == nil {
		if !w.started {
			w.start()
		}
		w.c.Response().Flush()
		return nil
	}
	if !w.started {
		return err
	}
	tenants.Logger(w.c.Request().Context()).ErrorContext(w.c.Request().Context(), what, "err", err)
	panic(http.ErrAbortHandler)
}

// importUsers imports the NDJSON body and streams the report.
func (h *Handler) importUsers(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	update, err := boolParam(c, "update")
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type")); mt != "application/x-ndjson" && mt != "application/jsonl" && mt != "application/json" {
		return badRequest("", "send the users as NDJSON with Content-Type: application/x-ndjson")
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, maxImportBody)
	w := &ndjsonWriter{c: c}
	sum, err := h.svc.ImportUsers(ctx, body, admin.ImportOptions{Update: update}, func(r admin.ImportResult) error { return w.write(r) })
	if err == nil {
		err = w.write(map[string]any{"summary": sum})
	}
	return w.end(err, "user import")
}

// exportUsers streams the tenant's users as NDJSON.
func (h *Handler) exportUsers(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	hashes, err := boolParam(c, "password_hashes")
	if err != nil {
		return err
	}
	w := &ndjsonWriter{c: c, name: "users-" + t.Slug + ".ndjson"}
	err = h.svc.ExportUsers(ctx, hashes, func(r *admin.UserRecord) error { return w.write(r) })
	return w.end(err, "user export")
}

// startImportJob stores the NDJSON body as an import job and answers it.
func (h *Handler) startImportJob(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	update, err := boolParam(c, "update")
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type")); mt != "application/x-ndjson" && mt != "application/jsonl" && mt != "application/json" {
		return badRequest("", "send the users as NDJSON with Content-Type: application/x-ndjson")
	}
	j, err := h.svc.StartImportJob(ctx, http.MaxBytesReader(c.Response(), c.Request().Body, maxImportBody), admin.ImportOptions{Update: update})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", admin.APIPath+"/tenants/"+t.Slug+"/users/import-jobs/"+j.ID)
	return c.JSON(http.StatusAccepted, j)
}

func (h *Handler) getImportJob(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	j, err := h.svc.GetImportJob(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}
