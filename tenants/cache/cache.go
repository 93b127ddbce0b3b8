// Package cache keeps what the hot paths read on every request and what
// rarely changes — tenants by host, clients with their API grants — in
// memory, and keeps it correct when any node changes the data: every such
// change bumps the tenant's revision in the database and appends a row to
// the change feed (tenant_changes), and a follower reads the rows after the
// last it saw (woken by PostgreSQL NOTIFY) and drops what they name.
package cache

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
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
	// epoch counts invalidations: a tenant read from the store is cached
	// only if none happened while it was read (else it may predate the
	// change that the invalidation was for, and nothing would drop it).
	epoch uint64

	// feedMu serializes reads of the change feed; last is the seq of the
	// newest change seen, valid once started; pruned is when this node
	// last pruned the feed.
	feedMu  sync.Mutex
	started bool
	last    int64
	pruned  time.Time
}

// New returns a cache over store that polls the change feed every interval
// (less often while notifications wake it), and remembers unknown hosts
// for interval.
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
	epoch := c.epoch
	c.mu.RUnlock()
	if missed && c.now().Before(m.until) {
		return nil, tenants.ErrNotFound
	}
	t, err := c.store.TenantByHost(ctx, host)
	if errors.Is(err, tenants.ErrNotFound) {
		c.mu.Lock()
		if c.epoch != epoch {
			c.mu.Unlock()
			return nil, err
		}
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
	c.put(t, epoch)
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
	epoch := c.epoch
	c.mu.RUnlock()
	t, err := c.store.TenantBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	c.put(t, epoch)
	return t, nil
}

func (c *Cache) put(t *tenants.Tenant, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch {
		return
	}
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
// other nodes see it when the change feed tells them.
func (c *Cache) Invalidate(tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invalidateLocked(tenantID)
}

func (c *Cache) invalidateLocked(tenantID string) {
	c.epoch++
	if e, ok := c.byID[tenantID]; ok {
		delete(c.byHost, e.tenant.Host)
		delete(c.byID, tenantID)
	}
	clear(c.misses)
}

// Feed settings: how long changes stay in the feed, how often a node
// prunes it, how many changes one query reads, and how often a node polls
// while PostgreSQL notifications wake it (a notification can be lost
// between a dropped connection and the reconnection's catch-up; this
// bounds how long a change can go unseen then).
const (
	Horizon      = time.Hour
	pruneEvery   = time.Minute
	changesPage  = 1000
	notifiedPoll = 5 * time.Second
)

// Refresh reads the change feed after the last change this cache saw and
// drops the tenants it names; the first call records where the feed is and
// drops everything (what was cached before may be older). A cache that fell
// behind the feed's horizon drops everything too. Its cost is that of the
// changes, not of the tenant count.
func (c *Cache) Refresh(ctx context.Context) error {
	c.feedMu.Lock()
	defer c.feedMu.Unlock()
	if !c.started {
		head, err := c.store.TenantChangesHead(ctx)
		if err != nil {
			return err
		}
		c.dropAll()
		c.last, c.started = head, true
	}
	for {
		changes, behind, err := c.store.TenantChangesSince(ctx, c.last, changesPage)
		if err != nil {
			return err
		}
		if behind {
			slog.WarnContext(ctx, "tenant cache fell behind the change feed; dropping it", "last_seen", c.last)
			c.dropAll()
		}
		if len(changes) > 0 {
			c.mu.Lock()
			for _, ch := range changes {
				c.invalidateLocked(ch.TenantID)
			}
			c.mu.Unlock()
			c.last = changes[len(changes)-1].Seq
		}
		if len(changes) < changesPage {
			break
		}
	}
	now := c.now()
	c.mu.Lock()
	for host, m := range c.misses {
		if !now.Before(m.until) {
			delete(c.misses, host)
		}
	}
	c.mu.Unlock()
	if now.Sub(c.pruned) >= pruneEvery {
		c.pruned = now
		if _, err := c.store.PruneTenantChanges(ctx, c.store.Now().Add(-Horizon)); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cache) dropAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.byID)
	clear(c.byHost)
	clear(c.misses)
}

// Run follows the change feed until ctx ends: on PostgreSQL a notification
// wakes it at once and it also polls every 5 s; without notifications (SQLite,
// or while the listening connection is down) it polls every interval.
func (c *Cache) Run(ctx context.Context) {
	wake := make(chan struct{}, 1)
	var listening atomic.Bool
	go func() {
		err := c.store.ListenTenantChanges(ctx, func() {
			select {
			case wake <- struct{}{}:
			default:
			}
		}, listening.Store)
		if err != nil && !errors.Is(err, tenants.ErrNoNotify) && ctx.Err() == nil {
			slog.WarnContext(ctx, "tenant change notifications stopped", "err", err)
		}
	}()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		if err := c.Refresh(ctx); err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, "cache refresh failed", "err", err)
		}
		next := c.interval
		if listening.Load() {
			next = max(next, notifiedPoll)
		}
		t.Stop()
		select {
		case <-t.C:
		default:
		}
		t.Reset(next)
	}
}
