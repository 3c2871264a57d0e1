package syncer_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/schema"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
)

// TestSyncTries: every vendor request of a sync is recorded (SyncLog.tries), stored
// with the sync and carried by its SYNC_RETRYING and SYNC_FAILED events.
func TestSyncTries(t *testing.T) {
	t.Parallel()
	t.Run("TwoUnavailableThenSuccess", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s)
			in := f.integration(t, integration.VendorTRUCKBASE_TMS, "tries-503")
			ev := f.subscribe(t)
			f.setFault(t, sandbox.Truckbase, sandbox.Fault{Status: 503, Count: 2})

			lg := f.syncNow(t, f.engine, in.ID)
			require.Equal(t, synclog.StatusSUCCESS, lg.Status)
			require.Equal(t, 3, lg.Attempts)
			require.Len(t, lg.Tries, 3)
			for i, try := range lg.Tries {
				require.Equal(t, "loads", try.Call)
				require.Equal(t, i+1, try.Attempt)
				require.False(t, try.StartedAt.Before(lg.StartedAt), "a try starts inside its sync")
				require.GreaterOrEqual(t, try.DurationMs, int64(0))
				require.NotNil(t, try.HTTPStatus)
				if i < 2 {
					require.Equal(t, 503, *try.HTTPStatus)
					require.Equal(t, "unavailable", str(try.ErrorClass))
					require.Contains(t, str(try.Error), "503")
					require.NotNil(t, try.RetryInMs, "the wait before the next try")
					require.Positive(t, *try.RetryInMs)
					require.True(t, lg.Tries[i+1].StartedAt.After(try.StartedAt), "in the order they started")
				} else {
					require.Equal(t, 200, *try.HTTPStatus)
					require.Nil(t, try.ErrorClass)
					require.Nil(t, try.Error)
					require.Nil(t, try.RetryInMs, "no try followed")
				}
			}

			// Stored with the sync, as returned.
			stored, err := s.Client.SyncLog.Get(sys(), lg.ID)
			require.NoError(t, err)
			require.Equal(t, jsonOf(t, lg.Tries), jsonOf(t, stored.Tries))

			// Each SYNC_RETRYING event carries the tries so far, the failed one last.
			retrying := ev.ofType(t, event.SyncRetrying)
			require.Len(t, retrying, 2)
			for i, e := range retrying {
				require.Len(t, e.SyncLog.Tries, i+1)
				last := e.SyncLog.Tries[i]
				require.Equal(t, i+1, last.Attempt)
				require.Equal(t, 503, *last.HTTPStatus)
				require.Equal(t, int64(*e.RetryInMs), *last.RetryInMs)
			}
			done := ev.ofType(t, event.SyncSucceeded)
			require.Len(t, done, 1)
			require.Len(t, done[0].SyncLog.Tries, 3)
		})
	})

	t.Run("CircuitOpenMakesNone", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s)
			in := f.integration(t, integration.VendorTRUCKBASE_TMS, "tries-open")
			// Another replica opened the breaker a moment ago.
			require.NoError(t, s.Client.Integration.UpdateOneID(in.ID).SetCircuitState(integration.CircuitStateOPEN).
				SetCircuitOpenedAt(time.Now().UTC()).Exec(sys()))
			in = f.integrationNow(t, in.ID)
			ev := f.subscribe(t)

			lg := f.syncNow(t, f.engine, in.ID)
			require.Equal(t, synclog.StatusFAILED, lg.Status)
			require.Equal(t, "circuit_open", str(lg.ErrorClass))
			require.NotNil(t, lg.Tries)
			require.Empty(t, lg.Tries)
			require.Zero(t, f.requests(sandbox.Truckbase))
			failed := ev.ofType(t, event.SyncFailed)
			require.Len(t, failed, 1)
			require.Empty(t, failed[0].SyncLog.Tries)
		})
	})

	t.Run("SecretsAbsent", func(t *testing.T) {
		s := testdb.Open(t, testdb.SQLite)
		f := setup(t, s)
		// OpenWeather takes its key in the URL's query: a failed connection's error
		// (which names the URL) is where a key would leak.
		const key = "ow-secret-key-7f3a9c"
		for _, fault := range []sandbox.Fault{{Reset: true}, {Status: 503}, {Status: 401}, {Malformed: true}, {Status: 429}} {
			in := f.integration(t, integration.VendorOPENWEATHER, key)
			f.setFault(t, sandbox.OpenWeather, fault)
			ev := f.subscribe(t)
			lg := f.syncNow(t, f.engine, in.ID)
			f.sandbox.ClearFaults("")
			require.Equal(t, synclog.StatusFAILED, lg.Status, "fault %+v", fault)
			require.NotEmpty(t, lg.Tries, "fault %+v", fault)
			var logs []*event.SyncLog // (the fixture's display name holds the key: not checked)
			for _, e := range ev.drain(t) {
				logs = append(logs, e.SyncLog)
			}
			for _, b := range []string{jsonOf(t, lg.Tries), jsonOf(t, logs)} {
				require.NotContains(t, b, key, "fault %+v", fault)
				require.NotContains(t, b, "secret-"+key, "fault %+v", fault)
			}
			require.NotContains(t, str(lg.Error), key)
		}
	})

	t.Run("NamedCalls", func(t *testing.T) {
		s := testdb.Open(t, testdb.SQLite)
		f := setup(t, s)
		f.sandbox.SetFleet(250, 5)
		in := f.integration(t, integration.VendorSAMSARA_ELD, "tries-pages")
		lg := f.syncNow(t, f.engine, in.ID)
		require.Equal(t, synclog.StatusSUCCESS, lg.Status, str(lg.Error))
		var calls []string
		for _, try := range lg.Tries {
			calls = append(calls, try.Call)
		}
		require.Contains(t, calls, "drivers page 1")
		for _, c := range []string{"clocks batch 1 of 3", "clocks batch 2 of 3", "clocks batch 3 of 3"} {
			require.Contains(t, calls, c)
		}
		require.LessOrEqual(t, len(lg.Tries), schema.MaxSyncTries)
	})
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
