package graph_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
)

// TestDriverPages: a fleet too large for the drivers board in one request (two HOS
// integrations reporting the same 1,300 drivers: 2,600 rows) is read whole through
// driverPage: the pages together are exactly drivers' rows in drivers' order, no
// driverId is split between two pages, and each page passes the cost limit that the
// whole board with the same fields does not.
func TestDriverPages(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		f.api.Sandbox.SetFleetSettings(sandbox.FleetSettings{Drivers: 1300, Loads: 1})
		for _, key := range []string{"pages-key-a", "pages-key-b"} {
			id := f.api.CreateIntegration(t, f.admin.Token, map[string]any{"displayName": "ELD " + key,
				"credentials": map[string]any{"apiKey": key}, "syncIntervalSeconds": 86400})
			requireCode(t, f.do(t, f.dispatcher, `mutation($id: ID!) { syncIntegration(id: $id) { status } }`, map[string]any{"id": id}), "")
		}
		type row struct {
			DriverID string
			Name     *string
		}
		var all struct{ Drivers []row }
		r := f.do(t, f.dispatcher, `{ drivers { driverId name } }`, nil)
		requireCode(t, r, "")
		r.Decode(t, &all)
		require.Len(t, all.Drivers, 2600)

		full := `hos { dutyStatus driveRemainingHours shiftRemainingHours cycleRemainingHours timeUntilBreakHours
			dataSource syncedAt cached stale error note cycleViolationHours shiftDrivingViolationHours
			overriddenBy { email } overriddenAt overrideReason overrideExpiresAt }`
		requireCode(t, f.do(t, f.dispatcher, `{ drivers { driverId name `+full+` } }`, nil), graph.CodeBadUserInput)

		const first = 333 // its last row is the first of two with one driverId
		var got []row
		var after *string
		for pages := 0; ; pages++ {
			require.Less(t, pages, 20, "too many pages")
			var page struct{ DriverPage []row }
			r := f.do(t, f.dispatcher, `query($first: Int, $after: String) { driverPage(first: $first, after: $after) { driverId name `+full+` } }`,
				map[string]any{"first": first, "after": after})
			requireCode(t, r, "")
			r.Decode(t, &page)
			if len(got) > 0 && len(page.DriverPage) > 0 {
				require.Greater(t, page.DriverPage[0].DriverID, got[len(got)-1].DriverID, "a driverId split between pages")
			}
			got = append(got, page.DriverPage...)
			if len(page.DriverPage) < first {
				break
			}
			require.Equal(t, first+1, len(page.DriverPage), "the page ends with both rows of its last driverId")
			last := page.DriverPage[len(page.DriverPage)-1].DriverID
			after = &last
		}
		require.Equal(t, all.Drivers, got)

		for _, bad := range []int{0, 501} {
			r := f.do(t, f.dispatcher, `query($first: Int) { driverPage(first: $first) { driverId } }`, map[string]any{"first": bad})
			requireCode(t, r, graph.CodeBadUserInput)
			require.Contains(t, r.Message(), "first must be between 1 and 500")
		}
	})
}
