package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// known reports whether v has a value the configuration or the plan gives.
func known(v attr.Value) bool { return !v.IsNull() && !v.IsUnknown() }

func strPtr(v types.String) *string {
	if !known(v) {
		return nil
	}
	s := v.ValueString()
	return &s
}

func boolPtr(v types.Bool) *bool {
	if !known(v) {
		return nil
	}
	b := v.ValueBool()
	return &b
}

func int64Ptr(v types.Int64) *int64 {
	if !known(v) {
		return nil
	}
	n := v.ValueInt64()
	return &n
}

// strings of a set or list; nil when it is not known.
func stringsOf(ctx context.Context, v interface {
	attr.Value
	ElementsAs(context.Context, any, bool) diag.Diagnostics
}, diags *diag.Diagnostics) []string {
	if !known(v) {
		return nil
	}
	out := []string{}
	diags.Append(v.ElementsAs(ctx, &out, false)...)
	return out
}

func stringSet(xs []string) types.Set {
	elems := make([]attr.Value, len(xs))
	for i, x := range xs {
		elems[i] = types.StringValue(x)
	}
	return types.SetValueMust(types.StringType, elems)
}

func stringList(xs []string) types.List {
	elems := make([]attr.Value, len(xs))
	for i, x := range xs {
		elems[i] = types.StringValue(x)
	}
	return types.ListValueMust(types.StringType, elems)
}

// splitID reads an id of the form tenant/object.
func splitID(id string) (tenant, object string, err error) {
	tenant, object, ok := strings.Cut(id, "/")
	if !ok || tenant == "" || object == "" {
		return "", "", fmt.Errorf("the id %q is not of the form TENANT/ID", id)
	}
	return tenant, object, nil
}

// configured returns the provider's client, or adds an error.
func configured(data any, diags *diag.Diagnostics) *client {
	if data == nil {
		return nil
	}
	c, ok := data.(*client)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("got %T", data))
	}
	return c
}

// fail records err as the error of an operation on what.
func fail(diags *diag.Diagnostics, what string, err error) {
	diags.AddError("Gatehouse: "+what, err.Error())
}

// importTenantObject imports an id of the form tenant/object into id,
// tenant and the object's attribute.
func importTenantObject(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse, objectAttr string) {
	tenant, object, err := splitID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Bad import id", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, pathRoot("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, pathRoot("tenant"), tenant)...)
	if objectAttr != "" {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, pathRoot(objectAttr), object)...)
	}
}

func pathRoot(name string) path.Path { return path.Root(name) }
