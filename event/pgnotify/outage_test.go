package pgnotify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/event/pgnotify"
	"github.com/sallyhq/sally/internal/testpg"
)

// TestNoSilentLossWhileTheDatabaseIsAway: two processes on a private PostgreSQL that
// is stopped for a while; one publishes 20 events during the outage and right after
// it. Every subscriber of the other gets each event or, before the events it may
// have missed, a STREAM_RESET; with the default reconnect bounds its listener is
// back within a second of the database (logged, not asserted).
func TestNoSilentLossWhileTheDatabaseIsAway(t *testing.T) {
	t.Parallel()
	pg := testpg.Start(t, testpg.Options{})
	a := startBridgeWith(t, pg.URL(), pgnotify.Options{})
	b := startBridgeWith(t, pg.URL(), pgnotify.Options{})

	pg.Stop(t)
	msg := func(i int) string { return fmt.Sprintf("event %d", i) }
	for i := range 10 {
		a.Publish(t.Context(), sample(msg(i)))
	}
	time.Sleep(2 * time.Second) // an outage of a few seconds
	pg.Start(t)
	started := time.Now()
	for i := 10; i < 20; i++ {
		a.Publish(t.Context(), sample(msg(i)))
		time.Sleep(50 * time.Millisecond)
	}

	// b: every event, or a reset before the first one it did not get.
	got := map[string]bool{}
	reset := false
	for !reset || len(got) < 20 {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		d, err := b.stream.Next(ctx)
		cancel()
		if err != nil {
			break
		}
		if d.Event.Type == event.StreamReset {
			if !reset {
				t.Logf("STREAM_RESET %s after the database started, with %d of 20 events before it", time.Since(started).Round(time.Millisecond), len(got))
			}
			reset = true
			continue
		}
		got[*d.Event.Message] = true
	}
	missed := 0
	for i := range 20 {
		if !got[msg(i)] {
			missed++
		}
	}
	t.Logf("the other process's subscriber got %d of 20 events, a reset: %v; stats a %+v, b %+v", 20-missed, reset, a.Stats(), b.Stats())
	require.True(t, missed == 0 || reset, "missed %d events without a STREAM_RESET", missed)
	require.True(t, reset, "the listener lost its connection: its subscribers may have missed events")
	require.GreaterOrEqual(t, b.Stats().Reconnects, int64(1))
}
