package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// Audit actions of an administrator's care of a user's account.
const (
	ActionUserFactorRemoved     = "user.factor_removed"
	ActionUserPasswordResetSent = "user.password_reset_sent"
	ActionUserVerificationSent  = "user.verification_sent"
	ActionUserInvited           = "user.invited"
	ActionUserIdentityUnlinked  = "user.identity_unlinked"
)

// UserMail sends the emails an administrator may ask for on a user's
// behalf: the account pages' own, with their own links (each works once,
// for a while). A nil UserMail (the CLI) sends none.
type UserMail interface {
	// SendReset emails a password reset link.
	SendReset(ctx context.Context, t *tenants.Tenant, u *tenants.User) error
	// SendVerification emails a link that confirms the user's address.
	SendVerification(ctx context.Context, t *tenants.Tenant, u *tenants.User) error
	// SendInvitation emails a new user a link to choose their password
	// (a reset link that lasts longer); following it proves the address.
	SendInvitation(ctx context.Context, t *tenants.Tenant, u *tenants.User) error
}

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
	case s.userMail == nil:
		return tenants.Invalid("user", "%s", ErrNoMail.Error())
	}
	if err := s.userMail.SendReset(ctx, t, u); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionUserPasswordResetSent, "user", u.ID, nil, map[string]string{"email": u.Email})
}

// CanMail reports whether this deployment sends users email (reset,
// verification and invitation links).
func (s *Service) CanMail() bool { return s.userMail != nil }

// SendVerification emails a user a link that confirms their address.
// Audited. A disabled user, a user without an address or one whose
// address is verified gets none.
func (s *Service) SendVerification(ctx context.Context, userID string) error {
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
	case u.EmailVerified:
		return tenants.Invalid("user", "the address is verified already")
	case s.userMail == nil:
		return tenants.Invalid("user", "%s", ErrNoMail.Error())
	}
	if err := s.userMail.SendVerification(ctx, t, u); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionUserVerificationSent, "user", u.ID, nil, map[string]string{"email": u.Email})
}

// InviteUserInput is who to invite.
type InviteUserInput struct {
	Email string
	Name  string
}

// InviteUser creates a user with no password and emails them an
// invitation: a link to choose their password, which proves their address.
// An address that has an account already is refused (send that user a
// reset link instead). Audited as the creation and the invitation.
func (s *Service) InviteUser(ctx context.Context, in InviteUserInput) (*User, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	email := strings.TrimSpace(in.Email)
	if err := ValidateEmail(email); err != nil {
		return nil, err
	}
	if in.Name != "" {
		if err := validateName("name", in.Name, 200); err != nil {
			return nil, err
		}
	}
	if s.userMail == nil {
		return nil, tenants.Invalid("email", "%s: create the user with a password instead", ErrNoMail.Error())
	}
	u := &tenants.User{Email: email, Name: strings.TrimSpace(in.Name)}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("user %q: %w", tenants.Truncate(email, 254), err)
		}
		return nil, err
	}
	v := userView(u)
	if err := s.audit(ctx, t, ActionUserCreated, "user", u.ID, nil, v); err != nil {
		return nil, err
	}
	if err := s.userMail.SendInvitation(ctx, t, u); err != nil {
		return nil, err
	}
	return v, s.audit(ctx, t, ActionUserInvited, "user", u.ID, nil, map[string]string{"email": u.Email})
}

// SignIn is one sign-in attempt of a user, from the audit log.
type SignIn struct {
	Time      time.Time
	Outcome   string
	Action    string
	Reason    string
	IPAddress string
	UserAgent string
	ClientID  string
}

// UserSignIns returns the latest sign-in attempts of a user (at most
// limit), newest first, as the audit log recorded them. It needs the
// audit log's scope.
func (s *Service) UserSignIns(ctx context.Context, userID string, limit int) ([]SignIn, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	u, err := s.userByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	evs, err := s.AuditLog(ctx, AuditFilter{TargetID: u.ID, Action: "login.", Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]SignIn, 0, len(evs))
	for _, e := range evs {
		out = append(out, SignIn{Time: e.Time, Outcome: e.Outcome, Action: e.Action, Reason: e.Reason, IPAddress: e.IPAddress,
			UserAgent: e.UserAgent, ClientID: e.ClientID})
	}
	return out, nil
}

// Identity is an upstream login linked to a user.
type Identity struct {
	ID         string `json:"id"`
	Connection string `json:"connection"`
	Email      string `json:"email,omitempty"`
	Subject    string `json:"subject"`
	LinkedAt   string `json:"linked_at"`
}

// UserIdentities returns the upstream logins linked to a user.
func (s *Service) UserIdentities(ctx context.Context, userID string) ([]Identity, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	u, err := s.userByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if s.fed == nil {
		return nil, nil
	}
	xs, err := s.fed.Identities(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Identity, len(xs))
	for i, x := range xs {
		out[i] = Identity{ID: x.ID, Connection: x.Connection, Email: x.Email, Subject: x.Subject, LinkedAt: x.LinkedAt}
	}
	return out, nil
}

// UnlinkUserIdentity removes an upstream login from a user, unless it is
// their only way to sign in (no password, no other identity): set a
// password or send a reset link first. Audited.
func (s *Service) UnlinkUserIdentity(ctx context.Context, userID, identityID string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	u, err := s.userByID(ctx, userID)
	if err != nil {
		return err
	}
	if s.fed == nil || !referable(identityID) {
		return fmt.Errorf("identity: %w", tenants.ErrNotFound)
	}
	xs, err := s.fed.Identities(ctx, u.ID)
	if err != nil {
		return err
	}
	var gone *Identity
	for _, x := range xs {
		if x.ID == identityID {
			gone = &Identity{ID: x.ID, Connection: x.Connection, Email: x.Email, Subject: x.Subject, LinkedAt: x.LinkedAt}
		}
	}
	if gone == nil {
		return fmt.Errorf("identity %q: %w", tenants.Truncate(identityID, 100), tenants.ErrNotFound)
	}
	err = s.fed.Unlink(ctx, u.ID, identityID)
	if errors.Is(err, federation.ErrLastLogin) {
		return tenants.Invalid("identity", "this is the user's only way to sign in: set a password or send a reset link first")
	}
	if err != nil {
		return err
	}
	return s.audit(ctx, t, ActionUserIdentityUnlinked, "user", u.ID, gone, nil)
}
