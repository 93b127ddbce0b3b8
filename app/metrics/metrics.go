// Package metrics is what a Gatehouse node reports to Prometheus: its own
// registry (never the process-wide default), the collectors the node
// updates, and the handler that serves them on the metrics listener.
package metrics

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Metrics holds one node's collectors. Label values are never taken from
// what a client sends: routes are the registered patterns, grant types and
// algorithms those the server supports.
type Metrics struct {
	reg          *prometheus.Registry
	tokensIssued *prometheus.CounterVec
	requests     *prometheus.HistogramVec
	webhooks     *prometheus.CounterVec
	logouts      *prometheus.CounterVec
	readRetries  prometheus.Counter
	audits       *prometheus.CounterVec
}

// New returns collectors registered on a registry of their own, with the
// Go runtime's and the process's.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		tokensIssued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_tokens_issued_total",
			Help: "Access tokens issued by the token endpoint, by grant type and signing algorithm.",
		}, []string{"grant_type", "alg"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_http_request_duration_seconds",
			Help:    "HTTP requests by route pattern, method and status, and how long they took.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_webhook_deliveries_total",
			Help: "Attempts at webhook deliveries, by outcome: delivered, retry (failed, to be tried again) or failed (given up).",
		}, []string{"outcome"}),
		logouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_backchannel_logout_deliveries_total",
			Help: "Attempts at back-channel logout deliveries (logout tokens posted to applications), by outcome: delivered, retry (failed, to be tried again) or failed (given up).",
		}, []string{"outcome"}),
		readRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_db_read_retries_total",
			Help: "Database reads sent again on a new connection because theirs dropped mid-statement (PostgreSQL restarting, a proxy or the network resetting connections).",
		}),
	}
	m.audits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_audit_events_total",
		Help: "Audit events written, by action and outcome: sign-ins (login.succeeded, login.failed), throttle locks, MFA challenges, federation rejections, token issues and every administrative change.",
	}, []string{"action", "outcome"})
	m.reg.MustRegister(m.tokensIssued, m.requests, m.audits, m.webhooks, m.logouts, m.readRetries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// TokenIssued counts an access token issued with grantType, signed with alg.
func (m *Metrics) TokenIssued(grantType, alg string) {
	m.tokensIssued.WithLabelValues(grantType, alg).Inc()
}

// WebhookDelivery counts an attempt at a webhook delivery by its outcome
// (webhook.OutcomeDelivered, OutcomeRetry or OutcomeFailed).
func (m *Metrics) WebhookDelivery(outcome string) {
	m.webhooks.WithLabelValues(outcome).Inc()
}

// LogoutDelivery counts an attempt at a back-channel logout delivery by
// its outcome (webhook.OutcomeDelivered, OutcomeRetry or OutcomeFailed).
func (m *Metrics) LogoutDelivery(outcome string) {
	m.logouts.WithLabelValues(outcome).Inc()
}

// ReadRetried counts a read the store sent again after its connection
// dropped (tenants.Store.ObserveReadRetries).
func (m *Metrics) ReadRetried() { m.readRetries.Inc() }

// AuditEvent counts an audit event written (tenants.Store.ObserveAudit).
// Actions are the server's own names; anything else (there should be
// nothing) is counted as "other", so no label value is ever unbounded.
func (m *Metrics) AuditEvent(action, outcome string) {
	if !auditAction.MatchString(action) {
		action = "other"
	}
	if !slices.Contains(tenants.AuditOutcomes, outcome) {
		outcome = "other"
	}
	m.audits.WithLabelValues(action, outcome).Inc()
}

var auditAction = regexp.MustCompile(`^[a-z][a-z_]{0,30}\.[a-z][a-z_.]{0,40}$`)

// Request observes one answered HTTP request. route is the pattern the
// request matched ("" for none).
func (m *Metrics) Request(route, method string, status int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(took.Seconds())
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
