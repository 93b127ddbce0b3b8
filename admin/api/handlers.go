package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
)

// The shapes most routes of one tenant's object share, so that a route
// table row names the service call and nothing else: the tenant comes from
// :slug, the object from the path parameter param (an id, or a name where
// the service reads one), and the answer is the service's.

// fetched answers 200 with what get returns for the object param names.
func fetched[T any](h *Handler, param string, get func(context.Context, string) (T, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, ref, err := h.object(c, param)
		if err != nil {
			return err
		}
		v, err := get(ctx, ref)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, v)
	}
}

// listed answers 200 with the items list returns for the object param
// names, unpaginated.
func listed[T any](h *Handler, param string, list func(context.Context, string) ([]T, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, ref, err := h.object(c, param)
		if err != nil {
			return err
		}
		xs, err := list(ctx, ref)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, items(xs))
	}
}

// deleted answers 204 once del deleted the object param names.
func deleted(h *Handler, param string, del func(context.Context, string) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, ref, err := h.object(c, param)
		if err != nil {
			return err
		}
		if err := del(ctx, ref); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// refBody is a request body that names one object to link to: ref
// returns the reference, or the field and how to fill it when it is empty.
type refBody interface {
	ref() (value, field, hint string)
}

// linked links the object param names to the one a body of type B names
// (add), and answers 200 with the links add returns.
func linked[T any, B any, PB interface {
	*B
	refBody
}](h *Handler, param string, add func(ctx context.Context, owner, ref string) ([]T, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, owner, err := h.object(c, param)
		if err != nil {
			return err
		}
		var b B
		if err := decode(c, &b); err != nil {
			return err
		}
		ref, field, hint := PB(&b).ref()
		if ref == "" {
			return badRequest(field, hint)
		}
		xs, err := add(ctx, owner, ref)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, items(xs))
	}
}

// unlinked answers 204 once remove ended the link between the objects the
// path parameters param and target name.
func unlinked(h *Handler, param, target string, remove func(ctx context.Context, owner, ref string) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, owner, err := h.object(c, param)
		if err != nil {
			return err
		}
		ref, err := pathParam(c, target)
		if err != nil {
			return err
		}
		if err := remove(ctx, owner, ref); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
