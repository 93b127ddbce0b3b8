package cache

import (
	"context"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// A user's access (tenants.UserAccess) is kept by the user's access
// revision, not by the change feed: the database gives a user a new
// revision in the same transaction as any change of what the access is
// read from (migration 0031), and the token paths read the user anyway.
// An entry found under the revision just read is what the store would
// answer, on every node and at once; an entry of an older revision is
// never found again and ages out.

// DefaultAccess is how many users' access are kept unless configured
// (GATEHOUSE_CACHE_ACCESS).
const DefaultAccess = 50000

type accessKey struct {
	tenantID, userID string
	revision         int64
	query            tenants.AccessQuery
}

// UserAccess returns what q asks of the access of u, a user of the tenant
// of ctx (tenants.Store.UserAccess), from memory when it was read at u's
// access revision. u must have been read from the store for the request
// at hand, so that its revision is current; a user without one (0: read
// without the column, or made up of an id) is read afresh and not kept.
// The answer is shared: callers must not change it.
func (c *Cache) UserAccess(ctx context.Context, u *tenants.User, q tenants.AccessQuery) (*tenants.UserAccess, error) {
	t, ok := tenants.FromContext(ctx)
	if ok && u.TenantID != t.ID {
		return &tenants.UserAccess{Read: q}, nil // nothing in this tenant
	}
	if !ok || u.AccessRevision == 0 {
		return c.store.UserAccess(ctx, u.ID, q) // the store refuses a context without a tenant
	}
	k := accessKey{tenantID: t.ID, userID: u.ID, revision: u.AccessRevision, query: q}
	c.mu.Lock()
	a, ok := c.access.get(k)
	c.mu.Unlock()
	if ok {
		c.accessHits.Add(1)
		return a, nil
	}
	c.accessMisses.Add(1)
	a, err := c.store.UserAccess(ctx, u.ID, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.access.put(k, a)
	c.mu.Unlock()
	return a, nil
}
