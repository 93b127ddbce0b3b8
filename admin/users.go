package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// CreateUserInput is what a new user needs.
type CreateUserInput struct {
	Email         string
	Password      string
	Name          string
	EmailVerified bool
}

// CreateUser creates an end user of the tenant in ctx.
func (s *Service) CreateUser(ctx context.Context, in CreateUserInput) (*User, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	u, err := s.newUser(ctx, t, in)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("user %q: %w", in.Email, err)
		}
		return nil, err
	}
	v := userView(u)
	return v, s.audit(ctx, t, ActionUserCreated, "user", u.ID, nil, v)
}

// checkNewUser checks a new user of tenant t; their password meets the
// tenant's policy.
func (s *Service) checkNewUser(t *tenants.Tenant, in CreateUserInput) error {
	if err := ValidateEmail(strings.TrimSpace(in.Email)); err != nil {
		return err
	}
	if err := t.CheckPassword(s.common, in.Password, strings.TrimSpace(in.Email)); err != nil {
		return err
	}
	if in.Name != "" {
		if err := validateName("name", in.Name, 200); err != nil {
			return err
		}
	}
	return nil
}

// newUser checks a new user of tenant t and hashes their password (which
// can fail with password.ErrBusy).
func (s *Service) newUser(ctx context.Context, t *tenants.Tenant, in CreateUserInput) (*tenants.User, error) {
	if err := s.checkNewUser(t, in); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	return &tenants.User{Email: strings.TrimSpace(in.Email), Name: strings.TrimSpace(in.Name), EmailVerified: in.EmailVerified,
		PasswordHash: hash}, nil
}

// UserPage is one page of users.
type UserPage struct {
	Users []*User `json:"items"`
	Next  string  `json:"next,omitempty"`
}

// ListUsers returns users of the tenant in ctx matching query, a page at a
// time (after is the previous page's Next).
func (s *Service) ListUsers(ctx context.Context, query, after string, limit int) (*UserPage, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	if len(query) > 200 {
		return nil, tenants.Invalid("q", "is too long")
	}
	p, err := s.store.SearchUsers(ctx, query, after, limit)
	if err != nil {
		return nil, err
	}
	out := &UserPage{Users: []*User{}, Next: p.Next}
	for i := range p.Users {
		out.Users = append(out.Users, userView(&p.Users[i]))
	}
	return out, nil
}

// GetUser returns a user of the tenant in ctx.
func (s *Service) GetUser(ctx context.Context, id string) (*User, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return userView(u), nil
}

// UserByEmail returns the user of the tenant in ctx with email
// (case-insensitive).
func (s *Service) UserByEmail(ctx context.Context, email string) (*User, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	if ValidateEmail(strings.TrimSpace(email)) != nil {
		return nil, fmt.Errorf("user %q: %w", email, tenants.ErrNotFound)
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", email, err)
	}
	return userView(u), nil
}

// UpdateUserInput changes a user's profile; a nil field is left as it is.
type UpdateUserInput struct {
	Email         *string
	EmailVerified *bool
	Name          *string
	GivenName     *string
	FamilyName    *string
	// UserMetadata and AppMetadata, when set, replace the user's: JSON
	// objects of at most MaxMetadata bytes (null clears).
	UserMetadata, AppMetadata *json.RawMessage
}

// UpdateUser changes a user's profile.
func (s *Service) UpdateUser(ctx context.Context, id string, in UpdateUserInput) (*User, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	before := userView(u)
	next := *u
	if in.Email != nil {
		e := strings.TrimSpace(*in.Email)
		if err := ValidateEmail(e); err != nil {
			return nil, err
		}
		if tenants.NormalizeEmail(e) != u.EmailNormalized {
			next.EmailVerified = false
		}
		next.Email = e
	}
	if in.EmailVerified != nil {
		next.EmailVerified = *in.EmailVerified
	}
	for _, f := range []struct {
		field string
		v     *string
		dst   *string
	}{{"name", in.Name, &next.Name}, {"given_name", in.GivenName, &next.GivenName}, {"family_name", in.FamilyName, &next.FamilyName}} {
		if f.v == nil {
			continue
		}
		if v := strings.TrimSpace(*f.v); v != "" {
			if err := validateName(f.field, v, 200); err != nil {
				return nil, err
			}
		}
		*f.dst = strings.TrimSpace(*f.v)
	}
	// Written only when given (UpdateUserProfile leaves "" as it is).
	next.UserMetadata, next.AppMetadata = "", ""
	for _, f := range []struct {
		field string
		raw   *json.RawMessage
		dst   *string
	}{{"user_metadata", in.UserMetadata, &next.UserMetadata}, {"app_metadata", in.AppMetadata, &next.AppMetadata}} {
		if f.raw == nil {
			continue
		}
		v, err := checkMetadata(f.field, *f.raw)
		if err != nil {
			return nil, err
		}
		*f.dst = v
	}
	if err := s.store.UpdateUserProfile(ctx, &next); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, tenants.Invalid("email", "another user has this email address")
		}
		return nil, err
	}
	if next.UserMetadata == "" {
		next.UserMetadata = u.UserMetadata
	}
	if next.AppMetadata == "" {
		next.AppMetadata = u.AppMetadata
	}
	after := userView(&next)
	return after, s.audit(ctx, t, ActionUserUpdated, "user", u.ID, before, after)
}

