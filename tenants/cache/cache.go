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

type miss struct{ until time.Time }

// Config sizes a Cache and says how it follows the change feed.
type Config struct {
	// Poll is how often the feed is read when no notification can arrive
	// (SQLite, or PostgreSQL while the listener reconnects).
	Poll time.Duration
	// Fallback is how often the feed is read while notifications arrive,
	// so that a lost one only delays a change (0: DefaultFallback).
	Fallback time.Duration
	// Tenants, Clients and Access bound how many tenants, clients and
	// users' access are kept (0: the defaults).
	Tenants, Clients, Access int
}

const (
	// DefaultTenants and DefaultClients are the caches' sizes unless
	// configured (GATEHOUSE_CACHE_TENANTS, GATEHOUSE_CACHE_CLIENTS; the access of
	// users: DefaultAccess).
	DefaultTenants = 10000
	DefaultClients = 20000
	// DefaultFallback is how often a node that hears notifications reads
	// the feed anyway.
	DefaultFallback = 30 * time.Second
	// feedBatch is how many changes one query reads.
	feedBatch = 1000
	// maxDropped bounds the memory of recently dropped tenants (see
	// Cache.dropped).
	maxDropped = 10000
)

type clientKey struct{ tenantID, clientID string }

type clientEntry struct {
	revision int64 // the tenant's, when it was loaded
	client   *Client
}

// Cache is safe for concurrent use.
type Cache struct {
	store *tenants.Store
	cfg   Config
	now   func() time.Time

	mu      sync.Mutex
	tenants *lru[string, *tenants.Tenant] // by id
	byHost  map[string]string             // host -> tenant id, of cached tenants
	bySlug  map[string]string             // slug -> tenant id, of cached tenants
	// byDomain maps a verified custom domain to its tenant's id, and
	// domainsOf a cached tenant's id to the domains indexed for it.
	byDomain  map[string]string
	domainsOf map[string][]string
	clients   *lru[clientKey, *clientEntry]
	misses    map[string]miss // unknown hosts, remembered briefly
	access    *lru[accessKey, *tenants.UserAccess]

	// seq is the last change of the feed applied; started says whether
	// it was read at all.
	seq     int64
	started bool
	// A tenant read from the database before a change of it was applied
	// and cached after must not be cached: epoch counts the drops,
	// dropped holds the epoch each tenant was last dropped at, and
	// clearedAt the epoch at which everything was (or dropped forgot).
	epoch     uint64
	dropped   map[string]uint64
	clearedAt uint64

	listening atomic.Bool

	// What Stats reports: lookups answered from memory or not, and the
	// change feed's last read and lag. Counters are atomic so that the
	// hot paths take no lock for them.
	tenantHits, tenantMisses, clientHits, clientMisses atomic.Uint64
	accessHits, accessMisses                           atomic.Uint64
	feedReadAt                                         atomic.Int64 // unix nanoseconds
	feedLag                                            atomic.Int64 // nanoseconds
}

// Stats is what a cache has done since it started, for the metrics.
type Stats struct {
	// Tenants, Clients and Access are how many tenants, clients and
	// users' access are cached now.
	Tenants, Clients, Access int
	// TenantHits and TenantMisses count tenant lookups by host or slug
	// answered from memory or not (a remembered unknown host is a hit);
	// ClientHits and ClientMisses likewise for clients.
	TenantHits, TenantMisses, ClientHits, ClientMisses uint64
	// AccessHits and AccessMisses count reads of a user's access answered
	// from memory or not.
	AccessHits, AccessMisses uint64
	// TenantEvictions, ClientEvictions and AccessEvictions count entries
	// dropped to stay within the configured sizes.
	TenantEvictions, ClientEvictions, AccessEvictions uint64
	// FeedReadAt is when the change feed was last read without error
	// (zero: never); FeedLag how long the newest change it applied had
	// been committed before this node dropped what it named.
	FeedReadAt time.Time
	FeedLag    time.Duration
	// Listening reports whether PostgreSQL notifications are received.
	Listening bool
}

