package samlidp

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/labstack/echo/v4"
	xrv "github.com/mattermost/xml-roundtrip-validator"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Single Logout (SAML Profiles §4.4, Core §3.7). SP-initiated: an
// application sends a LogoutRequest (HTTP-Redirect or HTTP-POST) naming
// its principal; Gatehouse ends every session that gave that application
// that NameID (only those with the SessionIndex, when the request names
// one; only the bringing browser's own, when the request is unsigned) and
// answers a signed LogoutResponse at the application's SLO URL.
// IdP-initiated: when a user signs out at Gatehouse, each application with
// an SLO URL that the session signed in to gets a signed LogoutRequest in
// a frame of the signed-out page (front-channel; the answers come back to
// the SLO service and change nothing). The other applications of a
// session an SP logged out are not told (no propagation).

// Audit actions of Single Logout.
const (
	ActionLogoutAccepted = "saml.logout_accepted"
	ActionLogoutDenied   = "saml.logout_denied"
	ActionLogoutSent     = "saml.logout_sent"
)

// logoutLifetime bounds a LogoutRequest Gatehouse sends (NotOnOrAfter) and
// how long a received one's id is remembered (beyond IssueInstant's
// window, so that a replay is refused as long as it could be accepted).
const logoutLifetime = 10 * time.Minute

// slo is the single logout service (Profiles §4.4.4): a LogoutRequest of
// one of this tenant's applications by either binding, or the
// LogoutResponse of one to Gatehouse's own request.
func (h *Handler) slo(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	var in *inbound
	response := false
	if c.Request().Method == http.MethodPost {
		msg := c.FormValue("SAMLRequest")
		if msg == "" {
			msg, response = c.FormValue("SAMLResponse"), true
		}
		in, err = fromPost(msg, c.FormValue("RelayState"))
	} else {
		param := "SAMLRequest"
		if c.QueryParam("SAMLRequest") == "" && c.QueryParam("SAMLResponse") != "" {
			param, response = "SAMLResponse", true
		}
		in, err = fromRedirectParam(c.Request().URL.RawQuery, param)
	}
	if err != nil {
		return badLogout(err)
	}
	if response {
		// An application answers a LogoutRequest of ours: its session here
		// ended when the user signed out; nothing to do but say so.
		if _, err := readLogout(in, "LogoutResponse"); err != nil {
			return badLogout(err)
		}
		return web.Render(c, http.StatusOK, views.SignedOutPage(views.SignedOutView{Meta: web.Meta(t, "logout.done_title")}))
	}
	root, err := readLogout(in, "LogoutRequest")
	if err != nil {
		return badLogout(err)
	}
	var raw saml.LogoutRequest
	if err := xml.Unmarshal(in.XML, &raw); err != nil || raw.Issuer == nil || raw.Issuer.Value == "" {
		return badLogout(bad("the LogoutRequest names no Issuer"))
	}
	app, err := h.store.SAMLAppByEntityID(ctx, raw.Issuer.Value)
	if errors.Is(err, tenants.ErrNotFound) {
		return badLogout(bad("The application that sent you here is not registered with %s.", t.DisplayName))
	}
	if err != nil {
		return httperr.Internal(err)
	}
	if app.SLOURL == "" {
		return badLogout(bad("This application does not take part in single logout with %s.", t.DisplayName))
	}
	x, signed, err := trusted(app, in, root)
	if err != nil {
		h.audit(ctx, "", app, ActionLogoutDenied, "denied", err.Error())
		return badLogout(err)
	}
	var req saml.LogoutRequest
	if err := xml.Unmarshal(x, &req); err != nil {
		return badLogout(bad("the signed LogoutRequest cannot be read"))
	}
	now := h.store.Now()
	if err := checkLogout(&req, signed, t.SAMLIdPSLOURL(), now); err != nil {
		h.audit(ctx, "", app, ActionLogoutDenied, "denied", err.Error())
		return badLogout(err)
	}
	if err := h.store.UseSAMLMessage(ctx, app.ID, req.ID, now.Add(logoutLifetime)); errors.Is(err, tenants.ErrAlreadyExists) {
		h.audit(ctx, "", app, ActionLogoutDenied, "denied", "LogoutRequest "+tenants.Truncate(req.ID, 64)+" replayed")
		return badLogout(bad("This logout request was already used."))
	} else if err != nil {
		return httperr.Internal(err)
	}
	sess, err := h.site.Session(c)
	if err != nil {
		return httperr.Internal(err)
	}
	// An unsigned request proves nothing of its sender, and a NameID (an
	// email) may be guessed: it ends only the session of the browser that
	// brings it (a top-level redirect carries our SameSite=Lax cookie; a
	// cross-site POST carries none, and ends nothing). A signed one ends
	// the sessions it names wherever they are.
	only := ""
	if !signed {
		only = "-"
		if sess != nil {
			only = tenants.SessionSID(sess)
		}
	}
	ended, userID, err := h.endParticipants(ctx, app, req.NameID.Value, sessionIndexes(&req), only)
	if err != nil {
		return httperr.Internal(err)
	}
	if sess != nil && ended[tenants.SessionSID(sess)] {
		if err := h.site.SignOut(c, t); err != nil {
			return httperr.Internal(err)
		}
	}
	h.audit(ctx, userID, app, ActionLogoutAccepted, "success", "LogoutRequest "+tenants.Truncate(req.ID, 64)+" ended "+plural(len(ended), "session"))
	return h.sendLogout(c, t, app, "SAMLResponse", in.RelayState, func(sg signer) (*etree.Element, error) {
		return logoutResponse(t, app, sg, req.ID, now)
	})
}

