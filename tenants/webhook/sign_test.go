package webhook_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants/webhook"
)

// TestSignatureMatchesTheSpec checks the signature against the example of
// the Standard Webhooks specification (and of its reference libraries).
func TestSignatureMatchesTheSpec(t *testing.T) {
	got, err := webhook.Signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0),
		[]byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

func TestSign(t *testing.T) {
	a, b := webhook.NewSecret(), webhook.NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secrets %q, %q", a, b)
	}
	h := http.Header{}
	ts := time.Unix(1700000000, 0)
	if err := webhook.Sign(h, []string{a, b}, "evt_1", ts, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	sa, _ := webhook.Signature(a, "evt_1", ts, []byte("{}"))
	sb, _ := webhook.Signature(b, "evt_1", ts, []byte("{}"))
	if h.Get("webhook-id") != "evt_1" || h.Get("webhook-timestamp") != "1700000000" || h.Get("webhook-signature") != sa+" "+sb {
		t.Fatalf("headers %v", h)
	}
	for _, bad := range []string{"", "whsec_", "whsec_!!!", "sk_" + strings.TrimPrefix(a, "whsec_"), "whsec_c2hvcnQ="} {
		if _, err := webhook.Signature(bad, "x", ts, nil); err == nil {
			t.Errorf("Signature(%q): want an error", bad)
		}
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name     string
		attempts int
		r        float64
		want     time.Duration
	}{
		{"first retry, least jitter", 0, 0, 5 * time.Second},
		{"first retry, most jitter", 0, 0.9999999999, 10 * time.Second},
		{"third retry", 2, 0, 20 * time.Second},
		{"capped", 30, 0, 30 * time.Minute},
		{"capped, most jitter", 1000, 0.9999999999, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := webhook.Backoff(10*time.Second, time.Hour, tt.attempts, tt.r)
			if d := got - tt.want; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("Backoff = %s, want %s", got, tt.want)
			}
		})
	}
}
