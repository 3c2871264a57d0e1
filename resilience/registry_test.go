package resilience_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/resilience"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	var r resilience.Registry
	builds := 0
	build := func() resilience.Options {
		builds++
		return resilience.Options{Vendor: "samsara", Config: fastConfig()}
	}

	var wg sync.WaitGroup
	got := make([]*resilience.Policy, 8)
	for i := range got {
		wg.Go(func() { got[i] = r.Get("integration-1", build) })
	}
	wg.Wait()
	for _, p := range got {
		require.Same(t, got[0], p)
	}
	require.Equal(t, 1, builds)
	require.NotSame(t, got[0], r.Get("integration-2", build))

	r.Drop("integration-1")
	require.NotSame(t, got[0], r.Get("integration-1", build))
	require.Equal(t, 3, builds)
}
