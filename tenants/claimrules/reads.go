package claimrules

import (
	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
)

// Reads says which of the user's access a rule's expressions read:
// reading roles and groups costs a token a database statement, and a
// tenant's rules that name none of them save it. The analysis is
// conservative: an expression that uses user other than to select one of
// its fields reads all of them.
type Reads struct {
	Roles, Groups, UpstreamGroups bool
}

// Any reports whether r reads anything.
func (r Reads) Any() bool { return r.Roles || r.Groups || r.UpstreamGroups }

func (r Reads) or(o Reads) Reads {
	return Reads{Roles: r.Roles || o.Roles, Groups: r.Groups || o.Groups, UpstreamGroups: r.UpstreamGroups || o.UpstreamGroups}
}

var readsAll = Reads{Roles: true, Groups: true, UpstreamGroups: true}

// readsOf is what the checked expression a reads of the user's access.
func readsOf(a *cel.Ast) Reads {
	native := a.NativeRep()
	if native == nil {
		return readsAll
	}
	var r Reads
	for _, id := range celast.MatchDescendants(celast.NavigateAST(native), celast.KindMatcher(celast.IdentKind)) {
		if id.AsIdent() != "user" {
			continue
		}
		parent, ok := id.Parent()
		if !ok || parent.Kind() != celast.SelectKind || parent.AsSelect().Operand().ID() != id.ID() {
			// The whole user: as a value, an argument, or a
			// comprehension's variable of that name.
			return readsAll
		}
		switch parent.AsSelect().FieldName() {
		case "roles":
			r.Roles = true
		case "groups":
			r.Groups = true
		case "upstream_groups":
			r.UpstreamGroups = true
		}
	}
	return r
}

// Reads is what the rules of s read of the user's access.
func (s *Set) Reads() Reads {
	var r Reads
	if s == nil {
		return r
	}
	for _, p := range s.Programs {
		r = r.or(p.reads)
	}
	return r
}
