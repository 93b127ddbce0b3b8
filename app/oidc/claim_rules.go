package oidc

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/claimrules"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Claim rules in the token path (issue 10, package claimrules). A tenant's
// enabled rules run whenever a user's tokens are minted — at the
// authorization code exchange, every refresh and the device grant — and
// once more before an authorization code is issued, so that a deny rule
// reaches the user's browser (the client gets access_denied with the
// rule's message). A rule that fails at run time fails closed: no token,
// an OAuth error or an error page, and an audit event, never a 500.

// Audit events of claim rules.
const (
	auditClaimRuleDenied = "token.claim_rule_denied"
	auditClaimRuleFailed = "token.claim_rule_failed"
)

// ruleCache keeps compiled rules by id and version (a rule's program is
// built once per change) and each tenant's token configuration (its
// enabled rules, whether a connection passes groups through) by the
// tenant's revision. Every change of a tenant's rules or connections bumps
// its revision in the change's transaction, so what was read at a
// revision is current for as long as the cached tenant is: a change
// reaches every node's next token through the change feed, as every other
// cached setting does, and a token costs no query for either.
type ruleCache struct {
	env  *claimrules.Env
	mu   sync.Mutex
	m    map[ruleKey]*claimrules.Program
	sets map[string]ruleSet
}

// ruleSet is a tenant's token configuration at a revision.
type ruleSet struct {
	revision int64
	tokenConfig
}

// tokenConfig is what a tenant's user tokens need of its configuration
// beyond the cached tenant: its enabled claim rules (nil: none), and
// whether a connection passes upstream groups through (only then does a
// groups claim read them, see tenants.AccessQuery).
type tokenConfig struct {
	rules        *claimrules.Set
	passesGroups bool
}

type ruleKey struct {
	tenantID, id string
	updated      time.Time
}

// maxCachedRules and maxCachedRuleSets bound the caches; past them a
// cache starts again.
const (
	maxCachedRules    = 20000
	maxCachedRuleSets = 20000
)

func newRuleCache() (*ruleCache, error) {
	env, err := claimrules.NewEnv()
	if err != nil {
		return nil, err
	}
	return &ruleCache{env: env, m: map[ruleKey]*claimrules.Program{}, sets: map[string]ruleSet{}}, nil
}

// claimRules returns the enabled claim rules of the tenant in ctx, in the
// order they run (nil for none).
func (p *Provider) claimRules(ctx context.Context) (*claimrules.Set, error) {
	cfg, err := p.tokenConfig(ctx)
	return cfg.rules, err
}

// passesGroups reports whether a connection of the tenant in ctx passes
// upstream groups through; when that cannot be told (a rule no longer
// checks, the store failed), yes: the groups claim is then read whole.
func (p *Provider) passesGroups(ctx context.Context) bool {
	cfg, err := p.tokenConfig(ctx)
	return err != nil || cfg.passesGroups
}

// tokenConfig returns the token configuration of the tenant in ctx.
func (p *Provider) tokenConfig(ctx context.Context) (tokenConfig, error) {
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return p.readTokenConfig(ctx)
	}
	if cfg, ok := p.rules.cachedConfig(t); ok {
		return cfg, nil
	}
	cfg, err := p.readTokenConfig(ctx)
	if err != nil {
		return tokenConfig{}, err
	}
	p.rules.keepConfig(t, cfg)
	return cfg, nil
}

// cachedConfig is t's token configuration when it was read at t's revision.
func (c *ruleCache) cachedConfig(t *tenants.Tenant) (tokenConfig, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.sets[t.ID]
	if !ok || e.revision != t.Revision {
		return tokenConfig{}, false
	}
	return e.tokenConfig, true
}

func (c *ruleCache) keepConfig(t *tenants.Tenant, cfg tokenConfig) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sets) >= maxCachedRuleSets {
		c.sets = map[string]ruleSet{}
	}
	c.sets[t.ID] = ruleSet{revision: t.Revision, tokenConfig: cfg}
}

// readTokenConfig reads the token configuration of the tenant in ctx,
// compiling its enabled rules.
func (p *Provider) readTokenConfig(ctx context.Context) (tokenConfig, error) {
	passes, err := p.store.PassesGroups(ctx)
	if err != nil {
		return tokenConfig{}, err
	}
	set, err := p.readClaimRules(ctx)
	return tokenConfig{rules: set, passesGroups: passes}, err
}

// readClaimRules reads and compiles the enabled rules of the tenant in ctx.
func (p *Provider) readClaimRules(ctx context.Context) (*claimrules.Set, error) {
	rows, err := p.store.ListClaimRules(ctx)
	if err != nil {
		return nil, err
	}
	var set *claimrules.Set
	for i := range rows {
		r := &rows[i]
		if !r.Enabled {
			continue
		}
		if set == nil {
			set = &claimrules.Set{}
		}
		if len(set.Programs) == claimrules.MaxRules {
			return nil, &claimrules.RunError{Field: "rules", Err: errors.New("too many rules")}
		}
		prg, err := p.rules.program(r)
		if err != nil {
			return nil, err
		}
		set.Programs = append(set.Programs, prg)
	}
	return set, nil
}

