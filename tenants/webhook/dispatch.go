package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// Config tunes a Dispatcher. Zero fields take the defaults.
type Config struct {
	// Poll is how often the outbox is looked at when it was empty
	// (default 1 s): a delivery leaves within about that of its event.
	Poll time.Duration
	// Retry is the wait after a first failure (default 10 s); each
	// further failure doubles it, up to MaxRetry (default 1 h), with
	// jitter.
	Retry, MaxRetry time.Duration
	// GiveUpAfter is how old a delivery may get before a failure is its
	// last (default 72 h).
	GiveUpAfter time.Duration
	// DisableAfter is how long an endpoint may fail without a success
	// before it is disabled (default 24 h).
	DisableAfter time.Duration
	// Batch is how many deliveries one claim takes (default 16), and
	// Workers how many are sent at once (default 4).
	Batch, Workers int
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Poll, time.Second)
	def(&c.Retry, 10*time.Second)
	def(&c.MaxRetry, time.Hour)
	def(&c.GiveUpAfter, 72*time.Hour)
	def(&c.DisableAfter, 24*time.Hour)
	if c.Batch <= 0 {
		c.Batch = 16
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	return c
}

// Observer counts deliveries of each outbox by outcome (OutcomeDelivered,
// OutcomeRetry, OutcomeFailed).
type Observer interface {
	WebhookDelivery(outcome string)
	LogoutDelivery(outcome string)
}

// Outcomes of an attempt.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"
	OutcomeFailed    = "failed"
)

// lease is how long a claim holds its deliveries: longer than any send
// (the upstream client's total limit is 15 s) plus the writing of its
// outcome, so that a delivery is sent by one node at a time; a node that
// dies holding a claim delays its deliveries by at most this.
const lease = time.Minute

// Dispatcher drains the outboxes of deliveries to other servers: the
// webhook outbox and the back-channel logout outbox (OpenID Connect
// Back-Channel Logout 1.0). Every node runs one, and the store's claims
// keep two from sending one delivery at once. Delivery is at least once:
// a node that dies after sending and before recording it leaves the
// delivery to be sent again when its lease ends. Both outboxes share the
// workers, the backoff and the SSRF-guarded client.
type Dispatcher struct {
	cfg     Config
	store   *tenants.Store
	client  *upstream.Client
	sealer  *Sealer
	logouts LogoutTokens
	log     *slog.Logger
	observe Observer
	wake    chan struct{}
}

// LogoutTokens signs the logout tokens (OpenID Connect Back-Channel Logout
// 1.0 §2.4) of claimed logout deliveries: the OpenID provider does, with
// the tenant's keys.
type LogoutTokens interface {
	LogoutToken(ctx context.Context, d *tenants.ClaimedLogout) (string, error)
}

// New returns a Dispatcher sending through client (the SSRF-guarded one),
// opening webhook secrets with sealer and signing logout tokens with
// logouts (nil: the logout outbox is left alone), logging to log (the
// node's logger; nil drops the lines). observe may be nil.
func New(cfg Config, store *tenants.Store, client *upstream.Client, sealer *Sealer, logouts LogoutTokens, log *slog.Logger, observe Observer) *Dispatcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{cfg: cfg.withDefaults(), store: store, client: client, sealer: sealer, logouts: logouts, log: log, observe: observe,
		wake: make(chan struct{}, 1)}
}

// Wake makes Run look at the outboxes now (after a redelivery, a logout).
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run drains the outboxes until ctx ends. It returns once the deliveries
// in flight are sent and recorded (each within the client's time limits);
// those claimed and not started are given back.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
		n, err := d.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "delivery outbox", "err", err)
		}
		wait := d.cfg.Poll
		if n == d.cfg.Batch {
			wait = 0
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(wait)
	}
}

// job is one claimed delivery of an outbox: its id, and the sending of it
// with the recording of its outcome under the claim token.
type job interface {
	id() string
	deliver(ctx context.Context, token string) error
}