// SetUserDisabled disables a user (ending their sessions and revoking their
// tokens) or enables them again.
func (s *Service) SetUserDisabled(ctx context.Context, id string, disabled bool) (*User, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	before := userView(u)
	if err := s.store.SetUserDisabled(ctx, id, disabled); err != nil {
		return nil, err
	}
	if u, err = s.store.UserByID(ctx, id); err != nil {
		return nil, err
	}
	action := ActionUserEnabled
	if disabled {
		action = ActionUserDisabled
	}
	v := userView(u)
	return v, s.audit(ctx, t, action, "user", id, before, v)
}

// SetUserPassword sets a user's password; their sessions end, their
// tokens are revoked and the reset and change-of-address links sent to them
// stop working.
func (s *Service) SetUserPassword(ctx context.Context, id, pw string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if err := t.CheckPassword(s.common, pw, u.Email); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	if err := s.store.ChangePassword(ctx, id, hash); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionUserPassword, "user", id, nil, nil)
}

// DeleteUser deletes a user of the tenant in ctx with their sessions,
// consents and tokens.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, id); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionUserDeleted, "user", id, userView(u), nil)
}

// ListSessions returns a user's active sessions.
func (s *Service) ListSessions(ctx context.Context, userID string) ([]*Session, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	if _, err := s.store.UserByID(ctx, userID); err != nil {
		return nil, err
	}
	ss, err := s.store.ListSessions(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]*Session, len(ss))
	for i := range ss {
		out[i] = sessionView(&ss[i])
	}
	return out, nil
}

// RevokeSession ends one of a user's sessions.
func (s *Service) RevokeSession(ctx context.Context, userID, sessionRef string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	ss, err := s.store.ListSessions(ctx, userID)
	if err != nil {
		return err
	}
	for _, sess := range ss {
		if sessionRefOf(sess.ID) == sessionRef {
			if err := s.store.DeleteUserSession(ctx, userID, sess.ID); err != nil {
				return err
			}
			return s.audit(ctx, t, ActionSessionRevoked, "user", userID, sessionView(&sess), nil)
		}
	}
	return tenants.ErrNotFound
}

// ListConsents returns the applications a user gave access to.
func (s *Service) ListConsents(ctx context.Context, userID string) ([]*Consent, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	if _, err := s.store.UserByID(ctx, userID); err != nil {
		return nil, err
	}
	cs, err := s.store.ListConsents(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]*Consent, 0, len(cs))
	for i := range cs {
		name := cs[i].ClientID
		if c, err := s.store.ClientByClientID(ctx, cs[i].ClientID); err == nil {
			name = c.Name
		}
		out = append(out, consentView(&cs[i], name))
	}
	return out, nil
}

// RevokeConsent withdraws a user's consent to an application, and with it
// every token the application holds for the user.
func (s *Service) RevokeConsent(ctx context.Context, userID, clientID string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	if err := s.store.RevokeConsent(ctx, userID, clientID); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionConsentRevoked, "user", userID, map[string]string{"client_id": clientID}, nil)
}

// checkMetadata checks a metadata field given to an update: a JSON object
// (null: cleared) of at most MaxMetadata bytes, returned compact.
func checkMetadata(field string, raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "{}", nil
	}
	if len(raw) > 4*MaxMetadata {
		return "", tenants.Invalid(field, "must be at most %d bytes", MaxMetadata)
	}
	var obj map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil || obj == nil {
		return "", tenants.Invalid(field, "must be a JSON object")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", tenants.Invalid(field, "must be a JSON object")
	}
	if b.Len() > MaxMetadata {
		return "", tenants.Invalid(field, "must be at most %d bytes", MaxMetadata)
	}
	if !utf8.Valid(b.Bytes()) || bytes.Contains(b.Bytes(), []byte(`\u0000`)) {
		return "", tenants.Invalid(field, "must be UTF-8 text without NUL characters")
	}
	return b.String(), nil
}

// metadataKey matches a metadata key a search may name.
var metadataKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ListUsersByMetadata returns a page of the users whose metadata has a
// key, named "user_metadata.KEY" or "app_metadata.KEY", with value when
// it is not empty (a string, or a number or boolean as JSON writes it).
func (s *Service) ListUsersByMetadata(ctx context.Context, spec, value, after string, limit int) (*UserPage, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	column, key, ok := strings.Cut(spec, ".")
	if !ok || (column != tenants.ColumnUserMetadata && column != tenants.ColumnAppMetadata) || !metadataKey.MatchString(key) {
		return nil, tenants.Invalid("metadata", "must be user_metadata.KEY or app_metadata.KEY, the key of letters, digits, _ and - (at most 64)")
	}
	if len(value) > 200 || !utf8.ValidString(value) || strings.ContainsRune(value, 0) {
		return nil, tenants.Invalid("value", "must be at most 200 characters of text")
	}
	p, err := s.store.SearchUsersByMetadata(ctx, column, key, value, after, limit)
	if err != nil {
		return nil, err
	}
	out := &UserPage{Users: []*User{}, Next: p.Next}
	for i := range p.Users {
		out.Users = append(out.Users, userView(&p.Users[i]))
	}
	return out, nil
}
