package sandbox_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/sandbox"
)

type samsaraPage[T any] struct {
	Data       []T `json:"data"`
	Pagination struct {
		EndCursor   string `json:"endCursor"`
		HasNextPage bool   `json:"hasNextPage"`
	} `json:"pagination"`
}

type idName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type samsaraDriver struct {
	ID                     string            `json:"id"`
	Name                   string            `json:"name"`
	Username               string            `json:"username"`
	Phone                  string            `json:"phone"`
	LicenseState           string            `json:"licenseState"`
	Timezone               string            `json:"timezone"`
	DriverActivationStatus string            `json:"driverActivationStatus"`
	ExternalIDs            map[string]string `json:"externalIds"`
	StaticAssignedVehicle  *idName           `json:"staticAssignedVehicle"`
	CreatedAtTime          string            `json:"createdAtTime"`
	UpdatedAtTime          string            `json:"updatedAtTime"`
}

type hosClock struct {
	Driver            idName `json:"driver"`
	CurrentDutyStatus struct {
		HosStatusType string `json:"hosStatusType"`
	} `json:"currentDutyStatus"`
	CurrentVehicle *idName `json:"currentVehicle"`
	Clocks         struct {
		Break struct {
			TimeUntilBreakDurationMs float64 `json:"timeUntilBreakDurationMs"`
		} `json:"break"`
		Drive struct {
			DriveRemainingDurationMs float64 `json:"driveRemainingDurationMs"`
		} `json:"drive"`
		Shift struct {
			ShiftRemainingDurationMs float64 `json:"shiftRemainingDurationMs"`
		} `json:"shift"`
		Cycle struct {
			CycleRemainingDurationMs float64 `json:"cycleRemainingDurationMs"`
			CycleStartedAtTime       string  `json:"cycleStartedAtTime"`
			CycleTomorrowDurationMs  float64 `json:"cycleTomorrowDurationMs"`
		} `json:"cycle"`
	} `json:"clocks"`
	Violations struct {
		CycleViolationDurationMs        float64 `json:"cycleViolationDurationMs"`
		ShiftDrivingViolationDurationMs float64 `json:"shiftDrivingViolationDurationMs"`
	} `json:"violations"`
}

// pageResult is one walk through a Samsara list.
type pageResult[T any] struct {
	items      []T
	pages      int
	emptyPages int // empty pages that still said hasNextPage
}

// pageAll follows a Samsara list from the first page to hasNextPage false, as an
// adapter must, checking the pagination rules on the way.
func pageAll[T any](t *testing.T, e *env, key, path string, limit int) pageResult[T] {
	t.Helper()
	var res pageResult[T]
	after := ""
	for {
		res.pages++
		require.Less(t, res.pages, 10_000, "pagination does not end")
		q := fmt.Sprintf("%s%climit=%d", path, sep(path), limit)
		if after != "" {
			q += "&after=" + url.QueryEscape(after)
		}
		a := e.vendor(t, sandbox.Samsara, key, q)
		require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
		var p samsaraPage[T]
		a.decode(t, &p)
		require.NotNil(t, p.Data, "data must be an array, never null")
		require.LessOrEqual(t, len(p.Data), limit)
		res.items = append(res.items, p.Data...)
		if !p.Pagination.HasNextPage {
			require.Empty(t, p.Pagination.EndCursor, "the last page's endCursor")
			return res
		}
		require.NotEmpty(t, p.Pagination.EndCursor, "a page with a next page needs a cursor")
		if len(p.Data) == 0 {
			res.emptyPages++
		}
		after = p.Pagination.EndCursor
	}
}

// allClocks reads every driver's clocks for a key at the sandbox's current time.
func allClocks(t *testing.T, e *env, key string) []hosClock {
	t.Helper()
	return pageAll[hosClock](t, e, key, "/fleet/hos/clocks", 512).items
}

func allDrivers(t *testing.T, e *env, key, query string) []samsaraDriver {
	t.Helper()
	return pageAll[samsaraDriver](t, e, key, "/fleet/drivers"+query, 512).items
}

func clockIDs(cs []hosClock) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Driver.ID)
	}
	return out
}

func samsaraDriverIDs(ds []samsaraDriver) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func sep(path string) byte {
	for i := range len(path) {
		if path[i] == '?' {
			return '&'
		}
	}
	return '?'
}

func driverIDs(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(from + i)
	}
	return out
}

