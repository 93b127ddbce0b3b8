package storetest

import (
	"errors"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// testEmailTemplates: a template is read back as saved, replaced in place
// by a second save of its kind and language, listed in order, and deleted
// once (the second delete is ErrNotFound, as is reading it then).
func testEmailTemplates(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "emailtpl")
	if _, err := s.EmailTemplate(ctx, "reset", "de"); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("no template yet: %v", err)
	}
	must(t, "set", s.SetEmailTemplate(ctx, &tenants.EmailTemplate{Kind: "reset", Locale: "de", Subject: "A", HTML: "<p>{{link}}</p>", Text: "{{link}}"}))
	must(t, "replace", s.SetEmailTemplate(ctx, &tenants.EmailTemplate{Kind: "reset", Locale: "de", Subject: "B", Text: "{{link}}!"}))
	must(t, "set another", s.SetEmailTemplate(ctx, &tenants.EmailTemplate{Kind: "reset", Locale: "en", Subject: "C", Text: "c"}))
	got, err := s.EmailTemplate(ctx, "reset", "de")
	if err != nil || got.Subject != "B" || got.HTML != "" || got.Text != "{{link}}!" || got.UpdatedAt.IsZero() {
		t.Fatalf("read back %+v, %v", got, err)
	}
	all, err := s.ListEmailTemplates(ctx)
	if err != nil || len(all) != 2 || all[0].Locale != "de" || all[1].Locale != "en" {
		t.Fatalf("list = %+v, %v", all, err)
	}
	must(t, "delete", s.DeleteEmailTemplate(ctx, "reset", "de"))
	if err := s.DeleteEmailTemplate(ctx, "reset", "de"); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.EmailTemplate(ctx, "reset", "de"); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("deleted template: %v", err)
	}
}
