package sandbox_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/sandbox"
)

type tbStop struct {
	Address string  `json:"address"`
	City    string  `json:"city"`
	State   string  `json:"state"`
	Zip     string  `json:"zip"`
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
}

type tbLoad struct {
	ID           string  `json:"id"`
	Pickup       tbStop  `json:"pickup"`
	Delivery     tbStop  `json:"delivery"`
	PickupTime   string  `json:"pickupTime"`
	DeliveryTime string  `json:"deliveryTime"`
	DriverID     string  `json:"driverId"`
	Status       string  `json:"status"`
	Miles        float64 `json:"miles"`
}

func loads(t *testing.T, e *env, key, query string) []tbLoad {
	t.Helper()
	a := e.vendor(t, sandbox.Truckbase, key, "/loads"+query)
	require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
	var body struct {
		Loads []tbLoad `json:"loads"`
	}
	a.decode(t, &body)
	require.NotNil(t, body.Loads, "loads must be an array, never null")
	return body.Loads
}

func inContinentalUS(lat, lon float64) bool {
	return lat >= 24.3 && lat <= 49.5 && lon >= -125 && lon <= -66.8
}

func TestTruckbaseActiveLoads(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, key := range []string{"acme", "globex"} {
		active := loads(t, e, key, "?status=active")
		require.Len(t, active, 10, "10 active loads per key by default")
		ids := map[string]bool{}
		for _, l := range active {
			require.False(t, ids[l.ID], "duplicate id %s", l.ID)
			ids[l.ID] = true
			require.Contains(t, []string{"assigned", "in_transit"}, l.Status)
			requireSaneLoad(t, e.clock.Now(), l, 25)
		}
	}
}

func requireSaneLoad(t *testing.T, now time.Time, l tbLoad, drivers int) {
	t.Helper()
	require.Regexp(t, `^TB-\d+-\d+$`, l.ID)
	for _, s := range []tbStop{l.Pickup, l.Delivery} {
		require.True(t, inContinentalUS(s.Lat, s.Lon), "%s: stop at %v,%v", l.ID, s.Lat, s.Lon)
		require.NotEmpty(t, s.Address)
		require.NotEmpty(t, s.City)
		require.Regexp(t, `^[A-Z]{2}$`, s.State)
		require.Regexp(t, `^\d{5}$`, s.Zip)
	}
	pickup, err := time.Parse(time.RFC3339, l.PickupTime)
	require.NoError(t, err)
	delivery, err := time.Parse(time.RFC3339, l.DeliveryTime)
	require.NoError(t, err)
	require.True(t, pickup.Before(delivery), "%s: pickup %s after delivery %s", l.ID, pickup, delivery)
	require.Positive(t, l.Miles)
	id, err := strconv.Atoi(l.DriverID)
	require.NoError(t, err, "driverId %q", l.DriverID)
	require.True(t, id >= 52001 && id < 52001+drivers, "driverId %d outside the Samsara fleet", id)
	switch l.Status {
	case "assigned":
		require.True(t, now.Before(pickup), "%s: assigned after pickup time", l.ID)
	case "in_transit":
		require.True(t, !now.Before(pickup) && now.Before(delivery), "%s: in transit outside its window", l.ID)
	case "delivered", "cancelled":
		require.False(t, now.Before(delivery), "%s: %s before delivery time", l.ID, l.Status)
	default:
		t.Fatalf("%s: status %q", l.ID, l.Status)
	}
}

func TestTruckbaseStatusFilter(t *testing.T) {
	t.Parallel()
	e := setup(t)
	all := loads(t, e, "acme", "")
	require.Len(t, all, 20, "active loads plus each slot's previous load")
	require.Equal(t, all, loads(t, e, "acme", "?status=all"))
	byStatus := map[string]int{}
	for _, l := range all {
		byStatus[l.Status]++
	}
	tests := []struct {
		query string
		want  int
	}{
		{"?status=active", byStatus["assigned"] + byStatus["in_transit"]},
		{"?status=ACTIVE", byStatus["assigned"] + byStatus["in_transit"]},
		{"?status=assigned", byStatus["assigned"]},
		{"?status=in_transit", byStatus["in_transit"]},
		{"?status=delivered", byStatus["delivered"]},
		{"?status=cancelled", byStatus["cancelled"]},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			require.Len(t, loads(t, e, "acme", tt.query), tt.want)
		})
	}
	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		a := e.vendor(t, sandbox.Truckbase, "acme", "/loads?status=lost")
		require.Equal(t, http.StatusBadRequest, a.status)
		require.Equal(t, "invalid_request", errorCode(t, a))
	})
}

