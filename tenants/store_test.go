package tenants_test

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestStore runs the conformance suite on every database Gatehouse
// supports: SQLite always, PostgreSQL when storetest.EnvPostgres is set.
func TestStore(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		storetest.Run(t, func(t *testing.T) *tenants.Store {
			return storetest.Open(t, db.URL(t))
		})
	})
}
