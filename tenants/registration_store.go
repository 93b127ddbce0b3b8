package tenants

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Who may register clients at a tenant (RFC 7591 §3): nobody, holders of
// an initial access token an admin created, or anyone (throttled per
// address).
const (
	RegistrationOff   = "off"
	RegistrationToken = "token"
	RegistrationOpen  = "open"
)

// PathRegister is the registration endpoint (RFC 7591 §3), relative to a
// tenant's issuer; a client's configuration endpoint (RFC 7592 §2) is
// PathRegister + "/" + its client_id.
const PathRegister = "/oauth/register"

// RegistrationModes lists the values of Tenant.ClientRegistration.
func RegistrationModes() []string {
	return []string{RegistrationOff, RegistrationToken, RegistrationOpen}
}

// Registration is the tenant's client registration mode (off unless set).
func (t *Tenant) Registration() string {
	switch t.ClientRegistration {
	case RegistrationToken, RegistrationOpen:
		if !t.System {
			return t.ClientRegistration
		}
	}
	return RegistrationOff
}

// InitialAccessToken is an initial access token (RFC 7591 §3): it lets its
// holder register up to UsesLeft clients before ExpiresAt. Only its
// SHA-256 is kept.
type InitialAccessToken struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	TokenHash string
	Name      string
	UsesLeft  int
	ExpiresAt time.Time
	CreatedAt time.Time
}

// CreateInitialAccessToken stores an initial access token of the tenant in
// ctx.
func (s *Store) CreateInitialAccessToken(ctx context.Context, rt *InitialAccessToken) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if rt.ID == "" {
		rt.ID = NewRandomID()
	}
	rt.TenantID, rt.CreatedAt = tid, s.now()
	return mapErr(s.conn(ctx).Create(rt).Error)
}

// ListInitialAccessTokens returns the unexpired initial access tokens of
// the tenant in ctx, newest first.
func (s *Store) ListInitialAccessTokens(ctx context.Context) ([]InitialAccessToken, error) {
	q, _, err := s.scoped(ctx, "initial_access_tokens")
	if err != nil {
		return nil, err
	}
	var out []InitialAccessToken
	return out, mapErr(q.Where("expires_at > ? AND uses_left > 0", s.now()).Order("created_at DESC, id").Find(&out).Error)
}

// DeleteInitialAccessToken deletes an initial access token of the tenant in
// ctx.
func (s *Store) DeleteInitialAccessToken(ctx context.Context, id string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Exec("DELETE FROM initial_access_tokens WHERE tenant_id = ? AND id = ?", tid, id)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return mapErr(res.Error)
}

// RegisterClient stores a client that registers itself, spending one use
// of the initial access token with tokenHash ("" for open registration)
// in the same transaction: a token used up, expired or of another tenant
// is ErrNotFound and nothing is stored.
func (s *Store) RegisterClient(ctx context.Context, c *Client, tokenHash string, grants []ClientGrant) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	c.Registered = true
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		if tokenHash != "" {
			res := tx.Exec("UPDATE initial_access_tokens SET uses_left = uses_left - 1 WHERE tenant_id = ? AND token_hash = ? AND uses_left > 0 AND expires_at > ?",
				tid, tokenHash, s.now())
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return ErrNotFound
			}
		}
		return s.createClient(tx, tid, c, grants)
	}))
}

// RegisteredClient returns the client of the tenant in ctx that
// registered itself as clientID, if its registration access token hashes
// to tokenHash; any other client (an admin's, another tenant's) is
// ErrNotFound.
func (s *Store) RegisteredClient(ctx context.Context, clientID, tokenHash string) (*Client, error) {
	q, _, err := s.scoped(ctx, "clients")
	if err != nil {
		return nil, err
	}
	if tokenHash == "" {
		return nil, ErrNotFound
	}
	var c Client
	return &c, first(q.Where("client_id = ? AND registered AND registration_token_hash = ?", clientID, tokenHash), &c)
}
