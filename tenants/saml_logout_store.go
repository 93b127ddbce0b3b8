package tenants

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// RecordSAMLParticipant notes, in the tenant of ctx, that the session with
// sid signed in to an application of that tenant with a NameID; a second
// assertion to the same (application, session, NameID) only extends the
// row to expiresAt.
func (s *Store) RecordSAMLParticipant(ctx context.Context, p *SAMLParticipant) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if _, err := s.SAMLAppByID(ctx, p.AppID); err != nil {
		return err
	}
	if p.ID == "" {
		p.ID = NewRandomID()
	}
	p.TenantID, p.CreatedAt = tid, s.now()
	return mapErr(s.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "app_id"}, {Name: "sid"}, {Name: "name_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"expires_at", "session_index", "name_id_format"}),
	}).Create(p).Error)
}

// SAMLParticipants returns the unexpired applications the session with sid
// of the tenant in ctx signed in to, oldest first.
func (s *Store) SAMLParticipants(ctx context.Context, sid string) ([]SAMLParticipant, error) {
	q, _, err := s.scoped(ctx, "saml_participants")
	if err != nil {
		return nil, err
	}
	var ps []SAMLParticipant
	return ps, mapErr(q.Where("sid = ? AND expires_at > ?", sid, s.now()).Order("created_at, id").Find(&ps).Error)
}

// SAMLParticipantsByNameID returns the unexpired sessions of the tenant in
// ctx that gave application appID the NameID nameID (a LogoutRequest names
// its principal so), oldest first.
func (s *Store) SAMLParticipantsByNameID(ctx context.Context, appID, nameID string) ([]SAMLParticipant, error) {
	q, _, err := s.scoped(ctx, "saml_participants")
	if err != nil {
		return nil, err
	}
	var ps []SAMLParticipant
	return ps, mapErr(q.Where("app_id = ? AND name_id = ? AND expires_at > ?", appID, nameID, s.now()).Order("created_at, id").Find(&ps).Error)
}

// DeleteSAMLParticipants forgets every application the session with sid of
// the tenant in ctx signed in to (the session ended).
func (s *Store) DeleteSAMLParticipants(ctx context.Context, sid string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.conn(ctx).Exec("DELETE FROM saml_participants WHERE tenant_id = ? AND sid = ?", tid, sid).Error)
}

// UseSAMLMessage records that a message id of application appID of the
// tenant in ctx was acted on, until expiresAt; the same id again is
// ErrAlreadyExists (a replay), and an application of another tenant
// ErrNotFound.
func (s *Store) UseSAMLMessage(ctx context.Context, appID, messageID string, expiresAt time.Time) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if _, err := s.SAMLAppByID(ctx, appID); err != nil {
		return err
	}
	return mapErr(s.conn(ctx).Create(&SAMLMessage{TenantID: tid, AppID: appID, MessageID: messageID, ExpiresAt: expiresAt}).Error)
}
