package tenants

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CreateClient stores a new client, and the API grants it holds, in the
// tenant of ctx.
func (s *Store) CreateClient(ctx context.Context, c *Client, grants []ClientGrant) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error { return s.createClient(tx, tid, c, grants) }))
}

// createClient writes, in tx, client c of tenant tid with its API grants.
func (s *Store) createClient(tx *gorm.DB, tid string, c *Client, grants []ClientGrant) error {
	now := s.now()
	if c.ID == "" {
		c.ID = newID()
	}
	c.TenantID = tid
	c.CreatedAt, c.UpdatedAt = now, now
	c.SecretSealed, c.PreviousSecretSealed = nonNilBytes(c.SecretSealed), nonNilBytes(c.PreviousSecretSealed)
	if err := tx.Create(c).Error; err != nil {
		return err
	}
	for i := range grants {
		g := &grants[i]
		g.ID, g.TenantID, g.ClientID, g.CreatedAt = newID(), tid, c.ClientID, now
		if err := tx.Create(g).Error; err != nil {
			return err
		}
	}
	return bumpRevision(tx, tid, now)
}

// ClientByClientID returns the client with the public clientID in the tenant of ctx.
func (s *Store) ClientByClientID(ctx context.Context, clientID string) (*Client, error) {
	q, _, err := s.scoped(ctx, "clients")
	if err != nil {
		return nil, err
	}
	var c Client
	return &c, first(q.Where("client_id = ?", clientID), &c)
}

// ListClients returns the (non-internal) clients of the tenant of ctx,
// ordered by name.
func (s *Store) ListClients(ctx context.Context) ([]Client, error) {
	q, _, err := s.scoped(ctx, "clients")
	if err != nil {
		return nil, err
	}
	var cs []Client
	return cs, mapErr(q.Where("internal = ?", false).Order("name, client_id").Find(&cs).Error)
}

// RotateClientSecret replaces the client's secret hash and sealed secret
// (newSealed: empty for a client that keeps none, see
// Client.SecretSealed); the previous secret, its hash and sealed copy
// together, stays valid until previousExpiresAt (nil: not at all).
func (s *Store) RotateClientSecret(ctx context.Context, clientID, newHash string, newSealed []byte, previousExpiresAt *time.Time) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		var c Client
		if err := first(s.forUpdate(tx.Where("tenant_id = ? AND client_id = ?", tid, clientID)), &c); err != nil {
			return err
		}
		prev, prevSealed := "", []byte{}
		if previousExpiresAt != nil {
			prev, prevSealed = c.SecretHash, nonNilBytes(c.SecretSealed)
		}
		newSealed = nonNilBytes(newSealed)
		err := tx.Table("clients").Where("id = ?", c.ID).Updates(map[string]any{
			"secret_hash":                newHash,
			"secret_sealed":              newSealed,
			"previous_secret_hash":       prev,
			"previous_secret_sealed":     prevSealed,
			"previous_secret_expires_at": previousExpiresAt,
			"updated_at":                 now,
		}).Error
		if err != nil {
			return err
		}
		return bumpRevision(tx, tid, now)
	}))
}

// DeleteClient deletes the client, its grants, consents and tokens.
func (s *Store) DeleteClient(ctx context.Context, clientID string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error { return s.deleteClientRows(tx, tid, clientID) }))
}

// deleteClientRows deletes, in tx, the client of tenant tid with clientID
// and everything of it; ErrNotFound if there is no such client.
func (s *Store) deleteClientRows(tx *gorm.DB, tid, clientID string) error {
	for _, table := range []string{"refresh_tokens", "revoked_tokens", "client_assertions", "pushed_requests", "grants", "auth_requests", "consents", "client_grants"} {
		if err := tx.Exec("DELETE FROM "+table+" WHERE tenant_id = ? AND client_id = ?", tid, clientID).Error; err != nil {
			return err
		}
	}
	res := tx.Exec("DELETE FROM clients WHERE tenant_id = ? AND client_id = ?", tid, clientID)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return bumpRevision(tx, tid, s.now())
}

// ClientGrants returns the API grants of the client with the public clientID,
// with each grant's API and its scopes; a grant that has lapsed is not one.
func (s *Store) ClientGrants(ctx context.Context, clientID string) ([]ClientGrant, error) {
	q, _, err := s.scoped(ctx, "client_grants")
	if err != nil {
		return nil, err
	}
	var gs []ClientGrant
	return gs, mapErr(q.Where("client_id = ? AND (expires_at IS NULL OR expires_at > ?)", clientID, s.now()).Order("created_at").Find(&gs).Error)
}