func TestSamsaraPaginationVisitsEveryDriverOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		path    string
		drivers int
		limit   int
	}{
		{"DriversOnePage", "/fleet/drivers?driverActivationStatus=active", 25, 512},
		{"DriversLimit1", "/fleet/drivers", 25, 1},
		{"DriversLimit7", "/fleet/drivers", 25, 7},
		{"DriversExactPages", "/fleet/drivers", 25, 5},
		{"ClocksOnePage", "/fleet/hos/clocks", 25, 512},
		{"ClocksLimit3", "/fleet/hos/clocks", 25, 3},
		{"Clocks1000Drivers", "/fleet/hos/clocks", 1000, 512},
		{"Clocks1000DriversLimit100", "/fleet/hos/clocks", 1000, 100},
		{"NoDrivers", "/fleet/hos/clocks", 0, 512},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			e.sb.SetFleet(tt.drivers, 10)
			for _, key := range []string{"acme", "globex", "initech", "samsara-token"} {
				var ids []string
				if tt.path == "/fleet/hos/clocks" {
					ids = clockIDs(pageAll[hosClock](t, e, key, tt.path, tt.limit).items)
				} else {
					ids = samsaraDriverIDs(pageAll[samsaraDriver](t, e, key, tt.path, tt.limit).items)
				}
				want := driverIDs(52001, tt.drivers)
				if len(want) == 0 {
					want = nil
				}
				require.Equal(t, want, ids, "key %s", key)
			}
		})
	}
}

// Some walks meet an empty page that says hasNextPage, the first page included:
// deterministic per key, so this always finds some among a few keys.
func TestSamsaraEmptyPagesStillHaveNext(t *testing.T) {
	t.Parallel()
	e := setup(t)
	empty, emptyFirst := 0, 0
	for i := range 20 {
		key := fmt.Sprintf("tenant-%d", i)
		res := pageAll[hosClock](t, e, key, "/fleet/hos/clocks", 5)
		require.Equal(t, driverIDs(52001, 25), clockIDs(res.items))
		empty += res.emptyPages
		again := pageAll[hosClock](t, e, key, "/fleet/hos/clocks", 5)
		require.Equal(t, res, again, "the same walk twice")

		var first samsaraPage[hosClock]
		e.vendor(t, sandbox.Samsara, key, "/fleet/hos/clocks").decode(t, &first)
		if len(first.Data) == 0 {
			require.True(t, first.Pagination.HasNextPage)
			emptyFirst++
		}
	}
	require.Positive(t, empty, "no empty page with hasNextPage in 20 walks")
	require.Positive(t, emptyFirst, "no empty first page for 20 keys")
	require.Less(t, emptyFirst, 10, "empty first pages should be the exception")
}

func TestSamsaraBadRequests(t *testing.T) {
	t.Parallel()
	e := setup(t)
	drivers := e.vendor(t, sandbox.Samsara, "acme", "/fleet/drivers?limit=5")
	var p samsaraPage[samsaraDriver]
	drivers.decode(t, &p)
	driversCursor := p.Pagination.EndCursor
	require.NotEmpty(t, driversCursor)

	tests := []struct {
		name string
		path string
	}{
		{"LimitZero", "/fleet/drivers?limit=0"},
		{"LimitTooBig", "/fleet/hos/clocks?limit=513"},
		{"LimitNegative", "/fleet/hos/clocks?limit=-1"},
		{"LimitNotANumber", "/fleet/hos/clocks?limit=ten"},
		{"CursorGarbage", "/fleet/hos/clocks?after=%21%21%21"},
		{"CursorOfAnotherList", "/fleet/hos/clocks?after=" + url.QueryEscape(driversCursor)},
		{"ActivationStatusUnknown", "/fleet/drivers?driverActivationStatus=sleeping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := e.vendor(t, sandbox.Samsara, "acme", tt.path)
			require.Equal(t, http.StatusBadRequest, a.status, "body: %s", a.body)
			requireSameShape(t, a.json(t), readGolden(t, "samsara_error.json"))
		})
	}
}

func TestSamsaraAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header string
		status int
	}{
		{"OK", "Bearer acme", 200},
		{"LowerCaseScheme", "bearer acme", 200},
		{"Missing", "", 401},
		{"EmptyToken", "Bearer ", 401},
		{"OtherScheme", "Basic YWNtZTpwdw==", 401},
		{"InvalidToken", "Bearer invalid-acme", 401},
		{"InvalidPrefixOnly", "Bearer invalid", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			h := http.Header{}
			if tt.header != "" {
				h.Set("Authorization", tt.header)
			}
			a := e.do(t, http.MethodGet, "/samsara/fleet/drivers", h, "")
			require.Equal(t, tt.status, a.status, "body: %s", a.body)
			if tt.status == 401 {
				requireSameShape(t, a.json(t), readGolden(t, "samsara_error.json"))
				require.NotEmpty(t, a.json(t).(map[string]any)["requestId"])
			}
		})
	}
}

func TestSamsaraDriverIDsFilter(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, key := range []string{"acme", "initech"} {
		got := pageAll[hosClock](t, e, key, "/fleet/hos/clocks?driverIds=52003,52001,+52010,99999,abc,52001,52026", 512).items
		require.Equal(t, []string{"52001", "52003", "52010"}, clockIDs(got), "listed drivers in the fleet, once each")
		// The same driver reads the same through the filter and the full list.
		require.Equal(t, allClocks(t, e, key)[2], got[1])
		// Listed drivers only: none when none of them is in the fleet.
		require.Empty(t, pageAll[hosClock](t, e, key, "/fleet/hos/clocks?driverIds=99999,abc", 512).items)
	}
}

func TestSamsaraDeactivatedDrivers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.sb.SetFleet(100, 10)
	deactivated := allDrivers(t, e, "acme", "?driverActivationStatus=deactivated")
	require.NotEmpty(t, deactivated)
	active := map[string]bool{}
	for _, id := range driverIDs(52001, 100) {
		active[id] = true
	}
	for _, d := range deactivated {
		require.Equal(t, "deactivated", d.DriverActivationStatus)
		require.False(t, active[d.ID], "a deactivated driver shares an id with an active one")
	}
}

func TestSamsaraDriversLookReal(t *testing.T) {
	t.Parallel()
	e := setup(t)
	drivers := allDrivers(t, e, "acme", "")
	require.Len(t, drivers, 25)
	for _, d := range drivers {
		require.Equal(t, "active", d.DriverActivationStatus)
		require.Regexp(t, `^\d+$`, d.ID)
		require.Regexp(t, `^\S+ \S+`, d.Name)
		require.Regexp(t, `^[a-z]+\d+$`, d.Username)
		require.Regexp(t, `^\+1\d{10}$`, d.Phone)
		require.Regexp(t, `^[A-Z]{2}$`, d.LicenseState)
		_, err := time.LoadLocation(d.Timezone)
		require.NoError(t, err, d.Timezone)
		require.NotEmpty(t, d.ExternalIDs)
		created, err := time.Parse(time.RFC3339, d.CreatedAtTime)
		require.NoError(t, err)
		updated, err := time.Parse(time.RFC3339, d.UpdatedAtTime)
		require.NoError(t, err)
		require.False(t, updated.Before(created))
	}
}

// The same key at the same time reads the same, in any sandbox; another key reads
// another fleet.
func TestSamsaraDeterministicPerKey(t *testing.T) {
	t.Parallel()
	e1, e2 := setup(t), setup(t)
	for _, path := range []string{"/fleet/drivers?limit=10", "/fleet/hos/clocks?limit=10"} {
		a := e1.vendor(t, sandbox.Samsara, "acme", path)
		b := e2.vendor(t, sandbox.Samsara, "acme", path)
		require.Equal(t, string(a.body), string(b.body), path)
	}
	require.Equal(t, allClocks(t, e1, "initech"), allClocks(t, e2, "initech"))
	require.NotEqual(t, allClocks(t, e1, "acme"), allClocks(t, e1, "globex"))
	acme, globex := allDrivers(t, e1, "acme", ""), allDrivers(t, e1, "globex", "")
	same := 0
	for i := range acme {
		require.Equal(t, acme[i].ID, globex[i].ID, "ids follow one scheme for every key")
		if acme[i].Name == globex[i].Name {
			same++
		}
	}
	require.Less(t, same, 5, "two keys should see mostly different drivers")
}

