package tenants

import "context"

// AuditOutcomes are the outcomes an audit event has: what was asked was
// done, refused for the asker's mistake, refused by a rule, or failed on
// the server's side.
var AuditOutcomes = []string{"success", "failure", "denied", "error"}

// auditNamed says, for each kind of object an audit event names (its
// target type, or an actor kind), where its name is: the table, the
// column its id is in, and the column people know it by.
var auditNamed = map[string]struct{ table, id, name string }{
	"user":       {"users", "id", "email"},
	"client":     {"clients", "client_id", "name"},
	"api":        {"apis", "id", "name"},
	"connection": {"connections", "id", "name"},
	"role":       {"roles", "id", "name"},
	"group":      {"user_groups", "id", "name"},
	"webhook":    {"webhook_endpoints", "id", "url"},
}

// AuditNames returns the names of the objects ids names, by kind (a key of
// auditNamed; others are left out) and then id, read from the tenant of
// ctx: one query a kind. An object since deleted has no name.
func (s *Store) AuditNames(ctx context.Context, ids map[string][]string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for kind, want := range ids {
		where, ok := auditNamed[kind]
		if !ok || len(want) == 0 {
			continue
		}
		q, _, err := s.scoped(ctx, where.table)
		if err != nil {
			return nil, err
		}
		var rows []struct{ ID, Name string }
		err = q.Select(where.id+" AS id, "+where.name+" AS name").Where(where.id+" IN ?", want).Scan(&rows).Error
		if err != nil {
			return nil, mapErr(err)
		}
		names := make(map[string]string, len(rows))
		for _, r := range rows {
			names[r.ID] = r.Name
		}
		out[kind] = names
	}
	return out, nil
}
