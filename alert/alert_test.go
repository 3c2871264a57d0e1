package alert_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/alert"
	"github.com/sallyhq/sally/ent"
	entalert "github.com/sallyhq/sally/ent/alert"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testsmtp"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
)

// The story: three failures within the window mail the tenant's admins once;
// more failures mail nothing; a success mails one recovery notice that refers to the
// alert; the other tenant's admins get nothing.
func TestFailureIncident(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		evA, evB := f.subscribe(t, f.tenantA), f.subscribe(t, f.tenantB)
		in := f.integration(t, f.tenantA, "Main fleet")
		other := f.integration(t, f.tenantB, "Beta fleet")

		f.fail(t, in)
		f.fail(t, in)
		f.fail(t, other) // the other tenant fails too, below its threshold
		require.Empty(t, f.alerts(t, in), "two failures stay below the threshold of 3")

		f.fail(t, in)
		msgs := f.smtp.Wait(t, 1, wait)
		require.Len(t, msgs, 1)
		require.ElementsMatch(t, f.adminsA, msgs[0].To, "exactly the tenant's active admins")
		raised := testsmtp.Parse(t, msgs[0])
		require.Equal(t, `[ERROR] "Main fleet" (Samsara) is failing`, raised.Subject)
		require.Contains(t, raised.Text, "3 within 60 minutes (alert threshold 3)")
		require.Contains(t, raised.Text, "unavailable: Samsara answered 503 (3 tries)")

		as := f.alerts(t, in)
		require.Len(t, as, 1)
		a := f.waitStatus(t, as[0].ID, entalert.StatusSENT)
		require.Equal(t, alert.KindFailure, a.Kind)
		require.Equal(t, entalert.SeverityERROR, a.Severity)
		require.True(t, a.Firing)
		require.Equal(t, f.adminsA, a.Recipients)
		require.Equal(t, 1, a.DeliveryAttempts)
		require.NotNil(t, a.SentAt)
		require.Equal(t, a.MessageID, raised.Header.Get("Message-Id"))
		require.Equal(t, alert.MessageID(a.ID, "sally.app"), a.MessageID)

		// The incident goes on: no second alert, so no second email.
		f.fail(t, in)
		f.fail(t, in)
		require.Len(t, f.alerts(t, in), 1)

		f.succeed(t, in)
		msgs = f.smtp.Wait(t, 2, wait)
		require.Len(t, msgs, 2, "the recovery notice, and nothing else")
		require.ElementsMatch(t, f.adminsA, msgs[1].To)
		rec := testsmtp.Parse(t, msgs[1])
		require.Equal(t, `[INFO] "Main fleet" (Samsara) has recovered`, rec.Subject)
		require.Equal(t, a.MessageID, rec.Header.Get("In-Reply-To"), "threaded under the alert")
		require.Contains(t, rec.Text, `Resolves: "Main fleet" (Samsara) is failing`)

		as = f.alerts(t, in)
		require.Len(t, as, 2)
		require.NotNil(t, as[0].ResolvedAt, "the alert is resolved")
		r := f.waitStatus(t, as[1].ID, entalert.StatusSENT)
		require.Equal(t, alert.KindRecovery, r.Kind)
		require.Equal(t, entalert.SeverityINFO, r.Severity)
		require.False(t, r.Firing)
		require.Equal(t, a.ID, *r.ResolvesAlertID)

		// Another success resolves nothing more.
		f.succeed(t, in)
		require.Len(t, f.alerts(t, in), 2)

		require.NotContains(t, recipientsOf(f.smtp.Messages()), f.adminsB[0])
		require.Empty(t, f.alerts(t, other))
		require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Len(c, evA.types(), 2) }, wait, tick, "the alert events")
		require.Equal(t, []event.Type{event.AlertRaised, event.AlertResolved}, evA.types())
		require.Empty(t, evB.types())
	})
}