func (c *ruleCache) program(r *tenants.ClaimRule) (*claimrules.Program, error) {
	key := ruleKey{r.TenantID, r.ID, r.UpdatedAt}
	c.mu.Lock()
	prg := c.m[key]
	c.mu.Unlock()
	if prg != nil {
		return prg, nil
	}
	prg, err := c.env.Check(tenants.RuleOf(r))
	if err != nil {
		// A rule saved under another environment that no longer checks.
		return nil, &claimrules.RunError{RuleID: r.ID, RuleName: r.Name, Field: "rule", Err: err}
	}
	c.mu.Lock()
	if len(c.m) >= maxCachedRules {
		c.m = map[ruleKey]*claimrules.Program{}
	}
	c.m[key] = prg
	c.mu.Unlock()
	return prg, nil
}

// ruleRequest is what a token's rules read of its request.
type ruleRequest struct {
	grantType string
	clientID  string
	userID    string
	scopes    []string
	audience  string
	acr, idp  string
	amr       []string
}

// loadClaimRules returns the tenant's enabled rules (nil: none); a rule
// that no longer checks is a failure, audited, of the sign-in of req.
func (p *Provider) loadClaimRules(ctx context.Context, req ruleRequest) (*claimrules.Set, error) {
	set, err := p.claimRules(ctx)
	if err != nil {
		return nil, p.ruleFailed(ctx, req, err)
	}
	return set, nil
}

// runClaimRules runs the tenant's rules for req, whose user's access was
// read for them (readTokenAccess with rules): nil when the tenant has
// none. A deny or a failure is an error for the token endpoint
// (ruleTokenError) or the authorization endpoint (ruleAuthorizeError),
// audited here.
func (p *Provider) runClaimRules(ctx context.Context, c *client, u *tenants.User, access *tokenAccess, req ruleRequest) (*claimrules.Result, error) {
	set, err := p.loadClaimRules(ctx, req)
	if err != nil || set == nil {
		return nil, err
	}
	res, err := evalClaimRules(ctx, set, c, u, access, req)
	if err != nil {
		return nil, p.ruleRefused(ctx, req, err)
	}
	return res, nil
}

// evalClaimRules runs set for req, whose user's access was read for it: it
// reads and writes nothing, so that the code exchange can run it inside
// its claim. Its error (a deny, a failed rule) is for ruleRefused.
func evalClaimRules(ctx context.Context, set *claimrules.Set, c *client, u *tenants.User, access *tokenAccess, req ruleRequest) (*claimrules.Result, error) {
	if access == nil || access.user == nil {
		return nil, &claimrules.RunError{Field: "rules", Err: errAccessUnread}
	}
	r := claimrules.Request{GrantType: req.grantType, Scopes: req.scopes, ACR: req.acr, AMR: req.amr}
	if o, ok := tenants.OriginFrom(ctx); ok {
		r.IP = o.IP
	}
	in := tenants.RuleInput(u, c.Client.Client, access.api, access.user, r)
	in.Connection.Name = req.idp
	return set.Evaluate(ctx, in)
}

// ruleRefused audits what refused the sign-in of req: a deny rule, or a
// rule that failed (then the error is the rule's, for ruleTokenError or
// the pages); any other error is returned as it is.
func (p *Provider) ruleRefused(ctx context.Context, req ruleRequest, err error) error {
	var denied *claimrules.Denied
	if errors.As(err, &denied) {
		p.audit(ctx, auditClaimRuleDenied, req.clientID, req.userID, "denied", "claim rule "+denied.RuleName+": "+denied.Message)
		return err
	}
	return p.ruleFailed(ctx, req, err)
}

func (p *Provider) ruleFailed(ctx context.Context, req ruleRequest, err error) error {
	var re *claimrules.RunError
	if !errors.As(err, &re) {
		// The store failed reading the rules: a server error.
		return err
	}
	p.audit(ctx, auditClaimRuleFailed, req.clientID, req.userID, "failure", tenants.Truncate(re.Error(), 500))
	tenants.Logger(ctx).WarnContext(ctx, "claim rule failed: sign-in refused", "rule", re.RuleID, "err", re.Err)
	return re
}

// errAccessUnread stops rules run without their user's access (every
// caller reads it for them, so this does not happen): they fail closed.
var errAccessUnread = errors.New("the user's roles were not read for the claim rules")

// ruleTokenError is the token endpoint's answer to a deny or a failed rule:
// invalid_grant, with a deny rule's message (RFC 6749 §5.2).
func ruleTokenError(err error) error {
	var denied *claimrules.Denied
	var re *claimrules.RunError
	switch {
	case errors.As(err, &denied):
		return errInvalidGrant(denied.Message)
	case errors.As(err, &re):
		return errInvalidGrant("the sign-in could not be completed: a claim rule of this tenant failed")
	}
	return serverError(err)
}

// errRuleFailedPage is the page of a sign-in a failed rule stopped.
func errRuleFailedPage() *httperr.Error {
	return httperr.Page(http.StatusForbidden, "Sign-in could not be completed",
		"A rule of this sign-in could not be evaluated, so access was refused. The administrators can see why in the audit log.").WithCode(httperr.AccessDenied)
}

// mergeClaims adds to claims (the server's: roles, groups) the rules'
// extra, the server's value winning, and returns the result.
func mergeClaims(claims, extra map[string]any) map[string]any {
	if len(extra) == 0 {
		return claims
	}
	if claims == nil {
		claims = make(map[string]any, len(extra))
	}
	for k, v := range extra {
		if _, set := claims[k]; !set {
			claims[k] = v
		}
	}
	return claims
}
