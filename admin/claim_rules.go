package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/claimrules"
)

// Audit actions of claim rules.
const (
	ActionClaimRuleCreated = "claim_rule.created"
	ActionClaimRuleUpdated = "claim_rule.updated"
	ActionClaimRuleDeleted = "claim_rule.deleted"
)

// ClaimRule is the public view of a claim rule.
type ClaimRule struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Position    int               `json:"position"`
	Enabled     bool              `json:"enabled"`
	Condition   string            `json:"condition"`
	IDToken     map[string]string `json:"id_token"`
	AccessToken map[string]string `json:"access_token"`
	Deny        string            `json:"deny"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

func claimRuleView(r *tenants.ClaimRule) *ClaimRule {
	v := &ClaimRule{ID: r.ID, Name: r.Name, Position: r.Position, Enabled: r.Enabled, Condition: r.Condition,
		IDToken: map[string]string{}, AccessToken: map[string]string{}, Deny: r.Deny, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for k, e := range r.IDTokenClaims {
		v.IDToken[k] = e
	}
	for k, e := range r.AccessTokenClaims {
		v.AccessToken[k] = e
	}
	return v
}

// ClaimRuleInput is what a claim rule is made of; for an update, nil
// fields are left as they are, and IDToken or AccessToken, when not nil,
// replace the rule's claims for that token.
type ClaimRuleInput struct {
	Name        *string
	Position    *int
	Enabled     *bool
	Condition   *string
	IDToken     *map[string]string
	AccessToken *map[string]string
	Deny        *string
}

// maxPosition bounds a rule's position.
const maxPosition = 1_000_000

// checkRule checks r with package claimrules: a rule that does not check
// is a validation error naming its first problem's field and saying every
// problem.
func (s *Service) checkRule(r *tenants.ClaimRule) error {
	if r.Position < 0 || r.Position > maxPosition {
		return tenants.Invalid("position", "must be between 1 and %d", maxPosition)
	}
	env, err := s.ruleEnv()
	if err != nil {
		return err
	}
	_, err = env.Check(tenants.RuleOf(r))
	return ruleProblem(err)
}

// ruleProblem turns a *claimrules.CheckError into a validation error.
func ruleProblem(err error) error {
	var ce *claimrules.CheckError
	if !errors.As(err, &ce) {
		return err
	}
	if len(ce.Problems) == 1 {
		return tenants.Invalid(ce.Problems[0].Field, "%s", ce.Problems[0].Message)
	}
	return tenants.Invalid(ce.Problems[0].Field, "%s", ce.Error())
}

func applyClaimRule(r *tenants.ClaimRule, in ClaimRuleInput) {
	if in.Name != nil {
		r.Name = strings.TrimSpace(*in.Name)
	}
	if in.Position != nil {
		r.Position = *in.Position
	}
	if in.Enabled != nil {
		r.Enabled = *in.Enabled
	}
	if in.Condition != nil {
		r.Condition = strings.TrimSpace(*in.Condition)
	}
	if in.IDToken != nil {
		r.IDTokenClaims = tenants.StringMap(*in.IDToken)
	}
	if in.AccessToken != nil {
		r.AccessTokenClaims = tenants.StringMap(*in.AccessToken)
	}
	if in.Deny != nil {
		r.Deny = strings.TrimSpace(*in.Deny)
	}
}

// CreateClaimRule creates a claim rule of the tenant in ctx, enabled
// unless in says otherwise, after the tenant's last unless a position is
// given. Its expressions are checked first: a rule that does not check, or
// sets a reserved claim, is refused.
func (s *Service) CreateClaimRule(ctx context.Context, in ClaimRuleInput) (*ClaimRule, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	r := &tenants.ClaimRule{Enabled: true}
	applyClaimRule(r, in)
	if err := s.checkRule(r); err != nil {
		return nil, err
	}
	rules, err := s.store.ListClaimRules(ctx)
	if err != nil {
		return nil, err
	}
	if len(rules) >= claimrules.MaxRules {
		return nil, tenants.Invalid("name", "a tenant has at most %d claim rules", claimrules.MaxRules)
	}
	if err := s.store.CreateClaimRule(ctx, r); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("claim rule %q: %w", r.Name, err)
		}
		return nil, err
	}
	s.changed(t)
	v := claimRuleView(r)
	return v, s.audit(ctx, t, ActionClaimRuleCreated, "claim_rule", r.ID, nil, v)
}

// ListClaimRules returns the claim rules of the tenant in ctx in the order
// they run.
func (s *Service) ListClaimRules(ctx context.Context) ([]*ClaimRule, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	rs, err := s.store.ListClaimRules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*ClaimRule, len(rs))
	for i := range rs {
		out[i] = claimRuleView(&rs[i])
	}
	return out, nil
}

func (s *Service) claimRuleByID(ctx context.Context, id string) (*tenants.ClaimRule, error) {
	if !referable(id) {
		return nil, fmt.Errorf("claim rule: %w", tenants.ErrNotFound)
	}
	r, err := s.store.ClaimRuleByID(ctx, id)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, fmt.Errorf("claim rule %q: %w", tenants.Truncate(id, 100), tenants.ErrNotFound)
	}
	return r, err
}

// GetClaimRule returns the claim rule with id.
func (s *Service) GetClaimRule(ctx context.Context, id string) (*ClaimRule, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	r, err := s.claimRuleByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return claimRuleView(r), nil
}

// UpdateClaimRule changes the claim rule with id; the result is checked as
// a new rule is. The next token follows it.
func (s *Service) UpdateClaimRule(ctx context.Context, id string, in ClaimRuleInput) (*ClaimRule, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	r, err := s.claimRuleByID(ctx, id)
	if err != nil {
		return nil, err
	}
	before := claimRuleView(r)
	applyClaimRule(r, in)
	if in.Position != nil && *in.Position < 1 {
		return nil, tenants.Invalid("position", "must be between 1 and %d", maxPosition)
	}
	if err := s.checkRule(r); err != nil {
		return nil, err
	}
	if err := s.store.UpdateClaimRule(ctx, r); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("claim rule %q: %w", r.Name, err)
		}
		return nil, err
	}
	s.changed(t)
	v := claimRuleView(r)
	return v, s.audit(ctx, t, ActionClaimRuleUpdated, "claim_rule", r.ID, before, v)
}

// DeleteClaimRule deletes the claim rule with id.
func (s *Service) DeleteClaimRule(ctx context.Context, id string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	r, err := s.claimRuleByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteClaimRule(ctx, r.ID); err != nil {
		return err
	}
	s.changed(t)
	return s.audit(ctx, t, ActionClaimRuleDeleted, "claim_rule", r.ID, claimRuleView(r), nil)
}

// PreviewInput names who and what a preview runs the rules for: a user
// (id or email), a client (client_id), optionally an API (audience) the
// client may use, and scopes. Rules, when not nil, are drafts run instead
// of the tenant's enabled rules.
type PreviewInput struct {
	User     string
	Client   string
	Audience string
	Scopes   []string
	Rules    []ClaimRuleInput
}

// Preview is what the rules do for a user and client: the claims they add
// to each token, or the deny rule that stops the sign-in, or the rule that
// fails (and so would refuse the sign-in).
type Preview struct {
	IDToken     map[string]any `json:"id_token"`
	AccessToken map[string]any `json:"access_token"`
	Denied      *PreviewDenied `json:"denied,omitempty"`
	Failed      *PreviewFailed `json:"failed,omitempty"`
}

// PreviewDenied is the deny rule that stopped a preview.
type PreviewDenied struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// PreviewFailed is the rule that failed at run time in a preview.
type PreviewFailed struct {
	Rule    string `json:"rule"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// PreviewClaims runs the tenant's claim rules (or the drafts of in) for a
