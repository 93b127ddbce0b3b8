package tenants

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CreateAuthRequest stores a validated authorization request in the tenant of ctx.
func (s *Store) CreateAuthRequest(ctx context.Context, ar *AuthRequest) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if ar.ID == "" {
		ar.ID = NewRandomID()
	}
	ar.TenantID = tid
	ar.CreatedAt = s.now()
	return mapErr(s.conn(ctx).Create(ar).Error)
}

// AuthRequestByID returns the unexpired authorization request with id in the
// tenant of ctx.
func (s *Store) AuthRequestByID(ctx context.Context, id string) (*AuthRequest, error) {
	q, _, err := s.scoped(ctx, "auth_requests")
	if err != nil {
		return nil, err
	}
	var ar AuthRequest
	if err := first(q.Where("id = ?", id), &ar); err != nil {
		return nil, err
	}
	if !s.now().Before(ar.ExpiresAt) {
		return nil, ErrNotFound
	}
	return &ar, nil
}

// Authentication is who logged in, when and how: the methods (RFC 8176
// amr values) and, for a login through an upstream, the connection (idp).
type Authentication struct {
	UserID string
	Time   time.Time
	AMR    []string
	IDP    string
	ACR    string
	// SID is the session the sign-in is (SessionSID); "" for none.
	SID string
}

// SetAuthenticated records who logged in for the request, and how. It fails
// with ErrConflict once a code was issued for the request.
func (s *Store) SetAuthenticated(ctx context.Context, id string, a Authentication) error {
	q, _, err := s.scoped(ctx, "auth_requests")
	if err != nil {
		return err
	}
	res := q.Where("id = ? AND code_hash IS NULL", id).Updates(map[string]any{
		"user_id": a.UserID, "auth_time": a.Time, "amr": Strings(a.AMR), "idp": a.IDP, "acr": a.ACR, "sid": a.SID,
	})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrConflict
	}
	return nil
}

// IssueCode records the hash of the one authorization code of the request.
// A second code for the same request fails with ErrConflict.
func (s *Store) IssueCode(ctx context.Context, id, codeHash string, expiresAt time.Time) error {
	q, _, err := s.scoped(ctx, "auth_requests")
	if err != nil {
		return err
	}
	res := q.Where("id = ? AND code_hash IS NULL AND user_id <> ''", id).Updates(map[string]any{
		"code_hash": codeHash, "code_expires_at": expiresAt,
	})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrConflict
	}
	return nil
}

// CompleteIntent ends a sign-in intent whose user has signed in: it is
// deleted, once; a second completion (or an intent nobody signed in to)
// fails with ErrConflict.
func (s *Store) CompleteIntent(ctx context.Context, id string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Exec("DELETE FROM auth_requests WHERE tenant_id = ? AND id = ? AND intent <> '' AND user_id <> ''", tid, id)
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrConflict
	}
	return nil
}

// AuthRequestByCodeHash returns the request whose code hashes to codeHash,
// redeemed or not, in the tenant of ctx.
func (s *Store) AuthRequestByCodeHash(ctx context.Context, codeHash string) (*AuthRequest, error) {
	q, _, err := s.scoped(ctx, "auth_requests")
	if err != nil {
		return nil, err
	}
	var ar AuthRequest
	return &ar, first(q.Where("code_hash = ?", codeHash), &ar)
}

// Issue is what one token response writes: a new family (code exchange
// only), optionally a refresh token, and the audit events of the issue, in
// the same transaction. Access tokens are not stored (see RevokedToken).
type Issue struct {
	Grant   *Grant
	Refresh *RefreshToken
	Events  []*AuditEvent
	// SuccessorSeed is stored on the refresh token RotateRefreshToken
	// rotates (see RefreshToken.SuccessorSeed); other calls ignore it.
	SuccessorSeed string
}

// RedeemCode claims the code of the request authRequestID and stores the
// tokens issued for it, in one transaction. If the code was already
// claimed, or none was issued, it fails with ErrConflict and writes
// nothing. The token endpoint redeems with RedeemCodeMatching.
func (s *Store) RedeemCode(ctx context.Context, authRequestID string, issue Issue) error {
	if issue.Grant == nil {
		return errors.New("tenants: a redeemed code issues a grant")
	}
	claim := func(q *gorm.DB) *gorm.DB {
		return q.Where("id = ? AND code_hash IS NOT NULL AND code_redeemed_at IS NULL", authRequestID)
	}
	_, _, err := s.redeem(ctx, claim, issue.Grant.ID, false, func(context.Context, *AuthRequest, *User) (Issue, error) { return issue, nil })
	return err
}

