package saml

import (
	"errors"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// initiated logs the harness's client in at the IdP and returns an
// IdP-initiated answer for our service provider.
func (h *harness) initiated(relayState string) *samltest.Form {
	h.t.Helper()
	h.idp.AddShortcut(h.t, "gatehouse", h.c.st.EntityID, relayState)
	if err := h.idp.Login(h.client, sam.Name, sam.Password); err != nil {
		h.t.Fatal(err)
	}
	form, err := h.idp.InitiatedResponse(h.client, "gatehouse")
	if err != nil {
		h.t.Fatal(err)
	}
	return form
}

func (h *harness) unsolicited(samlResponse string) (*federation.Identity, error) {
	return h.c.FinishUnsolicited(h.ctx, acsRequest(h.c.st.ACSURL, url.Values{"SAMLResponse": {samlResponse}}))
}

// TestSAMLFinishUnsolicited: an answer without a state is refused while
// IdP-initiated login is off; when on, it passes once (then it is a
// replay); an answer naming a request is ErrSolicited, and an assertion
// that answered a request does not pass as unsolicited.
func TestSAMLFinishUnsolicited(t *testing.T) {
	t.Parallel()
	off := newHarness(t, nil)
	_, err := off.unsolicited(off.initiated("").Fields.Get("SAMLResponse"))
	if got := reason(t, err); got != reasonIDPInitiated {
		t.Fatalf("IdP-initiated while off: reason %q", got)
	}

	on := newHarness(t, func(_ *samltest.IdP, cc *federation.ConnConfig) { cc.AllowIDPInitiated = true })
	form := on.initiated("https://evil.example/")
	id, err := on.unsolicited(form.Fields.Get("SAMLResponse"))
	if err != nil || id.Subject != "u-sam" || id.Issuer != on.idp.EntityID() || id.Email != sam.Email {
		t.Fatalf("IdP-initiated while on: %v, %+v", err, id)
	}
	_, err = on.unsolicited(form.Fields.Get("SAMLResponse"))
	if got := reason(t, err); got != reasonReplay {
		t.Fatalf("the same answer again: reason %q", got)
	}

	// An SP-initiated answer arrived without its state.
	l := on.login()
	if _, err := on.unsolicited(l.form.Fields.Get("SAMLResponse")); !errors.Is(err, federation.ErrSolicited) {
		t.Fatalf("a solicited answer: %v", err)
	}
	// The same, its Response's InResponseTo removed (the assertion alone
	// is signed): the assertion still answers the request.
	r := on.response(l)
	r.Root().RemoveAttr("InResponseTo")
	_, err = on.unsolicited(r.Encode())
	if got := reason(t, err); got != reasonInResponseTo {
		t.Fatalf("a solicited assertion as unsolicited: reason %q (%v)", got, err)
	}
	// And nothing was spent by that: the answer works with its state.
	if _, err := on.finish(l, l.form.Fields.Get("SAMLResponse")); err != nil {
		t.Fatalf("the answer with its state: %v", err)
	}

	// Garbage is refused for what it is, never a panic.
	for _, raw := range []string{"", "not base64!", "PGE+PC9hPg=="} {
		if _, err := on.unsolicited(raw); err == nil {
			t.Fatalf("%q accepted", raw)
		} else {
			var rej *federation.Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("%q: %v is no rejection", raw, err)
			}
		}
	}
}

// TestSAMLServiceUnsolicited: through federation.Service, an answer without
// a state of ours becomes a result bound to no auth request and to the
// binding handed back, taken once, only with that binding; with
// IdP-initiated login off, or for a solicited answer, the refusal and its
// audit event are as before.
func TestSAMLServiceUnsolicited(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(_ *samltest.IdP, cc *federation.ConnConfig) { cc.AllowIDPInitiated = true })
	post := func(samlResponse, relayState string) (*federation.Result, error) {
		return h.svc.Callback(h.ctx, h.conn.ID, relayState, "", acsRequest(h.c.st.ACSURL, url.Values{"SAMLResponse": {samlResponse}, "RelayState": {relayState}}))
	}
	for _, relay := range []string{"", "https://evil.example/", "an unknown state"} {
		res, err := post(h.initiated(relay).Fields.Get("SAMLResponse"), relay)
		if err != nil || res.Token == "" || res.Binding == "" {
			t.Fatalf("RelayState %q: %v %+v", relay, err, res)
		}
		// Not with the browser cookie in place of the binding, nor without.
		for _, wrong := range [][2]string{{secret.Hash(res.Binding), ""}, {"", ""}, {"", secret.Hash("another")}} {
			res2, err := post(h.initiated(relay).Fields.Get("SAMLResponse"), relay)
			if err != nil {
				t.Fatal(err)
			}
			_, _, _, err = h.svc.Continue(h.ctx, h.conn.ID, res2.Token, wrong[0], wrong[1])
			if rej := new(federation.Rejection); !errors.As(err, &rej) || rej.Reason != "the answer was posted from another browser" {
				t.Fatalf("continue with %q/%q: %v", wrong[0], wrong[1], err)
			}
		}
		conn, arID, id, err := h.svc.Continue(h.ctx, h.conn.ID, res.Token, secret.Hash("some browser"), secret.Hash(res.Binding))
		if err != nil || conn.ID != h.conn.ID || arID != "" || id.Subject != "u-sam" {
			t.Fatalf("continue: %v %q %+v", err, arID, id)
		}
		if _, _, _, err := h.svc.Continue(h.ctx, h.conn.ID, res.Token, "", secret.Hash(res.Binding)); !errors.Is(err, federation.ErrExpired) {
			t.Fatalf("continue twice: %v", err)
		}
	}

	// A solicited answer without its state: refused for the state.
	l := h.login()
	if _, err := post(l.form.Fields.Get("SAMLResponse"), ""); reasonOf(err) != "missing or malformed state" {
		t.Fatalf("a solicited answer without state: %v", err)
	}
	if _, err := post(l.form.Fields.Get("SAMLResponse"), "unknown"); reasonOf(err) != "unknown, used or expired state" {
		t.Fatalf("a solicited answer with an unknown state: %v", err)
	}

	// Switched off: refused, with its audit event.
	cfg, _ := federation.ParseConfig(h.conn)
	cfg.AllowIDPInitiated = false
	federation.SetConfig(h.conn, cfg)
	if err := h.store.UpdateConnection(h.ctx, h.conn); err != nil {
		t.Fatal(err)
	}
	t2, err := h.store.TenantByID(h.ctx, h.tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	ctx := tenants.WithTenant(h.ctx, t2) // the new revision: a new connector
	_, err = h.svc.Callback(ctx, h.conn.ID, "", "", acsRequest(h.c.st.ACSURL, url.Values{"SAMLResponse": {h.initiated("").Fields.Get("SAMLResponse")}}))
	if reasonOf(err) != reasonIDPInitiated {
		t.Fatalf("IdP-initiated while off: %v", err)
	}
	evs, err := h.store.ListAudit(ctx, tenants.AuditFilter{Action: "federation.rejected"})
	if err != nil || len(evs) == 0 || evs[0].Reason != reasonIDPInitiated || evs[0].TargetID != h.conn.ID {
		t.Fatalf("audit %+v (%v)", evs, err)
	}
}

func reasonOf(err error) string {
	var rej *federation.Rejection
	if errors.As(err, &rej) {
		return rej.Reason
	}
	return ""
}