// Stats returns what the cache has done.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	st := Stats{Tenants: c.tenants.len(), Clients: c.clients.len(), Access: c.access.len(),
		TenantEvictions: c.tenants.evictions, ClientEvictions: c.clients.evictions, AccessEvictions: c.access.evictions}
	c.mu.Unlock()
	st.TenantHits, st.TenantMisses = c.tenantHits.Load(), c.tenantMisses.Load()
	st.ClientHits, st.ClientMisses = c.clientHits.Load(), c.clientMisses.Load()
	st.AccessHits, st.AccessMisses = c.accessHits.Load(), c.accessMisses.Load()
	if at := c.feedReadAt.Load(); at != 0 {
		st.FeedReadAt = time.Unix(0, at)
	}
	st.FeedLag = time.Duration(c.feedLag.Load())
	st.Listening = c.listening.Load()
	return st
}

// New returns a cache over store.
func New(store *tenants.Store, cfg Config) *Cache {
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Fallback <= 0 {
		cfg.Fallback = DefaultFallback
	}
	if cfg.Tenants <= 0 {
		cfg.Tenants = DefaultTenants
	}
	if cfg.Clients <= 0 {
		cfg.Clients = DefaultClients
	}
	if cfg.Access <= 0 {
		cfg.Access = DefaultAccess
	}
	c := &Cache{
		store:     store,
		cfg:       cfg,
		now:       time.Now,
		tenants:   newLRU[string, *tenants.Tenant](cfg.Tenants),
		byHost:    map[string]string{},
		bySlug:    map[string]string{},
		byDomain:  map[string]string{},
		domainsOf: map[string][]string{},
		clients:   newLRU[clientKey, *clientEntry](cfg.Clients),
		misses:    map[string]miss{},
		access:    newLRU[accessKey, *tenants.UserAccess](cfg.Access),
		dropped:   map[string]uint64{},
	}
	c.tenants.evicted = func(_ string, t *tenants.Tenant) { c.unindex(t) }
	return c
}

const maxMisses = 10000

// Len returns how many tenants and clients are cached.
func (c *Cache) Len() (tenantCount, clientCount int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tenants.len(), c.clients.len()
}

// Listening reports whether PostgreSQL notifications are being received.
func (c *Cache) Listening() bool { return c.listening.Load() }

// cachedBy returns the cached tenant with id, if any.
func (c *Cache) cachedBy(id string, ok bool) *tenants.Tenant {
	if !ok {
		return nil
	}
	t, _ := c.tenants.get(id)
	return t
}

