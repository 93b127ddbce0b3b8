package tenants

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Bounds on a tenant's own wording.
const (
	// MaxTenantStringLength is the longest text of one message, in bytes.
	MaxTenantStringLength = 2000
	// MaxTenantStrings is how many messages, over all languages, a tenant
	// may reword.
	MaxTenantStrings = 1000
)

// ErrTooManyStrings refuses a tenant's wording beyond MaxTenantStrings; it
// is an ErrConflict.
var ErrTooManyStrings = fmt.Errorf("%w: a tenant may reword at most %d messages", ErrConflict, MaxTenantStrings)

// TenantString is a tenant's own wording of one message of the catalogs in
// one language: it replaces the catalog's text on the tenant's pages and
// email (their consent wording, say).
type TenantString struct {
	TenantID string `gorm:"primaryKey"`
	// Locale is a language the catalogs have (BCP 47, "de", "pt-BR").
	Locale string `gorm:"primaryKey"`
	// MessageID is the catalog's id of the message ("consent.heading").
	MessageID string `gorm:"primaryKey"`
	// Text may name the message's variables ({{.App}}); nothing else in it
	// is read.
	Text      string
	UpdatedAt time.Time
}

// TenantStrings returns the tenant's wording in locale: message id to text.
func (s *Store) TenantStrings(ctx context.Context, locale string) (map[string]string, error) {
	q, _, err := s.scoped(ctx, "tenant_strings")
	if err != nil {
		return nil, err
	}
	var rows []TenantString
	if err := q.Where("locale = ?", locale).Limit(MaxTenantStrings).Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.MessageID] = r.Text
	}
	return out, nil
}

// ListTenantStrings returns all of the tenant's wording, by language and
// message id.
func (s *Store) ListTenantStrings(ctx context.Context) ([]TenantString, error) {
	q, _, err := s.scoped(ctx, "tenant_strings")
	if err != nil {
		return nil, err
	}
	var rows []TenantString
	return rows, mapErr(q.Order("locale, message_id").Limit(MaxTenantStrings).Find(&rows).Error)
}

// SetTenantString saves the tenant's wording of a message in a language,
// replacing an earlier one, and bumps the tenant's revision: nodes that
// keep the wording by revision read it again. A tenant that already rewords
// MaxTenantStrings messages can change those but add no more
// (ErrTooManyStrings).
func (s *Store) SetTenantString(ctx context.Context, ts *TenantString) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	ts.TenantID, ts.UpdatedAt = tid, s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table("tenant_strings").Where("tenant_id = ? AND NOT (locale = ? AND message_id = ?)", tid, ts.Locale, ts.MessageID).
			Count(&n).Error; err != nil {
			return err
		}
		if n >= MaxTenantStrings {
			return ErrTooManyStrings
		}
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "locale"}, {Name: "message_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"text", "updated_at"}),
		}).Create(ts).Error; err != nil {
			return err
		}
		return bumpRevision(tx, tid, ts.UpdatedAt)
	}))
}

// DeleteTenantString removes the tenant's wording of a message in a
// language (the catalog's text shows again) and bumps the tenant's
// revision.
func (s *Store) DeleteTenantString(ctx context.Context, locale, messageID string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("DELETE FROM tenant_strings WHERE tenant_id = ? AND locale = ? AND message_id = ?", tid, locale, messageID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return bumpRevision(tx, tid, s.now())
	}))
}

// SetUserLocale saves the language the user chose ("" for none).
func (s *Store) SetUserLocale(ctx context.Context, userID, locale string) error {
	q, _, err := s.scoped(ctx, "users")
	if err != nil {
		return err
	}
	res := q.Where("id = ?", userID).Updates(map[string]any{"locale": locale, "updated_at": s.now()})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return mapErr(res.Error)
}