// A new incident after a recovery is mailed again, but failures before the success
// do not count toward it.
func TestFailuresCountSinceLastSuccess(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		in := f.integration(t, f.tenantA, "Flappy")
		f.fail(t, in)
		f.fail(t, in)
		f.succeed(t, in)
		f.fail(t, in)
		f.fail(t, in)
		require.Empty(t, f.alerts(t, in), "2 failures since the last success")
		f.fail(t, in)
		require.Len(t, f.alerts(t, in), 1)
		f.succeed(t, in)
		f.fail(t, in)
		require.Len(t, f.alerts(t, in), 2, "one alert and its recovery: one failure is no new incident")
		f.fail(t, in)
		f.fail(t, in)
		as := f.alerts(t, in)
		require.Len(t, as, 3, "a second incident")
		require.Equal(t, alert.KindFailure, as[2].Kind)
		f.smtp.Wait(t, 3, wait)
	})
}

// Failures older than the integration's window do not count.
func TestFailuresOutsideWindow(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		in := f.integration(t, f.tenantA, "Slow burn", func(c *ent.IntegrationCreate) {
			c.SetAlertWindowMinutes(30).SetAlertFailureThreshold(2)
		})
		f.syncLog(t, in, synclog.StatusFAILED, time.Now().Add(-31*time.Minute), "old", "network")
		f.fail(t, in)
		require.Empty(t, f.alerts(t, in))
		f.fail(t, in)
		as := f.alerts(t, in)
		require.Len(t, as, 1)
		require.Equal(t, 2, as[0].Details.Failures)
		require.Equal(t, 30, as[0].Details.WindowMinutes)
	})
}

func TestCriticalWhileCircuitOpen(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		in := f.integration(t, f.tenantA, "Tripped", func(c *ent.IntegrationCreate) {
			c.SetCircuitState(integration.CircuitStateOPEN).SetCircuitOpenedAt(time.Now().UTC())
		})
		f.fail(t, in)
		f.fail(t, in)
		f.fail(t, in)
		msgs := f.smtp.Wait(t, 1, wait)
		p := testsmtp.Parse(t, msgs[0])
		require.True(t, strings.HasPrefix(p.Subject, "[CRITICAL] "), p.Subject)
		require.Contains(t, p.Text, "paused by the circuit breaker")
		require.Equal(t, entalert.SeverityCRITICAL, f.alerts(t, in)[0].Severity)
	})
}

// Replicas deciding at the same moment raise one alert: the partial unique index lets
// one insert win.
func TestConcurrentRaisesMailOnce(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, open func() *store.Store) {
		st := open()
		f := setup(t, st)
		in := f.integration(t, f.tenantA, "Raced")
		var logs []*ent.SyncLog
		for i := range 3 {
			logs = append(logs, f.syncLog(t, in, synclog.StatusFAILED, time.Now().Add(time.Duration(i-3)*time.Second), "boom", "network"))
		}
		const replicas = 4
		mgrs := []*alert.Manager{f.mgr}
		for range replicas - 1 {
			mgrs = append(mgrs, f.newManager(open().Client))
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, m := range mgrs {
			for range 3 {
				wg.Go(func() {
					<-start
					m.AfterSync(context.Background(), in, logs[2])
				})
			}
		}
		close(start)
		wg.Wait()
		as := f.alerts(t, in)
		require.Len(t, as, 1)
		f.waitStatus(t, as[0].ID, entalert.StatusSENT)
		require.Len(t, f.smtp.Messages(), 1)
	})
}

