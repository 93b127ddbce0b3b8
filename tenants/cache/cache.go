// Package cache keeps what the hot paths read on every request and what
// rarely changes — tenants by host, clients with their API grants — in
// memory, and keeps it correct when any node changes the data: every such
// change bumps the tenant's revision in the database, and a poller compares
// revisions and drops what is stale.
package cache

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Client is a client with what it may ask for: for each API audience it was
// granted, the API and the scopes allowed on it. A grant that lapses (the
// console's Try it grants) stops being served when it lapses, without
// waiting for a change of revision.
type Client struct {
	*tenants.Client
	Grants map[string]Grant
	// lapses is when the first of its grants that lapse does (zero: none
	// does): the entry is stale from then on.
	lapses time.Time
}

// fresh reports whether the entry still says what the store would at now.
func (c *Client) fresh(now time.Time) bool { return c.lapses.IsZero() || now.Before(c.lapses) }

// Grant is one API a client may request tokens for.
type Grant struct {
	API    *tenants.API
	Scopes []string
}

type tenantEntry struct {
	tenant  *tenants.Tenant
	clients map[string]*Client
}

type miss struct{ until time.Time }

// Cache is safe for concurrent use.
type Cache struct {
	store    *tenants.Store
	interval time.Duration
	now      func() time.Time

	mu     sync.RWMutex
	byID   map[string]*tenantEntry
	byHost map[string]string // host -> tenant id
	misses map[string]miss   // unknown hosts, remembered briefly
}

// New returns a cache over store whose entries are checked every interval.
func New(store *tenants.Store, interval time.Duration) *Cache {
	return &Cache{
		store:    store,
		interval: interval,
		now:      time.Now,
		byID:     map[string]*tenantEntry{},
		byHost:   map[string]string{},
		misses:   map[string]miss{},
	}
}

const maxMisses = 10000

// TenantByHost returns the tenant served at host (port stripped,
// case-insensitive), or tenants.ErrNotFound.
func (c *Cache) TenantByHost(ctx context.Context, host string) (*tenants.Tenant, error) {
	host = strings.ToLower(host)
	c.mu.RLock()
	if id, ok := c.byHost[host]; ok {
		t := c.byID[id].tenant
		c.mu.RUnlock()
		return t, nil
	}
	m, missed := c.misses[host]
	c.mu.RUnlock()
	if missed && c.now().Before(m.until) {
		return nil, tenants.ErrNotFound
	}
	t, err := c.store.TenantByHost(ctx, host)
	if errors.Is(err, tenants.ErrNotFound) {
		c.mu.Lock()
		if len(c.misses) >= maxMisses {
			clear(c.misses)
		}
		c.misses[host] = miss{until: c.now().Add(c.interval)}
		c.mu.Unlock()
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	c.put(t)
	return t, nil
}

// TenantBySlug returns the tenant with slug.
func (c *Cache) TenantBySlug(ctx context.Context, slug string) (*tenants.Tenant, error) {
	c.mu.RLock()
	for _, e := range c.byID {
		if e.tenant.Slug == slug {
			c.mu.RUnlock()
			return e.tenant, nil
		}
	}
	c.mu.RUnlock()
	t, err := c.store.TenantBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	c.put(t)
	return t, nil
}

func (c *Cache) put(t *tenants.Tenant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.byID[t.ID]; ok && old.tenant.Revision >= t.Revision {
		return
	}
	c.byID[t.ID] = &tenantEntry{tenant: t, clients: map[string]*Client{}}
	c.byHost[t.Host] = t.ID
	delete(c.misses, t.Host)
}

// Client returns the client with clientID of the tenant in ctx, with its
// grants, or tenants.ErrNotFound.
func (c *Cache) Client(ctx context.Context, clientID string) (*Client, error) {
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return nil, tenants.ErrNoTenant
	}
	c.mu.RLock()
	e, ok := c.byID[t.ID]
	var cl *Client
	if ok && e.tenant.Revision == t.Revision {
		cl = e.clients[clientID]
	}
	c.mu.RUnlock()
	if cl != nil && cl.fresh(c.store.Now()) {
		return cl, nil
	}
	cl, err := c.loadClient(ctx, clientID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if e, ok := c.byID[t.ID]; ok && e.tenant.Revision == t.Revision {
		e.clients[clientID] = cl
	}
	c.mu.Unlock()
	return cl, nil
}

func (c *Cache) loadClient(ctx context.Context, clientID string) (*Client, error) {
	row, err := c.store.ClientByClientID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	grants, err := c.store.ClientGrants(ctx, clientID)
	if err != nil {
		return nil, err
	}
	cl := &Client{Client: row, Grants: make(map[string]Grant, len(grants))}
	for _, g := range grants {
		api, err := c.store.APIByID(ctx, g.APIID)
		if errors.Is(err, tenants.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		cl.Grants[api.Audience] = Grant{API: api, Scopes: g.Scopes}
		if g.ExpiresAt != nil && (cl.lapses.IsZero() || g.ExpiresAt.Before(cl.lapses)) {
			cl.lapses = *g.ExpiresAt
		}
	}
	return cl, nil
}

// Invalidate drops what is cached of a tenant; the next read reloads it.
// The node that makes a change calls it so that it sees the change at once;
// other nodes see it at their next poll.
func (c *Cache) Invalidate(tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[tenantID]; ok {
		delete(c.byHost, e.tenant.Host)
		delete(c.byID, tenantID)
	}
	clear(c.misses)
}

// Refresh compares every cached tenant's revision with the database and
// drops those that changed or were deleted.
func (c *Cache) Refresh(ctx context.Context) error {
	revs, err := c.store.TenantRevisions(ctx)
	if err != nil {
		return err
	}
	current := make(map[string]int64, len(revs))
	for _, r := range revs {
		current[r.ID] = r.Revision
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, e := range c.byID {
		if rev, ok := current[id]; !ok || rev != e.tenant.Revision {
			delete(c.byHost, e.tenant.Host)
			delete(c.byID, id)
		}
	}
	now := c.now()
	for host, m := range c.misses {
		if !now.Before(m.until) {
			delete(c.misses, host)
		}
	}
	return nil
}

// Run polls for changes every interval until ctx ends.
func (c *Cache) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.Refresh(ctx); err != nil && ctx.Err() == nil {
				slog.WarnContext(ctx, "cache refresh failed", "err", err)
			}
		}
	}
}
