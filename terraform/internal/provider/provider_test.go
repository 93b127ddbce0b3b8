package provider_test

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/gatehouse-id/gatehouse/terraform/internal/provider"
)

// TestSchemas checks every schema of the provider as terraform will ask
// for it, without terraform: a malformed schema fails here.
func TestSchemas(t *testing.T) {
	srv, err := providerserver.NewProtocol6WithError(provider.New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Errorf("%s: %s", d.Summary, d.Detail)
	}
	for _, name := range []string{"gatehouse_tenant", "gatehouse_application", "gatehouse_api", "gatehouse_role", "gatehouse_group", "gatehouse_webhook", "gatehouse_connection"} {
		if resp.ResourceSchemas[name] == nil {
			t.Errorf("no resource %s", name)
		}
	}
	for _, name := range []string{"gatehouse_tenant", "gatehouse_api"} {
		if resp.DataSourceSchemas[name] == nil {
			t.Errorf("no data source %s", name)
		}
	}
	secret := func(schema *tfprotov6.Schema, attr string) bool {
		for _, a := range schema.Block.Attributes {
			if a.Name == attr {
				return a.Sensitive
			}
		}
		return false
	}
	if !secret(resp.ResourceSchemas["gatehouse_application"], "client_secret") || !secret(resp.ResourceSchemas["gatehouse_webhook"], "secret") ||
		!secret(resp.ResourceSchemas["gatehouse_connection"], "client_secret") ||
		!secret(resp.Provider, "client_secret") {
		t.Error("a secret is not marked sensitive")
	}
}
