package samsara_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/internal/vendortest"
	"github.com/sallyhq/sally/vendors/samsara"
)

// The bodies under vendors/testdata/external/samsara were written by Samsara (its SDK
// mock-server tests and its OpenAPI examples; the README there names each source).
// Each one is served as page 1 with its own pagination (endCursor "MjkY",
// hasNextPage true), then last_page_empty_cursor.json as page 2, so that paging
// through Samsara's own cursor is checked as well. Expected values are worked out by
// hand from the bodies: 39,600,000 ms = 11 h, 50,400,000 = 14 h, 28,800,000 = 8 h,
// 252,000,000 = 70 h.

// externalPages answers page 1 with first and the page after cursor MjkY with the
// empty last page.
func externalPages(t *testing.T, first string) http.Handler {
	t.Helper()
	return pages(map[string]string{
		"":     string(vendortest.External(t, first)),
		"MjkY": string(vendortest.External(t, "samsara/last_page_empty_cursor.json")),
	})
}

func TestExternalClocks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fixture string
		want    []vendors.HOS
	}{
		{
			// The SDK's GetHosClocks mock: an item with a driver, a vehicle and
			// violations, but no currentDutyStatus and no clocks. Nothing is known
			// about the clocks: none may read as 0 h left.
			name: "SDKMockWithoutClocks", fixture: "samsara/hos_clocks_sdk_mock.json",
			want: []vendors.HOS{{
				DriverID: "88668", DriverName: "Susan Bob", DutyStatus: vendors.DutyUnknown,
				Note:                samsara.NoteNoStatus + "; " + samsara.NoteNoClocks,
				CycleViolationHours: f(11), ShiftDrivingViolationHours: f(11),
			}},
		},
		{
			// The OpenAPI reference example: a rested driver, off duty, every clock full.
			name: "ReferenceExample", fixture: "samsara/hos_clocks_reference_example.json",
			want: []vendors.HOS{{
				DriverID: "88668", DriverName: "Susan Bob", DutyStatus: vendors.DutyOffDuty,
				HoursDriven: f(0), DriveRemainingHours: f(11), ShiftRemainingHours: f(14),
				CycleRemainingHours: f(70), TimeUntilBreakHours: f(8),
				CycleViolationHours: f(11), ShiftDrivingViolationHours: f(11),
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, externalPages(t, tt.fixture))
			got, err := s.client.HOSClocks(t.Context(), []string{"88668"})
			require.NoError(t, err)
			require.Equal(t, tt.want, round(got))

			reqs := s.rec.Requests()
			require.Len(t, reqs, 2, "page 1, then the empty last page")
			require.Equal(t, "", reqs[0].URL.Query().Get("after"))
			require.Equal(t, "MjkY", reqs[1].URL.Query().Get("after"))
			for _, r := range reqs {
				require.Equal(t, "/fleet/hos/clocks", r.URL.Path)
				require.Equal(t, "88668", r.URL.Query().Get("driverIds"))
			}
		})
	}
}

func TestExternalDrivers(t *testing.T) {
	t.Parallel()
	s := newSetup(t, externalPages(t, "samsara/drivers_list_sdk_mock.json"))
	got, err := s.client.Drivers(t.Context())
	require.NoError(t, err)
	// externalIds {"maintenanceId":"250020","payrollId":"ABFS18600"}: the value of
	// the alphabetically first key.
	require.Equal(t, []vendors.Driver{{ID: "123", Name: "Susan Jones", ExternalID: "250020", Active: true}}, got)
	reqs := s.rec.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, "MjkY", reqs[1].URL.Query().Get("after"))
}

func TestExternalErrors(t *testing.T) {
	t.Parallel()
	body := vendortest.External(t, "samsara/error_standard.json")
	tests := []struct {
		name       string
		status     int
		retryAfter string
		kind       vendors.Kind
		wantRetry  time.Duration
	}{
		{name: "Unauthorized", status: 401, kind: vendors.KindUnauthorized},
		{name: "Forbidden", status: 403, kind: vendors.KindForbidden},
		{name: "RateLimited", status: 429, retryAfter: "0.40235", kind: vendors.KindRateLimited, wantRetry: 402350 * time.Microsecond},
		{name: "Unavailable", status: 503, kind: vendors.KindUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := vendortest.Answer{Status: tt.status, Body: body}
			if tt.retryAfter != "" {
				a.Header = map[string]string{"Retry-After": tt.retryAfter}
			}
			s := newSetup(t, a)
			for _, call := range []func() error{
				func() error { _, err := s.client.Drivers(t.Context()); return err },
				func() error { _, err := s.client.HOSClocks(t.Context(), nil); return err },
			} {
				e := vendortest.RequireKind(t, call(), tt.kind)
				require.Equal(t, samsara.Vendor, e.Vendor)
				require.Equal(t, tt.status, e.Status)
				require.Equal(t, tt.wantRetry, e.RetryAfter)
				require.Equal(t, "An error has occurred.", e.Message)
			}
		})
	}
}
