package admin

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// ActionConnectionGroupsMapped is the audit action of a connection's group
// mapping replaced.
const ActionConnectionGroupsMapped = "connection.groups_mapped"

// GroupMapping maps an upstream group name of a connection to a group of
// the tenant: users whose sign-in through the connection asserts the
// upstream group are members of the group, until a sign-in that does not.
type GroupMapping struct {
	Upstream  string `json:"upstream"`
	GroupID   string `json:"group_id"`
	GroupName string `json:"group_name"`
}

// GroupMappingInput is one mapping to set: Group names the tenant's group
// by id or name.
type GroupMappingInput struct {
	Upstream string `json:"upstream"`
	Group    string `json:"group"`
}

// ConnectionGroupMappings returns the group mapping of a connection of the
// tenant in ctx.
func (s *Service) ConnectionGroupMappings(ctx context.Context, connID string) ([]*GroupMapping, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	if !referable(connID) {
		return nil, fmt.Errorf("connection: %w", tenants.ErrNotFound)
	}
	if _, err := s.store.ConnectionByID(ctx, connID); err != nil {
		return nil, err
	}
	return s.groupMappings(ctx, connID)
}

func (s *Service) groupMappings(ctx context.Context, connID string) ([]*GroupMapping, error) {
	ms, err := s.store.ConnectionGroupMaps(ctx, connID)
	if err != nil {
		return nil, err
	}
	gs, err := s.store.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, g := range gs {
		names[g.ID] = g.Name
	}
	out := make([]*GroupMapping, len(ms))
	for i, m := range ms {
		out[i] = &GroupMapping{Upstream: m.UpstreamGroup, GroupID: m.GroupID, GroupName: names[m.GroupID]}
	}
	return out, nil
}

// SetConnectionGroupMappings replaces the group mapping of a connection of
// the tenant in ctx (at most tenants.MaxGroupMaps mappings; an upstream
// group name as federation.Clean keeps them, at most federation.MaxGroup
// bytes). A group of another tenant, by id or name, answers not found.
// Memberships follow the new mapping at each user's next sign-in through
// the connection.
func (s *Service) SetConnectionGroupMappings(ctx context.Context, connID string, in []GroupMappingInput) ([]*GroupMapping, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	if !referable(connID) {
		return nil, fmt.Errorf("connection: %w", tenants.ErrNotFound)
	}
	if _, err := s.store.ConnectionByID(ctx, connID); err != nil {
		return nil, err
	}
	if len(in) > tenants.MaxGroupMaps {
		return nil, tenants.Invalid("mappings", "at most %d mappings", tenants.MaxGroupMaps)
	}
	before, err := s.groupMappings(ctx, connID)
	if err != nil {
		return nil, err
	}
	rows := make([]tenants.GroupMap, 0, len(in))
	for i, m := range in {
		field := fmt.Sprintf("mappings[%d].upstream", i)
		up := strings.TrimSpace(m.Upstream)
		if err := validateToken(field, up, federation.MaxGroup); err != nil {
			return nil, err
		}
		g, err := s.groupByRef(ctx, strings.TrimSpace(m.Group))
		if err != nil {
			return nil, err
		}
		rows = append(rows, tenants.GroupMap{UpstreamGroup: up, GroupID: g.ID})
	}
	if err := s.store.SetConnectionGroupMaps(ctx, connID, rows); err != nil {
		return nil, err
	}
	after, err := s.groupMappings(ctx, connID)
	if err != nil {
		return nil, err
	}
	return after, s.audit(ctx, t, ActionConnectionGroupsMapped, "connection", connID, before, after)
}

// ParseGroupMappings reads mappings written one a line as
// "upstream group = tenant group" (the console's and the CLI's form).
func ParseGroupMappings(lines []string) ([]GroupMappingInput, error) {
	var out []GroupMappingInput
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		up, g, ok := strings.Cut(l, "=")
		if !ok || strings.TrimSpace(up) == "" || strings.TrimSpace(g) == "" {
			return nil, tenants.Invalid("mappings", "line %d: write upstream group = tenant group", i+1)
		}
		out = append(out, GroupMappingInput{Upstream: strings.TrimSpace(up), Group: strings.TrimSpace(g)})
	}
	return out, nil
}
