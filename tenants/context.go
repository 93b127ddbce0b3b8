package tenants

import "context"

type tenantKey struct{}

// WithTenant returns a context whose tenant-scoped store calls act on t.
func WithTenant(ctx context.Context, t *Tenant) context.Context {
	return context.WithValue(ctx, tenantKey{}, t)
}

// FromContext returns the tenant carried by ctx, if any.
func FromContext(ctx context.Context) (*Tenant, bool) {
	t, ok := ctx.Value(tenantKey{}).(*Tenant)
	return t, ok && t != nil
}

// Origin is where a request came from: the audit log's address, user
// agent and request id of every event written while serving it.
type Origin struct {
	IP        string
	UserAgent string
	RequestID string
}

type originKey struct{}

// WithOrigin returns a context that carries o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the origin carried by ctx, if any.
func OriginFrom(ctx context.Context) (Origin, bool) {
	o, ok := ctx.Value(originKey{}).(Origin)
	return o, ok
}