// outbox is one queue a Dispatcher drains.
type outbox struct {
	claim   func(ctx context.Context, token string, limit int) ([]job, error)
	release func(ctx context.Context, token string, ids []string) error
}

func (d *Dispatcher) outboxes() []outbox {
	out := []outbox{{
		claim: func(ctx context.Context, token string, limit int) ([]job, error) {
			claimed, err := d.store.ClaimWebhookDeliveries(ctx, token, lease, limit)
			jobs := make([]job, len(claimed))
			for i := range claimed {
				jobs[i] = webhookJob{d, &claimed[i]}
			}
			return jobs, err
		},
		release: d.store.ReleaseWebhookDeliveries,
	}}
	if d.logouts != nil {
		out = append(out, outbox{
			claim: func(ctx context.Context, token string, limit int) ([]job, error) {
				claimed, err := d.store.ClaimLogoutDeliveries(ctx, token, lease, limit)
				jobs := make([]job, len(claimed))
				for i := range claimed {
					jobs[i] = logoutJob{d, &claimed[i]}
				}
				return jobs, err
			},
			release: d.store.ReleaseLogoutDeliveries,
		})
	}
	return out
}

// RunOnce claims one batch of due deliveries of each outbox, sends them and
// records what became of them; it returns the most it claimed of one
// outbox. When ctx ends it starts no more sends, lets those begun finish
// and gives back the rest.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	most := 0
	var errs []error
	for _, o := range d.outboxes() {
		n, err := d.drain(ctx, o)
		most = max(most, n)
		errs = append(errs, err)
	}
	return most, errors.Join(errs...)
}

