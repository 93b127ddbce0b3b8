package tenants

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"gorm.io/gorm"
)

// ImportIdentity is an upstream identity an imported user is linked to,
// at one of the tenant's connections.
type ImportIdentity struct {
	ConnectionID string
	Issuer       string
	Subject      string
}

// ImportUser is one user of an import, checked: the fields a line gave.
type ImportUser struct {
	// Line is the user's line in the input, for the report.
	Line int
	// ID is the user's id when the input keeps one (their sub survives);
	// empty for a new id.
	ID            string
	Email         string
	EmailVerified bool
	Name          string
	GivenName     string
	FamilyName    string
	// PasswordHash is the stored form of the hash the input brought
	// (password.Import); empty for none (an existing user keeps theirs).
	PasswordHash string
	UserMetadata string // compact JSON object, or empty for none
	AppMetadata  string
	Identities   []ImportIdentity
	// RoleIDs and GroupIDs are roles the user is to hold directly and
	// groups the user is to be a member of, of the tenant; an import adds
	// the missing ones and takes none away.
	RoleIDs  []string
	GroupIDs []string
}

// Outcomes of an imported user.
const (
	ImportCreated   = "created"
	ImportUpdated   = "updated"
	ImportUnchanged = "unchanged"
	ImportRefused   = "refused"
)

// ImportOutcome is what ImportUsers did with one user.
type ImportOutcome struct {
	Line   int
	Status string
	UserID string
	Reason string
}

// HashDigest is the digest ImportedHashDigest keeps of a stored hash.
func HashDigest(stored string) string {
	sum := sha256.Sum256([]byte(stored))
	return hex.EncodeToString(sum[:])
}

// ImportUsers creates the users of one batch of an import in the tenant of
// ctx, or, with update, changes those that exist (matched by id, else by
// email) where they differ; a user who exists and does not differ is
// unchanged, one who differs without update is refused, as are an id
// taken outside the tenant (said exactly as "not available": which tenant
// has it is not told), an email that is another user's, and an identity
// linked to another user. The batch is one transaction: an error of the
// database undoes all of it, a refusal only its line.
func (s *Store) ImportUsers(ctx context.Context, batch []ImportUser, update bool) ([]ImportOutcome, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var out []ImportOutcome
	err = s.tx(ctx, func(tx *gorm.DB) error {
		out, err = s.importBatch(tx, tid, batch, update)
		return err
	})
	return out, mapErr(err)
}

