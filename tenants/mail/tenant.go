package mail

import (
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/email"
)

// ForTenant addresses an email of tenant t to to: the tenant's sender name
// and reply-to address.
func ForTenant(t *tenants.Tenant, to, subject, text, html, lang string) Message {
	return Message{TenantID: t.ID, FromName: t.SenderName(), To: to, Subject: subject, Text: text, HTML: html,
		ReplyTo: t.EmailReplyTo, Language: lang}
}

// Brand is how the email of tenant t looks: its sender name, logo and
// accent colour.
func Brand(t *tenants.Tenant) email.Branding {
	return email.Branding{Name: t.SenderName(), LogoURL: t.LogoURL, Accent: t.AccentColor}
}
