package resilience_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/resilience"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header string
		want   time.Duration
		wantOK bool
	}{
		{"Empty", "", 0, false},
		{"Blank", "   ", 0, false},
		{"Integer", "2", 2 * time.Second, true},
		{"Zero", "0", 0, true},
		{"FractionalSamsara", "0.40235", 402350 * time.Microsecond, true},
		{"FractionalWithSpaces", " 1.5 ", 1500 * time.Millisecond, true},
		{"LeadingDot", ".25", 250 * time.Millisecond, true},
		{"CappedSeconds", "120", resilience.DefaultMaxRetryAfter, true},
		{"HugeSeconds", "99999999999999999999999", resilience.DefaultMaxRetryAfter, true},
		{"HTTPDate", "Sat, 01 Mar 2025 12:00:30 GMT", 30 * time.Second, true},
		{"HTTPDateCapped", "Sat, 01 Mar 2025 13:00:00 GMT", resilience.DefaultMaxRetryAfter, true},
		{"HTTPDateInThePast", "Sat, 01 Mar 2025 11:59:00 GMT", 0, true},
		{"RFC850Date", "Saturday, 01-Mar-25 12:00:10 GMT", 10 * time.Second, true},
		{"Negative", "-1", 0, false},
		{"Signed", "+5", 0, false},
		{"Exponent", "1e3", 0, false},
		{"Infinity", "Inf", 0, false},
		{"NaN", "NaN", 0, false},
		{"TwoDots", "1.2.3", 0, false},
		{"Unit", "5s", 0, false},
		{"Garbage", "soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := resilience.ParseRetryAfter(tt.header, now)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "2", "0.40235", "120", "Sat, 01 Mar 2025 12:00:30 GMT", "-1", "1e3", "soon"} {
		f.Add(s)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, h string) {
		d, ok := resilience.ParseRetryAfter(h, now)
		if !ok && d != 0 {
			t.Fatalf("not ok but %s", d)
		}
		if d < 0 || d > resilience.DefaultMaxRetryAfter {
			t.Fatalf("%q gave %s, outside [0, %s]", h, d, resilience.DefaultMaxRetryAfter)
		}
	})
}