// user and a client as a code exchange would, issuing and auditing
// nothing. The request's acr, amr and address are empty.
func (s *Service) PreviewClaims(ctx context.Context, in PreviewInput) (*Preview, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	env, err := s.ruleEnv()
	if err != nil {
		return nil, err
	}
	u, err := s.userByRef(ctx, in.User)
	if err != nil {
		return nil, err
	}
	if !referable(in.Client) {
		return nil, fmt.Errorf("client: %w", tenants.ErrNotFound)
	}
	c, err := s.store.ClientByClientID(ctx, in.Client)
	if err != nil {
		return nil, err
	}
	var api *tenants.API
	if in.Audience != "" {
		if !referable(in.Audience) {
			return nil, fmt.Errorf("API: %w", tenants.ErrNotFound)
		}
		if api, err = s.store.APIByAudience(ctx, in.Audience); err != nil {
			return nil, err
		}
	}
	if len(in.Scopes) > 100 {
		return nil, tenants.Invalid("scopes", "at most 100 scopes")
	}
	var rules []claimrules.Rule
	if in.Rules != nil {
		if len(in.Rules) > claimrules.MaxRules {
			return nil, tenants.Invalid("rules", "at most %d rules", claimrules.MaxRules)
		}
		for i, d := range in.Rules {
			r := &tenants.ClaimRule{ID: fmt.Sprintf("draft-%d", i+1)}
			applyClaimRule(r, d)
			if r.Name == "" {
				r.Name = r.ID
			}
			rules = append(rules, tenants.RuleOf(r))
		}
	} else {
		rows, err := s.store.ListClaimRules(ctx)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			if rows[i].Enabled {
				rules = append(rules, tenants.RuleOf(&rows[i]))
			}
		}
	}
	set := &claimrules.Set{}
	for i, r := range rules {
		p, err := env.Check(r)
		if err != nil {
			var ce *claimrules.CheckError
			if errors.As(err, &ce) {
				return nil, tenants.Invalid(fmt.Sprintf("rules[%d].%s", i, ce.Problems[0].Field), "%s", ce.Error())
			}
			return nil, err
		}
		set.Programs = append(set.Programs, p)
	}
	input, err := tenants.ClaimRuleInput(ctx, s.store, u, c, api, claimrules.Request{GrantType: tenants.GrantAuthorizationCode, Scopes: in.Scopes})
	if err != nil {
		return nil, err
	}
	res, err := set.Evaluate(ctx, input)
	out := &Preview{IDToken: map[string]any{}, AccessToken: map[string]any{}}
	var denied *claimrules.Denied
	var re *claimrules.RunError
	switch {
	case errors.As(err, &denied):
		out.Denied = &PreviewDenied{Rule: denied.RuleName, Message: denied.Message}
	case errors.As(err, &re):
		out.Failed = &PreviewFailed{Rule: re.RuleName, Field: re.Field, Message: tenants.Truncate(re.Err.Error(), 500)}
	case err != nil:
		return nil, err
	default:
		for k, v := range res.IDToken {
			out.IDToken[k] = v
		}
		for k, v := range res.AccessToken {
			out.AccessToken[k] = v
		}
	}
	return out, nil
}

// userByRef returns the user of the tenant in ctx with id ref, or with
// email ref.
func (s *Service) userByRef(ctx context.Context, ref string) (*tenants.User, error) {
	if !referable(ref) {
		return nil, fmt.Errorf("user: %w", tenants.ErrNotFound)
	}
	u, err := s.store.UserByID(ctx, ref)
	if errors.Is(err, tenants.ErrNotFound) && strings.Contains(ref, "@") {
		u, err = s.store.UserByEmail(ctx, ref)
	}
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, fmt.Errorf("user %q: %w", tenants.Truncate(ref, 100), tenants.ErrNotFound)
	}
	return u, err
}