// drain claims one batch of o and sends it.
func (d *Dispatcher) drain(ctx context.Context, o outbox) (int, error) {
	token := tenants.NewRandomID()
	claimed, err := o.claim(ctx, token, d.cfg.Batch)
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	work := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range min(d.cfg.Workers, len(claimed)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				// A send begun is finished and recorded even when ctx
				// ends: its outcome must not be lost.
				if err := j.deliver(context.WithoutCancel(ctx), token); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	var unsent []string
	for i := range claimed {
		select {
		case work <- claimed[i]:
			continue
		case <-ctx.Done():
		}
		for _, j := range claimed[i:] {
			unsent = append(unsent, j.id())
		}
		break
	}
	close(work)
	wg.Wait()
	if len(unsent) > 0 {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		errs = append(errs, o.release(rctx, token, unsent))
	}
	return len(claimed), errors.Join(errs...)
}

// webhookJob is a claimed webhook delivery.
type webhookJob struct {
	d *Dispatcher
	c *tenants.ClaimedDelivery
}

func (j webhookJob) id() string { return j.c.ID }

func (j webhookJob) deliver(ctx context.Context, token string) error {
	return j.d.deliver(ctx, token, j.c)
}

// deliver sends one delivery and records its outcome.
func (d *Dispatcher) deliver(ctx context.Context, token string, c *tenants.ClaimedDelivery) error {
	start := time.Now()
	status, sendErr := d.send(ctx, c)
	r := tenants.WebhookResult{Delivery: c, Token: token, OK: sendErr == nil, StatusCode: status, Took: time.Since(start),
		DisableAfter: d.cfg.DisableAfter}
	outcome := OutcomeDelivered
	if sendErr != nil {
		r.Error = describe(sendErr)
		var ok bool
		if r.NextAttempt, ok = d.retryAt(c.CreatedAt, c.Attempts); ok {
			outcome = OutcomeRetry
		} else {
			outcome = OutcomeFailed
		}
		d.log.InfoContext(ctx, "webhook delivery failed", "tenant", c.TenantID, "endpoint", c.EndpointID, "delivery", c.ID,
			"attempt", c.Attempts+1, "err", sendErr)
	}
	if d.observe != nil {
		d.observe.WebhookDelivery(outcome)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	disabled, err := d.store.CompleteWebhookDelivery(wctx, r)
	if disabled {
		d.log.WarnContext(ctx, "webhook endpoint disabled after a day of failures", "tenant", c.TenantID, "endpoint", c.EndpointID)
	}
	return err
}

// retryAt is when a delivery made at created that failed attempts times
// before this failure is tried again; false once it is too old to (its
// failure is its last).
func (d *Dispatcher) retryAt(created time.Time, attempts int) (time.Time, bool) {
	now := d.store.Now()
	if now.Sub(created) >= d.cfg.GiveUpAfter {
		return time.Time{}, false
	}
	return now.Add(Backoff(d.cfg.Retry, d.cfg.MaxRetry, attempts, rand.Float64())), true
}

// post sends body to url through the guarded client, checking the URL
// against the allow list first (it may have changed since the URL was
// saved); it returns the answer's status. A non-2xx answer is an error.
func (d *Dispatcher) post(ctx context.Context, url, contentType, userAgent string, body []byte, sign func(http.Header) error) (int, error) {
	if _, err := d.client.CheckPushURL(ctx, url); err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, &upstream.Error{Kind: upstream.KindURL}
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", userAgent)
	if sign != nil {
		if err := sign(req.Header); err != nil {
			return 0, err
		}
	}
	resp, err := d.client.HTTP(upstream.API).Do(req)
	if err != nil {
		var e *upstream.Error
		if errors.As(err, &e) && e.Kind == upstream.KindStatus {
			return e.Status, err
		}
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// send posts the delivery, signed; it returns the answer's status.
func (d *Dispatcher) send(ctx context.Context, c *tenants.ClaimedDelivery) (int, error) {
	secrets, err := d.secrets(c)
	if err != nil {
		return 0, err
	}
	body := []byte(c.Payload)
	return d.post(ctx, c.URL, "application/json", "Gatehouse-Webhooks/1", body, func(h http.Header) error {
		return Sign(h, secrets, c.EventID, time.Now(), body)
	})
}

// secrets returns the secrets a delivery is signed with now.
func (d *Dispatcher) secrets(c *tenants.ClaimedDelivery) ([]string, error) {
	cur, err := d.sealer.Open(c.TenantID, c.EndpointID, c.SecretSealed)
	if err != nil || cur == "" {
		return nil, fmt.Errorf("webhook %s: open secret: %w", c.EndpointID, errors.Join(err, errNoSecret))
	}
	out := []string{cur}
	if c.PreviousSecretUntil != nil && d.store.Now().Before(*c.PreviousSecretUntil) {
		prev, err := d.sealer.Open(c.TenantID, c.EndpointID, c.PreviousSecretSealed)
		if err == nil && prev != "" {
			out = append(out, prev)
		}
	}
	return out, nil
}

var errNoSecret = errors.New("no secret")

// describe is what the delivery log says of a failure, for the tenant's
// admins: a status, or one phrase for every way of not getting an answer
// (a refused address, a closed port, a timeout look alike, else the
// server would scan ports for them).
func describe(err error) string {
	var e *upstream.Error
	if errors.As(err, &e) {
		switch e.Kind {
		case upstream.KindStatus:
			return fmt.Sprintf("answered HTTP %d", e.Status)
		case upstream.KindTooLarge:
			return "the answer was too large"
		case upstream.KindURL:
			return "the URL is not one this server sends to"
		}
		return "could not be reached"
	}
	return "not sent: internal error"
}

// Backoff is the wait before the attempt after attempts failed ones:
// retry doubled per earlier failure, at most max, of which a random half
// (r in [0, 1)) so that the retries of many deliveries spread out.
func Backoff(retry, max time.Duration, attempts int, r float64) time.Duration {
	d := retry
	for range attempts {
		d *= 2
		if d >= max {
			d = max
			break
		}
	}
	return d/2 + time.Duration(r*float64(d/2))
}