// Statuses and clocks move with the clock: calls minutes apart differ.
func TestSamsaraClocksMoveWithTime(t *testing.T) {
	t.Parallel()
	e := setup(t)
	before := allClocks(t, e, "acme")
	e.clock.Add(5 * time.Minute)
	after := allClocks(t, e, "acme")
	changed := 0
	for i := range before {
		if before[i].Clocks != after[i].Clocks {
			changed++
		}
	}
	require.Positive(t, changed, "no driver's clocks moved in 5 minutes")

	// Over a day, statuses change too.
	statuses := map[string]bool{}
	for range 24 {
		e.clock.Add(time.Hour)
		for _, c := range allClocks(t, e, "acme") {
			statuses[c.Driver.ID+"/"+c.CurrentDutyStatus.HosStatusType] = true
		}
	}
	require.Greater(t, len(statuses), 25*2, "drivers should change status over a day")
}

// Some drivers' apps disconnect now and then: hosStatusType "".
func TestSamsaraDisconnectedDrivers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.sb.SetFleet(100, 10)
	empty := 0
	for range 12 {
		for _, c := range allClocks(t, e, "acme") {
			if c.CurrentDutyStatus.HosStatusType == "" {
				empty++
			}
		}
		e.clock.Add(90 * time.Minute)
	}
	require.Positive(t, empty, "no disconnected driver among 100 over 18 hours")
	require.Less(t, empty, 12*100/4, "disconnected drivers should be the exception")
}

// SetFleet resizes every key's fleet; a 1000-driver fleet pages quickly.
func TestSamsaraLargeFleet(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.sb.SetFleet(1000, 200)
	require.Equal(t, driverIDs(52001, 1000), clockIDs(allClocks(t, e, "acme")))
}

func BenchmarkSamsaraClocks1000(b *testing.B) {
	sb := sandbox.New(sandbox.Options{})
	sb.SetFleet(1000, 200)
	for b.Loop() {
		for _, after := range []string{"", "djEuMy41MTIuMQ"} {
			req, _ := http.NewRequest(http.MethodGet, "/samsara/fleet/hos/clocks?limit=512&after="+after, nil)
			req.Header.Set("Authorization", "Bearer bench")
			w := &discard{h: http.Header{}}
			sb.ServeHTTP(w, req)
			if w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
		}
	}
}

type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(s int)           { d.status = s }

// TestFleetGaps checks the gaps the fleet control puts in the clocks items, as the
// runtime contract says: the first withoutClocks drivers carry no clocks object, the
// next disconnected carry hosStatusType "" with their clocks, the next inViolation
// carry violations of one hour each; with a driverIds list too.
func TestFleetGaps(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.control(t, http.MethodPut, "/fleet", `{"drivers":12,"withoutClocks":2,"disconnected":3,"inViolation":4}`)
	require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)

	type raw struct {
		Driver            struct{ ID string } `json:"driver"`
		CurrentDutyStatus *struct {
			HosStatusType *string `json:"hosStatusType"`
		} `json:"currentDutyStatus"`
		Clocks     map[string]any `json:"clocks"`
		Violations *struct {
			Cycle int64 `json:"cycleViolationDurationMs"`
			Shift int64 `json:"shiftDrivingViolationDurationMs"`
		} `json:"violations"`
	}
	for _, path := range []string{"/fleet/hos/clocks", "/fleet/hos/clocks?driverIds=52012,52001,52002,52003,52004,52005,52006,52007,52008,52009,52010,52011"} {
		items := pageAll[raw](t, e, "gaps", path, 5).items
		require.Len(t, items, 12)
		for i, c := range items {
			require.Equal(t, strconv.Itoa(52001+i), c.Driver.ID, "fleet order")
			require.NotNil(t, c.CurrentDutyStatus)
			require.NotNil(t, c.CurrentDutyStatus.HosStatusType)
			require.NotNil(t, c.Violations)
			switch {
			case i < 2:
				require.Nil(t, c.Clocks, "driver %d: no clocks object", i)
			case i < 5:
				require.NotNil(t, c.Clocks, "driver %d", i)
				require.Len(t, c.Clocks, 4)
				require.Equal(t, "", *c.CurrentDutyStatus.HosStatusType, "driver %d: disconnected", i)
			case i < 9:
				require.NotNil(t, c.Clocks, "driver %d", i)
				require.Equal(t, int64(3_600_000), c.Violations.Cycle, "driver %d", i)
				require.Equal(t, int64(3_600_000), c.Violations.Shift, "driver %d", i)
			default:
				require.NotNil(t, c.Clocks, "driver %d", i)
			}
		}
	}
	// The default setting again: every item has its clocks.
	e.sb.SetFleet(12, 10)
	for _, c := range pageAll[raw](t, e, "gaps", "/fleet/hos/clocks", 512).items {
		require.NotNil(t, c.Clocks)
	}
}
