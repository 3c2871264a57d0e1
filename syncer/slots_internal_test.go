package syncer

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var fourVendors = []string{"samsara", "truckbase", "fuelfinder", "openweather"}

func TestSlotsFairShare(t *testing.T) {
	t.Parallel()

	t.Run("EvenDemandGetsEvenShares", func(t *testing.T) {
		t.Parallel()
		s := newSlots(64, fourVendors) // 8 kept for manual syncs, 56 scheduled: 14 each
		got := s.plan(map[string]int{"samsara": 100, "truckbase": 100, "fuelfinder": 100, "openweather": 100})
		require.Equal(t, map[string]int{"samsara": 14, "truckbase": 14, "fuelfinder": 14, "openweather": 14}, got)
		require.Zero(t, s.free())
	})

	t.Run("ShortSupplyIsSharedInTurn", func(t *testing.T) {
		t.Parallel()
		s := newSlots(4, fourVendors) // 1 kept for manual syncs, 3 scheduled
		got := s.plan(map[string]int{"samsara": 5, "truckbase": 5, "fuelfinder": 5, "openweather": 5})
		require.Len(t, got, 3)
		for _, n := range got {
			require.Equal(t, 1, n)
		}
	})

	t.Run("OneVendorBorrowsButLeavesRoomForTheOthers", func(t *testing.T) {
		t.Parallel()
		s := newSlots(64, fourVendors)
		// samsara wants everything (its syncs hang); nobody else has due work.
		got := s.plan(map[string]int{"samsara": 1000})
		require.Equal(t, 14+56-14-3*7, got["samsara"], "its share plus what is idle beyond half the others' shares")
		require.Zero(t, s.plan(map[string]int{"samsara": 1000})["samsara"], "it does not grow at the next tick")

		// A due sync of another vendor starts at the next tick: slots were kept for it.
		got = s.plan(map[string]int{"samsara": 1000, "truckbase": 3})
		require.Equal(t, map[string]int{"truckbase": 3}, got)
		got = s.plan(map[string]int{"samsara": 1000, "fuelfinder": 20, "openweather": 20})
		require.Equal(t, 9, got["fuelfinder"], "the 18 free slots, shared in turn")
		require.Equal(t, 9, got["openweather"])
		require.Zero(t, got["samsara"])

		// As samsara's syncs end, the vendors under their share get the slots first.
		for range 10 {
			s.releaseScheduled("samsara")
		}
		got = s.plan(map[string]int{"samsara": 1000, "truckbase": 50, "fuelfinder": 50})
		require.Zero(t, got["samsara"])
		require.Equal(t, 10, got["truckbase"]+got["fuelfinder"])
	})

	t.Run("ManualSyncsNeverWaitBehindScheduledOnes", func(t *testing.T) {
		t.Parallel()
		s := newSlots(16, fourVendors) // 2 kept for manual syncs
		s.plan(map[string]int{"samsara": 100, "truckbase": 100, "fuelfinder": 100, "openweather": 100})
		require.Zero(t, s.free())
		ctx := t.Context()
		require.NoError(t, s.acquireManual(ctx))
		require.NoError(t, s.acquireManual(ctx))

		// Every slot is busy now, two of them with manual syncs: a third waits for
		// any slot to free.
		waited := make(chan error, 1)
		go func() { waited <- s.acquireManual(ctx) }()
		select {
		case err := <-waited:
			t.Fatalf("acquired a slot while all were busy: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		s.releaseScheduled("truckbase")
		require.NoError(t, <-waited)

		short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, s.acquireManual(short), context.DeadlineExceeded)
	})

	t.Run("ManualSyncsShrinkWhatTheSchedulerMayTake", func(t *testing.T) {
		t.Parallel()
		s := newSlots(8, fourVendors) // 1 kept, 7 scheduled
		for range 5 {
			require.NoError(t, s.acquireManual(t.Context()))
		}
		require.Equal(t, 3, s.free())
		s.releaseManual()
		require.Equal(t, 4, s.free())
	})
}
