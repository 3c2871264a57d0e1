package syncer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/sandbox"
)

// BenchmarkHOSSync1000Drivers measures one full HOS sync of a 1000-driver fleet on
// PostgreSQL, against the sandbox answering every Samsara request after 50 ms (a
// realistic vendor round trip): the wall time of the sync and the vendor calls it
// makes. The target is under 2 s per sync.
//
//   - Create: the first sync of an integration, which creates every driver.
//   - Update: a later sync, an hour of duty time on, which updates the drivers whose
//     clocks moved.
//   - Unchanged: a sync that finds nothing new.
func BenchmarkHOSSync1000Drivers(b *testing.B) {
	const drivers = 1000
	s := testdb.Open(b, testdb.Postgres)
	c := newClock(fixedNow)
	f := setup(b, s, withClock(c))
	f.sandbox.SetFleet(drivers, 10)
	if err := f.sandbox.SetFault(sandbox.Samsara, sandbox.Fault{LatencyMs: 50}); err != nil {
		b.Fatal(err) // the sandbox must support latency-only faults
	}

	run := func(b *testing.B, id func(i int) string, before func()) {
		var (
			elapsed          time.Duration
			calls            int64
			created, updated int
		)
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			key := id(i)
			in := f.integration(b, integration.VendorSAMSARA_ELD, key)
			if before != nil {
				if _, err := f.engine.SyncNow(context.Background(), in.ID); err != nil {
					b.Fatal(err)
				}
				before()
			}
			reqs := f.requests(sandbox.Samsara)
			b.StartTimer()

			start := time.Now()
			lg, err := f.engine.SyncNow(context.Background(), in.ID)
			elapsed += time.Since(start)

			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if lg.Status != synclog.StatusSUCCESS || lg.RecordsProcessed != drivers {
				b.Fatalf("sync %s, %d drivers: %s", lg.Status, lg.RecordsProcessed, str(lg.Error))
			}
			calls += f.requests(sandbox.Samsara) - reqs
			created += lg.RecordsCreated
			updated += lg.RecordsUpdated
			b.StartTimer()
		}
		n := float64(b.N)
		b.ReportMetric(float64(elapsed.Milliseconds())/n, "ms/op")
		b.ReportMetric(float64(calls)/n, "calls/op")
		b.ReportMetric(float64(created)/n, "created/op")
		b.ReportMetric(float64(updated)/n, "updated/op")
	}

	b.Run("Create", func(b *testing.B) {
		run(b, func(i int) string { return fmt.Sprintf("bench-create-%d", i) }, nil)
	})
	b.Run("Update", func(b *testing.B) {
		run(b, func(i int) string { return fmt.Sprintf("bench-update-%d", i) }, func() { c.Add(time.Hour) })
	})
	b.Run("Unchanged", func(b *testing.B) {
		run(b, func(i int) string { return fmt.Sprintf("bench-same-%d", i) }, func() {})
	})
}
