package syncer_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
)

// gate holds the first request sent through it until release is closed; arrived
// is closed once it holds it.
type gate struct {
	next    http.RoundTripper
	n       atomic.Int32
	arrived chan struct{}
	release chan struct{}
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	if g.n.Add(1) == 1 {
		close(g.arrived)
		select {
		case <-g.release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return g.next.RoundTrip(r)
}

// A live lookup shares the integration's policy (one breaker) with its syncs, but
// its retries are its own: a lookup that retries while a sync of the same
// integration runs must not be published as that sync's SYNC_RETRYING nor raise
// the sync's attempts.
func TestLookupRetriesAreNotTheSyncs(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		g := &gate{arrived: make(chan struct{}), release: make(chan struct{})}
		f := setup(t, s, withEngine(func(o *syncer.Options) {
			g.next = o.HTTPClient.Transport
			o.HTTPClient = &http.Client{Transport: g, CheckRedirect: o.HTTPClient.CheckRedirect}
		}))
		// No loads: the fuel sync makes one call (it checks the key), which the gate holds.
		in := f.integration(t, integration.VendorFUELFINDER, "cross-talk")
		ev := f.subscribe(t)

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		type outcome struct {
			lg  *ent.SyncLog
			err error
		}
		done := make(chan outcome, 1)
		go func() {
			lg, err := f.engine.SyncNow(ctx, in.ID)
			done <- outcome{lg, err}
		}()
		select {
		case <-g.arrived:
		case <-ctx.Done():
			t.Fatal("the sync's request never came")
		}

		// While the sync waits for its answer, a lookup of the same integration
		// fails twice and succeeds on its third try.
		f.setFault(t, sandbox.FuelFinder, sandbox.Fault{Status: 503, Count: 2})
		st, err := f.engine.FuelStations(viewer(f.tenantID), f.tenantID, 35.2, -101.8, 25, 5)
		require.NoError(t, err)
		require.NotEmpty(t, st)
		require.Equal(t, int64(3), f.requests(sandbox.FuelFinder), "the lookup's three tries")

		close(g.release)
		out := <-done
		require.NoError(t, out.err)
		lg := out.lg
		require.Equal(t, synclog.StatusSUCCESS, lg.Status, "error: %s", str(lg.Error))
		require.Equal(t, 1, lg.Attempts, "the sync made one try; the lookup's are not its own")
		require.Empty(t, ev.ofType(t, event.SyncRetrying), "the sync never retried")
		require.Equal(t, []event.Type{event.SyncStarted, event.SyncSucceeded}, ev.types(t))
	})
}
