package webhook

import (
	"context"
	"net/url"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// logoutJob is a claimed back-channel logout delivery.
type logoutJob struct {
	d *Dispatcher
	c *tenants.ClaimedLogout
}

func (j logoutJob) id() string { return j.c.ID }

// deliver signs the logout token, posts it to the client's
// backchannel_logout_uri (Back-Channel Logout 1.0 §2.5: a form with
// logout_token; 200 or 204 is success) and records the outcome, with the
// webhooks' retries and backoff.
func (j logoutJob) deliver(ctx context.Context, token string) error {
	d, c := j.d, j.c
	status, sendErr := d.sendLogout(ctx, c)
	r := tenants.LogoutResult{Delivery: c, Token: token, OK: sendErr == nil, StatusCode: status}
	outcome := OutcomeDelivered
	if sendErr != nil {
		r.Error = describe(sendErr)
		var ok bool
		if r.NextAttempt, ok = d.retryAt(c.CreatedAt, c.Attempts); ok {
			outcome = OutcomeRetry
		} else {
			outcome = OutcomeFailed
		}
		d.log.InfoContext(ctx, "back-channel logout delivery failed", "tenant", c.TenantID, "client", c.ClientID, "delivery", c.ID,
			"attempt", c.Attempts+1, "err", sendErr)
	}
	if d.observe != nil {
		d.observe.LogoutDelivery(outcome)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return d.store.CompleteLogoutDelivery(wctx, r)
}

func (d *Dispatcher) sendLogout(ctx context.Context, c *tenants.ClaimedLogout) (int, error) {
	tok, err := d.logouts.LogoutToken(ctx, c)
	if err != nil {
		return 0, err
	}
	body := []byte(url.Values{"logout_token": {tok}}.Encode())
	return d.post(ctx, c.URL, "application/x-www-form-urlencoded", "Gatehouse-Logout/1", body, nil)
}
