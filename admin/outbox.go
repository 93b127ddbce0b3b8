package admin

import (
	"context"
	"time"
)

// OutboxMail is an email of the development outbox.
type OutboxMail struct {
	ID         string    `json:"id"`
	TenantSlug string    `json:"tenant,omitempty"`
	To         string    `json:"to"`
	Subject    string    `json:"subject"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// Outbox returns the newest emails of the development outbox (where a node
// without SMTP, in development mode, puts the email it would send). It
// holds every tenant's, so only operators read it.
func (s *Service) Outbox(ctx context.Context, limit int) ([]*OutboxMail, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if !p.Operator || !p.HasScope(ScopeTenantsRead) {
		return nil, ErrForbidden
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	ms, err := s.store.ListOutbox(ctx, limit)
	if err != nil {
		return nil, err
	}
	ts, err := s.store.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	slugs := make(map[string]string, len(ts))
	for _, t := range ts {
		slugs[t.ID] = t.Slug
	}
	out := make([]*OutboxMail, 0, len(ms))
	for _, m := range ms {
		out = append(out, &OutboxMail{ID: m.ID, TenantSlug: slugs[m.TenantID], To: m.Recipient, Subject: m.Subject,
			Body: m.Body, CreatedAt: m.CreatedAt})
	}
	return out, nil
}
