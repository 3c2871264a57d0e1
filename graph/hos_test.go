package graph_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/ent/fleetdriver"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
)

const hosFields = `driverId driverName dutyStatus hoursDriven driveRemainingHours shiftRemainingHours
  cycleRemainingHours timeUntilBreakHours dataSource syncedAt cached stale cacheAgeSeconds error note
  cycleViolationHours shiftDrivingViolationHours overriddenBy { id email } overriddenAt overrideReason overrideExpiresAt`

// hosJSON is HOSData as the API answers it; the clocks stay raw so that null and 0
// can be told apart.
type hosJSON struct {
	DriverID                   string
	DutyStatus                 string
	HoursDriven                json.RawMessage
	DriveRemainingHours        json.RawMessage
	ShiftRemainingHours        json.RawMessage
	CycleRemainingHours        json.RawMessage
	TimeUntilBreakHours        json.RawMessage
	DataSource                 string
	Cached, Stale              bool
	Error, Note                *string
	CycleViolationHours        *float64
	ShiftDrivingViolationHours *float64
	OverriddenBy               *struct{ ID, Email string }
	OverriddenAt               *time.Time
	OverrideReason             *string
	OverrideExpiresAt          *time.Time
}

func (h hosJSON) clocks() []string {
	return []string{string(h.HoursDriven), string(h.DriveRemainingHours), string(h.ShiftRemainingHours),
		string(h.CycleRemainingHours), string(h.TimeUntilBreakHours)}
}

type driverJSON struct {
	DriverID          string
	HosManualOverride bool
	Hos               *hosJSON
}

// TestHOSEndToEnd runs the whole path, sandbox → sync → storage → API, on both
// databases: a driver whose clocks the vendor did not send answers null with a note,
// never 0; a disconnected app is UNKNOWN; violations are served; a cache the vendor no
// longer confirms is flagged stale; an override carries its author, reason and
// expiry and ends by itself.
func TestHOSEndToEnd(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		f.api.Sandbox.SetFleetSettings(sandbox.FleetSettings{Drivers: 6, Loads: 2, WithoutClocks: 1, Disconnected: 1, InViolation: 1})
		id := f.api.CreateIntegration(t, f.admin.Token, map[string]any{"credentials": map[string]any{"apiKey": "hos-e2e-key"}})
		requireCode(t, f.do(t, f.dispatcher, `mutation($id: ID!) { syncIntegration(id: $id) { status } }`, map[string]any{"id": id}), "")

		drivers := func() map[string]driverJSON {
			t.Helper()
			var out struct{ Drivers []driverJSON }
			r := f.do(t, f.dispatcher, `{ drivers { driverId hosManualOverride hos { `+hosFields+` } } }`, nil)
			requireCode(t, r, "")
			r.Decode(t, &out)
			m := map[string]driverJSON{}
			for _, d := range out.Drivers {
				m[d.DriverID] = d
			}
			return m
		}
		driverHOS := func(driverID string) hosJSON {
			t.Helper()
			var out struct{ DriverHOS hosJSON }
			r := f.do(t, f.dispatcher, `query($d: String!) { driverHOS(driverId: $d) { `+hosFields+` } }`, map[string]any{"d": driverID})
			requireCode(t, r, "")
			r.Decode(t, &out)
			return out.DriverHOS
		}

		t.Log("missing clocks answer null with a note, never 0")
		ds := drivers()
		require.Len(t, ds, 6)
		noClocks := ds["52001"].Hos
		require.NotNil(t, noClocks)
		require.Equal(t, []string{"null", "null", "null", "null", "null"}, noClocks.clocks())
		require.NotNil(t, noClocks.Note)
		require.Contains(t, *noClocks.Note, "no clocks reported")
		h := driverHOS("52001")
		require.Equal(t, []string{"null", "null", "null", "null", "null"}, h.clocks())
		require.Contains(t, *h.Note, "no clocks reported")
		require.True(t, h.Cached)

		t.Log("a disconnected driver app is UNKNOWN, with its clocks")
		disc := ds["52002"].Hos
		require.Equal(t, "UNKNOWN", disc.DutyStatus)
		require.Equal(t, "driver app disconnected", *disc.Note)
		for _, c := range disc.clocks() {
			require.NotEqual(t, "null", c)
		}

		t.Log("violations are served")
		viol := ds["52003"].Hos
		require.InDelta(t, 1, *viol.CycleViolationHours, 1e-9)
		require.InDelta(t, 1, *viol.ShiftDrivingViolationHours, 1e-9)
		require.NotNil(t, ds["52004"].Hos.CycleViolationHours, "0 is reported as 0, not null")

		t.Log("a cache the vendor no longer confirms is stale")
		f.api.Sandbox.SetFault(sandbox.Samsara, sandbox.Fault{Status: 503})
		t.Cleanup(func() { f.api.Sandbox.ClearFaults("") })
		old := time.Now().UTC().Add(-12 * time.Minute) // past 2 × 300 s + 1 min
		require.NoError(t, s.Client.FleetDriver.Update().Where(fleetdriver.DriverIDIn("52001", "52004")).
			SetHosSyncedAt(old).Exec(testserver.System()))
		h = driverHOS("52004")
		require.True(t, h.Stale, "the vendor failed: the older cache is served, flagged")
		require.NotNil(t, h.Error)
		h = driverHOS("52001")
		require.True(t, h.Stale)
		require.Equal(t, []string{"null", "null", "null", "null", "null"}, h.clocks(), "stale and unknown: still null")
		ds = drivers()
		require.True(t, ds["52004"].Hos.Stale, "the drivers list flags it too")
		require.Contains(t, *ds["52004"].Hos.Error, "not confirmed by the vendor")
		require.False(t, ds["52005"].Hos.Stale)
		f.api.Sandbox.ClearFaults("")

		t.Log("an override with a reason and an expiry, then it ends by itself")
		until := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
		var set struct{ OverrideDriverHOS hosJSON }
		r := f.do(t, f.dispatcher, `mutation($d: String!, $in: HOSOverrideInput!) { overrideDriverHOS(driverId: $d, input: $in) { `+hosFields+` } }`,
			map[string]any{"d": "52005", "in": map[string]any{
				"dutyStatus": "ON_DUTY", "hoursDriven": 2, "driveRemainingHours": 9, "shiftRemainingHours": 12,
				"cycleRemainingHours": 60, "timeUntilBreakHours": 6, "reason": "ELD replaced; paper log checked",
				"expiresAt": until.Format(time.RFC3339),
			}})
		requireCode(t, r, "")
		r.Decode(t, &set)
		o := set.OverrideDriverHOS
		require.Equal(t, "manual_override", o.DataSource)
		require.Equal(t, "ELD replaced; paper log checked", *o.OverrideReason)
		require.Equal(t, f.dispatcher.Email, o.OverriddenBy.Email)
		require.True(t, until.Equal(*o.OverrideExpiresAt))
		require.NotNil(t, o.OverriddenAt)
		ds = drivers()
		require.True(t, ds["52005"].HosManualOverride)
		require.Equal(t, "manual_override", ds["52005"].Hos.DataSource)
		require.Equal(t, f.dispatcher.Email, ds["52005"].Hos.OverriddenBy.Email)

		// Time passes: the expiry is now behind us.
		require.NoError(t, s.Client.FleetDriver.Update().Where(fleetdriver.DriverID("52005")).
			SetOverrideExpiresAt(time.Now().UTC().Add(-time.Second)).Exec(testserver.System()))
		h = driverHOS("52005")
		require.Equal(t, "samsara_eld", h.DataSource, "an expired override is never served")
		require.Nil(t, h.OverrideReason)
		ds = drivers()
		require.False(t, ds["52005"].HosManualOverride)
		require.Equal(t, "samsara_eld", ds["52005"].Hos.DataSource)
	})
}

