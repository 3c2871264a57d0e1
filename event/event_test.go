package event_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/event"
)

func ev(tenant, integration string, typ event.Type) event.Event {
	return event.Event{Type: typ, At: time.Now(), TenantID: tenant, IntegrationID: integration, CircuitState: "CLOSED"}
}

func TestBusFilters(t *testing.T) {
	t.Parallel()
	b := event.NewBus(0)
	ctx := t.Context()
	all := b.Subscribe(ctx, event.Filter{TenantID: "a"})
	one := b.Stream(ctx, event.Filter{TenantID: "a", IntegrationID: "i2"}, nil)
	other := b.Subscribe(ctx, event.Filter{TenantID: "b"})
	require.Equal(t, 3, b.Subscribers())

	b.Publish(ctx, ev("a", "i1", event.SyncStarted))
	b.Publish(ctx, ev("a", "i2", event.SyncStarted))
	b.Publish(ctx, ev("b", "i3", event.SyncFailed))
	b.Publish(ctx, ev("c", "i4", event.SyncFailed))

	require.Equal(t, "i1", (<-all.C).IntegrationID)
	require.Equal(t, "i2", (<-all.C).IntegrationID)
	d, err := one.Next(ctx)
	require.NoError(t, err)
	require.Equal(t, "i2", d.Event.IntegrationID)
	require.Equal(t, "i3", (<-other.C).IntegrationID)
	require.Empty(t, all.C)
	require.Empty(t, other.C)
}

func TestBusDropsSlowSubscribers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		subscribe func(b *event.Bus, ctx context.Context, dropped chan<- error) (read func() error)
	}{
		{"Subscribe", func(b *event.Bus, ctx context.Context, _ chan<- error) func() error {
			s := b.Subscribe(ctx, event.Filter{TenantID: "a"})
			return func() error {
				for range s.C {
				}
				return s.Err()
			}
		}},
		{"Stream", func(b *event.Bus, ctx context.Context, dropped chan<- error) func() error {
			s := b.Stream(ctx, event.Filter{TenantID: "a"}, func(err error) { dropped <- err })
			return func() error {
				_, err := s.Next(ctx)
				return err
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := event.NewBus(2)
			ctx := t.Context()
			dropped := make(chan error, 1)
			read := tt.subscribe(b, ctx, dropped)
			keeper := b.Stream(ctx, event.Filter{TenantID: "a"}, nil)
			for i := range 3 {
				b.Publish(ctx, ev("a", "i1", event.SyncStarted)) // never blocks
				if i < 2 {
					_, err := keeper.Next(ctx) // keeps up
					require.NoError(t, err)
				}
			}
			require.ErrorIs(t, read(), event.ErrSlowSubscriber)
			if tt.name == "Stream" {
				require.ErrorIs(t, <-dropped, event.ErrSlowSubscriber)
			}
			require.Equal(t, 1, b.Subscribers())
			_, err := keeper.Next(ctx)
			require.NoError(t, err, "the one that kept up still gets its events")
		})
	}
}

func TestStreamEnds(t *testing.T) {
	t.Parallel()
	b := event.NewBus(0)

	ctx, cancel := context.WithCancel(t.Context())
	s := b.Stream(ctx, event.Filter{TenantID: "a"}, func(error) { t.Error("onDrop on a normal end") })
	cancel()
	_, err := s.Next(t.Context())
	require.ErrorIs(t, err, context.Canceled)
	require.Eventually(t, func() bool { return b.Subscribers() == 0 }, 10*time.Second, time.Millisecond)

	s = b.Stream(t.Context(), event.Filter{TenantID: "a"}, nil)
	s.Close()
	_, err = s.Next(t.Context())
	require.ErrorIs(t, err, event.ErrClosed)
	require.Zero(t, b.Subscribers())

	s = b.Stream(t.Context(), event.Filter{TenantID: "a"}, nil)
	short, cancelShort := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancelShort()
	_, err = s.Next(short)
	require.ErrorIs(t, err, context.DeadlineExceeded, "Next gives up with its own context")
	b.Publish(t.Context(), ev("a", "i1", event.SyncStarted))
	d, err := s.Next(t.Context())
	require.NoError(t, err, "and the stream goes on")
	require.Equal(t, event.SyncStarted, d.Event.Type)

	done, cancelDone := context.WithCancel(t.Context())
	cancelDone()
	sub := b.Subscribe(done, event.Filter{TenantID: "a"})
	_, open := <-sub.C
	require.False(t, open)
	require.NoError(t, sub.Err())
	require.Equal(t, 1, b.Subscribers(), "only the open stream is left")
}

