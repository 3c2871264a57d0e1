package syncer_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
)

// TestAttemptsAreRequests checks SyncLog.attempts against the requests the vendor
// really received when connections are reset. A first sync fills the keep-alive
// pool, so the failing call starts on a reused connection: there net/http's
// Transport re-sends a GET by itself, and those re-sends must count as tries and
// stay within RETRY_MAX_ATTEMPTS (3).
func TestAttemptsAreRequests(t *testing.T) {
	t.Parallel()

	// warm runs one clean sync of a Samsara integration and returns it with the
	// number of requests a clean sync makes.
	warm := func(t *testing.T, f *fixture, key string) (*ent.Integration, int64) {
		t.Helper()
		in := f.integration(t, integration.VendorSAMSARA_ELD, key)
		lg := f.syncNow(t, f.engine, in.ID)
		require.Equal(t, synclog.StatusSUCCESS, lg.Status, "error: %s", str(lg.Error))
		require.Equal(t, 1, lg.Attempts)
		clean := f.requests(sandbox.Samsara)
		require.Positive(t, clean)
		f.sandbox.ResetStats()
		return in, clean
	}

	t.Run("EveryRequestReset", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s, withFixedClock())
			in, _ := warm(t, f, "reset-all")
			f.setFault(t, sandbox.Samsara, sandbox.Fault{Reset: true})

			lg := f.syncNow(t, f.engine, in.ID)

			require.Equal(t, synclog.StatusFAILED, lg.Status)
			require.Equal(t, "network", str(lg.ErrorClass))
			// The first call fails, so the sync makes no other: every request is its.
			require.Equal(t, int64(lg.Attempts), f.requests(sandbox.Samsara), "requests the vendor saw")
			require.Equal(t, 3, lg.Attempts)
		})
	})

	t.Run("TwoResetsThenSuccess", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s, withFixedClock())
			in, clean := warm(t, f, "reset-two")
			f.setFault(t, sandbox.Samsara, sandbox.Fault{Reset: true, Count: 2})

			lg := f.syncNow(t, f.engine, in.ID)

			require.Equal(t, synclog.StatusSUCCESS, lg.Status, "error: %s", str(lg.Error))
			require.Equal(t, int64(2), f.sandbox.Stats()[sandbox.Samsara].Faulted)
			// The failing call's requests: all of them but the other calls' clean ones.
			failing := f.requests(sandbox.Samsara) - (clean - 1)
			require.Equal(t, int64(lg.Attempts), failing, "requests the vendor saw for the failing call")
			require.Equal(t, 3, lg.Attempts)
		})
	})
}
