package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/password"
)

// The user import and export format: one JSON object per line (NDJSON),
// the same both ways, with the field names of the platforms people move
// from.

// UserRecord is one line of an import or an export.
type UserRecord struct {
	// ID is the user's id, and so their sub: kept across a move when
	// given (letters, digits and ._~:|@+- , at most 128).
	ID            string `json:"id,omitempty"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name,omitempty"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	// PasswordHash is a string or an object in one of the formats
	// password.Import reads; an export carries it only with the
	// users:export_hashes scope.
	PasswordHash json.RawMessage `json:"password_hash,omitempty"`
	// CustomPasswordHash is Auth0's name for an object password_hash.
	CustomPasswordHash json.RawMessage `json:"custom_password_hash,omitempty"`
	UserMetadata       json.RawMessage `json:"user_metadata,omitempty"`
	AppMetadata        json.RawMessage `json:"app_metadata,omitempty"`
	// Roles and Groups name roles the user holds directly and groups the
	// user is a member of, by name (or id), in this tenant. An import adds
	// the ones the user lacks; it takes none away.
	Roles      []string         `json:"roles,omitempty"`
	Groups     []string         `json:"groups,omitempty"`
	Identities []IdentityRecord `json:"identities,omitempty"`
}

// IdentityRecord is an upstream identity of a user: the connection (its
// name or id, in this tenant), and the issuer and subject there.
type IdentityRecord struct {
	Connection string `json:"connection"`
	Issuer     string `json:"issuer"`
	Subject    string `json:"subject"`
}

// Limits of the import format.
const (
	// MaxImportLine bounds one line; a longer one is refused (and read no
	// further than the bound).
	MaxImportLine = 64 << 10
	// MaxMetadata bounds user_metadata and app_metadata each.
	MaxMetadata = 16 << 10
	// importBatch is how many users one transaction imports.
	importBatch   = 500
	maxIdentities = 20
	// maxImportLinks bounds roles and groups each on one line.
	maxImportLinks = 100
)

// userIDPattern is what an imported id may be: the ids of the platforms
// people leave (UUIDs; Auth0's auth0|…; Okta's 00u…) fit it.
var userIDPattern = regexp.MustCompile(`^[A-Za-z0-9._~:|@+-]{1,128}$`)

// ImportResult is the report of one line of an import.
type ImportResult struct {
	Line   int    `json:"line"`
	Status string `json:"status" enum:"created,updated,unchanged,refused"`
	ID     string `json:"id,omitempty"`
	Email  string `json:"email,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// ImportSummary counts the lines of an import by outcome.
type ImportSummary struct {
	Lines     int `json:"lines"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Refused   int `json:"refused"`
}

func (s *ImportSummary) count(status string) {
	switch status {
	case tenants.ImportCreated:
		s.Created++
	case tenants.ImportUpdated:
		s.Updated++
	case tenants.ImportUnchanged:
		s.Unchanged++
	default:
		s.Refused++
	}
}

// importNames maps the names and ids of the tenant's objects an import
// line may name to their ids.
type importNames struct {
	connections, roles, groups map[string]string
}

// parseRecord checks one line of an import; names resolves what it names.
// The error is the line's reason.
func parseRecord(raw []byte, line int, names *importNames) (*tenants.ImportUser, error) {
	if !utf8.Valid(raw) || bytes.IndexByte(raw, 0) >= 0 {
		return nil, errors.New("not UTF-8 text without NUL characters")
	}
	var r UserRecord
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return nil, fmt.Errorf("%s: has the wrong type", ute.Field)
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, fmt.Errorf("%s: is not a field of the import", strings.Trim(name, `"`))
		}
		return nil, errors.New("not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value on the line")
	}
	u := &tenants.ImportUser{Line: line, ID: r.ID, Email: strings.TrimSpace(r.Email), EmailVerified: r.EmailVerified,
		Name: strings.TrimSpace(r.Name), GivenName: strings.TrimSpace(r.GivenName), FamilyName: strings.TrimSpace(r.FamilyName)}
	if u.ID != "" && !userIDPattern.MatchString(u.ID) {
		return nil, errors.New("id: must be 1 to 128 letters, digits or ._~:|@+-")
	}
	if err := ValidateEmail(u.Email); err != nil {
		return nil, err
	}
	for _, f := range []struct{ field, v string }{{"name", u.Name}, {"given_name", u.GivenName}, {"family_name", u.FamilyName}} {
		if f.v != "" {
			if err := validateName(f.field, f.v, 200); err != nil {
				return nil, err
			}
		}
	}
	var err error
	if u.RoleIDs, err = resolveNames("roles", "role", r.Roles, names.roles); err != nil {
		return nil, err
	}
	if u.GroupIDs, err = resolveNames("groups", "group", r.Groups, names.groups); err != nil {
		return nil, err
	}
	hash := r.PasswordHash
	if len(r.CustomPasswordHash) > 0 && string(r.CustomPasswordHash) != "null" {
		if len(hash) > 0 && string(hash) != "null" {
			return nil, errors.New("custom_password_hash: give password_hash or custom_password_hash, not both")
		}
		hash = r.CustomPasswordHash
	}
	if len(hash) > 0 && string(hash) != "null" {
		stored, err := password.Import(hash)
		if err != nil {
			if errors.Is(err, password.ErrUnknownFormat) {
				return nil, errors.New("password_hash: unknown format")
			}
			return nil, err
		}
		u.PasswordHash = stored
	}
	if u.UserMetadata, err = metadata("user_metadata", r.UserMetadata); err != nil {
		return nil, err
	}
	if u.AppMetadata, err = metadata("app_metadata", r.AppMetadata); err != nil {
		return nil, err
	}
	if len(r.Identities) > maxIdentities {
		return nil, fmt.Errorf("identities: at most %d", maxIdentities)
	}
	for i, x := range r.Identities {
		id, ok := names.connections[x.Connection]
		if !ok {
			return nil, fmt.Errorf("identities[%d].connection: no connection %q in this tenant", i, tenants.Truncate(x.Connection, 100))
		}
		if x.Subject == "" || len(x.Subject) > 512 || len(x.Issuer) > 512 {
			return nil, fmt.Errorf("identities[%d]: subject must be 1 to 512 bytes, issuer at most 512", i)
		}
		u.Identities = append(u.Identities, tenants.ImportIdentity{ConnectionID: id, Issuer: x.Issuer, Subject: x.Subject})
	}
	return u, nil
}