// CodeMatch is what a redemption presents besides the code (RFC 6749
// §4.1.3, RFC 7636 §4.6): the client, the redirect_uri of the request and
// the S256 of the PKCE verifier.
type CodeMatch struct {
	ClientID    string
	RedirectURI string
	Challenge   string
	// DPoPJKT is the DPoP key of the redemption ("" for none): a code bound
	// to a key matches only that key.
	DPoPJKT string
	// Issuer is the issuer of the token endpoint redeeming it: a code
	// matches only at the issuer its request was made at.
	Issuer string
}

// RedeemCodeMatching claims the unexpired, unredeemed code whose hash is
// codeHash when the redemption matches m, reads the request's user, and
// stores what build makes of the two, in one transaction: the claim is the
// read, so a redemption costs the database one statement fewer than a
// lookup before the claim. The claim records grantID, which build's grant
// must have. When no code matched it fails with ErrConflict and writes
// nothing, and the caller finds out why with AuthRequestByCodeHash; an
// error of build rolls everything back. Build's context carries the
// transaction (as Atomically's does): what it reads with it, it reads in
// the claim's transaction.
func (s *Store) RedeemCodeMatching(ctx context.Context, codeHash, grantID string, m CodeMatch, build func(context.Context, *AuthRequest, *User) (Issue, error)) (*AuthRequest, *User, error) {
	now := s.now()
	claim := func(q *gorm.DB) *gorm.DB {
		return q.Where("code_hash = ? AND code_redeemed_at IS NULL AND code_expires_at > ?", codeHash, now).
			Where("client_id = ? AND redirect_uri = ? AND code_challenge_method = 'S256' AND code_challenge = ?", m.ClientID, m.RedirectURI, m.Challenge).
			Where("(dpop_jkt = '' OR dpop_jkt = ?)", m.DPoPJKT).
			Where("(issuer = '' OR issuer = ?)", m.Issuer)
	}
	return s.redeem(ctx, claim, grantID, true, build)
}

// redeem is the one redemption: it claims the code of the tenant's request
// that claim selects, recording grantID, reads the request (and its user,
// withUser) back from the claim, and writes what build makes of them.
func (s *Store) redeem(ctx context.Context, claim func(*gorm.DB) *gorm.DB, grantID string, withUser bool, build func(context.Context, *AuthRequest, *User) (Issue, error)) (*AuthRequest, *User, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	var ar AuthRequest
	var u *User
	err = s.tx(ctx, func(tx *gorm.DB) error {
		res := claim(tx.Model(&ar).Clauses(clause.Returning{}).Where("tenant_id = ?", tid)).
			Updates(map[string]any{"code_redeemed_at": now, "grant_id": grantID})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrConflict
		}
		if withUser {
			u = new(User)
			if err := first(tx.Where("tenant_id = ? AND id = ?", tid, ar.UserID), u); err != nil {
				return err
			}
		}
		issue, err := build(context.WithValue(ctx, txKey{}, tx), &ar, u)
		if err != nil {
			return err
		}
		if issue.Grant == nil || issue.Grant.ID != grantID {
			return errors.New("tenants: a redeemed code's grant must be the one its claim names")
		}
		if err := s.prepareAudits(ctx, tid, issue.Events); err != nil {
			return err
		}
		return s.insertIssue(tx, tid, now, issue)
	})
	if err != nil {
		return nil, nil, mapErr(err)
	}
	return &ar, u, nil
}

// BurnCode marks the request's code redeemed without issuing anything: a code
// presented by the wrong client or with the wrong redirect_uri is spent.
func (s *Store) BurnCode(ctx context.Context, authRequestID string) error {
	q, _, err := s.scoped(ctx, "auth_requests")
	if err != nil {
		return err
	}
	return mapErr(q.Where("id = ? AND code_redeemed_at IS NULL", authRequestID).
		Update("code_redeemed_at", s.now()).Error)
}

func (s *Store) insertIssue(tx *gorm.DB, tid string, now time.Time, issue Issue) error {
	if g := issue.Grant; g != nil {
		g.TenantID, g.CreatedAt = tid, now
		if err := tx.Create(g).Error; err != nil {
			return err
		}
	}
	if r := issue.Refresh; r != nil {
		if r.ID == "" {
			r.ID = newID()
		}
		r.TenantID, r.CreatedAt = tid, now
		if err := tx.Create(r).Error; err != nil {
			return err
		}
	}
	return s.insertAudits(tx, now, issue.Events)
}