// UpdateClient saves a client's name, redirect URIs, post-logout redirect
// URIs, grant types, ID token algorithm, assertion keys, back-channel
// logout URI and (between the
// two secret methods) authentication method.
func (s *Store) UpdateClient(ctx context.Context, c *Client) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Table("clients").Where("tenant_id = ? AND client_id = ?", tid, c.ClientID).Updates(map[string]any{
			"name": c.Name, "redirect_uris": c.RedirectURIs, "post_logout_redirect_uris": c.PostLogoutRedirectURIs,
			"grant_types": c.GrantTypes, "id_token_signed_response_alg": c.IDTokenSignedResponseAlg, "jwks": c.JWKS, "jwks_uri": c.JWKSURI,
			"consent":                               ConsentPolicyOf(c.Consent),
			"claim_format":                          ClaimFormatOf(c.ClaimFormat),
			"require_pushed_authorization_requests": c.RequirePushedAuthorizationRequests,
			"refresh_token_grace_seconds":           c.RefreshTokenGraceSeconds,
			"dpop_bound_access_tokens":              c.DPoPBoundAccessTokens,
			"backchannel_logout_uri":                c.BackchannelLogoutURI, "logo_uri": c.LogoURI, "backchannel_logout_session_required": c.BackchannelLogoutSessionRequired,
			"token_endpoint_auth_method": switchSecretMethod(c.TokenEndpointAuthMethod), "updated_at": now,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return bumpRevision(tx, tid, now)
	}))
}

// switchSecretMethod is the token_endpoint_auth_method an update writes: a
// confidential client may switch between the two secret methods, but no
// update makes a public client confidential or the other way round (the
// secret, the kind and the grants would no longer fit).
func switchSecretMethod(method string) clause.Expr {
	if method != AuthMethodBasic && method != AuthMethodPost {
		return gorm.Expr("token_endpoint_auth_method")
	}
	return gorm.Expr("CASE WHEN token_endpoint_auth_method IN (?, ?) THEN ? ELSE token_endpoint_auth_method END", AuthMethodBasic, AuthMethodPost, method)
}

// SetClientGrants replaces the API grants of the client with clientID.
func (s *Store) SetClientGrants(ctx context.Context, clientID string, grants []ClientGrant) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error { return s.setClientGrantRows(tx, tid, clientID, grants) }))
}

// setClientGrantRows replaces, in tx, the API grants of the client of
// tenant tid with clientID; ErrNotFound if there is no such client.
func (s *Store) setClientGrantRows(tx *gorm.DB, tid, clientID string, grants []ClientGrant) error {
	now := s.now()
	var n int64
	if err := tx.Table("clients").Where("tenant_id = ? AND client_id = ?", tid, clientID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	if err := tx.Exec("DELETE FROM client_grants WHERE tenant_id = ? AND client_id = ?", tid, clientID).Error; err != nil {
		return err
	}
	for i := range grants {
		g := &grants[i]
		g.ID, g.TenantID, g.ClientID, g.CreatedAt = newID(), tid, clientID, now
		if err := tx.Create(g).Error; err != nil {
			return err
		}
	}
	return bumpRevision(tx, tid, now)
}

// CountClients returns how many (non-internal) clients the tenant in ctx has.
func (s *Store) CountClients(ctx context.Context) (int64, error) {
	q, _, err := s.scoped(ctx, "clients")
	if err != nil {
		return 0, err
	}
	var n int64
	return n, mapErr(q.Where("internal = ?", false).Count(&n).Error)
}

// UseClientAssertion records the jti of an assertion that authenticated the
// client with clientID, until expiresAt; ErrAlreadyExists if it was used
// before (a replay), ErrNotFound if there is no such client.
func (s *Store) UseClientAssertion(ctx context.Context, clientID, jti string, expiresAt time.Time) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.conn(ctx).Create(&ClientAssertion{TenantID: tid, ClientID: clientID, JTI: jti, ExpiresAt: expiresAt.UTC()}).Error)
}

// UseDPoPProof records the DPoP proof jti made with the key of thumbprint
// jkt in the tenant of ctx, until expiresAt; ErrAlreadyExists if it was
// recorded before (a replay, RFC 9449 §11.1).
func (s *Store) UseDPoPProof(ctx context.Context, jkt, jti string, expiresAt time.Time) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.conn(ctx).Create(&DPoPProof{TenantID: tid, JKT: jkt, JTI: jti, ExpiresAt: expiresAt.UTC()}).Error)
}

// CreatePushedRequest stores an authorization request pushed by its
// client (RFC 9126); ErrNotFound if the client is not the tenant's.
func (s *Store) CreatePushedRequest(ctx context.Context, r *PushedRequest) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	r.TenantID, r.CreatedAt, r.ExpiresAt = tid, s.now(), r.ExpiresAt.UTC()
	return mapErr(s.conn(ctx).Create(r).Error)
}

// UsePushedRequest marks the pushed request id of the client with clientID
// used and returns it: once, before it expires; ErrNotFound otherwise
// (unknown, another client's or tenant's, expired, or used already).
func (s *Store) UsePushedRequest(ctx context.Context, id, clientID string) (*PushedRequest, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var r PushedRequest
	err = s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE pushed_requests SET used_at = ? WHERE tenant_id = ? AND id = ? AND client_id = ? AND used_at IS NULL AND expires_at > ?",
			now, tid, id, clientID, now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return first(tx.Where("tenant_id = ? AND id = ?", tid, id), &r)
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return &r, nil
}
