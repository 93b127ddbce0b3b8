package admin_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// BenchmarkCreateTenant measures how long creating a tenant takes (the
// service call the CLI, console and API make: validation, the first RS256
// key, the rows, the audit event), reporting p50 and p99, with the key
// generated inline and with the keyring's pool running. Tenants are
// created one every GATEHOUSE_BENCH_PACE (default 100ms), as operators
// create them, so that the pool refills between them; "misses" counts the
// creations that found the pool empty:
//
//	go test ./admin -run '^$' -bench CreateTenant -benchtime 200x
func BenchmarkCreateTenant(b *testing.B) {
	pace := 100 * time.Millisecond
	if v := os.Getenv("GATEHOUSE_BENCH_PACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatal(err)
		}
		pace = d
	}
	for _, db := range storetest.Databases() {
		b.Run(db.Name, func(b *testing.B) {
			if db.URL == nil {
				b.Skip(db.Skip)
			}
			for _, tc := range []struct {
				name string
				pool int
			}{{"inline", -1}, {"pool", keyring.DefaultPoolSize}} {
				b.Run(tc.name, func(b *testing.B) {
					s := storetest.Open(b, db.URL(b))
					master, err := secret.ParseMasterKey(secret.NewMasterKey())
					if err != nil {
						b.Fatal(err)
					}
					box, err := secret.NewBox(master)
					if err != nil {
						b.Fatal(err)
					}
					keys := keyring.New(s, box, keyring.Config{PoolSize: tc.pool, RotationCheck: time.Hour})
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					go keys.Run(ctx)
					base, _ := url.Parse("http://localhost:8080")
					svc := admin.New(admin.Config{BaseURL: base}, s, keys, password.New(password.DefaultParams(), password.Bound{}))
					time.Sleep(2 * time.Second) // the pool fills, as on a node that has been up a while
					var took []time.Duration
					misses := 0
					for i := 0; b.Loop(); i++ {
						if keys.Pooled() == 0 {
							misses++
						}
						start := time.Now()
						if _, err := svc.CreateTenant(ctx, admin.CreateTenantInput{Slug: fmt.Sprintf("t%d", i)}); err != nil {
							b.Fatal(err)
						}
						took = append(took, time.Since(start))
						time.Sleep(pace)
					}
					slices.Sort(took)
					at := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000 }
					b.ReportMetric(at(0.5), "p50-ms")
					b.ReportMetric(at(0.9), "p90-ms")
					b.ReportMetric(at(0.99), "p99-ms")
					b.ReportMetric(float64(misses), "misses")
					b.ReportMetric(0, "ns/op")
				})
			}
		})
	}
}
