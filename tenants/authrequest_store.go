package tenants

import (
	"context"
	"time"

	"gorm.io/gorm"
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
	return mapErr(s.db.WithContext(ctx).Create(ar).Error)
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
}

// SetAuthenticated records who logged in for the request, and how. It fails
// with ErrConflict once a code was issued for the request.
func (s *Store) SetAuthenticated(ctx context.Context, id string, a Authentication) error {
	q, _, err := s.scoped(ctx, "auth_requests")
	if err != nil {
		return err
	}
	res := q.Where("id = ? AND code_hash IS NULL", id).Updates(map[string]any{
		"user_id": a.UserID, "auth_time": a.Time, "amr": Strings(a.AMR), "idp": a.IDP, "acr": a.ACR,
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
	res := s.db.WithContext(ctx).Exec("DELETE FROM auth_requests WHERE tenant_id = ? AND id = ? AND intent <> '' AND user_id <> ''", tid, id)
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
}

// RedeemCode claims the request's code and stores the tokens issued for it,
// in one transaction. If the code was already claimed, or none was issued,
// it fails with ErrConflict and writes nothing.
func (s *Store) RedeemCode(ctx context.Context, authRequestID string, issue Issue) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.prepareAudits(ctx, tid, issue.Events); err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Table("auth_requests").
			Where("tenant_id = ? AND id = ? AND code_hash IS NOT NULL AND code_redeemed_at IS NULL", tid, authRequestID).
			Updates(map[string]any{"code_redeemed_at": now, "grant_id": issue.Grant.ID})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrConflict
		}
		return s.insertIssue(tx, tid, now, issue)
	}))
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
	return insertAudits(tx, now, issue.Events)
}