// readLogout reads a logout message's XML, well-formed and of root tag.
func readLogout(in *inbound, tag string) (*etree.Element, error) {
	if len(in.RelayState) > maxRelayState {
		return nil, bad("the RelayState is longer than %d bytes", maxRelayState)
	}
	if len(in.XML) > maxXML {
		return nil, bad("the message is too large")
	}
	if err := xrv.Validate(bytes.NewReader(in.XML)); err != nil {
		return nil, bad("the message is not well-formed XML")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(in.XML); err != nil || doc.Root() == nil {
		return nil, bad("the message is not well-formed XML")
	}
	if doc.Root().Tag != tag {
		return nil, bad("the message is not a %s", tag)
	}
	return doc.Root(), nil
}

// checkLogout validates a (verified) LogoutRequest received at slo at now
// (Core §3.7.1): version, ID, IssueInstant, NotOnOrAfter, Destination
// (required when signed) and a NameID.
func checkLogout(req *saml.LogoutRequest, signed bool, slo string, now time.Time) error {
	switch {
	case req.Version != "2.0":
		return bad("the LogoutRequest is not SAML 2.0")
	case req.ID == "" || len(req.ID) > maxRequestID:
		return bad("the LogoutRequest has no ID, or one too long")
	case req.IssueInstant.IsZero() || req.IssueInstant.Before(now.Add(-issueSkew)) || req.IssueInstant.After(now.Add(issueSkew)):
		return bad("the LogoutRequest is too old, or from the future (IssueInstant)")
	case req.NotOnOrAfter != nil && !now.Before(*req.NotOnOrAfter):
		return bad("the LogoutRequest has expired (NotOnOrAfter)")
	case (signed || req.Destination != "") && req.Destination != slo:
		return bad("the LogoutRequest is for another destination")
	case req.NameID == nil || req.NameID.Value == "" || len(req.NameID.Value) > maxRequestID:
		return bad("the LogoutRequest names no principal (NameID)")
	}
	return nil
}

// sessionIndexes are the SessionIndex values of a LogoutRequest (crewjam's
// type keeps one).
func sessionIndexes(req *saml.LogoutRequest) []string {
	if req.SessionIndex == nil || req.SessionIndex.Value == "" {
		return nil
	}
	return []string{req.SessionIndex.Value}
}

// endParticipants ends every session that gave app the NameID nameID
// (only those of the SessionIndex values, when there are any: Core
// §3.7.3.2; only the one with sid only, when only is set) and forgets
// what those sessions signed in to; it returns the sids ended and their
// user.
func (h *Handler) endParticipants(ctx context.Context, app *tenants.SAMLApp, nameID string, indexes []string, only string) (map[string]bool, string, error) {
	ps, err := h.store.SAMLParticipantsByNameID(ctx, app.ID, nameID)
	if err != nil {
		return nil, "", err
	}
	ended, userID := map[string]bool{}, ""
	for _, p := range ps {
		if len(indexes) > 0 && !slices.Contains(indexes, p.SessionIndex) || only != "" && p.SID != only {
			continue
		}
		ss, err := h.store.ListSessions(ctx, p.UserID)
		if err != nil {
			return nil, "", err
		}
		for i := range ss {
			if tenants.SessionSID(&ss[i]) == p.SID {
				if err := h.store.LogoutSession(ctx, ss[i].ID); err != nil {
					return nil, "", err
				}
			}
		}
		if err := h.store.DeleteSAMLParticipants(ctx, p.SID); err != nil {
			return nil, "", err
		}
		ended[p.SID], userID = true, p.UserID
	}
	return ended, userID, nil
}

// LogoutFrames returns, for session sess that is signing out, a signed
// LogoutRequest to each application with an SLO URL that the session
// signed in to (Profiles §4.4.3.1, front-channel), as frames of the
// signed-out page, and forgets those sign-ins. It is for the logout page
// (package login), called before the session ends.
func (h *Handler) LogoutFrames(ctx context.Context, t *tenants.Tenant, sess *tenants.Session) ([]views.LogoutFrame, error) {
	sid := tenants.SessionSID(sess)
	ps, err := h.store.SAMLParticipants(ctx, sid)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	set, err := h.keys.Keys(ctx, t)
	if err != nil {
		return nil, err
	}
	key, cert, err := set.SAMLSigner()
	if err != nil {
		return nil, err
	}
	sg := signer{key: key, cert: cert}
	now := h.store.Now()
	var frames []views.LogoutFrame
	for _, p := range ps {
		app, err := h.store.SAMLAppByID(ctx, p.AppID)
		if errors.Is(err, tenants.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if app.SLOURL == "" || !app.Enabled {
			continue
		}
		el, err := logoutRequest(t, app, sg, p, now)
		if err != nil {
			return nil, err
		}
		f, err := frame(app, sg, el)
		if err != nil {
			return nil, err
		}
		frames = append(frames, f)
		h.audit(ctx, sess.UserID, app, ActionLogoutSent, "success", "LogoutRequest "+el.SelectAttrValue("ID", "")+" sent with the sign-out")
	}
	if err := h.store.DeleteSAMLParticipants(ctx, sid); err != nil {
		return nil, err
	}
	return frames, nil
}

// sendLogout answers at app's SLO URL by its binding with the message make
// builds and signs (in the XML always, as SPs such as crewjam/saml expect
// in both bindings; in the query too for HTTP-Redirect, Bindings §3.4.4.1).
func (h *Handler) sendLogout(c echo.Context, t *tenants.Tenant, app *tenants.SAMLApp, param, relayState string,
	make func(signer) (*etree.Element, error)) error {
	set, err := h.keys.Keys(c.Request().Context(), t)
	if err != nil {
		return httperr.Internal(err)
	}
	key, cert, err := set.SAMLSigner()
	if err != nil {
		return httperr.Internal(err)
	}
	sg := signer{key: key, cert: cert}
	el, err := make(sg)
	if err != nil {
		return httperr.Internal(err)
	}
	b, err := serialize(el)
	if err != nil {
		return httperr.Internal(err)
	}
	if app.SLOBinding == tenants.BindingHTTPPost {
		params := url.Values{param: {base64.StdEncoding.EncodeToString(b)}}
		if relayState != "" {
			params.Set("RelayState", relayState)
		}
		return web.FormPost(c, web.Meta(t, "Continue"), httperr.Delivery{URI: app.SLOURL, Params: params, FormPost: true})
	}
	u, err := redirectURL(app.SLOURL, param, b, relayState, sg)
	if err != nil {
		return httperr.Internal(err)
	}
	return c.Redirect(http.StatusSeeOther, u)
}

// frame is a LogoutRequest el to app as a frame of the signed-out page.
func frame(app *tenants.SAMLApp, sg signer, el *etree.Element) (views.LogoutFrame, error) {
	b, err := serialize(el)
	if err != nil {
		return views.LogoutFrame{}, err
	}
	if app.SLOBinding == tenants.BindingHTTPPost {
		return views.LogoutFrame{Action: app.SLOURL, Fields: map[string]string{"SAMLRequest": base64.StdEncoding.EncodeToString(b)}}, nil
	}
	u, err := redirectURL(app.SLOURL, "SAMLRequest", b, "", sg)
	if err != nil {
		return views.LogoutFrame{}, err
	}
	return views.LogoutFrame{URL: u}, nil
}

// redirectURL is the HTTP-Redirect binding of message b as param to
// location (Bindings §3.4.4): deflated, base64, with the RelayState, and
// signed over SAMLRequest/SAMLResponse, RelayState and SigAlg as encoded.
func redirectURL(location, param string, b []byte, relayState string, sg signer) (string, error) {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(b); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	q := param + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
	if relayState != "" {
		q += "&RelayState=" + url.QueryEscape(relayState)
	}
	q += "&SigAlg=" + url.QueryEscape(dsig.RSASHA256SignatureMethod)
	sum := sha256.Sum256([]byte(q))
	sig, err := sg.key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return "", err
	}
	q += "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
	sep := "?"
	if strings.Contains(location, "?") {
		sep = "&"
	}
	return location + sep + q, nil
}

// logoutResponse is the signed answer to LogoutRequest inResponseTo of app
// (Core §3.7.2): success, the sessions it named having ended.
func logoutResponse(t *tenants.Tenant, app *tenants.SAMLApp, sg signer, inResponseTo string, now time.Time) (*etree.Element, error) {
	resp := &saml.LogoutResponse{ID: "_" + randomID(), InResponseTo: inResponseTo, Version: "2.0", IssueInstant: now, Destination: app.SLOURL,
		Issuer: &saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: t.SAMLIdPEntityID()},
		Status: saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}}}
	signed, err := signEl(sg, resp.Element())
	if err != nil {
		return nil, err
	}
	// The Signature goes after the Issuer (the schema's order).
	resp.Signature = signed.ChildElements()[len(signed.ChildElements())-1]
	return resp.Element(), nil
}