func (s *Store) importBatch(tx *gorm.DB, tid string, batch []ImportUser, update bool) ([]ImportOutcome, error) {
	now := s.now()
	var ids, emails []string
	for _, u := range batch {
		if u.ID != "" {
			ids = append(ids, u.ID)
		}
		emails = append(emails, NormalizeEmail(u.Email))
	}
	var existing []User
	q := tx.Table("users").Where("tenant_id = ?", tid)
	if len(ids) > 0 {
		q = q.Where("(email_normalized IN ? OR id IN ?)", emails, ids)
	} else {
		q = q.Where("email_normalized IN ?", emails)
	}
	if err := s.forUpdate(q).Find(&existing).Error; err != nil {
		return nil, err
	}
	byID, byEmail := map[string]*User{}, map[string]*User{}
	for i := range existing {
		byID[existing[i].ID], byEmail[existing[i].EmailNormalized] = &existing[i], &existing[i]
	}
	// Ids taken elsewhere: user ids are unique across tenants.
	taken := map[string]bool{}
	if len(ids) > 0 {
		var elsewhere []string
		if err := tx.Table("users").Where("tenant_id <> ? AND id IN ?", tid, ids).Pluck("id", &elsewhere).Error; err != nil {
			return nil, err
		}
		for _, id := range elsewhere {
			taken[id] = true
		}
	}
	idents, err := identitiesFor(tx, tid, batch)
	if err != nil {
		return nil, err
	}
	existingIDs := make([]string, len(existing))
	for i := range existing {
		existingIDs[i] = existing[i].ID
	}
	held, err := linksOfUsers(tx, tid, existingIDs)
	if err != nil {
		return nil, err
	}

	out := make([]ImportOutcome, len(batch))
	var creates []User
	var links []ExternalIdentity
	var roleLinks []UserRole
	var groupLinks []GroupMember
	addLinks := func(userID string, roleIDs, groupIDs []string) {
		for _, r := range roleIDs {
			roleLinks = append(roleLinks, UserRole{TenantID: tid, UserID: userID, RoleID: r, CreatedAt: now})
		}
		for _, g := range groupIDs {
			groupLinks = append(groupLinks, GroupMember{TenantID: tid, GroupID: g, UserID: userID, CreatedAt: now})
		}
	}
	seenID, seenEmail := map[string]int{}, map[string]int{}
	for i, in := range batch {
		o := &out[i]
		o.Line = in.Line
		refuse := func(format string, args ...any) { o.Status, o.Reason = ImportRefused, fmt.Sprintf(format, args...) }
		email := NormalizeEmail(in.Email)
		if l, dup := seenEmail[email]; dup {
			refuse("email: the same address as line %d", l)
			continue
		}
		if l, dup := seenID[in.ID]; dup && in.ID != "" {
			refuse("id: the same id as line %d", l)
			continue
		}
		seenEmail[email] = in.Line
		if in.ID != "" {
			seenID[in.ID] = in.Line
		}
		var cur *User
		switch {
		case in.ID != "" && taken[in.ID]:
			refuse("id: not available")
			continue
		case in.ID != "":
			cur = byID[in.ID]
			if other := byEmail[email]; other != nil && other != cur {
				refuse("email: another user of the tenant has this address")
				continue
			}
		default:
			cur = byEmail[email]
		}
		// Identities: each must be free, or already this user's.
		var newLinks []ExternalIdentity
		bad := ""
		for _, x := range in.Identities {
			key := identityKey(x.ConnectionID, x.Issuer, x.Subject)
			owner, linked := idents[key]
			switch {
			case linked && (cur == nil || owner != cur.ID):
				bad = "identities: an identity is linked to another user"
			case !linked:
				newLinks = append(newLinks, ExternalIdentity{ConnectionID: x.ConnectionID, Issuer: x.Issuer, Subject: x.Subject})
			}
		}
		if bad != "" {
			refuse("%s", bad)
			continue
		}
		if cur == nil {
			u := User{ID: in.ID, TenantID: tid, Email: in.Email, EmailNormalized: email, EmailVerified: in.EmailVerified,
				Name: in.Name, GivenName: in.GivenName, FamilyName: in.FamilyName, PasswordHash: in.PasswordHash,
				UserMetadata: orEmptyObject(in.UserMetadata), AppMetadata: orEmptyObject(in.AppMetadata),
				CreatedAt: now, UpdatedAt: now}
			if u.ID == "" {
				u.ID = newID()
			}
			if in.PasswordHash != "" {
				u.ImportedHashDigest = HashDigest(in.PasswordHash)
			}
			creates = append(creates, u)
			for _, x := range newLinks {
				x.ID, x.TenantID, x.UserID, x.CreatedAt = newID(), tid, u.ID, now
				links = append(links, x)
				idents[identityKey(x.ConnectionID, x.Issuer, x.Subject)] = u.ID
			}
			addLinks(u.ID, in.RoleIDs, in.GroupIDs)
			o.Status, o.UserID = ImportCreated, u.ID
			continue
		}
		o.UserID = cur.ID
		fields := importChanges(cur, in)
		newRoles := missing(in.RoleIDs, held.roles[cur.ID])
		newGroups := missing(in.GroupIDs, held.groups[cur.ID])
		if len(fields) == 0 && len(newLinks) == 0 && len(newRoles) == 0 && len(newGroups) == 0 {
			o.Status = ImportUnchanged
			continue
		}
		if !update {
			refuse("exists with other values: import with update to change it")
			continue
		}
		if len(fields) > 0 {
			fields["updated_at"] = now
			if err := tx.Table("users").Where("tenant_id = ? AND id = ?", tid, cur.ID).Updates(fields).Error; err != nil {
				return nil, err
			}
			if _, ok := fields["password_hash"]; ok {
				// A new password: what opened the account opens nothing more.
				if err := revokeAccess(tx, tid, cur.ID, now, "password imported"); err != nil {
					return nil, err
				}
			}
		}
		for _, x := range newLinks {
			x.ID, x.TenantID, x.UserID, x.CreatedAt = newID(), tid, cur.ID, now
			links = append(links, x)
			idents[identityKey(x.ConnectionID, x.Issuer, x.Subject)] = cur.ID
		}
		addLinks(cur.ID, newRoles, newGroups)
		o.Status = ImportUpdated
	}
	if len(creates) > 0 {
		if err := tx.CreateInBatches(creates, 500).Error; err != nil {
			return nil, err
		}
	}
	if len(links) > 0 {
		if err := tx.CreateInBatches(links, 500).Error; err != nil {
			return nil, err
		}
	}
	if len(roleLinks) > 0 {
		if err := tx.CreateInBatches(roleLinks, 500).Error; err != nil {
			return nil, err
		}
	}
	if len(groupLinks) > 0 {
		if err := tx.CreateInBatches(groupLinks, 500).Error; err != nil {
			return nil, err
		}
	}
	return out, nil
}

// missing returns the ids of want that have is lacks, in want's order.
func missing(want []string, have map[string]bool) []string {
	var out []string
	for _, id := range want {
		if !have[id] {
			out = append(out, id)
		}
	}
	return out
}

// userLinks are the roles users hold directly and the groups they are
// members of, by user id, as sets of ids.
type userLinks struct {
	roles, groups map[string]map[string]bool
}