func TestStreamKeepsOrderAcrossWaits(t *testing.T) {
	t.Parallel()
	b := event.NewBus(1000)
	s := b.Stream(t.Context(), event.Filter{TenantID: "a"}, nil)
	go func() {
		for i := range 500 {
			b.Publish(context.Background(), ev("a", fmt.Sprint(i), event.SyncStarted))
		}
	}()
	for i := range 500 {
		d, err := s.Next(t.Context())
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(i), d.Event.IntegrationID)
	}
}

func TestDeliveryMemoComputesOncePerEvent(t *testing.T) {
	t.Parallel()
	b := event.NewBus(0)
	var streams []*event.Stream
	for range 50 {
		streams = append(streams, b.Stream(t.Context(), event.Filter{TenantID: "a"}, nil))
	}
	b.Publish(t.Context(), ev("a", "i1", event.SyncStarted))

	var computed atomic.Int32
	var wg sync.WaitGroup
	got := make([]any, len(streams))
	for i, s := range streams {
		wg.Go(func() {
			d, err := s.Next(t.Context())
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = d.Memo("render", func() any {
				computed.Add(1)
				time.Sleep(time.Millisecond) // the others wait for it
				return "rendered " + d.Event.IntegrationID
			})
		})
	}
	wg.Wait()
	require.EqualValues(t, 1, computed.Load())
	for _, g := range got {
		require.Equal(t, "rendered i1", g)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	msg, attempt := "vendor down", 2
	in := ev("a", "i1", event.SyncRetrying)
	in.At = in.At.UTC()
	in.Message, in.Attempt = &msg, &attempt
	in.SyncLog = &event.SyncLog{ID: "l1", Status: "RUNNING", StartedAt: in.At}
	b, err := in.Marshal()
	require.NoError(t, err)
	out, err := event.Unmarshal(b)
	require.NoError(t, err)
	require.Equal(t, in, out)
}

// A bus hands every event of a tenant to its subscribers and never waits for them.
func ExampleBus() {
	bus := event.NewBus(0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := bus.Stream(ctx, event.Filter{TenantID: "acme"}, nil)

	bus.Publish(ctx, event.Event{Type: event.SyncStarted, TenantID: "acme", IntegrationName: "Samsara ELD"})
	bus.Publish(ctx, event.Event{Type: event.SyncStarted, TenantID: "globex"}) // not acme's
	bus.Publish(ctx, event.Event{Type: event.SyncSucceeded, TenantID: "acme", IntegrationName: "Samsara ELD"})

	for range 2 {
		d, _ := s.Next(ctx)
		fmt.Println(d.Event.Type, d.Event.IntegrationName)
	}
	// Output:
	// SYNC_STARTED Samsara ELD
	// SYNC_SUCCEEDED Samsara ELD
}

// A vendor-wide event (no tenant) reaches every tenant's subscribers without an
// integration filter, and those of an integration of that vendor only.
func TestBusVendorWideEvents(t *testing.T) {
	t.Parallel()
	b := event.NewBus(0)
	ctx := t.Context()
	a := b.Subscribe(ctx, event.Filter{TenantID: "a"})
	other := b.Subscribe(ctx, event.Filter{TenantID: "b"})
	same := b.Subscribe(ctx, event.Filter{TenantID: "a", IntegrationID: "i1", Vendor: "SAMSARA_ELD"})
	notSame := b.Subscribe(ctx, event.Filter{TenantID: "b", IntegrationID: "i2", Vendor: "OPENWEATHER"})

	down := event.Event{Type: event.VendorDown, At: time.Now(), Vendor: "SAMSARA_ELD", CircuitState: "OPEN"}
	require.True(t, down.VendorWide())
	b.Publish(ctx, down)
	for _, s := range []*event.Subscription{a, other, same} {
		got := <-s.C
		require.Equal(t, event.VendorDown, got.Type)
	}
	require.Empty(t, notSame.C)
	require.False(t, ev("a", "i1", event.SyncStarted).VendorWide())
}
