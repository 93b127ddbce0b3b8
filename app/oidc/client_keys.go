package oidc

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// How the key sets of jwks_uri clients are kept: each for keySetTTL after
// it was fetched; a kid not in it fetches it again, but no set is fetched
// more often than once per keySetRefetch, so that assertions with made-up
// kids cannot make the server hammer (or be used to hammer) a URL; at most
// maxKeySets are kept, the oldest going first.
const (
	keySetTTL     = 10 * time.Minute
	keySetRefetch = 30 * time.Second
	maxKeySets    = 1000
)

// keySource finds the keys that verify a client's assertions: the client's
// inline jwks, or the set at its jwks_uri, fetched through the one guarded
// upstream client. It is safe for concurrent use.
type keySource struct {
	up  *upstream.Client
	now func() time.Time

	mu   sync.Mutex
	sets map[keySetID]*keySet
}

// keySetID names a fetched set: the same URL registered by two clients (or
// two tenants) is fetched for each, so that no client's keys come from a
// fetch another made.
type keySetID struct{ tenant, client, uri string }

type keySet struct {
	keys []jose.JSONWebKey // nil until a fetch succeeded
	// fetched is when keys were fetched; tried when a fetch was last
	// started (successful or not).
	fetched, tried time.Time
}

func newKeySource(up *upstream.Client, now func() time.Time) *keySource {
	return &keySource{up: up, now: now, sets: map[keySetID]*keySet{}}
}

// verify returns the payload of jws, signed with alg by the key kid (or,
// without a kid, by one of the client's keys that fits alg) of client c.
func (k *keySource) verify(ctx context.Context, c *client, jws *jose.JSONWebSignature, kid, alg string) ([]byte, error) {
	keys, err := k.keys(ctx, c, kid, false)
	if err != nil {
		return nil, err
	}
	if kid != "" && !hasKid(keys, kid) && c.JWKSURI != "" {
		// An unknown kid: the client may have rotated its keys.
		if keys, err = k.keys(ctx, c, kid, true); err != nil {
			return nil, err
		}
	}
	for _, key := range keys {
		if (kid != "" && key.KeyID != kid) || !slices.Contains(tenants.KeyAlgorithms(key), alg) {
			continue
		}
		if payload, err := jws.Verify(key.Key); err == nil {
			return payload, nil
		}
	}
	return nil, errNoKey("no registered key of the client verifies the assertion")
}

func hasKid(keys []jose.JSONWebKey, kid string) bool {
	return slices.ContainsFunc(keys, func(k jose.JSONWebKey) bool { return k.KeyID == kid })
}

// keys returns the client's keys: its registered set, or the one at its
// jwks_uri (fetched when none is kept, when the kept one is older than
// keySetTTL, or when refresh asks and the last fetch was keySetRefetch ago).
func (k *keySource) keys(ctx context.Context, c *client, kid string, refresh bool) ([]jose.JSONWebKey, error) {
	switch {
	case c.TokenEndpointAuthMethod != tenants.AuthMethodPrivateKey:
		return nil, errNoKey("the client is not registered for private_key_jwt")
	case c.JWKS != "":
		set, err := tenants.ParseClientKeys("jwks", []byte(c.JWKS))
		if err != nil {
			return nil, err
		}
		return set.Keys, nil
	case c.JWKSURI == "" || k.up == nil:
		return nil, errNoKey("the client has no keys")
	}
	id := keySetID{c.tenant.ID, c.ClientID, c.JWKSURI}
	now := k.now()
	k.mu.Lock()
	s := k.sets[id]
	fresh := s != nil && s.keys != nil && now.Sub(s.fetched) < keySetTTL && !refresh
	if fresh || (s != nil && now.Sub(s.tried) < keySetRefetch) {
		var keys []jose.JSONWebKey
		if s.keys != nil {
			keys = s.keys
		}
		k.mu.Unlock()
		if keys == nil {
			return nil, errNoKey("the client's jwks_uri could not be fetched")
		}
		return keys, nil
	}
	if s == nil {
		k.evictLocked()
		s = &keySet{}
		k.sets[id] = s
	}
	s.tried = now
	k.mu.Unlock()

	keys, err := k.fetch(ctx, c.JWKSURI)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		if s.keys != nil {
			return s.keys, nil // keep what verified before
		}
		return nil, err
	}
	s.keys, s.fetched = keys, now
	return keys, nil
}

// evictLocked makes room for one more set, dropping the oldest.
func (k *keySource) evictLocked() {
	if len(k.sets) < maxKeySets {
		return
	}
	var oldest keySetID
	var at time.Time
	first := true
	for id, s := range k.sets {
		if first || s.tried.Before(at) {
			oldest, at, first = id, s.tried, false
		}
	}
	delete(k.sets, oldest)
}

// fetch gets and checks the key set at uri, as registration checks an
// inline one.
func (k *keySource) fetch(ctx context.Context, uri string) ([]jose.JSONWebKey, error) {
	body, err := k.up.Get(ctx, upstream.API, uri)
	if err != nil {
		return nil, fetchError{err}
	}
	set, err := tenants.ParseClientKeys("jwks_uri", body)
	if err != nil {
		return nil, errNoKey("the key set at the client's jwks_uri is not valid: " + err.Error())
	}
	return set.Keys, nil
}

// fetchError is a failed fetch of a jwks_uri: the client is refused, and
// the operator's log says why (an upstream.Error holds nothing of the
// answer).
type fetchError struct{ err error }

func (e fetchError) Error() string { return "fetch jwks_uri: " + e.err.Error() }
func (e fetchError) Unwrap() error { return e.err }