// Two workers (two replicas) draining the same outbox send each alert once.
func TestWorkersClaimEachAlertOnce(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, open func() *store.Store) {
		st := open()
		f := setup(t, st, withoutWorker())
		const n = 12
		for i := range n {
			in := f.integration(t, f.tenantA, fmt.Sprintf("Fleet %02d", i))
			f.fail(t, in)
			f.fail(t, in)
			f.fail(t, in)
		}
		f.startWorker(t, st.Client, senderOf(f.sender), nil)
		f.startWorker(t, open().Client, senderOf(f.sender), nil)
		f.startWorker(t, open().Client, senderOf(f.sender), nil)
		f.smtp.Wait(t, n, wait)
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			sent, err := f.db.Alert.Query().Where(entalert.StatusEQ(entalert.StatusSENT)).Count(sys())
			require.NoError(c, err)
			assert.Equal(c, n, sent)
		}, wait, tick, "every alert SENT")
		msgs := f.smtp.Messages()
		require.Len(t, msgs, n)
		ids := map[string]bool{}
		for _, m := range msgs {
			id := testsmtp.Parse(t, m).Header.Get("Message-Id")
			require.False(t, ids[id], "sent twice: %s", id)
			ids[id] = true
		}
		as, err := f.db.Alert.Query().All(sys())
		require.NoError(t, err)
		for _, a := range as {
			require.Equal(t, 1, a.DeliveryAttempts)
		}
	})
}

// The mail server is down when the alert is raised: the worker retries with backoff
// and delivers it once when the server is back.
func TestSMTPDownThenBack(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.smtp.Stop()
		in := f.integration(t, f.tenantA, "Main fleet")
		f.fail(t, in)
		f.fail(t, in)
		f.fail(t, in)
		id := f.alerts(t, in)[0].ID
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			a, err := f.db.Alert.Get(sys(), id)
			require.NoError(c, err)
			assert.GreaterOrEqual(c, a.DeliveryAttempts, 2)
			assert.NotNil(c, a.LastError)
		}, wait, tick, "failed delivery attempts")
		a, err := f.db.Alert.Get(sys(), id)
		require.NoError(t, err)
		require.Equal(t, entalert.StatusPENDING, a.Status)
		require.Contains(t, *a.LastError, "temporary")

		f.smtp.Start(t)
		a = f.waitStatus(t, id, entalert.StatusSENT)
		require.Nil(t, a.LastError)
		require.Len(t, f.smtp.Messages(), 1)
	})
}

// 4xx answers are retried; a 5xx is recorded FAILED with the server's reason and not
// tried again.
func TestSMTPReplies(t *testing.T) {
	t.Parallel()
	t.Run("OKAfter4xx", func(t *testing.T) {
		t.Parallel()
		testdb.Each(t, func(t *testing.T, st *store.Store) {
			f := setup(t, st)
			f.smtp.Reject(451, "greylisted, try again later", 2)
			in := f.integration(t, f.tenantA, "Greylisted")
			f.fail(t, in)
			f.fail(t, in)
			f.fail(t, in)
			a := f.waitStatus(t, f.alerts(t, in)[0].ID, entalert.StatusSENT)
			require.Equal(t, 3, a.DeliveryAttempts)
			require.Len(t, f.smtp.Messages(), 1)
		})
	})
	t.Run("ErrFailedOn5xx", func(t *testing.T) {
		t.Parallel()
		testdb.Each(t, func(t *testing.T, st *store.Store) {
			f := setup(t, st)
			f.smtp.Reject(550, "relaying denied", -1)
			in := f.integration(t, f.tenantA, "Refused")
			f.fail(t, in)
			f.fail(t, in)
			f.fail(t, in)
			a := f.waitStatus(t, f.alerts(t, in)[0].ID, entalert.StatusFAILED)
			require.Equal(t, 1, a.DeliveryAttempts)
			require.Contains(t, *a.LastError, "rejected by the mail server")
			require.Contains(t, *a.LastError, "550")
			require.Nil(t, a.SentAt)
			require.Empty(t, f.smtp.Messages())
			require.Equal(t, 1, f.smtp.Attempts())
		})
	})
}

