package syncer_test

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
)

// requireOnlyLog checks that the sync log is its integration's only one.
func requireOnlyLog(t *testing.T, f *fixture, lg *ent.SyncLog) {
	t.Helper()
	all, err := f.store.Client.SyncLog.Query().Where(synclog.IntegrationID(lg.IntegrationID)).All(sys())
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.Equal(t, lg.ID, all[0].ID)
	require.Equal(t, lg.Status, all[0].Status)
}

func TestSyncRetries(t *testing.T) {
	t.Parallel()
	t.Run("TwoServerErrorsThenSuccess", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s)
			in := f.integration(t, integration.VendorSAMSARA_ELD, "retry-503")
			ev := f.subscribe(t)
			f.setFault(t, sandbox.Samsara, sandbox.Fault{Status: 503, Count: 2})

			lg := f.syncNow(t, f.engine, in.ID)

			require.Equal(t, synclog.StatusSUCCESS, lg.Status, "error: %s", str(lg.Error))
			require.Equal(t, 3, lg.Attempts)
			require.Nil(t, lg.Error)
			require.Equal(t, 25, lg.RecordsProcessed)
			require.Equal(t, 25, lg.RecordsCreated)
			require.NotNil(t, lg.CompletedAt)
			require.NotNil(t, lg.DurationMs)
			require.Equal(t, synclog.TriggerMANUAL, lg.Trigger)
			requireOnlyLog(t, f, lg)
			require.Equal(t, int64(2), f.sandbox.Stats()[sandbox.Samsara].Faulted)

			retries := ev.ofType(t, event.SyncRetrying)
			require.Len(t, retries, 2)
			for i, r := range retries {
				require.Equal(t, i+1, *r.Attempt)
				require.Equal(t, i+1, r.SyncLog.Attempts, "the sync as it stood: the failed try is the last one made")
				require.NotNil(t, r.RetryInMs)
				require.Contains(t, *r.Message, "vendor unavailable")
				require.Equal(t, "RUNNING", r.SyncLog.Status)
			}
			require.Equal(t, []event.Type{event.SyncStarted, event.SyncRetrying, event.SyncRetrying, event.SyncSucceeded}, ev.types(t))

			in = f.integrationNow(t, in.ID)
			require.Equal(t, integration.LastSyncStatusSUCCESS, *in.LastSyncStatus)
			require.Equal(t, integration.CircuitStateCLOSED, in.CircuitState)
		})
	})

	t.Run("RateLimitedWaitsRetryAfter", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s)
			in := f.integration(t, integration.VendorSAMSARA_ELD, "retry-429")
			ev := f.subscribe(t)
			f.setFault(t, sandbox.Samsara, sandbox.Fault{Status: 429, RetryAfterSeconds: 2, Count: 1})

			start := time.Now()
			lg := f.syncNow(t, f.engine, in.ID)
			took := time.Since(start)

			require.Equal(t, synclog.StatusSUCCESS, lg.Status, "error: %s", str(lg.Error))
			require.Equal(t, 2, lg.Attempts)
			require.GreaterOrEqual(t, took, 2*time.Second, "the vendor asked for 2 s")
			require.GreaterOrEqual(t, *lg.DurationMs, int64(2000))
			retries := ev.ofType(t, event.SyncRetrying)
			require.Len(t, retries, 1)
			require.GreaterOrEqual(t, *retries[0].RetryInMs, 2000)
			require.Contains(t, *retries[0].Message, "rate limited")
		})
	})

	t.Run("UnauthorizedFailsAtOnce", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s)
			in := f.integration(t, integration.VendorSAMSARA_ELD, "invalid-token")
			ev := f.subscribe(t)

			lg := f.syncNow(t, f.engine, in.ID)

			require.Equal(t, synclog.StatusFAILED, lg.Status)
			require.Equal(t, 1, lg.Attempts)
			require.Equal(t, "unauthorized: the vendor rejected the API key", str(lg.Error))
			require.Equal(t, string(resilience.ClassAuth), str(lg.ErrorClass))
			require.Equal(t, int64(1), f.requests(sandbox.Samsara))
			requireOnlyLog(t, f, lg)
			require.Equal(t, []event.Type{event.SyncStarted, event.SyncFailed}, ev.types(t))
			failed := ev.ofType(t, event.SyncFailed)[0]
			require.Equal(t, "unauthorized: the vendor rejected the API key", *failed.Message)
			require.Equal(t, "auth", *failed.SyncLog.ErrorClass)

			in = f.integrationNow(t, in.ID)
			require.Equal(t, integration.LastSyncStatusFAILED, *in.LastSyncStatus)
			require.Equal(t, integration.CircuitStateCLOSED, in.CircuitState, "auth failures never open the breaker")
		})
	})

	t.Run("ConnectionResetIsRetried", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s)
			in := f.integration(t, integration.VendorTRUCKBASE_TMS, "retry-reset")
			f.setFault(t, sandbox.Truckbase, sandbox.Fault{Reset: true, Count: 1})

			lg := f.syncNow(t, f.engine, in.ID)

			require.Equal(t, synclog.StatusSUCCESS, lg.Status, "error: %s", str(lg.Error))
			require.Equal(t, 2, lg.Attempts)
			require.Equal(t, int64(2), f.requests(sandbox.Truckbase))
			require.Equal(t, 10, lg.RecordsCreated)
		})
	})

	t.Run("MalformedAnswerIsNotRetried", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testdb.Open(t, testdb.SQLite))
		in := f.integration(t, integration.VendorOPENWEATHER, "malformed")
		loads := f.integration(t, integration.VendorTRUCKBASE_TMS, "malformed-loads")
		f.syncNow(t, f.engine, loads.ID)
		f.setFault(t, sandbox.OpenWeather, sandbox.Fault{Malformed: true, Count: 1})

		lg := f.syncNow(t, f.engine, in.ID)

		require.Equal(t, synclog.StatusFAILED, lg.Status)
		require.Equal(t, string(resilience.ClassBadResponse), str(lg.ErrorClass))
		require.Contains(t, str(lg.Error), "bad response")
	})

	t.Run("RetriesExhausted", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testdb.Open(t, testdb.SQLite))
		in := f.integration(t, integration.VendorSAMSARA_ELD, "exhausted")
		f.setFault(t, sandbox.Samsara, sandbox.Fault{Status: 503})

		lg := f.syncNow(t, f.engine, in.ID)

		require.Equal(t, synclog.StatusFAILED, lg.Status)
		require.Equal(t, 3, lg.Attempts)
		require.Equal(t, int64(3), f.requests(sandbox.Samsara))
		require.Equal(t, string(resilience.ClassUnavailable), str(lg.ErrorClass))
		require.Contains(t, str(lg.Error), "vendor unavailable: samsara")
	})

	// A fuel sync calls the vendor once per stop, four at a time: the failure that
	// caused the others is the one reported, and no new calls start after it.
	t.Run("ManyCallsReportTheRootCause", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testdb.Open(t, testdb.SQLite))
		loads := f.integration(t, integration.VendorTRUCKBASE_TMS, "root-cause-loads")
		f.syncNow(t, f.engine, loads.ID)
		in := f.integration(t, integration.VendorFUELFINDER, "root-cause")
		f.setFault(t, sandbox.FuelFinder, sandbox.Fault{Status: 503})

		lg := f.syncNow(t, f.engine, in.ID)

		require.Equal(t, synclog.StatusFAILED, lg.Status)
		require.Equal(t, string(resilience.ClassUnavailable), str(lg.ErrorClass), "error: %s", str(lg.Error))
		require.Contains(t, str(lg.Error), "vendor unavailable: fuelfinder")
		require.Equal(t, integration.CircuitStateOPEN, f.integrationNow(t, in.ID).CircuitState)
	})

	t.Run("ManyCallsStopAfterAFailure", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testdb.Open(t, testdb.SQLite))
		loads := f.integration(t, integration.VendorTRUCKBASE_TMS, "stop-loads")
		f.syncNow(t, f.engine, loads.ID)
		in := f.integration(t, integration.VendorFUELFINDER, "invalid-fuel-key")

		lg := f.syncNow(t, f.engine, in.ID)

		require.Equal(t, synclog.StatusFAILED, lg.Status)
		require.Equal(t, "unauthorized: the vendor rejected the API key", str(lg.Error))
		require.LessOrEqual(t, f.requests(sandbox.FuelFinder), int64(4), "at most the calls already under way")
	})
}