// resolveNames maps the names (or ids) of a line's field to ids of the
// tenant's objects, without repeats, in the order given.
func resolveNames(field, kind string, given []string, ids map[string]string) ([]string, error) {
	if len(given) > maxImportLinks {
		return nil, fmt.Errorf("%s: at most %d", field, maxImportLinks)
	}
	var out []string
	seen := map[string]bool{}
	for i, name := range given {
		id, ok := ids[name]
		if !ok {
			return nil, fmt.Errorf("%s[%d]: no %s %q in this tenant", field, i, kind, tenants.Truncate(name, 100))
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// metadata checks a metadata field (a JSON object of at most MaxMetadata
// bytes) and returns it compact; empty for none.
func metadata(field string, raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] != '{' {
		return "", fmt.Errorf("%s: must be a JSON object", field)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", fmt.Errorf("%s: must be a JSON object", field)
	}
	if b.Len() > MaxMetadata {
		return "", fmt.Errorf("%s: must be at most %d bytes", field, MaxMetadata)
	}
	return b.String(), nil
}

// ImportOptions configure an import.
type ImportOptions struct {
	// Update changes existing users (matched by id, else by email) where
	// the file differs; without it they are refused.
	Update bool
}

// errLineTooLong is the reason of a line over MaxImportLine.
var errLineTooLong = fmt.Errorf("line too long: at most %d bytes", MaxImportLine)

// lineReader reads an NDJSON stream a line at a time, holding at most
// MaxImportLine bytes of it: a longer line is skipped to its end and
// reported too long.
type lineReader struct {
	r    *bufio.Reader
	buf  []byte
	line int
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next non-blank line and its number, errLineTooLong
// for a long one (with its number), or io.EOF.
func (lr *lineReader) next() ([]byte, int, error) {
	for {
		lr.buf = lr.buf[:0]
		long := false
		for {
			frag, err := lr.r.ReadSlice('\n')
			if !long {
				if len(lr.buf)+len(frag) > MaxImportLine+1 {
					long, lr.buf = true, lr.buf[:0]
				} else {
					lr.buf = append(lr.buf, frag...)
				}
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, 0, err
			}
			eof := errors.Is(err, io.EOF)
			if eof && len(frag) == 0 && len(lr.buf) == 0 && !long {
				return nil, 0, io.EOF
			}
			lr.line++
			if long {
				return nil, lr.line, errLineTooLong
			}
			if t := bytes.TrimSpace(lr.buf); len(t) > 0 {
				return t, lr.line, nil
			}
			if eof {
				return nil, 0, io.EOF
			}
			break
		}
	}
}

// ImportUsers imports the users of an NDJSON stream into the tenant in
// ctx, a batch at a time (so that memory does not grow with the input),
// and reports every line to emit, in order, as its batch is done. Hashes
// are stored as they come, never recomputed. An error of emit (the caller
// went away) or of the database stops the import after the last batch
// done; running it again finishes it, since a line imported already is
// unchanged.
func (s *Service) ImportUsers(ctx context.Context, r io.Reader, opts ImportOptions, emit func(ImportResult) error) (*ImportSummary, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	names, err := s.importNames(ctx)
	if err != nil {
		return nil, err
	}
	lr := newLineReader(r)
	sum := &ImportSummary{}
	var results []ImportResult // of the batch, in line order
	var batch []tenants.ImportUser
	var at []int // batch[i]'s result index
	flush := func() error {
		if len(batch) > 0 {
			outs, err := s.store.ImportUsers(ctx, batch, opts.Update)
			if err != nil {
				return err
			}
			for i, o := range outs {
				res := &results[at[i]]
				res.Status, res.ID, res.Reason = o.Status, o.UserID, o.Reason
			}
		}
		for _, res := range results {
			sum.count(res.Status)
			if err := emit(res); err != nil {
				return err
			}
		}
		results, batch, at = results[:0], batch[:0], at[:0]
		return nil
	}
	for {
		raw, line, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			return sum, fmt.Errorf("read the import: %w", err)
		}
		sum.Lines++
		res := ImportResult{Line: line}
		if err != nil {
			res.Status, res.Reason = tenants.ImportRefused, err.Error()
			results = append(results, res)
		} else if u, perr := parseRecord(raw, line, names); perr != nil {
			res.Status, res.Reason = tenants.ImportRefused, perr.Error()
			results = append(results, res)
		} else {
			res.Email = u.Email
			results = append(results, res)
			batch, at = append(batch, *u), append(at, len(results)-1)
		}
		if len(batch) >= importBatch || len(results) >= 4*importBatch {
			if err := flush(); err != nil {
				return sum, err
			}
		}
	}
	if err := flush(); err != nil {
		return sum, err
	}
	return sum, s.audit(ctx, t, ActionUsersImported, "tenant", t.ID, nil, sum)
}

// importNames reads the names and ids of the tenant's connections, roles
// and groups, for the lines of an import to name them by.
func (s *Service) importNames(ctx context.Context) (*importNames, error) {
	cs, err := s.store.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := s.store.ListRoles(ctx)
	if err != nil {
		return nil, err
	}
	gs, err := s.store.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	n := &importNames{connections: map[string]string{}, roles: map[string]string{}, groups: map[string]string{}}
	for _, c := range cs {
		n.connections[c.Name] = c.ID
	}
	for _, r := range rs {
		n.roles[r.Name] = r.ID
	}
	for _, g := range gs {
		n.groups[g.Name] = g.ID
	}
	// An id wins over another's name.
	for _, c := range cs {
		n.connections[c.ID] = c.ID
	}
	for _, r := range rs {
		n.roles[r.ID] = r.ID
	}
	for _, g := range gs {
		n.groups[g.ID] = g.ID
	}
	return n, nil
}

// ExportUsers writes every user of the tenant in ctx to emit, in id order,
// a page at a time. Password hashes go out only with withHashes, which
// needs the users:export_hashes scope and is audited.
func (s *Service) ExportUsers(ctx context.Context, withHashes bool, emit func(*UserRecord) error) error {
	t, err := s.require(ctx, ScopeTenantsRead)
	if err != nil {
		return err
	}
	if withHashes {
		if t, err = s.require(ctx, ScopeExportHashes); err != nil {
			return err
		}
	}
	names, err := s.importNames(ctx)
	if err != nil {
		return err
	}
	nameOf := exportNames(names)
	if withHashes {
		// Before the first hash leaves: an export whose event cannot be
		// written does not happen.
		if err := s.audit(ctx, t, ActionUsersExportedHashes, "tenant", t.ID, nil, nil); err != nil {
			return err
		}
	}
	after := ""
	for {
		us, err := s.store.UsersAfter(ctx, after, importBatch)
		if err != nil {
			return err
		}
		ids := make([]string, len(us))
		for i := range us {
			ids[i] = us[i].ID
		}
		xs, err := s.store.IdentitiesOfUsers(ctx, ids)
		if err != nil {
			return err
		}
		roles, groups, err := s.store.RoleAndGroupIDsOfUsers(ctx, ids)
		if err != nil {
			return err
		}
		for i := range us {
			r := userRecord(&us[i], xs[us[i].ID], nameOf.connections, withHashes)
			r.Roles, r.Groups = namesOf(roles[us[i].ID], nameOf.roles), namesOf(groups[us[i].ID], nameOf.groups)
			if err := emit(r); err != nil {
				return err
			}
		}
		if len(us) < importBatch {
			return nil
		}
		after = us[len(us)-1].ID
	}
}

// exportNames turns the maps of names and ids to ids around: id to name,
// for an export to name what it can (an object whose name another's id
// shadows keeps its id, which an import reads back alike).
func exportNames(n *importNames) importNames {
	flip := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for name, id := range m {
			if name != id && m[name] == id {
				out[id] = name
			}
		}
		return out
	}
	return importNames{connections: flip(n.connections), roles: flip(n.roles), groups: flip(n.groups)}
}

// namesOf names the ids by names (an id without a name stays an id),
// sorted.
func namesOf(ids []string, names map[string]string) []string {
	var out []string
	for _, id := range ids {
		if n := names[id]; n != "" {
			out = append(out, n)
		} else {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// userRecord is the export line of u.
func userRecord(u *tenants.User, xs []tenants.ExternalIdentity, connName map[string]string, withHash bool) *UserRecord {
	r := &UserRecord{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, GivenName: u.GivenName, FamilyName: u.FamilyName}
	if withHash && u.PasswordHash != "" {
		r.PasswordHash, _ = json.Marshal(u.PasswordHash)
	}
	if u.UserMetadata != "" && u.UserMetadata != "{}" {
		r.UserMetadata = json.RawMessage(u.UserMetadata)
	}
	if u.AppMetadata != "" && u.AppMetadata != "{}" {
		r.AppMetadata = json.RawMessage(u.AppMetadata)
	}
	for _, x := range xs {
		name := connName[x.ConnectionID]
		if name == "" {
			name = x.ConnectionID
		}
		r.Identities = append(r.Identities, IdentityRecord{Connection: name, Issuer: x.Issuer, Subject: x.Subject})
	}
	return r
}
