package oidc

import (
	"errors"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// TestReadExchange checks the form rules of RFC 8693 §2.1 that need no
// token: required and paired parameters, the token types taken, one target.
func TestReadExchange(t *testing.T) {
	at := TokenTypeAccessToken
	base := func(extra ...string) url.Values {
		v := url.Values{"subject_token": {"s"}, "subject_token_type": {at}, "resource": {"https://api.test"}}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == "" {
				v.Del(extra[i])
				continue
			}
			v.Add(extra[i], extra[i+1])
		}
		return v
	}
	for _, tc := range []struct {
		name     string
		form     url.Values
		wantCode string
	}{
		{"minimal", base(), ""},
		{"audience instead of resource", base("resource", "", "audience", "https://api.test"), ""},
		{"resource and audience alike", base("audience", "https://api.test"), ""},
		{"with an actor", base("actor_token", "a", "actor_token_type", at), ""},
		{"requested access token", base("requested_token_type", at), ""},
		{"no subject token", base("subject_token", ""), httperr.InvalidRequest},
		{"no subject token type", base("subject_token_type", ""), httperr.InvalidRequest},
		{"jwt subject type", url.Values{"subject_token": {"s"}, "subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"}, "resource": {"x"}}, httperr.InvalidRequest},
		{"actor without type", base("actor_token", "a"), httperr.InvalidRequest},
		{"actor type without actor", base("actor_token_type", at), httperr.InvalidRequest},
		{"id token actor", base("actor_token", "a", "actor_token_type", "urn:ietf:params:oauth:token-type:id_token"), httperr.InvalidRequest},
		{"refresh token requested", base("requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token"), httperr.InvalidRequest},
		{"no target", base("resource", ""), httperr.InvalidTarget},
		{"two targets", base("audience", "https://other.test"), httperr.InvalidTarget},
		{"huge subject token", url.Values{"subject_token": {string(make([]byte, maxExchangedToken+1))}, "subject_token_type": {at}, "resource": {"x"}}, httperr.InvalidGrant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := readExchange(tc.form)
			var e *httperr.Error
			switch {
			case tc.wantCode == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantCode == "" && in.target != "https://api.test":
				t.Fatalf("target %q", in.target)
			case tc.wantCode != "" && (!errors.As(err, &e) || e.Code != tc.wantCode):
				t.Fatalf("err = %v, want %s", err, tc.wantCode)
			}
		})
	}
}
