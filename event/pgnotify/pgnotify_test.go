package pgnotify_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/event/pgnotify"
	"github.com/sallyhq/sally/internal/testdb"
)

func sample(msg string) event.Event {
	return event.Event{
		Type: event.SyncFailed, At: time.Date(2026, 11, 26, 12, 0, 0, 123456000, time.UTC),
		TenantID: "t1", IntegrationID: "i1", IntegrationName: "Samsara ELD", Vendor: "SAMSARA_ELD",
		CircuitState: "CLOSED", Message: &msg,
		SyncLog: &event.SyncLog{ID: "l1", IntegrationID: "i1", SyncType: "HOS_SYNC", Status: "FAILED",
			Trigger: "MANUAL", StartedAt: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), Attempts: 3, Error: &msg},
	}
}

// decode returns the event of a payload.
func decode(t testing.TB, payload []byte) event.Event {
	t.Helper()
	var env struct {
		O string
		E event.Event
	}
	require.NoError(t, json.Unmarshal(payload, &env))
	require.Equal(t, "origin", env.O)
	return env.E
}

func TestEncode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, msg   string
		wantTrimmed bool
	}{
		{"OKSmall", "vendor unavailable", false},
		{"OKJustFits", strings.Repeat("x", 3500), false},
		{"TrimASCII", strings.Repeat("x", 20_000), true},
		{"TrimMultibyte", strings.Repeat("é😀", 5_000), true},
		{"TrimEscaped", strings.Repeat(`<"\`, 5_000), true},
		{"TrimHuge", strings.Repeat("y", 1<<20), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := sample(tt.msg)
			payload, trimmed, err := pgnotify.Encode("origin", in)
			require.NoError(t, err)
			require.Equal(t, tt.wantTrimmed, trimmed)
			require.LessOrEqual(t, len(payload), pgnotify.MaxPayload)
			out := decode(t, payload)
			require.Equal(t, tt.msg, *in.Message, "the caller's event is left alone")
			require.Equal(t, tt.msg, *in.SyncLog.Error)
			if !tt.wantTrimmed {
				require.Equal(t, in, out)
				return
			}
			for _, s := range []string{*out.Message, *out.SyncLog.Error} {
				require.True(t, utf8.ValidString(s))
				require.True(t, strings.HasSuffix(s, "…"), "says it was shortened")
				require.Greater(t, len(s), 500, "both fields keep a fair share")
				require.True(t, strings.HasPrefix(tt.msg, strings.TrimSuffix(s, "…")))
			}
			// Everything else arrives whole.
			out.Message, out.SyncLog.Error, in.Message, in.SyncLog.Error = nil, nil, nil, nil
			require.Equal(t, in, out)
		})
	}
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "ok", strings.Repeat("é😀", 3000), strings.Repeat(`<"\`, 4000), strings.Repeat("x", 9000)} {
		f.Add(s, s[:len(s)/2])
	}
	f.Fuzz(func(t *testing.T, msg, name string) {
		e := sample(msg)
		e.IntegrationName = name
		payload, _, err := pgnotify.Encode("origin", e)
		if err != nil {
			return // nothing left to shorten: reported, never sent half
		}
		require.LessOrEqual(t, len(payload), pgnotify.MaxPayload)
		decode(t, payload)
	})
}

// bridge is one simulated server process: its own bus and bridge on the database.
type bridge struct {
	*pgnotify.Bridge
	bus    *event.Bus
	stream *event.Stream
}

func startBridge(t *testing.T, dsn string) *bridge {
	t.Helper()
	return startBridgeWith(t, dsn, pgnotify.Options{MinReconnect: 10 * time.Millisecond, MaxReconnect: 100 * time.Millisecond})
}

// startBridgeWith starts a bridge with opts (DSN, DB and Local filled in).
func startBridgeWith(t *testing.T, dsn string, opts pgnotify.Options) *bridge {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	bus := event.NewBus(0)
	opts.DSN, opts.DB, opts.Local = dsn, db, bus
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := pgnotify.New(opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	select {
	case <-b.Ready():
	case err := <-done:
		t.Fatalf("bridge stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the bridge did not listen within 30s")
	}
	return &bridge{Bridge: b, bus: bus, stream: bus.Stream(t.Context(), event.Filter{TenantID: "t1"}, nil)}
}

// next returns the next event the process's subscribers get.
func (b *bridge) next(t *testing.T) event.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	d, err := b.stream.Next(ctx)
	require.NoError(t, err)
	return d.Event
}

func TestBridgeDeliversEveryEventOnceEverywhere(t *testing.T) {
	t.Parallel()
	dsn := testdb.PostgresURL(t)
	a, b := startBridge(t, dsn), startBridge(t, dsn)
	require.Equal(t, a.Channel(), b.Channel())
	require.True(t, strings.HasPrefix(a.Channel(), pgnotify.ChannelPrefix+":t_"), a.Channel())
	other := startBridge(t, testdb.PostgresURL(t)) // another schema: another channel
	require.NotEqual(t, a.Channel(), other.Channel())

	a.Publish(t.Context(), sample("first"))
	b.Publish(t.Context(), sample("second"))
	huge := strings.Repeat("z", 50_000)
	a.Publish(t.Context(), sample(huge))
	for _, p := range []*bridge{a, b} {
		// Each process gets its own events at once and the other's through PostgreSQL,
		// each exactly once (across processes, their order is not defined).
		got := map[string]int{}
		for range 3 {
			m := *p.next(t).Message
			switch {
			case m == huge:
				m = "huge"
			case len(m) > 100:
				require.True(t, strings.HasSuffix(m, "…"), "shortened, and says so")
				require.Less(t, len(m), pgnotify.MaxPayload)
				m = "huge, shortened"
			}
			got[m]++
		}
		if p == a {
			require.Equal(t, map[string]int{"first": 1, "second": 1, "huge": 1}, got, "its own subscribers get it whole")
		} else {
			require.Equal(t, map[string]int{"first": 1, "second": 1, "huge, shortened": 1}, got)
		}
	}
	require.EqualValues(t, 1, b.Stats().Trimmed+a.Stats().Trimmed)
	require.Eventually(t, func() bool { return a.Stats().Sent == 2 && b.Stats().Sent == 1 }, 30*time.Second, 10*time.Millisecond)
	require.EqualValues(t, 1, a.Stats().Received)
	require.EqualValues(t, 2, b.Stats().Received)

	// Nothing crossed to the other schema's servers.
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := other.stream.Next(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestBridgeListensAgainAfterLosingItsConnection(t *testing.T) {
	t.Parallel()
	dsn := testdb.PostgresURL(t)
	a, b := startBridge(t, dsn), startBridge(t, dsn)

	// Kill b's listening connection, as a database restart would.
	db, err := sql.Open("postgres", testdb.BaseURL())
	require.NoError(t, err)
	defer db.Close()
	var killed int
	require.NoError(t, db.QueryRowContext(t.Context(),
		`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`,
		b.ApplicationName()).Scan(&killed))
	require.Equal(t, 1, killed)
	require.Eventually(t, func() bool { return b.Stats().Reconnects == 1 }, 30*time.Second, 10*time.Millisecond)

	// b's subscribers may have missed events meanwhile: they are told so.
	reset := b.next(t)
	require.Equal(t, event.StreamReset, reset.Type)
	require.Equal(t, "t1", reset.TenantID)
	require.Empty(t, reset.IntegrationID, "the subscription has no filter")

	a.Publish(t.Context(), sample("after the reconnect"))
	require.Equal(t, "after the reconnect", *b.next(t).Message)
	require.Equal(t, "after the reconnect", *a.next(t).Message)
}
