// Package claimrules owns a tenant's claim rules: CEL expressions (cel.dev/cel-go)
// that add claims to ID and access tokens or deny a sign-in, checked when
// they are saved and evaluated, under a cost limit and a deadline, when a
// token is minted. It is pure: the caller reads the rules and the inputs.
package claimrules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"google.golang.org/protobuf/types/known/structpb"
)

// Limits of a rule and of an evaluation. Expressions are short, claims few
// and small: a rule that needs more belongs in the application.
const (
	MaxRules            = 50
	MaxExpressionLength = 4096
	MaxClaimsPerRule    = 20
	MaxClaimNameLength  = 128
	MaxDenyMessage      = 300
	MaxNameLength       = 100
	// MaxClaimsSize caps the JSON size of what the rules add to one token.
	MaxClaimsSize = 8 << 10
	// CostLimit caps the CEL runtime cost of each expression (roughly the
	// number of operations it performs).
	CostLimit = 10_000
	// Timeout bounds one evaluation of a tenant's rules. At the code
	// exchange they run inside the claim's transaction (SQLite has one
	// writer, PostgreSQL a shared pool), so the deadline is also how long
	// one tenant's rules may hold it: typical rules take microseconds.
	Timeout = 10 * time.Millisecond
)

// Reserved are the claims no rule may set or remove: the ones the server
// asserts about the token itself, the client and the authentication (JWT,
// OpenID Connect Core, RFC 9068, RFC 7800), and the verification flags only
// the server vouches for.
var reserved = []string{
	"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "azp", "nonce", "at_hash", "c_hash",
	"acr", "amr", "auth_time", "client_id", "scope", "cnf", "sid",
	"email_verified", "phone_number_verified",
}

// Reserved returns the claims no rule may set, in a fixed order.
func Reserved() []string { return slices.Clone(reserved) }

// IsReserved reports whether a rule may not set claim.
func IsReserved(claim string) bool { return slices.Contains(reserved, claim) }

// Rule is one claim rule as stored: when Condition (CEL, bool; empty means
// always) holds, either the claims of IDToken and AccessToken (claim name
// → CEL expression of its value) are added, or, when Deny is set, the
// sign-in is refused with Deny as the message shown to the user.
type Rule struct {
	ID          string
	Name        string
	Condition   string
	IDToken     map[string]string
	AccessToken map[string]string
	Deny        string
}

// FieldError is one problem of a rule, named by its field: "name",
// "condition", "deny", "id_token.<claim>" or "access_token.<claim>".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// CheckError lists every problem of a rule.
type CheckError struct {
	Problems []FieldError
}

func (e *CheckError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", p.Field, p.Message)
	}
	return b.String()
}

// The inputs of a rule, as CEL sees them: user, client, api, connection
// and request.

// User is the user the token is for.
type User struct {
	ID            string         `cel:"id"`
	Email         string         `cel:"email"`
	EmailVerified bool           `cel:"email_verified"`
	Name          string         `cel:"name"`
	GivenName     string         `cel:"given_name"`
	FamilyName    string         `cel:"family_name"`
	UserMetadata  map[string]any `cel:"user_metadata"`
	AppMetadata   map[string]any `cel:"app_metadata"`
	Roles         []string       `cel:"roles"`
	Groups        []string       `cel:"groups"`
	// UpstreamGroups are the upstream groups passed through into the
	// groups claim (by a connection that passes its unmapped groups):
	// apart from Groups, so that an upstream cannot assert a name that a
	// rule reads as a membership of the tenant's group.
	UpstreamGroups []string `cel:"upstream_groups"`
}

// Client is the application the token is issued to.
type Client struct {
	ID      string `cel:"id"`
	Name    string `cel:"name"`
	AppType string `cel:"app_type"`
}

// API is the API the access token is for; empty when it only reads the
// user's claims.
type API struct {
	Audience string `cel:"audience"`
	Name     string `cel:"name"`
}

// Connection is the upstream connection the user signed in through; empty
// for a local sign-in. Claims are the upstream's claims, where kept.
type Connection struct {
	Name   string         `cel:"name"`
	Claims map[string]any `cel:"claims"`
}