// TenantByHost returns the tenant served at host (port stripped,
// case-insensitive), or tenants.ErrNotFound.
func (c *Cache) TenantByHost(ctx context.Context, host string) (*tenants.Tenant, error) {
	host = strings.ToLower(host)
	c.mu.Lock()
	id, ok := c.byHost[host]
	if t := c.cachedBy(id, ok); t != nil {
		c.mu.Unlock()
		c.tenantHits.Add(1)
		return t, nil
	}
	m, missed := c.misses[host]
	epoch := c.epoch
	c.mu.Unlock()
	if missed && c.now().Before(m.until) {
		c.tenantHits.Add(1)
		return nil, tenants.ErrNotFound
	}
	c.tenantMisses.Add(1)
	t, err := c.store.TenantByHost(ctx, host)
	if errors.Is(err, tenants.ErrNotFound) {
		c.miss(host)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	c.put(t, epoch)
	return t, nil
}

// TenantByDomain returns the tenant whose verified custom domain host is
// (port stripped, case-insensitive), as stored (the caller serves it
// at the domain: tenants.Tenant.ServedAt), or tenants.ErrNotFound. A
// domain verified or removed on any node is seen here once the change
// feed names its tenant.
func (c *Cache) TenantByDomain(ctx context.Context, host string) (*tenants.Tenant, error) {
	host = strings.ToLower(host)
	c.mu.Lock()
	id, ok := c.byDomain[host]
	if t := c.cachedBy(id, ok); t != nil {
		c.mu.Unlock()
		c.tenantHits.Add(1)
		return t, nil
	}
	m, missed := c.misses[host]
	epoch := c.epoch
	c.mu.Unlock()
	if missed && c.now().Before(m.until) {
		c.tenantHits.Add(1)
		return nil, tenants.ErrNotFound
	}
	c.tenantMisses.Add(1)
	t, err := c.store.TenantByDomain(ctx, host)
	if errors.Is(err, tenants.ErrNotFound) {
		c.miss(host)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if c.put(t, epoch) {
		c.mu.Lock()
		// Only while the tenant is still cached as read: a drop since
		// put forgot its domains with it.
		if cur, ok := c.tenants.get(t.ID); ok && cur.Revision == t.Revision && c.byDomain[host] == "" {
			c.byDomain[host] = t.ID
			c.domainsOf[t.ID] = append(c.domainsOf[t.ID], host)
		}
		c.mu.Unlock()
	}
	return t, nil
}

// miss remembers host as unknown for a poll interval.
func (c *Cache) miss(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.misses) >= maxMisses {
		clear(c.misses)
	}
	c.misses[host] = miss{until: c.now().Add(c.cfg.Poll)}
}

// TenantBySlug returns the tenant with slug.
func (c *Cache) TenantBySlug(ctx context.Context, slug string) (*tenants.Tenant, error) {
	c.mu.Lock()
	id, ok := c.bySlug[strings.ToLower(slug)]
	if t := c.cachedBy(id, ok); t != nil {
		c.mu.Unlock()
		c.tenantHits.Add(1)
		return t, nil
	}
	epoch := c.epoch
	c.mu.Unlock()
	c.tenantMisses.Add(1)
	t, err := c.store.TenantBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	c.put(t, epoch)
	return t, nil
}

// put caches t, read from the database when the drops counted epoch,
// unless a change of it was applied since: what was read may predate it.
// It reports whether t is what is cached now.
func (c *Cache) put(t *tenants.Tenant, epoch uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch < c.clearedAt || c.dropped[t.ID] > epoch {
		return false
	}
	if old, ok := c.tenants.get(t.ID); ok {
		if old.Revision >= t.Revision {
			return old.Revision == t.Revision
		}
		c.unindex(old)
	}
	c.tenants.put(t.ID, t)
	c.byHost[t.Host] = t.ID
	c.bySlug[strings.ToLower(t.Slug)] = t.ID
	delete(c.misses, t.Host)
	return true
}

// unindex forgets the host, slug and custom domains of t. c.mu is held.
func (c *Cache) unindex(t *tenants.Tenant) {
	for _, d := range c.domainsOf[t.ID] {
		if c.byDomain[d] == t.ID {
			delete(c.byDomain, d)
		}
	}
	delete(c.domainsOf, t.ID)
	if c.byHost[t.Host] == t.ID {
		delete(c.byHost, t.Host)
	}
	if s := strings.ToLower(t.Slug); c.bySlug[s] == t.ID {
		delete(c.bySlug, s)
	}
}

// Client returns the client with clientID of the tenant in ctx, with its
// grants, or tenants.ErrNotFound.
func (c *Cache) Client(ctx context.Context, clientID string) (*Client, error) {
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return nil, tenants.ErrNoTenant
	}
	key := clientKey{t.ID, clientID}
	c.mu.Lock()
	var cl *Client
	if e, ok := c.clients.get(key); ok && e.revision == t.Revision {
		cl = e.client
	}
	c.mu.Unlock()
	if cl != nil && cl.fresh(c.store.Now()) {
		c.clientHits.Add(1)
		return cl, nil
	}
	c.clientMisses.Add(1)
	cl, err := c.loadClient(ctx, clientID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	// Only under the revision the cache serves the tenant at: a client
	// of an older revision is never served again.
	if cur, ok := c.tenants.get(t.ID); ok && cur.Revision == t.Revision {
		c.clients.put(key, &clientEntry{revision: t.Revision, client: cl})
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
// other nodes see it when they read the change feed.
func (c *Cache) Invalidate(tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop(tenantID)
	clear(c.misses)
}

// drop forgets a tenant (its clients are keyed by its revision, and age
// out). c.mu is held.
func (c *Cache) drop(tenantID string) {
	c.epoch++
	if t, ok := c.tenants.remove(tenantID); ok {
		c.unindex(t)
	}
	if len(c.dropped) >= maxDropped {
		clear(c.dropped)
		c.clearedAt = c.epoch
	}
	c.dropped[tenantID] = c.epoch
}

// dropAll forgets every tenant and client. c.mu is held.
func (c *Cache) dropAll() {
	c.epoch++
	c.clearedAt = c.epoch
	clear(c.dropped)
	c.tenants.clear()
	c.clients.clear()
	clear(c.byHost)
	clear(c.bySlug)
	clear(c.byDomain)
	clear(c.domainsOf)
	clear(c.misses)
}

// Refresh reads the changes made since the last it read and drops the
// tenants they name. The first call drops everything cached and starts
// from the newest change; a node that fell behind the feed's pruning
// drops everything too.
func (c *Cache) Refresh(ctx context.Context) error {
	c.mu.Lock()
	started, seq := c.started, c.seq
	c.mu.Unlock()
	if !started {
		head, err := c.store.TenantChangesHead(ctx)
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.dropAll()
		c.seq, c.started = head, true
		c.mu.Unlock()
		c.feedReadAt.Store(c.now().UnixNano())
		return nil
	}
	for {
		changes, behind, err := c.store.TenantChangesSince(ctx, seq, feedBatch)
		if err != nil {
			return err
		}
		c.mu.Lock()
		if c.seq != seq { // another Refresh ran meanwhile
			c.mu.Unlock()
			return nil
		}
		if behind {
			tenants.Logger(ctx).WarnContext(ctx, "this node fell behind the tenant change feed; dropping its whole cache", "last_seen", seq)
			c.dropAll()
		}
		for _, ch := range changes {
			c.drop(ch.TenantID)
		}
		now := c.now()
		if len(changes) > 0 {
			clear(c.misses) // a tenant created may serve a host remembered as unknown
			last := changes[len(changes)-1]
			seq = last.Seq
			c.seq = seq
			c.feedLag.Store(int64(max(0, now.Sub(last.ChangedAt))))
		}
		c.feedReadAt.Store(now.UnixNano())
		for host, m := range c.misses {
			if !now.Before(m.until) {
				delete(c.misses, host)
			}
		}
		c.mu.Unlock()
		if len(changes) < feedBatch {
			return nil
		}
	}
}

// Run follows the change feed until ctx ends: on PostgreSQL it listens for
// notifications and reads the feed when one arrives, and every
// cfg.Fallback anyway; elsewhere, or while the listener is away, it reads
// the feed every cfg.Poll.
func (c *Cache) Run(ctx context.Context) {
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	go func() {
		err := c.store.ListenTenantChanges(ctx, poke, func(up bool) { c.listening.Store(up); poke() })
		if err != nil && !errors.Is(err, tenants.ErrNoNotify) && ctx.Err() == nil {
			tenants.Logger(ctx).WarnContext(ctx, "tenant change listener stopped", "err", err)
		}
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-timer.C:
		}
		if err := c.Refresh(ctx); err != nil && ctx.Err() == nil {
			tenants.Logger(ctx).WarnContext(ctx, "reading the tenant change feed failed", "err", err)
		}
		d := c.cfg.Poll
		if c.listening.Load() {
			d = c.cfg.Fallback
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(d)
	}
}
