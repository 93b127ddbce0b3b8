package tenants

import (
	"context"
	"time"
)

// DaySignIns counts the sign-ins of one UTC day: those that succeeded and
// those refused (a wrong password, a lock, a rule).
type DaySignIns struct {
	Day       time.Time
	Succeeded int64
	Failed    int64
}

// Activity is how a tenant is used: sign-ins by day, and how many users
// signed in lately and have a second factor.
type Activity struct {
	Days []DaySignIns // oldest first, one per day, days without any too
	// ActiveUsers signed in within the last 30 days; MFAUsers have a
	// confirmed second factor or passkey.
	ActiveUsers int64
	MFAUsers    int64
	// EverSignedIn says whether anyone ever signed in (for the
	// getting-started list).
	EverSignedIn bool
}

// TenantActivity returns the activity of the tenant of ctx over the last
// days days (today included), from the audit log's sign-in events: one
// grouped query, whatever their number.
func (s *Store) TenantActivity(ctx context.Context, days int) (*Activity, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	first := today.AddDate(0, 0, -(days - 1))
	day := "strftime('%Y-%m-%d', occurred_at)"
	if s.dialect == DialectPostgres {
		day = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	var rows []struct {
		Day     string
		Outcome string
		N       int64
	}
	err = s.conn(ctx).Raw(`SELECT `+day+` AS day, outcome, COUNT(*) AS n FROM audit_events
WHERE tenant_id = ? AND occurred_at >= ? AND action IN ('login.succeeded', 'login.failed', 'login.throttled')
GROUP BY 1, 2`, tid, first).Scan(&rows).Error
	if err != nil {
		return nil, mapErr(err)
	}
	a := &Activity{}
	at := map[string]*DaySignIns{}
	for d := first; !d.After(today); d = d.AddDate(0, 0, 1) {
		a.Days = append(a.Days, DaySignIns{Day: d})
	}
	for i := range a.Days {
		at[a.Days[i].Day.Format("2006-01-02")] = &a.Days[i]
	}
	for _, r := range rows {
		d, ok := at[r.Day]
		if !ok {
			continue
		}
		if r.Outcome == "success" {
			d.Succeeded += r.N
		} else {
			d.Failed += r.N
		}
	}
	users, _, err := s.scoped(ctx, "users")
	if err != nil {
		return nil, err
	}
	if err := users.Where("last_login_at >= ?", now.AddDate(0, 0, -30)).Count(&a.ActiveUsers).Error; err != nil {
		return nil, mapErr(err)
	}
	var ever int64
	if err := s.conn(ctx).Table("users").Where("tenant_id = ? AND last_login_at IS NOT NULL", tid).Limit(1).Count(&ever).Error; err != nil {
		return nil, mapErr(err)
	}
	a.EverSignedIn = ever > 0
	err = s.conn(ctx).Table("mfa_factors").Where("tenant_id = ? AND confirmed", tid).Distinct("user_id").Count(&a.MFAUsers).Error
	return a, mapErr(err)
}