// logoutRequest is the signed LogoutRequest to app for the sign-in p
// (Core §3.7.1): its NameID and SessionIndex, valid for logoutLifetime.
func logoutRequest(t *tenants.Tenant, app *tenants.SAMLApp, sg signer, p tenants.SAMLParticipant, now time.Time) (*etree.Element, error) {
	until := now.Add(logoutLifetime)
	idp := t.SAMLIdPEntityID()
	req := &saml.LogoutRequest{ID: "_" + randomID(), Version: "2.0", IssueInstant: now, NotOnOrAfter: &until, Destination: app.SLOURL,
		Issuer:       &saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: idp},
		NameID:       &saml.NameID{Format: p.NameIDFormat, NameQualifier: idp, SPNameQualifier: app.EntityID, Value: p.NameID},
		SessionIndex: &saml.SessionIndex{Value: p.SessionIndex}}
	signed, err := signEl(sg, req.Element())
	if err != nil {
		return nil, err
	}
	req.Signature = signed.ChildElements()[len(signed.ChildElements())-1]
	return req.Element(), nil
}

func signEl(sg signer, el *etree.Element) (*etree.Element, error) {
	sctx, err := sg.context()
	if err != nil {
		return nil, err
	}
	return sctx.SignEnveloped(el)
}

func badLogout(err error) error {
	return httperr.Page(http.StatusBadRequest, "This sign-out request is not valid", "%s", err.Error())
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