func TestCircuitBreaker(t *testing.T) {
	t.Parallel()
	t.Run("OpensFailsFastAndClosesAfterProbe", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			p := fastPolicy()
			p.FailureThreshold = 3
			// Long enough for the fail-fast syncs below to finish inside it on a
			// loaded machine; the test waits it out once.
			p.OpenDelay = 2 * time.Second
			f := setup(t, s, withPolicy(p))
			in := f.integration(t, integration.VendorSAMSARA_ELD, "breaker")
			ev := f.subscribe(t)
			f.setFault(t, sandbox.Samsara, sandbox.Fault{Status: 503})

			// Three tries of one call fail: the third failure opens the breaker.
			lg := f.syncNow(t, f.engine, in.ID)
			require.Equal(t, synclog.StatusFAILED, lg.Status)
			require.Equal(t, string(resilience.ClassUnavailable), str(lg.ErrorClass))
			require.Equal(t, int64(3), f.requests(sandbox.Samsara))
			stored := f.integrationNow(t, in.ID)
			require.Equal(t, integration.CircuitStateOPEN, stored.CircuitState)
			require.NotNil(t, stored.CircuitOpenedAt)
			opened := ev.ofType(t, event.CircuitOpened)
			require.Len(t, opened, 1)
			require.Equal(t, "OPEN", opened[0].CircuitState)
			require.Equal(t, in.ID.String(), opened[0].IntegrationID)

			// Open: syncs fail without calling the vendor.
			for range 2 {
				lg = f.syncNow(t, f.engine, in.ID)
				require.Equal(t, synclog.StatusFAILED, lg.Status)
				require.Equal(t, string(resilience.ClassCircuitOpen), str(lg.ErrorClass))
				require.Contains(t, str(lg.Error), "circuit open")
				require.Equal(t, 0, lg.Attempts)
			}
			require.Equal(t, int64(3), f.requests(sandbox.Samsara), "an open breaker must not call the vendor")

			// After the delay one probe goes through; the vendor is back, so it closes.
			f.sandbox.ClearFaults("")
			time.Sleep(time.Until(stored.CircuitOpenedAt.Add(p.OpenDelay + 100*time.Millisecond)))
			lg = f.syncNow(t, f.engine, in.ID)
			require.Equal(t, synclog.StatusSUCCESS, lg.Status, "error: %s", str(lg.Error))
			stored = f.integrationNow(t, in.ID)
			require.Equal(t, integration.CircuitStateCLOSED, stored.CircuitState)
			require.Nil(t, stored.CircuitOpenedAt)

			var circuit []event.Type
			for _, typ := range ev.types(t) {
				switch typ {
				case event.CircuitOpened, event.CircuitHalfOpened, event.CircuitClosed:
					circuit = append(circuit, typ)
				}
			}
			require.Equal(t, []event.Type{event.CircuitOpened, event.CircuitHalfOpened, event.CircuitClosed}, circuit)
			logs, err := s.Client.SyncLog.Query().Where(synclog.IntegrationID(in.ID)).All(sys())
			require.NoError(t, err)
			require.Len(t, logs, 4)
		})
	})

	t.Run("OpenOnOneReplicaPausesTheOthers", func(t *testing.T) {
		t.Parallel()
		p := fastPolicy()
		p.FailureThreshold = 3
		// Two replicas: each its own engine (and breakers) and connection pool.
		dsn := testdb.PostgresURL(t)
		stores := make([]*store.Store, 2)
		for i := range stores {
			st, err := store.Open(context.Background(), "postgres", dsn)
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			stores[i] = st
		}
		require.NoError(t, stores[0].Migrate(context.Background()))
		f := setup(t, stores[0], withPolicy(p))
		other := f.newEngine(t, stores[1], nil)
		in := f.integration(t, integration.VendorSAMSARA_ELD, "replica-breaker")
		// The other replica has synced it before: its breaker exists, closed.
		lg := f.syncNow(t, other, in.ID)
		require.Equal(t, synclog.StatusSUCCESS, lg.Status, "error: %s", str(lg.Error))

		f.setFault(t, sandbox.Samsara, sandbox.Fault{Status: 503})
		lg = f.syncNow(t, f.engine, in.ID)
		require.Equal(t, string(resilience.ClassUnavailable), str(lg.ErrorClass))
		require.Equal(t, integration.CircuitStateOPEN, f.integrationNow(t, in.ID).CircuitState)
		before := f.requests(sandbox.Samsara)

		lg = f.syncNow(t, other, in.ID)
		require.Equal(t, synclog.StatusFAILED, lg.Status)
		require.Equal(t, string(resilience.ClassCircuitOpen), str(lg.ErrorClass), "error: %s", str(lg.Error))
		require.Equal(t, before, f.requests(sandbox.Samsara), "the other replica must leave the vendor alone too")
	})

	t.Run("FailedProbeReopens", func(t *testing.T) {
		t.Parallel()
		p := fastPolicy()
		p.FailureThreshold = 2
		p.MaxAttempts = 2
		p.OpenDelay = 300 * time.Millisecond
		f := setup(t, testdb.Open(t, testdb.SQLite), withPolicy(p))
		in := f.integration(t, integration.VendorTRUCKBASE_TMS, "reopen")
		ev := f.subscribe(t)
		f.setFault(t, sandbox.Truckbase, sandbox.Fault{Status: 502})

		f.syncNow(t, f.engine, in.ID)
		require.Equal(t, integration.CircuitStateOPEN, f.integrationNow(t, in.ID).CircuitState)
		time.Sleep(p.OpenDelay + 100*time.Millisecond)
		lg := f.syncNow(t, f.engine, in.ID)
		require.Equal(t, synclog.StatusFAILED, lg.Status)
		require.Equal(t, 1, lg.Attempts, "the probe is one try; it re-opens the breaker")
		require.Equal(t, integration.CircuitStateOPEN, f.integrationNow(t, in.ID).CircuitState)
		require.Equal(t, int64(3), f.requests(sandbox.Truckbase))
		require.Len(t, ev.ofType(t, event.CircuitOpened), 2)
		require.Len(t, ev.ofType(t, event.CircuitHalfOpened), 1)
	})

	t.Run("OpenStateSurvivesRestart", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			p := fastPolicy()
			p.FailureThreshold = 3
			p.OpenDelay = 10 * time.Minute
			f := setup(t, s, withPolicy(p))
			in := f.integration(t, integration.VendorSAMSARA_ELD, "restart")
			f.setFault(t, sandbox.Samsara, sandbox.Fault{Status: 503})
			f.syncNow(t, f.engine, in.ID)
			require.Equal(t, integration.CircuitStateOPEN, f.integrationNow(t, in.ID).CircuitState)
			f.sandbox.ClearFaults("")
			before := f.requests(sandbox.Samsara)

			// A new process: a new engine over the same database (on PostgreSQL through
			// its own connection pool).
			s2 := s
			if s.Dialect == "postgres" {
				s2 = reopen(t, s)
			}
			restarted := f.newEngine(t, s2, func(o *syncer.Options) { o.Instance = "restarted" })
			lg := f.syncNow(t, restarted, in.ID)

			require.Equal(t, synclog.StatusFAILED, lg.Status)
			require.Equal(t, string(resilience.ClassCircuitOpen), str(lg.ErrorClass))
			require.Equal(t, before, f.requests(sandbox.Samsara), "the restored breaker must stay open")
			require.Equal(t, integration.CircuitStateOPEN, f.integrationNow(t, in.ID).CircuitState)
		})
	})

	t.Run("ExpiredOpenStateProbesAfterRestart", func(t *testing.T) {
		t.Parallel()
		s := testdb.Open(t, testdb.SQLite)
		f := setup(t, s)
		in := f.integration(t, integration.VendorSAMSARA_ELD, "restart-expired")
		// As a process that died long ago left it.
		require.NoError(t, s.Client.Integration.UpdateOneID(in.ID).
			SetCircuitState(integration.CircuitStateOPEN).SetCircuitOpenedAt(time.Now().Add(-time.Hour)).Exec(sys()))
		ev := f.subscribe(t)

		lg := f.syncNow(t, f.engine, in.ID)

		require.Equal(t, synclog.StatusSUCCESS, lg.Status, "error: %s", str(lg.Error))
		require.Equal(t, integration.CircuitStateCLOSED, f.integrationNow(t, in.ID).CircuitState)
		require.Len(t, ev.ofType(t, event.CircuitHalfOpened), 1)
		require.Len(t, ev.ofType(t, event.CircuitClosed), 1)
	})

	t.Run("AuthFailuresNeverOpen", func(t *testing.T) {
		t.Parallel()
		p := fastPolicy()
		p.FailureThreshold = 2
		f := setup(t, testdb.Open(t, testdb.SQLite), withPolicy(p))
		in := f.integration(t, integration.VendorSAMSARA_ELD, "invalid-again")
		for range 4 {
			lg := f.syncNow(t, f.engine, in.ID)
			require.Equal(t, "auth", str(lg.ErrorClass))
		}
		require.Equal(t, int64(4), f.requests(sandbox.Samsara))
		require.Equal(t, integration.CircuitStateCLOSED, f.integrationNow(t, in.ID).CircuitState)
	})
}

