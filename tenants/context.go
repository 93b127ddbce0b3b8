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
