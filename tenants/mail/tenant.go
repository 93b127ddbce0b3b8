package mail

import "github.com/gatehouse-id/gatehouse/tenants"

// ForTenant addresses an email of tenant t to to: the tenant's sender name
// and reply-to address.
func ForTenant(t *tenants.Tenant, to, subject, text, html, lang string) Message {
	return Message{TenantID: t.ID, FromName: t.SenderName(), To: to, Subject: subject, Text: text, HTML: html,
		ReplyTo: t.EmailReplyTo, Language: lang}
}