// reopen opens a second store (its own connection pool) on the PostgreSQL schema of s.
func reopen(t *testing.T, s *store.Store) *store.Store {
	t.Helper()
	var schema string
	require.NoError(t, s.DB.QueryRow("SELECT current_schema()").Scan(&schema))
	u, err := url.Parse(testdb.BaseURL())
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s2, err := store.Open(context.Background(), "postgres", u.String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = s2.Close() })
	return s2
}

// requireRunning waits until the integration's sync is recorded as running.
func requireRunning(t *testing.T, s *store.Store, id uuid.UUID) {
	t.Helper()
	require.Eventually(t, func() bool {
		n, err := s.Client.SyncLog.Query().Where(synclog.IntegrationID(id), synclog.StatusEQ(synclog.StatusRUNNING)).Count(sys())
		return err == nil && n == 1
	}, 30*time.Second, 5*time.Millisecond)
}

func TestSyncNow(t *testing.T) {
	t.Parallel()
	t.Run("ConcurrentCallsJoinOneSync", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s)
			in := f.integration(t, integration.VendorTRUCKBASE_TMS, "join")
			// The vendor answers after a second: the later calls come while it waits.
			f.setFault(t, sandbox.Truckbase, sandbox.Fault{LatencyMs: 1000})

			logs := make([]*ent.SyncLog, 3)
			var wg sync.WaitGroup
			call := func(i int) {
				wg.Go(func() {
					lg, err := f.engine.SyncNow(context.Background(), in.ID)
					if err == nil {
						logs[i] = lg
					}
				})
			}
			call(0)
			requireRunning(t, s, in.ID)
			call(1)
			call(2)
			wg.Wait()

			for _, lg := range logs {
				require.NotNil(t, lg)
				require.Equal(t, logs[0].ID, lg.ID)
				require.Equal(t, synclog.StatusSUCCESS, lg.Status)
			}
			requireOnlyLog(t, f, logs[0])
			require.Equal(t, int64(1), f.requests(sandbox.Truckbase))
		})
	})

	t.Run("JoinsASyncOfAnotherReplica", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s)
			in := f.integration(t, integration.VendorTRUCKBASE_TMS, "join-replica")
			f.setFault(t, sandbox.Truckbase, sandbox.Fault{LatencyMs: 1000})
			s2 := s
			if s.Dialect == "postgres" {
				s2 = reopen(t, s)
			}
			other := f.newEngine(t, s2, func(o *syncer.Options) { o.Instance = "replica-2" })

			first := make(chan *ent.SyncLog, 1)
			go func() {
				lg, _ := f.engine.SyncNow(context.Background(), in.ID)
				first <- lg
			}()
			requireRunning(t, s, in.ID)
			joined := f.syncNow(t, other, in.ID)
			lg := <-first

			require.NotNil(t, lg)
			require.Equal(t, lg.ID, joined.ID)
			require.Equal(t, synclog.StatusSUCCESS, joined.Status)
			requireOnlyLog(t, f, lg)
			require.Equal(t, int64(1), f.requests(sandbox.Truckbase))
		})
	})

	t.Run("CallerGivingUpDoesNotStopTheSync", func(t *testing.T) {
		t.Parallel()
		s := testdb.Open(t, testdb.SQLite)
		f := setup(t, s)
		in := f.integration(t, integration.VendorTRUCKBASE_TMS, "give-up")
		f.setFault(t, sandbox.Truckbase, sandbox.Fault{LatencyMs: 300})

		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := f.engine.SyncNow(ctx, in.ID)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Eventually(t, func() bool {
			lg, err := s.Client.SyncLog.Query().Where(synclog.IntegrationID(in.ID)).Only(sys())
			return err == nil && lg.Status == synclog.StatusSUCCESS
		}, 20*time.Second, 20*time.Millisecond)
	})

	t.Run("DisabledIsRefused", func(t *testing.T) {
		t.Parallel()
		s := testdb.Open(t, testdb.SQLite)
		f := setup(t, s)
		in := f.integration(t, integration.VendorTRUCKBASE_TMS, "disabled")
		require.NoError(t, s.Client.Integration.UpdateOneID(in.ID).SetEnabled(false).Exec(sys()))
		_, err := f.engine.SyncNow(context.Background(), in.ID)
		require.ErrorIs(t, err, syncer.ErrDisabled)
		require.Zero(t, f.requests(sandbox.Truckbase))
	})

	t.Run("UnreadableCredentials", func(t *testing.T) {
		t.Parallel()
		s := testdb.Open(t, testdb.SQLite)
		f := setup(t, s)
		in := f.integration(t, integration.VendorTRUCKBASE_TMS, "sealed")
		require.NoError(t, s.Client.Integration.UpdateOneID(in.ID).SetCredentials("v1:garbage").Exec(sys()))
		lg := f.syncNow(t, f.engine, in.ID)
		require.Equal(t, synclog.StatusFAILED, lg.Status)
		require.Equal(t, "auth", str(lg.ErrorClass))
		require.Contains(t, str(lg.Error), "CREDENTIALS_KEY")
		require.Zero(t, f.requests(sandbox.Truckbase))
	})
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testdb.Open(t, testdb.SQLite))
		in := f.integration(t, integration.VendorOPENWEATHER, "conn-ok")
		r := f.engine.TestConnection(context.Background(), in)
		require.True(t, r.Success, r.Message)
		require.Empty(t, r.Message)
		require.Positive(t, r.Latency)
		require.Equal(t, int64(1), f.requests(sandbox.OpenWeather))
	})

	t.Run("KeyRejected", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testdb.Open(t, testdb.SQLite))
		in := f.integration(t, integration.VendorTRUCKBASE_TMS, "invalid-conn")
		r := f.engine.TestConnection(context.Background(), in)
		require.False(t, r.Success)
		require.Equal(t, "unauthorized: the vendor rejected the API key", r.Message)
	})

	// One try, no retries, and it neither waits for nor moves the breaker.
	t.Run("OneTryPastAnOpenBreaker", func(t *testing.T) {
		t.Parallel()
		s := testdb.Open(t, testdb.SQLite)
		p := fastPolicy()
		p.FailureThreshold = 1
		f := setup(t, s, withPolicy(p))
		in := f.integration(t, integration.VendorSAMSARA_ELD, "conn-open")
		f.setFault(t, sandbox.Samsara, sandbox.Fault{Status: 503})
		f.syncNow(t, f.engine, in.ID)
		require.Equal(t, integration.CircuitStateOPEN, f.integrationNow(t, in.ID).CircuitState)
		before := f.requests(sandbox.Samsara)

		r := f.engine.TestConnection(context.Background(), f.integrationNow(t, in.ID))
		require.False(t, r.Success)
		require.Contains(t, r.Message, "vendor unavailable")
		require.Equal(t, before+1, f.requests(sandbox.Samsara))

		f.sandbox.ClearFaults("")
		r = f.engine.TestConnection(context.Background(), f.integrationNow(t, in.ID))
		require.True(t, r.Success, r.Message)
		require.Equal(t, integration.CircuitStateOPEN, f.integrationNow(t, in.ID).CircuitState, "the breaker is the syncs' business")
		lg := f.syncNow(t, f.engine, in.ID)
		require.Equal(t, "circuit_open", str(lg.ErrorClass))
	})
}
