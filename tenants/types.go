package tenants

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// Strings is a list of strings stored as a JSON array in a text column, so
// that the same schema works on PostgreSQL and SQLite.
type Strings []string

// Value implements driver.Valuer.
func (s Strings) Value() (driver.Value, error) {
	if s == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(s))
	return string(b), err
}

// Scan implements sql.Scanner.
func (s *Strings) Scan(src any) error {
	return scanJSON(src, (*[]string)(s))
}

// Contains reports whether v is in s.
func (s Strings) Contains(v string) bool { return slices.Contains(s, v) }

// ScopeSet maps an API audience to the scopes granted on it; the empty
// audience holds the OpenID Connect scopes (openid, profile, email,
// offline_access). It is stored as a JSON object in a text column.
type ScopeSet map[string][]string

// Value implements driver.Valuer.
func (s ScopeSet) Value() (driver.Value, error) {
	if s == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string][]string(s))
	return string(b), err
}

// Scan implements sql.Scanner.
func (s *ScopeSet) Scan(src any) error {
	return scanJSON(src, (*map[string][]string)(s))
}

// Covers reports whether every scope of want on audience is in s.
func (s ScopeSet) Covers(audience string, want []string) bool {
	have := s[audience]
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// Add adds scopes on audience to s, keeping each list sorted and unique.
func (s ScopeSet) Add(audience string, scopes []string) {
	merged := append(slices.Clone(s[audience]), scopes...)
	sort.Strings(merged)
	s[audience] = slices.Compact(merged)
}

func scanJSON(src any, dst any) error {
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		if v == "" {
			return nil
		}
		return json.Unmarshal([]byte(v), dst)
	case []byte:
		if len(v) == 0 {
			return nil
		}
		return json.Unmarshal(v, dst)
	default:
		return fmt.Errorf("tenants: cannot scan %T into JSON column", src)
	}
}

// StringMap maps names to strings, stored as a JSON object in a text column.
type StringMap map[string]string

// Value implements driver.Valuer.
func (m StringMap) Value() (driver.Value, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]string(m))
	return string(b), err
}

// Scan implements sql.Scanner.
func (m *StringMap) Scan(src any) error {
	return scanJSON(src, (*map[string]string)(m))
}