// Retries end: an alert still undelivered after GiveUpAfter is FAILED.
func TestGiveUp(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, withWorker(func(o *alert.WorkerOptions) { o.GiveUpAfter = 200 * time.Millisecond }))
		f.smtp.Stop()
		in := f.integration(t, f.tenantA, "Unlucky")
		f.fail(t, in)
		f.fail(t, in)
		f.fail(t, in)
		a := f.waitStatus(t, f.alerts(t, in)[0].ID, entalert.StatusFAILED)
		require.Contains(t, *a.LastError, "gave up after")
		require.GreaterOrEqual(t, a.DeliveryAttempts, 1)
	})
}

// The server stops after raising the alert and before delivering it; the next start
// delivers it, once.
func TestRestartBetweenRaiseAndDelivery(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, open func() *store.Store) {
		first := open()
		f := setup(t, first, withoutWorker())
		in := f.integration(t, f.tenantA, "Main fleet")
		f.fail(t, in)
		f.fail(t, in)
		f.fail(t, in)
		id := f.alerts(t, in)[0].ID
		require.NoError(t, first.Close()) // the process ends: nothing but the database remains

		second := open()
		f.db = second.Client
		f.startWorker(t, second.Client, senderOf(f.sender), nil)
		msgs := f.smtp.Wait(t, 1, wait)
		a := f.waitStatus(t, id, entalert.StatusSENT)
		require.Equal(t, a.MessageID, testsmtp.Parse(t, msgs[0]).Header.Get("Message-Id"))
		require.Len(t, f.smtp.Messages(), 1)
	})
}

// A worker that claimed an alert and died (its lease runs out) does not keep it from
// being delivered, and the delivery carries the same Message-ID.
func TestAbandonedClaimIsRetried(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, withoutWorker())
		in := f.integration(t, f.tenantA, "Main fleet")
		f.fail(t, in)
		f.fail(t, in)
		f.fail(t, in)
		a := f.alerts(t, in)[0]
		// What a claim leaves behind: an attempt counted, the lease running.
		require.NoError(t, f.db.Alert.UpdateOneID(a.ID).SetDeliveryAttempts(1).
			SetNextAttemptAt(time.Now().UTC().Add(300*time.Millisecond)).Exec(sys()))
		f.startWorker(t, st.Client, senderOf(f.sender), nil)
		got := f.waitStatus(t, a.ID, entalert.StatusSENT)
		require.Equal(t, 2, got.DeliveryAttempts)
		msgs := f.smtp.Messages()
		require.Len(t, msgs, 1)
		require.Equal(t, a.MessageID, testsmtp.Parse(t, msgs[0]).Header.Get("Message-Id"))
	})
}

// A recovery notice never overtakes the alert it resolves.
func TestRecoveryWaitsForItsAlert(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.smtp.Stop()
		in := f.integration(t, f.tenantA, "Main fleet")
		f.fail(t, in)
		f.fail(t, in)
		f.fail(t, in)
		id := f.alerts(t, in)[0].ID
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			a, err := f.db.Alert.Get(sys(), id)
			require.NoError(c, err)
			assert.GreaterOrEqual(c, a.DeliveryAttempts, 3)
		}, wait, tick, "a few failed attempts")
		f.succeed(t, in)
		f.smtp.Start(t)
		msgs := f.smtp.Wait(t, 2, wait)
		require.True(t, strings.HasPrefix(testsmtp.Parse(t, msgs[0]).Subject, "[ERROR]"))
		require.True(t, strings.HasPrefix(testsmtp.Parse(t, msgs[1]).Subject, "[INFO]"))
	})
}

func TestNoRecipients(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		lonely := f.tenant(t, "No Admins Inc")
		in := f.integration(t, lonely, "Orphan")
		f.fail(t, in)
		f.fail(t, in)
		f.fail(t, in)
		as := f.alerts(t, in)
		require.Len(t, as, 1)
		require.Equal(t, entalert.StatusFAILED, as[0].Status)
		require.Equal(t, alert.NoRecipientsError, *as[0].LastError)
		require.Empty(t, as[0].Recipients)
		f.fail(t, in)
		require.Len(t, f.alerts(t, in), 1, "still one incident")
		require.Zero(t, f.smtp.Attempts())
	})
}