func errorCode(t *testing.T, a answer) string {
	t.Helper()
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	a.decode(t, &body)
	require.NotEmpty(t, body.Error.Message)
	return body.Error.Code
}

func TestTruckbaseLoadByID(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, l := range loads(t, e, "acme", "") {
		a := e.vendor(t, sandbox.Truckbase, "acme", "/loads/"+l.ID)
		require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
		var one tbLoad
		a.decode(t, &one)
		require.Equal(t, l, one)
	}
	tests := []struct{ name, id string }{
		{"NoSuchSlot", "TB-999-000001"},
		{"NotYetCreated", "TB-001-999999"},
		{"Garbage", "LOAD-1"},
		{"SlotZero", "TB-000-000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := e.vendor(t, sandbox.Truckbase, "acme", "/loads/"+tt.id)
			require.Equal(t, http.StatusNotFound, a.status)
			require.Equal(t, "not_found", errorCode(t, a))
		})
	}
}

// Loads move with time: statuses change, deliveries happen, new loads appear, and
// every answer stays consistent with the clock.
func TestTruckbaseLoadsMoveWithTime(t *testing.T) {
	t.Parallel()
	e := setup(t)
	first := loads(t, e, "acme", "?status=active")
	seen := map[string]string{}
	transitions := 0
	for range 4 * 24 {
		e.clock.Add(time.Hour)
		for _, l := range loads(t, e, "acme", "") {
			requireSaneLoad(t, e.clock.Now(), l, 25)
			if old, ok := seen[l.ID]; ok && old != l.Status {
				transitions++
			}
			seen[l.ID] = l.Status
		}
		require.Len(t, loads(t, e, "acme", "?status=active"), 10)
	}
	require.Positive(t, transitions, "no load changed status in 4 days")
	later := loads(t, e, "acme", "?status=active")
	require.NotEqual(t, first, later)
}

func TestTruckbaseDeterministicPerKey(t *testing.T) {
	t.Parallel()
	e1, e2 := setup(t), setup(t)
	a := e1.vendor(t, sandbox.Truckbase, "acme", "/loads")
	b := e2.vendor(t, sandbox.Truckbase, "acme", "/loads")
	require.Equal(t, string(a.body), string(b.body))
	c := e1.vendor(t, sandbox.Truckbase, "globex", "/loads")
	require.NotEqual(t, string(a.body), string(c.body))
}

// Loads name drivers of the Samsara fleet, whatever the keys: a tenant's Truckbase
// key and Samsara token differ, yet its loads must link to its drivers.
func TestTruckbaseDriversAreSamsaraDrivers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.sb.SetFleet(50, 40)
	drivers := map[string]bool{}
	for _, d := range allDrivers(t, e, "samsara-token", "") {
		drivers[d.ID] = true
	}
	active := loads(t, e, "truckbase-key", "?status=active")
	require.Len(t, active, 40)
	assigned := map[string]bool{}
	for _, l := range active {
		require.True(t, drivers[l.DriverID], "load %s names unknown driver %s", l.ID, l.DriverID)
		require.False(t, assigned[l.DriverID], "driver %s has two active loads", l.DriverID)
		assigned[l.DriverID] = true
	}
}

func TestTruckbaseFleetSize(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.sb.SetFleet(1000, 200)
	active := loads(t, e, "acme", "?status=active")
	require.Len(t, active, 200)
	for _, l := range active {
		requireSaneLoad(t, e.clock.Now(), l, 1000)
	}
	e.sb.SetFleet(5, 0)
	require.Empty(t, loads(t, e, "acme", "?status=active"))
}

func TestTruckbaseAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header http.Header
		status int
	}{
		{"KeyAndSecret", http.Header{"X-Api-Key": {"acme"}, "X-Api-Secret": {"s3cret"}}, 200},
		{"EmptySecret", http.Header{"X-Api-Key": {"acme"}, "X-Api-Secret": {""}}, 200},
		{"NoSecret", http.Header{"X-Api-Key": {"acme"}}, 200}, // apiSecret is optional in the API
		{"InvalidSecret", http.Header{"X-Api-Key": {"acme"}, "X-Api-Secret": {"invalid-s3cret"}}, 401},
		{"NoKey", http.Header{"X-Api-Secret": {"s3cret"}}, 401},
		{"InvalidKey", http.Header{"X-Api-Key": {"invalid-acme"}}, 401},
		{"BearerIsNotIt", http.Header{"Authorization": {"Bearer acme"}}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			a := e.do(t, http.MethodGet, "/truckbase/loads?status=active", tt.header, "")
			require.Equal(t, tt.status, a.status, "body: %s", a.body)
			if tt.status == 401 {
				require.Equal(t, "unauthorized", errorCode(t, a))
			}
		})
	}
}
