package cli

import (
	"context"
	"errors"

	"github.com/gatehouse-id/gatehouse/admin"
)

// webhookCreate adds a webhook endpoint and prints it with its signing
// secret, which is never shown again.
func webhookCreate(ctx context.Context, env Env, args []string) error {
	f := newFlags("webhook create", env)
	var slug, url string
	var events list
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(&url, "url", "", "where deliveries are POSTed (https)")
	f.Var(&events, "event", "event type to deliver, or * for all (repeatable)")
	if err := f.parse(args); err != nil {
		return err
	}
	if url == "" {
		return errors.New("--url is required")
	}
	if len(events) == 0 {
		return errors.New("--event is required: an event type such as user.signed_in, or * for all")
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	w, err := rt.admin.CreateWebhook(tctx, admin.WebhookInput{URL: &url, Events: events})
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, w)
}

func webhookList(ctx context.Context, env Env, args []string) error {
	f := newFlags("webhook list", env).withOutput()
	var slug string
	f.StringVar(&slug, "tenant", "", "`SLUG` of the tenant")
	if err := f.parse(args); err != nil {
		return err
	}
	rt, tctx, err := inTenant(ctx, env, f, slug)
	if err != nil {
		return err
	}
	defer rt.close()
	ws, err := rt.admin.ListWebhooks(tctx)
	if err != nil {
		return err
	}
	return f.printList(env.Stdout, "webhooks", ws, "id", "url", "events", "enabled")
}

// webhookFlags are the flags of a command on one endpoint.
func webhookFlags(name string, env Env) (f *flags, slug, id *string) {
	f = newFlags(name, env)
	slug, id = new(string), new(string)
	f.StringVar(slug, "tenant", "", "`SLUG` of the tenant")
	f.StringVar(id, "id", "", "the webhook endpoint's id (see webhook list)")
	return f, slug, id
}

func webhookDelete(ctx context.Context, env Env, args []string) error {
	f, slug, id := webhookFlags("webhook delete", env)
	if err := f.parse(args); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("--id is required")
	}
	rt, tctx, err := inTenant(ctx, env, f, *slug)
	if err != nil {
		return err
	}
	defer rt.close()
	w, err := rt.admin.GetWebhook(tctx, *id)
	if err != nil {
		return err
	}
	if err := rt.admin.DeleteWebhook(tctx, *id); err != nil {
		return err
	}
	return printJSON(env.Stdout, map[string]any{"deleted": w})
}

// webhookRotate gives an endpoint a new signing secret and prints it; the
// previous one keeps signing for admin.WebhookSecretOverlap.
func webhookRotate(ctx context.Context, env Env, args []string) error {
	f, slug, id := webhookFlags("webhook rotate", env)
	if err := f.parse(args); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("--id is required")
	}
	rt, tctx, err := inTenant(ctx, env, f, *slug)
	if err != nil {
		return err
	}
	defer rt.close()
	w, err := rt.admin.RotateWebhookSecret(tctx, *id)
	if err != nil {
		return err
	}
	return printJSON(env.Stdout, w)
}

func webhookShow(ctx context.Context, env Env, args []string) error {
	f, slug, id := webhookFlags("webhook show", env)
	f.withOutput()
	if err := f.parse(args); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("--id is required")
	}
	rt, tctx, err := inTenant(ctx, env, f, *slug)
	if err != nil {
		return err
	}
	defer rt.close()
	w, err := rt.admin.GetWebhook(tctx, *id)
	if err != nil {
		return err
	}
	return f.printOne(env.Stdout, w)
}

// webhookUpdate changes an endpoint: its URL, the events it gets (--event
// replaces them), whether deliveries are made.
func webhookUpdate(ctx context.Context, env Env, args []string) error {
	f, slug, id := webhookFlags("webhook update", env)
	f.withOutput()
	var url string
	var events list
	var enabled bool
	f.StringVar(&url, "url", "", "where deliveries are POSTed (https)")
	f.Var(&events, "event", "event `TYPE` to deliver, or * for all (repeatable: replaces them)")
	f.BoolVar(&enabled, "enabled", false, "deliver events to the endpoint; =false to pause")
	if err := f.parse(args); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("--id is required")
	}
	in := admin.WebhookInput{URL: changed(f, "url", url), Enabled: changed(f, "enabled", enabled)}
	if f.set("event") {
		in.Events = events
	}
	if in.URL == nil && in.Enabled == nil && in.Events == nil {
		return errors.New("webhook update: nothing to change: give --url, --event or --enabled")
	}
	rt, tctx, err := inTenant(ctx, env, f, *slug)
	if err != nil {
		return err
	}
	defer rt.close()
	w, err := rt.admin.UpdateWebhook(tctx, *id, in)
	if err != nil {
		return err
	}
	return f.printOne(env.Stdout, w)
}