func TestNoSMTPHost(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, withoutSender())
		in := f.integration(t, f.tenantA, "Main fleet")
		f.fail(t, in)
		f.fail(t, in)
		f.fail(t, in)
		a := f.waitStatus(t, f.alerts(t, in)[0].ID, entalert.StatusFAILED)
		require.Equal(t, alert.NoSenderError, *a.LastError)
		require.Equal(t, f.adminsA, a.Recipients, "recorded with whom it was for")
		require.Zero(t, a.DeliveryAttempts)
		require.Zero(t, f.smtp.Attempts())
	})
}

func TestStale(t *testing.T) {
	t.Parallel()
	t.Run("OKRaisedOnceResolvedBySuccess", func(t *testing.T) {
		t.Parallel()
		testdb.Each(t, func(t *testing.T, st *store.Store) {
			f := setup(t, st)
			ev := f.subscribe(t, f.tenantA)
			in := f.integration(t, f.tenantA, "Stuck", func(c *ent.IntegrationCreate) {
				c.SetSyncIntervalSeconds(300).SetCreatedAt(time.Now().UTC().Add(-2 * time.Hour))
			})
			f.syncLog(t, in, synclog.StatusSUCCESS, time.Now().Add(-11*time.Minute), "", "")
			fresh := f.integration(t, f.tenantA, "Fresh", func(c *ent.IntegrationCreate) {
				c.SetCreatedAt(time.Now().UTC().Add(-2 * time.Hour))
			})
			f.syncLog(t, fresh, synclog.StatusSUCCESS, time.Now().Add(-time.Minute), "", "")
			f.integration(t, f.tenantA, "Off", func(c *ent.IntegrationCreate) {
				c.SetEnabled(false).SetCreatedAt(time.Now().UTC().Add(-48 * time.Hour))
			})
			f.integration(t, f.tenantA, "New") // created now: not stale yet

			require.NoError(t, f.mgr.CheckStale(context.Background()))
			require.NoError(t, f.mgr.CheckStale(context.Background()))
			as, err := f.db.Alert.Query().All(sys())
			require.NoError(t, err)
			require.Len(t, as, 1, "once, and only for the stuck integration")
			a := as[0]
			require.Equal(t, in.ID, *a.IntegrationID)
			require.Equal(t, alert.KindStale, a.Kind)
			require.Equal(t, entalert.SeverityWARNING, a.Severity)
			msgs := f.smtp.Wait(t, 1, wait)
			p := testsmtp.Parse(t, msgs[0])
			require.True(t, strings.HasPrefix(p.Subject, `[WARNING] "Stuck" (Samsara) has not synced successfully for 1`), p.Subject)
			require.ElementsMatch(t, f.adminsA, msgs[0].To)

			f.succeed(t, in)
			msgs = f.smtp.Wait(t, 2, wait)
			require.True(t, strings.HasPrefix(testsmtp.Parse(t, msgs[1]).Subject, "[INFO] "))
			require.NoError(t, f.mgr.CheckStale(context.Background()))
			require.Len(t, f.alerts(t, in), 2)
			require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Len(c, ev.types(), 2) }, wait, tick, "events")
			require.Equal(t, []event.Type{event.AlertRaised, event.AlertResolved}, ev.types())
		})
	})
	t.Run("OKNotWhileFailureAlertOpen", func(t *testing.T) {
		t.Parallel()
		testdb.Each(t, func(t *testing.T, st *store.Store) {
			f := setup(t, st)
			in := f.integration(t, f.tenantA, "Failing", func(c *ent.IntegrationCreate) {
				c.SetSyncIntervalSeconds(60).SetCreatedAt(time.Now().UTC().Add(-2 * time.Hour))
			})
			f.fail(t, in)
			f.fail(t, in)
			f.fail(t, in)
			// Time passes with no success (the failures stop, too).
			require.NoError(t, f.db.Integration.UpdateOneID(in.ID).
				SetLastSyncAt(time.Now().UTC().Add(-time.Hour)).Exec(sys()))
			require.NoError(t, f.mgr.CheckStale(context.Background()))
			as := f.alerts(t, in)
			require.Len(t, as, 1)
			require.Equal(t, alert.KindFailure, as[0].Kind)
		})
	})
	t.Run("OKFailureSupersedesStale", func(t *testing.T) {
		t.Parallel()
		testdb.Each(t, func(t *testing.T, st *store.Store) {
			f := setup(t, st)
			in := f.integration(t, f.tenantA, "Stale then failing", func(c *ent.IntegrationCreate) {
				c.SetSyncIntervalSeconds(60).SetCreatedAt(time.Now().UTC().Add(-2 * time.Hour))
			})
			require.NoError(t, f.mgr.CheckStale(context.Background()))
			f.fail(t, in)
			f.fail(t, in)
			f.fail(t, in)
			f.succeed(t, in)
			as := f.alerts(t, in)
			require.Len(t, as, 3)
			require.Equal(t, alert.KindStale, as[0].Kind)
			require.NotNil(t, as[0].ResolvedAt, "superseded")
			require.Equal(t, alert.KindFailure, as[1].Kind)
			require.Equal(t, alert.KindRecovery, as[2].Kind)
			require.Equal(t, as[1].ID, *as[2].ResolvesAlertID, "one recovery, for the failure alert")
			f.smtp.Wait(t, 3, wait)
		})
	})
	t.Run("OKFailingSyncsGetTheWindowFirst", func(t *testing.T) {
		t.Parallel()
		testdb.Each(t, func(t *testing.T, st *store.Store) {
			f := setup(t, st)
			// Interval 5 minutes, window 60: 11 minutes without a success while syncs
			// keep failing (below the threshold) is the failure rule's business.
			in := f.integration(t, f.tenantA, "Failing slowly", func(c *ent.IntegrationCreate) {
				c.SetSyncIntervalSeconds(300).SetCreatedAt(time.Now().UTC().Add(-2 * time.Hour))
			})
			f.syncLog(t, in, synclog.StatusSUCCESS, time.Now().Add(-11*time.Minute), "", "")
			f.fail(t, in)
			f.fail(t, in)
			require.NoError(t, f.mgr.CheckStale(context.Background()))
			require.Empty(t, f.alerts(t, in))
		})
	})
}