func TestOverrideInput(t *testing.T) {
	t.Parallel()
	f := setup(t, testdb.Open(t, testdb.SQLite))
	id := f.api.CreateIntegration(t, f.admin.Token, nil)
	requireCode(t, f.do(t, f.admin, `mutation($id: ID!) { syncIntegration(id: $id) { status } }`, map[string]any{"id": id}), "")
	const m = `mutation($in: HOSOverrideInput!) { overrideDriverHOS(driverId: "52001", input: $in) { dataSource } }`
	base := func(extra map[string]any) map[string]any {
		in := map[string]any{"dutyStatus": "OFF_DUTY", "hoursDriven": 0, "driveRemainingHours": 11, "shiftRemainingHours": 14,
			"cycleRemainingHours": 70, "timeUntilBreakHours": 8, "reason": "checked"}
		for k, v := range extra {
			in[k] = v
		}
		return map[string]any{"in": in}
	}
	for _, tt := range []struct {
		name  string
		extra map[string]any
		code  string
		msg   string
	}{
		{"NoReason", map[string]any{"reason": nil}, "", ""}, // nullable in the contract: v1 clients send none
		{"BlankReason", map[string]any{"reason": "  "}, "BAD_USER_INPUT", "must not be blank"},
		{"LongReason", map[string]any{"reason": strings.Repeat("x", 501)}, "BAD_USER_INPUT", "at most 500"},
		{"ExpiryPast", map[string]any{"expiresAt": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "BAD_USER_INPUT", "future"},
		{"ExpiryTooFar", map[string]any{"expiresAt": time.Now().Add(15 * 24 * time.Hour).UTC().Format(time.RFC3339)}, "BAD_USER_INPUT", "14 days"},
		{"UnknownStatus", map[string]any{"dutyStatus": "UNKNOWN"}, "BAD_USER_INPUT", "dutyStatus"},
		{"OK", nil, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, f.dispatcher, m, base(tt.extra))
			requireCode(t, r, tt.code)
			if tt.msg != "" {
				require.Contains(t, r.Message(), tt.msg)
			}
		})
	}
}