// Request is the token request: its grant type and scopes, and the
// authentication behind it (acr, amr) and the IP address of the caller.
type Request struct {
	GrantType string   `cel:"grant_type"`
	Scopes    []string `cel:"scopes"`
	ACR       string   `cel:"acr"`
	AMR       []string `cel:"amr"`
	IP        string   `cel:"ip"`
}

// Input is everything a rule may read.
type Input struct {
	User       User
	Client     Client
	API        API
	Connection Connection
	Request    Request
}

// Env is the CEL environment of claim rules: the five input variables,
// the strings extension. It is safe for concurrent use.
type Env struct {
	env *cel.Env
}

// NewEnv returns the environment claim rules are checked and run in.
func NewEnv() (*Env, error) {
	env, err := cel.NewEnv(
		ext.NativeTypes(ext.ParseStructTags(true), reflect.TypeOf(User{}), reflect.TypeOf(Client{}), reflect.TypeOf(API{}), reflect.TypeOf(Connection{}), reflect.TypeOf(Request{})),
		cel.Variable("user", cel.ObjectType("claimrules.User")),
		cel.Variable("client", cel.ObjectType("claimrules.Client")),
		cel.Variable("api", cel.ObjectType("claimrules.API")),
		cel.Variable("connection", cel.ObjectType("claimrules.Connection")),
		cel.Variable("request", cel.ObjectType("claimrules.Request")),
		ext.Strings(),
	)
	if err != nil {
		return nil, err
	}
	return &Env{env: env}, nil
}

// Program is a checked rule, ready to run.
type Program struct {
	Rule        Rule
	condition   cel.Program // nil: always
	idToken     []claimProgram
	accessToken []claimProgram
	// reads is what its expressions read of the user's access.
	reads Reads
}

type claimProgram struct {
	name string
	prg  cel.Program
}