// Names, errors and tenant names come from users and vendors: the HTML part shows
// them as text, never as markup; the text part shows them as they are.
func TestEmailEscapesUserAndVendorText(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		const name = `<img src=x onerror=alert(1)>`
		const vendorErr = `unavailable: <script>alert("pwned")</script> & more`
		evil := f.tenant(t, `<b>Evil</b> & Co`)
		f.user(t, evil, "admin@evil.test", "ADMIN", true)
		in := f.integration(t, evil, name)
		for range 3 {
			lg := f.syncLog(t, in, synclog.StatusFAILED, time.Now(), vendorErr, "unavailable")
			f.mgr.AfterSync(context.Background(), in, lg)
		}
		msgs := f.smtp.Wait(t, 1, wait)
		p := testsmtp.Parse(t, msgs[0])
		require.Equal(t, "multipart/alternative", p.ContentType)
		require.Equal(t, 2, p.Parts, "a text and an HTML part")
		require.NotEmpty(t, p.Text)
		require.NotEmpty(t, p.HTML)

		require.NotContains(t, p.HTML, "<img")
		require.NotContains(t, p.HTML, "<script")
		require.NotContains(t, p.HTML, "<b>Evil")
		require.Contains(t, p.HTML, "&lt;img src=x onerror=alert(1)&gt;")
		require.Contains(t, p.HTML, "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; &amp; more")
		require.Contains(t, p.HTML, "&lt;b&gt;Evil&lt;/b&gt; &amp; Co")

		// The text part is text: shown as is.
		require.Contains(t, p.Text, name)
		require.Contains(t, p.Text, vendorErr)
		require.Contains(t, p.Subject, name)
	})
}

