package auth_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
)

func TestFailureDelay(t *testing.T) {
	t.Parallel()

	tests := []struct {
		n    int
		want time.Duration
	}{
		{n: -1, want: 0},
		{n: 0, want: 0},
		{n: 1, want: 250 * time.Millisecond},
		{n: 2, want: 500 * time.Millisecond},
		{n: 3, want: time.Second},
		{n: 4, want: 2 * time.Second},
		{n: 10, want: 2 * time.Second},
		{n: 1 << 30, want: auth.MaxFailureDelay},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, auth.FailureDelay(tt.n))
		})
	}
}