// linksOfUsers reads the direct roles and the groups of the users with ids,
// of the tenant tid.
func linksOfUsers(tx *gorm.DB, tid string, ids []string) (userLinks, error) {
	l := userLinks{roles: map[string]map[string]bool{}, groups: map[string]map[string]bool{}}
	if len(ids) == 0 {
		return l, nil
	}
	add := func(m map[string]map[string]bool, user, id string) {
		if m[user] == nil {
			m[user] = map[string]bool{}
		}
		m[user][id] = true
	}
	var rs []UserRole
	if err := tx.Table("user_roles").Where("tenant_id = ? AND user_id IN ?", tid, ids).Find(&rs).Error; err != nil {
		return l, err
	}
	for _, r := range rs {
		add(l.roles, r.UserID, r.RoleID)
	}
	var gs []GroupMember
	if err := tx.Table("group_members").Where("tenant_id = ? AND user_id IN ?", tid, ids).Find(&gs).Error; err != nil {
		return l, err
	}
	for _, g := range gs {
		add(l.groups, g.UserID, g.GroupID)
	}
	return l, nil
}

// RoleAndGroupIDsOfUsers returns the ids of the roles the users with ids
// (of the tenant of ctx) hold directly and of the groups they are members
// of, by user id, for an export.
func (s *Store) RoleAndGroupIDsOfUsers(ctx context.Context, ids []string) (roles, groups map[string][]string, err error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, nil, err
	}
	l, err := linksOfUsers(s.conn(ctx), tid, ids)
	if err != nil {
		return nil, nil, mapErr(err)
	}
	flat := func(m map[string]map[string]bool) map[string][]string {
		out := make(map[string][]string, len(m))
		for user, set := range m {
			for id := range set {
				out[user] = append(out[user], id)
			}
		}
		return out
	}
	return flat(l.roles), flat(l.groups), nil
}

func orEmptyObject(s string) string {
	if s == "" {
		return "{}"
	}
	return s
}

// importChanges returns the columns of cur an imported line changes: the
// fields it gives that differ. A password hash counts as a change unless
// it is the stored one or the one an import stored last (since re-hashed
// at sign-in, or changed by the user: the file's old hash must not bring
// back the old password).
func importChanges(cur *User, in ImportUser) map[string]any {
	f := map[string]any{}
	if in.Email != cur.Email {
		f["email"], f["email_normalized"] = in.Email, NormalizeEmail(in.Email)
	}
	set := func(col string, now, want string) {
		if now != want {
			f[col] = want
		}
	}
	if in.EmailVerified != cur.EmailVerified {
		f["email_verified"] = in.EmailVerified
	}
	set("name", cur.Name, in.Name)
	set("given_name", cur.GivenName, in.GivenName)
	set("family_name", cur.FamilyName, in.FamilyName)
	if in.UserMetadata != "" {
		set("user_metadata", orEmptyObject(cur.UserMetadata), in.UserMetadata)
	}
	if in.AppMetadata != "" {
		set("app_metadata", orEmptyObject(cur.AppMetadata), in.AppMetadata)
	}
	if in.PasswordHash != "" && in.PasswordHash != cur.PasswordHash && HashDigest(in.PasswordHash) != cur.ImportedHashDigest {
		f["password_hash"], f["imported_hash_digest"] = in.PasswordHash, HashDigest(in.PasswordHash)
	}
	return f
}

func identityKey(connectionID, issuer, subject string) string {
	return connectionID + "\x00" + issuer + "\x00" + subject
}

// identitiesFor returns who (user id) holds each identity the batch names.
func identitiesFor(tx *gorm.DB, tid string, batch []ImportUser) (map[string]string, error) {
	var subjects []string
	for _, u := range batch {
		for _, x := range u.Identities {
			subjects = append(subjects, x.Subject)
		}
	}
	held := map[string]string{}
	if len(subjects) == 0 {
		return held, nil
	}
	var xs []ExternalIdentity
	if err := tx.Table("external_identities").Where("tenant_id = ? AND subject IN ?", tid, subjects).Find(&xs).Error; err != nil {
		return nil, err
	}
	for _, x := range xs {
		held[identityKey(x.ConnectionID, x.Issuer, x.Subject)] = x.UserID
	}
	return held, nil
}

// IdentitiesOfUsers returns the upstream identities linked to the users
// with ids, of the tenant in ctx, by user id.
func (s *Store) IdentitiesOfUsers(ctx context.Context, ids []string) (map[string][]ExternalIdentity, error) {
	q, _, err := s.scoped(ctx, "external_identities")
	if err != nil {
		return nil, err
	}
	out := map[string][]ExternalIdentity{}
	if len(ids) == 0 {
		return out, nil
	}
	var xs []ExternalIdentity
	if err := q.Where("user_id IN ?", ids).Order("created_at, id").Find(&xs).Error; err != nil {
		return nil, mapErr(err)
	}
	for _, x := range xs {
		out[x.UserID] = append(out[x.UserID], x)
	}
	return out, nil
}

// UsersAfter returns up to limit users of the tenant in ctx in id order,
// after the id after (empty: from the first), for an export.
func (s *Store) UsersAfter(ctx context.Context, after string, limit int) ([]User, error) {
	q, _, err := s.scoped(ctx, "users")
	if err != nil {
		return nil, err
	}
	if after != "" {
		q = q.Where("id > ?", after)
	}
	var us []User
	return us, mapErr(q.Order("id").Limit(limit).Find(&us).Error)
}