// The sweep the server runs: periodic, after its grace, until its context ends.
func TestRun(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		in := f.integration(t, f.tenantA, "Forgotten", func(c *ent.IntegrationCreate) {
			c.SetSyncIntervalSeconds(60).SetCreatedAt(time.Now().UTC().Add(-time.Hour))
		})
		mgr := alert.NewManager(alert.Options{
			Client: f.db, Logger: f.logger, Notify: f.worker.Kick, SweepGrace: 30 * time.Millisecond,
			VendorName: syncer.DisplayName,
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); mgr.Run(ctx, 20*time.Millisecond) }()
		msgs := f.smtp.Wait(t, 1, wait)
		require.True(t, strings.HasPrefix(testsmtp.Parse(t, msgs[0]).Subject, `[WARNING] "Forgotten"`))
		cancel()
		<-done
		require.Len(t, f.alerts(t, in), 1)
	})
}

// A server that stopped between recording a sync and running the rules on it: the
// next sweep makes the decision it missed, once.
func TestCatchUp(t *testing.T) {
	t.Parallel()
	t.Run("OKMissedFailureAlert", func(t *testing.T) {
		t.Parallel()
		testdb.Each(t, func(t *testing.T, st *store.Store) {
			f := setup(t, st)
			in := f.integration(t, f.tenantA, "Missed")
			for range 3 {
				f.syncLog(t, in, synclog.StatusFAILED, time.Now(), "network: connection reset", "network")
			}
			require.NoError(t, f.mgr.Sweep(context.Background()))
			require.NoError(t, f.mgr.Sweep(context.Background()))
			as := f.alerts(t, in)
			require.Len(t, as, 1)
			require.Equal(t, alert.KindFailure, as[0].Kind)
			require.Equal(t, "network: connection reset", as[0].Details.LastError)
			f.smtp.Wait(t, 1, wait)
		})
	})
	t.Run("OKMissedRecovery", func(t *testing.T) {
		t.Parallel()
		testdb.Each(t, func(t *testing.T, st *store.Store) {
			f := setup(t, st)
			in := f.integration(t, f.tenantA, "Missed")
			f.fail(t, in)
			f.fail(t, in)
			f.fail(t, in)
			f.syncLog(t, in, synclog.StatusSUCCESS, time.Now(), "", "")
			require.NoError(t, f.mgr.Sweep(context.Background()))
			require.NoError(t, f.mgr.Sweep(context.Background()))
			as := f.alerts(t, in)
			require.Len(t, as, 2)
			require.Equal(t, alert.KindRecovery, as[1].Kind)
			f.smtp.Wait(t, 2, wait)
		})
	})
	t.Run("OKStaleAfterOldSuccessStaysOpen", func(t *testing.T) {
		t.Parallel()
		testdb.Each(t, func(t *testing.T, st *store.Store) {
			f := setup(t, st)
			in := f.integration(t, f.tenantA, "Scheduler gone", func(c *ent.IntegrationCreate) {
				c.SetSyncIntervalSeconds(60).SetCreatedAt(time.Now().UTC().Add(-time.Hour))
			})
			f.syncLog(t, in, synclog.StatusSUCCESS, time.Now().Add(-10*time.Minute), "", "")
			require.NoError(t, f.mgr.Sweep(context.Background()))
			require.NoError(t, f.mgr.Sweep(context.Background()))
			as := f.alerts(t, in)
			require.Len(t, as, 1, "the success before it does not resolve it")
			require.Equal(t, alert.KindStale, as[0].Kind)
			require.Nil(t, as[0].ResolvedAt)
		})
	})
}
