package tenants

import (
	"context"
	"strings"

	"gorm.io/gorm"
)

// TenantImport is a whole tenant to create at once, checked by the caller:
// the tenant, its signing keys and what it owns, with ids of their own
// (ids are unique across tenants, so a copy never reuses its source's).
type TenantImport struct {
	Tenant *Tenant
	// Keys are the tenant's signing keys (at least one).
	Keys []SigningKey
	// APIs carry their Scopes.
	APIs []API
	// Clients, and Grants naming them by ClientID and their API by APIID.
	Clients []Client
	Grants  []ClientGrant
	// Roles carry their Permissions (by audience and scope, of APIs).
	Roles      []Role
	Groups     []Group
	GroupRoles []GroupRole
	// Connections and Webhooks carry secrets sealed for their new ids.
	Connections []Connection
	Webhooks    []WebhookEndpoint
	// ClaimRules, Strings (the tenant's wording) and SAMLApps (whose
	// access names the new ids of Roles and Groups).
	ClaimRules []ClaimRule
	Strings    []TenantString
	SAMLApps   []SAMLApp
	// Users are imported as ImportUsers does; an id taken in another
	// tenant is replaced by a new one (see TenantImported.UserIDs).
	Users []ImportUser
}

// TenantImported is what ImportTenant did with the users.
type TenantImported struct {
	// UserIDs maps the ids of users that could not keep theirs (taken in
	// another tenant) to their new ids.
	UserIDs map[string]string
	// Users are the outcomes of the users, in order.
	Users []ImportOutcome
}

// ImportTenant creates the tenant of in and everything it owns in one
// transaction: either all of it exists afterwards or none of it does. A
// user line the user import would refuse refuses the whole import, with its
// line and reason.
func (s *Store) ImportTenant(ctx context.Context, in *TenantImport) (*TenantImported, error) {
	if in.Tenant == nil || len(in.Keys) == 0 {
		return nil, Invalid("tenant", "a tenant needs its settings and a signing key")
	}
	now := s.now()
	t := in.Tenant
	if t.ID == "" {
		t.ID = newID()
	}
	tid := t.ID
	t.Host = strings.ToLower(t.Host)
	t.CreatedAt, t.UpdatedAt, t.Revision = now, now, 1
	out := &TenantImported{UserIDs: map[string]string{}}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(t).Error; err != nil {
			return err
		}
		for i := range in.Keys {
			k := &in.Keys[i]
			k.TenantID, k.CreatedAt = tid, now
			if k.ID == "" {
				k.ID = newID()
			}
			if err := tx.Create(k).Error; err != nil {
				return err
			}
		}
		for i := range in.APIs {
			a := &in.APIs[i]
			scopes := a.Scopes
			a.Scopes = nil
			a.TenantID, a.CreatedAt, a.UpdatedAt = tid, now, now
			if err := tx.Create(a).Error; err != nil {
				return err
			}
			for j := range scopes {
				sc := &scopes[j]
				sc.ID, sc.TenantID, sc.APIID, sc.CreatedAt = newID(), tid, a.ID, now
				if err := tx.Create(sc).Error; err != nil {
					return err
				}
			}
			a.Scopes = scopes
		}
		for i := range in.Clients {
			c := &in.Clients[i]
			c.TenantID, c.CreatedAt, c.UpdatedAt = tid, now, now
			if err := tx.Create(c).Error; err != nil {
				return err
			}
		}
		for i := range in.Grants {
			g := &in.Grants[i]
			g.ID, g.TenantID, g.CreatedAt = newID(), tid, now
			if err := tx.Create(g).Error; err != nil {
				return err
			}
		}
		for i := range in.Roles {
			r := &in.Roles[i]
			r.TenantID, r.CreatedAt, r.UpdatedAt = tid, now, now
			if err := tx.Create(r).Error; err != nil {
				return err
			}
			if err := savePermissions(tx, tid, r.ID, r.Permissions, now); err != nil {
				return err
			}
		}
		for i := range in.Groups {
			g := &in.Groups[i]
			g.TenantID, g.CreatedAt, g.UpdatedAt = tid, now, now
			if err := tx.Create(g).Error; err != nil {
				return err
			}
		}
		for i := range in.GroupRoles {
			gr := &in.GroupRoles[i]
			gr.TenantID, gr.CreatedAt = tid, now
			if err := tx.Create(gr).Error; err != nil {
				return err
			}
		}
		for i := range in.Connections {
			c := &in.Connections[i]
			c.TenantID, c.CreatedAt, c.UpdatedAt = tid, now, now
			c.ClientSecretSealed, c.SPKeySealed = nonNilBytes(c.ClientSecretSealed), nonNilBytes(c.SPKeySealed)
			if err := tx.Create(c).Error; err != nil {
				return err
			}
		}
		for i := range in.Webhooks {
			w := &in.Webhooks[i]
			w.TenantID, w.CreatedAt, w.UpdatedAt = tid, now, now
			w.SecretSealed, w.PreviousSecretSealed = nonNilBytes(w.SecretSealed), nonNilBytes(w.PreviousSecretSealed)
			if w.Events == nil {
				w.Events = Strings{}
			}
			if err := tx.Create(w).Error; err != nil {
				return err
			}
		}
		for i := range in.ClaimRules {
			r := &in.ClaimRules[i]
			r.TenantID, r.CreatedAt, r.UpdatedAt = tid, now, now
			if r.IDTokenClaims == nil {
				r.IDTokenClaims = StringMap{}
			}
			if r.AccessTokenClaims == nil {
				r.AccessTokenClaims = StringMap{}
			}
			if err := tx.Create(r).Error; err != nil {
				return err
			}
		}
		for i := range in.Strings {
			ts := &in.Strings[i]
			ts.TenantID, ts.UpdatedAt = tid, now
			if err := tx.Create(ts).Error; err != nil {
				return err
			}
		}
		for i := range in.SAMLApps {
			a := &in.SAMLApps[i]
			a.TenantID, a.CreatedAt, a.UpdatedAt = tid, now, now
			nonNilSAML(a)
			if err := tx.Create(a).Error; err != nil {
				return err
			}
		}
		for start := 0; start < len(in.Users); start += 500 {
			batch := in.Users[start:min(start+500, len(in.Users))]
			if err := s.freeUserIDs(tx, batch, out.UserIDs); err != nil {
				return err
			}
			res, err := s.importBatch(tx, tid, batch, false)
			if err != nil {
				return err
			}
			for _, o := range res {
				if o.Status == ImportRefused {
					return Invalid("users", "line %d: %s", o.Line, o.Reason)
				}
			}
			out.Users = append(out.Users, res...)
		}
		return recordChange(tx, tid, now)
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

// freeUserIDs gives a new id to every user of batch whose id another
// tenant's user holds (user ids are unique across tenants), and records the
// change in changed.
func (s *Store) freeUserIDs(tx *gorm.DB, batch []ImportUser, changed map[string]string) error {
	var ids []string
	for _, u := range batch {
		if u.ID != "" {
			ids = append(ids, u.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var taken []string
	if err := tx.Table("users").Where("id IN ?", ids).Pluck("id", &taken).Error; err != nil {
		return err
	}
	isTaken := map[string]bool{}
	for _, id := range taken {
		isTaken[id] = true
	}
	for i := range batch {
		if id := batch[i].ID; id != "" && isTaken[id] {
			batch[i].ID = newID()
			changed[id] = batch[i].ID
		}
	}
	return nil
}
