package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// testAtomically runs several writes in one transaction: when the function
// fails, even after a write that failed on its own (a duplicate), none of
// them exists; when it succeeds, all do, and reads inside it see them.
func testAtomically(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "atomic")
	errLast := errors.New("the last object is invalid")
	mustAPI(t, ctx, s, "https://taken.test", "read")
	err := s.Atomically(ctx, func(ctx context.Context) error {
		if !tenants.InTransaction(ctx) {
			t.Error("the function's context carries no transaction")
		}
		mustAPI(t, ctx, s, "https://one.test", "read")
		if err := s.CreateRole(ctx, &tenants.Role{Name: "clerk"}); err != nil {
			return err
		}
		if err := s.CreateAPI(ctx, &tenants.API{Name: "dup", Audience: "https://taken.test"}); !errors.Is(err, tenants.ErrAlreadyExists) {
			t.Errorf("duplicate audience in the transaction: %v, want ErrAlreadyExists", err)
		}
		// A nested Atomically joins the outer transaction.
		return s.Atomically(ctx, func(ctx context.Context) error {
			if roles, err := s.ListRoles(ctx); err != nil || len(roles) != 1 {
				t.Errorf("inside the transaction: roles %v, %v; want the one it made", roles, err)
			}
			return errLast
		})
	})
	if !errors.Is(err, errLast) {
		t.Fatalf("Atomically = %v, want the function's error", err)
	}
	if tenants.InTransaction(ctx) {
		t.Error("the caller's context carries a transaction")
	}
	apis, err := s.ListAPIs(ctx)
	if err != nil || len(apis) != 1 {
		t.Fatalf("after a failed Atomically: APIs %v, %v; want only the one made before", apis, err)
	}
	if roles, err := s.ListRoles(ctx); err != nil || len(roles) != 0 {
		t.Fatalf("after a failed Atomically: roles %v, %v; want none", roles, err)
	}

	if err := s.Atomically(ctx, func(ctx context.Context) error {
		mustAPI(t, ctx, s, "https://two.test", "read")
		return s.CreateRole(ctx, &tenants.Role{Name: "clerk"})
	}); err != nil {
		t.Fatal(err)
	}
	if apis, err := s.ListAPIs(ctx); err != nil || len(apis) != 2 {
		t.Fatalf("after Atomically: APIs %v, %v; want two", apis, err)
	}
}
