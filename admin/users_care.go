package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Audit actions of an administrator's care of a user's account.
const (
	ActionUserFactorRemoved     = "user.factor_removed"
	ActionUserPasswordResetSent = "user.password_reset_sent"
)

// ErrNoMail is the answer to a reset email where this deployment sends no
// email.
var ErrNoMail = errors.New("this deployment sends no email")

// Factor is the public view of a user's second factor or passkey: never
// its secret or credential.
type Factor struct {
	ID         string     `json:"id"`
	Type       string     `json:"type" doc:"totp or webauthn (a security key or passkey)"`
	Name       string     `json:"name"`
	Confirmed  bool       `json:"confirmed"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// ListUserFactors returns the second factors and passkeys of a user, in
// the order they were added.
func (s *Service) ListUserFactors(ctx context.Context, userID string) ([]*Factor, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	u, err := s.userByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	fs, err := s.store.ListFactors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	out := make([]*Factor, len(fs))
	for i, f := range fs {
		out[i] = &Factor{ID: f.ID, Type: f.Type, Name: f.Name, Confirmed: f.Confirmed, CreatedAt: f.CreatedAt, LastUsedAt: f.LastUsedAt}
	}
	return out, nil
}

// RemoveUserFactor removes a second factor or passkey of a user (one they
// lost, say): where the tenant requires a second factor, the user enrols
// one again at their next sign-in. Audited.
func (s *Service) RemoveUserFactor(ctx context.Context, userID, factorID string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	u, err := s.userByID(ctx, userID)
	if err != nil {
		return err
	}
	if !referable(factorID) {
		return fmt.Errorf("factor: %w", tenants.ErrNotFound)
	}
	fs, err := s.store.ListFactors(ctx, u.ID)
	if err != nil {
		return err
	}
	var gone *Factor
	for _, f := range fs {
		if f.ID == factorID {
			gone = &Factor{ID: f.ID, Type: f.Type, Name: f.Name, Confirmed: f.Confirmed, CreatedAt: f.CreatedAt, LastUsedAt: f.LastUsedAt}
		}
	}
	if gone == nil {
		return fmt.Errorf("factor %q: %w", tenants.Truncate(factorID, 100), tenants.ErrNotFound)
	}
	if err := s.store.DeleteFactor(ctx, u.ID, factorID); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionUserFactorRemoved, "user", u.ID, gone, nil)
}

// SendPasswordReset emails a user a password reset link, as the reset page
// would (the link works once, for a short while). Audited. A disabled
// user, or a user without an address, gets none.
func (s *Service) SendPasswordReset(ctx context.Context, userID string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	u, err := s.userByID(ctx, userID)
	if err != nil {
		return err
	}
	switch {
	case u.DisabledAt != nil:
		return tenants.Invalid("user", "the user is disabled: enable them first")
	case u.Email == "":
		return tenants.Invalid("user", "the user has no email address")
	case s.sendReset == nil:
		return tenants.Invalid("user", "%s", ErrNoMail.Error())
	}
	if err := s.sendReset(ctx, t, u); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionUserPasswordResetSent, "user", u.ID, nil, map[string]string{"email": u.Email})
}
