package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/email"
	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// emailTemplateRef defines --tenant, --kind and --locale on f.
func emailTemplateRef(f *flags, slug, kind, locale *string) {
	f.StringVar(slug, "tenant", "", "tenant slug")
	f.StringVar(kind, "kind", "", "the kind of email: "+strings.Join(email.KindNames(), ", "))
	f.StringVar(locale, "locale", "", "the language (BCP 47): "+strings.Join(i18n.Builtin().Supported(), ", "))
}

func needKindLocale(kind, locale string) error {
	switch {
	case kind == "":
		return errors.New("--kind is required")
	case locale == "":
		return errors.New("--locale is required")
	}
	return nil
}

// emailTemplateSet saves a tenant's template of a kind of email in a
// language; the HTML and text come from files (- for standard input).
func emailTemplateSet(ctx context.Context, env Env, args []string) error {
	f := newFlags("email-template set", env)
	var slug, kind, locale, subject, htmlFile, textFile string
	emailTemplateRef(f, &slug, &kind, &locale)
	f.StringVar(&subject, "subject", "", "the subject line ({{variable}} places a value)")
	f.StringVar(&htmlFile, "html-file", "", "the HTML content below the tenant's logo (optional; - for standard input)")
	f.StringVar(&textFile, "text-file", "", "the plain-text body (- for standard input)")
	if err := f.parse(args); err != nil {
		return err
	}
	if err := needKindLocale(kind, locale); err != nil {
		return err
	}
	switch {
	case subject == "":
		return errors.New("--subject is required")
	case textFile == "":
		return errors.New("--text-file is required")
	case htmlFile == "-" && textFile == "-":
		return errors.New("only one of --html-file and --text-file can be standard input")
	}
	in := admin.EmailTemplateInput{Subject: subject}
	var err error
	if in.Text, err = readTemplateFile(env, "--text-file", textFile, tenants.MaxEmailTextLength); err != nil {
		return err
	}
	if htmlFile != "" {
		if in.HTML, err = readTemplateFile(env, "--html-file", htmlFile, tenants.MaxEmailHTMLLength); err != nil {
			return err
		}
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	et, err := rt.admin.SetEmailTemplate(tctx, kind, locale, in)
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, et)
}

// readTemplateFile reads a template part of at most max bytes.
func readTemplateFile(env Env, flag, file string, max int) (string, error) {
	var r io.Reader = env.Stdin
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("%s: %w", flag, err)
		}
		defer fh.Close()
		r = fh
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	if len(b) > max {
		return "", fmt.Errorf("%s: larger than %d bytes", flag, max)
	}
	return string(b), nil
}

func emailTemplateList(ctx context.Context, env Env, args []string) error {
	f := newFlags("email-template list", env).withOutput()
	var slug string
	f.StringVar(&slug, "tenant", "", "tenant slug")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	ts, err := rt.admin.ListEmailTemplates(tctx)
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "email_templates", ts, "kind", "locale", "subject", "updated_at")
}

// emailTemplateShow prints the tenant's template of a kind in a language,
// or the built-in email written as one ("custom": false).
func emailTemplateShow(ctx context.Context, env Env, args []string) error {
	f := newFlags("email-template show", env).withOutput()
	var slug, kind, locale string
	emailTemplateRef(f, &slug, &kind, &locale)
	if err := f.parse(args); err != nil {
		return err
	}
	if err := needKindLocale(kind, locale); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	et, err := rt.admin.EmailTemplate(tctx, kind, locale)
	if err != nil {
		return err
	}
	return f.printOne(env.Stdout, et)
}

func emailTemplateDelete(ctx context.Context, env Env, args []string) error {
	f := newFlags("email-template delete", env)
	var slug, kind, locale string
	emailTemplateRef(f, &slug, &kind, &locale)
	if err := f.parse(args); err != nil {
		return err
	}
	if err := needKindLocale(kind, locale); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	if err := rt.admin.DeleteEmailTemplate(tctx, kind, locale); err != nil {
		return err
	}
	return printJSON(env.Stdout, map[string]any{"deleted": kind + "/" + locale})
}
