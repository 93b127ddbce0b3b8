package tenants

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// Bounds on a tenant's email templates, in bytes: what one email may
// carry, well within the management API's 64 KiB body.
const (
	MaxEmailSubjectLength = 250
	MaxEmailHTMLLength    = 32 << 10
	MaxEmailTextLength    = 16 << 10
)

// EmailTemplate is a tenant's own template of one kind of email in one
// language: it replaces the built-in email for the tenant's users who
// read that language. Its parts are in the template language of
// views/email, checked when saved.
type EmailTemplate struct {
	TenantID string `gorm:"primaryKey"`
	// Kind is a kind of email of views/email's vocabulary ("reset").
	Kind string `gorm:"primaryKey"`
	// Locale is a language the catalogs have (BCP 47, "de", "pt-BR").
	Locale  string `gorm:"primaryKey"`
	Subject string
	// HTML is the content of the branded layout; "" makes it of Text.
	HTML      string `gorm:"column:html"`
	Text      string
	UpdatedAt time.Time
}

// EmailTemplate returns the tenant's template of kind in locale, or
// ErrNotFound when the built-in email is sent.
func (s *Store) EmailTemplate(ctx context.Context, kind, locale string) (*EmailTemplate, error) {
	q, _, err := s.scoped(ctx, "email_templates")
	if err != nil {
		return nil, err
	}
	var et EmailTemplate
	if err := q.Where("kind = ? AND locale = ?", kind, locale).Take(&et).Error; err != nil {
		return nil, mapErr(err)
	}
	return &et, nil
}

// ListEmailTemplates returns all of the tenant's templates, by kind and
// language.
func (s *Store) ListEmailTemplates(ctx context.Context) ([]EmailTemplate, error) {
	q, _, err := s.scoped(ctx, "email_templates")
	if err != nil {
		return nil, err
	}
	var rows []EmailTemplate
	return rows, mapErr(q.Order("kind, locale").Find(&rows).Error)
}

// SetEmailTemplate saves the tenant's template of a kind in a language,
// replacing an earlier one. The number of rows is bounded by the kinds and
// languages, which the caller checks.
func (s *Store) SetEmailTemplate(ctx context.Context, et *EmailTemplate) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	et.TenantID, et.UpdatedAt = tid, s.now()
	return mapErr(s.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "kind"}, {Name: "locale"}},
		DoUpdates: clause.AssignmentColumns([]string{"subject", "html", "text", "updated_at"}),
	}).Create(et).Error)
}

// DeleteEmailTemplate removes the tenant's template of a kind in a
// language: the built-in email is sent again.
func (s *Store) DeleteEmailTemplate(ctx context.Context, kind, locale string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Exec("DELETE FROM email_templates WHERE tenant_id = ? AND kind = ? AND locale = ?", tid, kind, locale)
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