// Check checks r: its name, each expression's syntax and types (a
// condition is a bool, a claim's value is JSON: null, bool, number,
// string, list or map), the claim names (none reserved), the limits, and
// that a rule either adds claims or denies. Every problem is reported
// (*CheckError), each with its field.
func (e *Env) Check(r Rule) (*Program, error) {
	var problems []FieldError
	add := func(field, format string, args ...any) {
		problems = append(problems, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if msg := textProblem(r.Name, MaxNameLength); msg != "" || strings.TrimSpace(r.Name) == "" {
		if msg == "" {
			msg = "is required"
		}
		add("name", "%s", msg)
	}
	p := &Program{Rule: r}
	if strings.TrimSpace(r.Condition) != "" {
		prg, reads, msg := e.compile(r.Condition, true)
		if msg != "" {
			add("condition", "%s", msg)
		}
		p.condition, p.reads = prg, p.reads.or(reads)
	}
	claims := len(r.IDToken) + len(r.AccessToken)
	switch {
	case r.Deny != "" && claims > 0:
		add("deny", "a rule either denies or adds claims, not both")
	case r.Deny == "" && claims == 0:
		add("deny", "a rule needs claims to add to the ID token or access token, or a deny message")
	case r.Deny != "":
		if msg := textProblem(r.Deny, MaxDenyMessage); msg != "" {
			add("deny", "%s", msg)
		}
	}
	for _, tok := range []struct {
		field  string
		claims map[string]string
		into   *[]claimProgram
	}{{"id_token", r.IDToken, &p.idToken}, {"access_token", r.AccessToken, &p.accessToken}} {
		if len(tok.claims) > MaxClaimsPerRule {
			add(tok.field, "at most %d claims per rule", MaxClaimsPerRule)
			continue
		}
		names := make([]string, 0, len(tok.claims))
		for name := range tok.claims {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			field := tok.field + "." + name
			if !validClaimName(name) {
				field = tok.field
				add(field, "claim name %q must be 1 to %d printable characters without spaces", truncate(name, 40), MaxClaimNameLength)
				continue
			}
			if IsReserved(name) {
				add(field, "%s is a reserved claim: the server sets it, and no rule may", name)
				continue
			}
			prg, reads, msg := e.compile(tok.claims[name], false)
			if msg != "" {
				add(field, "%s", msg)
				continue
			}
			p.reads = p.reads.or(reads)
			*tok.into = append(*tok.into, claimProgram{name: name, prg: prg})
		}
	}
	if len(problems) > 0 {
		return nil, &CheckError{Problems: problems}
	}
	return p, nil
}

// compile parses and checks one expression: a condition must be a bool
// (or dyn, checked when it runs), a claim's value JSON. It says what the
// expression reads of the user's access (readsOf).
func (e *Env) compile(src string, condition bool) (cel.Program, Reads, string) {
	if strings.TrimSpace(src) == "" {
		return nil, Reads{}, "is required"
	}
	if len(src) > MaxExpressionLength {
		return nil, Reads{}, fmt.Sprintf("must be at most %d bytes", MaxExpressionLength)
	}
	if !utf8.ValidString(src) || strings.ContainsRune(src, 0) {
		return nil, Reads{}, "must be UTF-8 text"
	}
	ast, iss := e.env.Compile(src)
	if iss.Err() != nil {
		return nil, Reads{}, oneLine(iss.Err().Error())
	}
	out := ast.OutputType()
	if condition {
		if !out.IsExactType(cel.BoolType) && !out.IsExactType(cel.DynType) {
			return nil, Reads{}, fmt.Sprintf("must be a bool, not %s", out)
		}
	} else if !jsonType(out) {
		return nil, Reads{}, fmt.Sprintf("must be JSON (null, bool, number, string, list or map), not %s", out)
	}
	prg, err := e.env.Program(ast, cel.CostLimit(CostLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, Reads{}, err.Error()
	}
	return prg, readsOf(ast), ""
}

// jsonType reports whether values of t turn into JSON.
func jsonType(t *cel.Type) bool {
	switch t.Kind() {
	case types.BoolKind, types.IntKind, types.UintKind, types.DoubleKind, types.StringKind, types.NullTypeKind, types.DynKind:
		return true
	case types.ListKind:
		return jsonType(t.Parameters()[0])
	case types.MapKind:
		k := t.Parameters()[0]
		return (k.Kind() == types.StringKind || k.Kind() == types.DynKind) && jsonType(t.Parameters()[1])
	}
	return false
}

// Set is a tenant's rules, checked, in the order they run.
type Set struct {
	Programs []*Program
}

// Result is what a tenant's rules add: to the ID token and to the access
// token. Maps are nil when nothing is added.
type Result struct {
	IDToken     map[string]any
	AccessToken map[string]any
}

// Denied is the outcome of a deny rule whose condition held: Message is
// shown to the user.
type Denied struct {
	RuleID, RuleName, Message string
}

func (d *Denied) Error() string {
	return fmt.Sprintf("claim rule %q denied the sign-in: %s", d.RuleName, d.Message)
}

// RunError is a rule that failed at run time: an error in an expression
// (a missing key, a wrong type), the cost limit, the deadline, a value
// that is not JSON, a reserved claim, or too many claims. The sign-in
// fails closed.
type RunError struct {
	RuleID, RuleName, Field string
	Err                     error
}

func (e *RunError) Error() string {
	return fmt.Sprintf("claim rule %q, %s: %v", e.RuleName, e.Field, e.Err)
}

func (e *RunError) Unwrap() error { return e.Err }

// ErrTooLarge is the RunError cause of claims whose JSON outgrows MaxClaimsSize.
var ErrTooLarge = errors.New("the claims the rules add are too large")

// Evaluate runs the rules in order on in, within Timeout: the first deny
// rule whose condition holds stops with *Denied; a rule that fails stops
// with *RunError; otherwise the claims of every rule whose condition holds
// are added, a later rule's value replacing an earlier one's.
func (s *Set) Evaluate(ctx context.Context, in Input) (*Result, error) {
	if s == nil || len(s.Programs) == 0 {
		return &Result{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	vars := map[string]any{
		"user": in.User, "client": in.Client, "api": in.API, "connection": in.Connection, "request": in.Request,
	}
	act, err := cel.NewActivation(vars)
	if err != nil {
		return nil, &RunError{Field: "input", Err: err}
	}
	res := &Result{}
	for _, p := range s.Programs {
		fail := func(field string, err error) error {
			return &RunError{RuleID: p.Rule.ID, RuleName: p.Rule.Name, Field: field, Err: err}
		}
		if err := ctx.Err(); err != nil {
			return nil, fail("rule", err)
		}
		if p.condition != nil {
			v, _, err := p.condition.ContextEval(ctx, act)
			if err != nil {
				return nil, fail("condition", err)
			}
			b, ok := v.(types.Bool)
			if !ok {
				return nil, fail("condition", fmt.Errorf("is %s, not a bool", v.Type()))
			}
			if !b {
				continue
			}
		}
		if p.Rule.Deny != "" {
			return nil, &Denied{RuleID: p.Rule.ID, RuleName: p.Rule.Name, Message: p.Rule.Deny}
		}
		for _, tok := range []struct {
			field  string
			claims []claimProgram
			into   *map[string]any
		}{{"id_token", p.idToken, &res.IDToken}, {"access_token", p.accessToken, &res.AccessToken}} {
			for _, c := range tok.claims {
				field := tok.field + "." + c.name
				if IsReserved(c.name) {
					return nil, fail(field, errors.New("reserved claim"))
				}
				v, _, err := c.prg.ContextEval(ctx, act)
				if err != nil {
					return nil, fail(field, err)
				}
				j, err := toJSON(v)
				if err != nil {
					return nil, fail(field, err)
				}
				if *tok.into == nil {
					*tok.into = map[string]any{}
				}
				(*tok.into)[c.name] = j
			}
		}
	}
	for _, m := range []map[string]any{res.IDToken, res.AccessToken} {
		if b, err := json.Marshal(m); err != nil || len(b) > MaxClaimsSize {
			return nil, &RunError{Field: "claims", Err: ErrTooLarge}
		}
	}
	return res, nil
}

// toJSON turns a CEL value into what encoding/json writes as its JSON.
func toJSON(v ref.Val) (any, error) {
	if types.IsError(v) || types.IsUnknown(v) {
		return nil, fmt.Errorf("no value: %v", v)
	}
	pv, err := v.ConvertToNative(reflect.TypeOf(&structpb.Value{}))
	if err != nil {
		return nil, fmt.Errorf("the value is not JSON: %w", err)
	}
	return pv.(*structpb.Value).AsInterface(), nil
}

// Compile checks every rule of rules, in order, into a Set. A rule that
// does not check (the environment changed since it was saved) makes the
// Set fail as a *RunError: its tenant's sign-ins fail closed.
func (e *Env) Compile(rules []Rule) (*Set, error) {
	if len(rules) > MaxRules {
		return nil, &RunError{Field: "rules", Err: fmt.Errorf("more than %d rules", MaxRules)}
	}
	s := &Set{Programs: make([]*Program, 0, len(rules))}
	for _, r := range rules {
		p, err := e.Check(r)
		if err != nil {
			return nil, &RunError{RuleID: r.ID, RuleName: r.Name, Field: "rule", Err: err}
		}
		s.Programs = append(s.Programs, p)
	}
	return s, nil
}

func validClaimName(name string) bool {
	if name == "" || len(name) > MaxClaimNameLength || !utf8.ValidString(name) {
		return false
	}
	return !strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) })
}

// textProblem says what is wrong with a name or message, or "".
func textProblem(s string, max int) string {
	switch {
	case !utf8.ValidString(s):
		return "must be UTF-8 text"
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("must be at most %d characters", max)
	case strings.ContainsFunc(s, unicode.IsControl):
		return "must not contain control characters"
	}
	return ""
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// oneLine keeps of CEL's report its errors, one after the other, with the
// line and column of each, without the source excerpt and caret lines.
func oneLine(report string) string {
	var out []string
	for _, l := range strings.Split(report, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "ERROR: <input>:"); ok {
			out = append(out, "at "+rest)
		}
	}
	if len(out) == 0 {
		return strings.Join(strings.Fields(report), " ")
	}
	return strings.Join(out, "; ")
}
