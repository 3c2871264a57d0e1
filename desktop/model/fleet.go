package model

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2/data/binding"

	"github.com/sallyhq/sally/desktop/gqlclient"
)

// TripSpeedMph is the average speed a load's trip is planned at: a load is flagged
// when its driver has less drive time left than miles / TripSpeedMph hours.
const TripSpeedMph = 50.0

// Hours is a clock value that may be unknown: Known is false when the vendor did not
// report it, and it is then shown as "—", never as 0.
type Hours struct {
	Value float64
	Known bool
}

func hoursOf(p *float64) Hours {
	if p == nil {
		return Hours{}
	}
	return Hours{Value: *p, Known: true}
}

// String is "5h 50m", "0h 00m", or "—" when unknown.
func (h Hours) String() string {
	if !h.Known {
		return "—"
	}
	m := int(math.Round(max(h.Value, 0) * 60))
	return fmt.Sprintf("%dh %02dm", m/60, m%60)
}

// DriverRow is one row of the Drivers view.
type DriverRow struct {
	ID, Name string
	// Duty is DRIVING, OFF_DUTY, …, UNKNOWN; "" when no HOS was ever synced.
	Duty                          string
	Drive, Shift, Cycle, Break    Hours
	HoursDriven                   Hours
	CycleViolation, ShiftDrivingV Hours
	// Source is samsara_eld or manual_override; SyncedAt when the values were synced
	// (or the override set); zero when never.
	Source   string
	SyncedAt time.Time
	// Cached: the values come from the server's cache; Stale: the vendor failed and
	// they are older than they should be (Error says why).
	Cached, Stale bool
	Error, Note   string
	// The override, while one is served.
	Overridden     bool
	OverriddenBy   string
	OverriddenAt   time.Time
	OverrideReason string
	OverrideUntil  time.Time // zero: until cleared
}

// Unknown reports whether something the row shows is not known: the duty status or
// one of the clocks.
func (r DriverRow) Unknown() bool {
	return r.Duty == "" || r.Duty == string(gqlclient.DutyStatusUnknown) ||
		!r.Drive.Known || !r.Shift.Known || !r.Cycle.Known || !r.Break.Known
}

// InViolation reports whether the vendor reports the driver in violation.
func (r DriverRow) InViolation() bool {
	return (r.CycleViolation.Known && r.CycleViolation.Value > 0) || (r.ShiftDrivingV.Known && r.ShiftDrivingV.Value > 0)
}

// Marks are the row's flags in words: "STALE", "OVERRIDE", "VIOLATION", "UNKNOWN".
func (r DriverRow) Marks() []string {
	var out []string
	if r.Stale {
		out = append(out, "STALE")
	}
	if r.Overridden {
		out = append(out, "OVERRIDE")
	}
	if r.InViolation() {
		out = append(out, "VIOLATION")
	}
	if r.Unknown() {
		out = append(out, "UNKNOWN")
	}
	return out
}

func driverRowFrom(d gqlclient.DriverFields) DriverRow {
	r := DriverRow{ID: d.DriverId, Name: deref(d.Name)}
	h := d.Hos
	if h == nil {
		return r
	}
	r.Duty = string(h.DutyStatus)
	r.Drive, r.Shift = hoursOf(h.DriveRemainingHours), hoursOf(h.ShiftRemainingHours)
	r.Cycle, r.Break = hoursOf(h.CycleRemainingHours), hoursOf(h.TimeUntilBreakHours)
	if r.Drive.Known { // Samsara's definition: the 11 hours less what is left
		r.HoursDriven = Hours{Value: max(0, 11-r.Drive.Value), Known: true}
	}
	r.CycleViolation, r.ShiftDrivingV = hoursOf(h.CycleViolationHours), hoursOf(h.ShiftDrivingViolationHours)
	r.Source = h.DataSource
	r.SyncedAt = derefTime(h.SyncedAt)
	r.Cached, r.Stale = h.Cached, h.Stale
	r.Error, r.Note = deref(h.Error), deref(h.Note)
	r.Overridden = h.DataSource == "manual_override"
	if h.OverriddenBy != nil {
		r.OverriddenBy = h.OverriddenBy.Email
	}
	r.OverriddenAt = derefTime(h.OverriddenAt)
	r.OverrideReason = deref(h.OverrideReason)
	r.OverrideUntil = derefTime(h.OverrideExpiresAt)
	return r
}

// LoadRow is one row of the Loads view.
type LoadRow struct {
	ID                   string
	Pickup, Delivery     string // "Amarillo, TX"
	PickupAt, DeliveryAt time.Time
	Status               string
	Miles                Hours // miles, when known (Hours is a known-or-not number)
	PickupPoint          Point
	DeliveryPoint        Point
	// The assigned driver ("" when none), and that driver's drive time left.
	DriverID, DriverName string
	DriveLeft            Hours
	// Need is the drive time the trip needs at TripSpeedMph; Short is true when the
	// driver's drive time left is known and less than that.
	Need  Hours
	Short bool
}

// Point is a place on the map, when the vendor gave one.
type Point struct {
	Lat, Lon float64
	Known    bool
}

func place(city, state *string) string {
	c, s := deref(city), deref(state)
	switch {
	case c != "" && s != "":
		return c + ", " + s
	case c != "" || s != "":
		return c + s
	}
	return "—"
}

func pointOf(lat, lon *float64) Point {
	if lat == nil || lon == nil {
		return Point{}
	}
	return Point{Lat: *lat, Lon: *lon, Known: true}
}

func loadRowFrom(l gqlclient.LoadFields, drivers map[string]DriverRow) LoadRow {
	r := LoadRow{
		ID:            l.LoadId,
		Pickup:        place(l.PickupLocation.City, l.PickupLocation.State),
		Delivery:      place(l.DeliveryLocation.City, l.DeliveryLocation.State),
		PickupAt:      derefTime(l.PickupAppointment),
		DeliveryAt:    derefTime(l.DeliveryAppointment),
		Status:        string(l.Status),
		Miles:         hoursOf(l.TotalMiles),
		PickupPoint:   pointOf(l.PickupLocation.Latitude, l.PickupLocation.Longitude),
		DeliveryPoint: pointOf(l.DeliveryLocation.Latitude, l.DeliveryLocation.Longitude),
		DriverID:      deref(l.AssignedDriverId),
	}
	if r.Miles.Known {
		r.Need = Hours{Value: r.Miles.Value / TripSpeedMph, Known: true}
	}
	if d, ok := drivers[r.DriverID]; ok && r.DriverID != "" {
		r.DriverName = d.Name
		r.DriveLeft = d.Drive
	}
	r.Short = r.DriveLeft.Known && r.Need.Known && r.DriveLeft.Value < r.Need.Value
	return r
}

// Driver sort orders of the Drivers view.
const (
	SortDriveLeft = "Least drive time left"
	SortName      = "Name"
	SortDataAge   = "Oldest data first"
)

// SortOrders lists the Drivers view's orders, the default first.
var SortOrders = []string{SortDriveLeft, SortName, SortDataAge}

// OverrideInput is a dispatcher's override of a driver's HOS.
type OverrideInput struct {
	Duty                      string
	HoursDriven, Drive, Shift float64
	Cycle, Break              float64
	Reason                    string
	ExpiresAt                 time.Time // zero: until cleared
}

// Fleet is the state of the Drivers and Loads views. It reloads the drivers when an
// HOS sync succeeds and the loads when a TMS or HOS sync does (the live events), so a
// dispatcher never has to.
type Fleet struct {
	// Drivers is the shown rows: all drivers matching Search, in the order Sort names.
	// DriversRev changes every time they are set: a binding.List tells its listeners
	// only when its length changes, so widgets listen to DriversRev.
	Drivers    binding.List[DriverRow]
	DriversRev binding.Int
	// DriverCount is how many drivers there are in all (before the search).
	DriverCount binding.Int
	Search      binding.String
	Sort        binding.String
	// DriversLoadedAt is when the list was last loaded (zero before the first load);
	// DriversError says why the last load failed ("" when it did not).
	DriversLoadedAt binding.Item[time.Time]
	DriversError    binding.String

	// SelectedDriver is the ID of the driver the override form is for.
	SelectedDriver binding.String
	// Overriding is true while an override or a clearing is under way; OverrideOK and
	// OverrideResult report how it went.
	Overriding, OverrideOK binding.Bool
	OverrideResult         binding.String

	Loads         binding.List[LoadRow]
	LoadsRev      binding.Int // changes every time Loads is set (see DriversRev)
	LoadsLoadedAt binding.Item[time.Time]
	LoadsError    binding.String
	// SelectedLoad is the ID of the load whose surroundings are shown; the four texts
	// say what is near its pickup and delivery, each with its source and age.
	SelectedLoad                   binding.String
	PickupFuel, DeliveryFuel       binding.String
	PickupWeather, DeliveryWeather binding.String

	m *Model

	mu      sync.Mutex
	all     []DriverRow // every driver, as last loaded; guarded by mu
	loads   []gqlclient.LoadFields
	drvSeq  atomic.Uint64
	loadSeq atomic.Uint64
	surrSeq atomic.Uint64
}

func newFleet(m *Model) *Fleet {
	f := &Fleet{
		Drivers:         binding.NewList(func(a, b DriverRow) bool { return a == b }),
		DriversRev:      binding.NewInt(),
		LoadsRev:        binding.NewInt(),
		DriverCount:     binding.NewInt(),
		Search:          binding.NewString(),
		Sort:            binding.NewString(),
		DriversLoadedAt: binding.NewItem(func(a, b time.Time) bool { return a.Equal(b) }),
		DriversError:    binding.NewString(),
		SelectedDriver:  binding.NewString(),
		Overriding:      binding.NewBool(), OverrideOK: binding.NewBool(), OverrideResult: binding.NewString(),
		Loads:         binding.NewList(func(a, b LoadRow) bool { return a == b }),
		LoadsLoadedAt: binding.NewItem(func(a, b time.Time) bool { return a.Equal(b) }),
		LoadsError:    binding.NewString(),
		SelectedLoad:  binding.NewString(),
		PickupFuel:    binding.NewString(), DeliveryFuel: binding.NewString(),
		PickupWeather: binding.NewString(), DeliveryWeather: binding.NewString(),
		m: m,
	}
	_ = f.Sort.Set(SortDriveLeft)
	return f
}

// SetSearch shows the drivers matching q (see FilterDrivers).
func (f *Fleet) SetSearch(q string) {
	f.m.do(func() {
		_ = f.Search.Set(q)
		f.show()
	})
}

// SetSort orders the drivers by one of SortOrders.
func (f *Fleet) SetSort(order string) {
	if !slices.Contains(SortOrders, order) {
		order = SortDriveLeft
	}
	f.m.do(func() {
		_ = f.Sort.Set(order)
		f.show()
	})
}

// start loads both views for a new session.
func (f *Fleet) start(s *session) {
	f.m.goSession(func() { f.loadDrivers(s) })
}

// clear forgets what the session showed.
func (f *Fleet) clear() {
	f.mu.Lock()
	f.all, f.loads = nil, nil
	f.mu.Unlock()
	_ = f.Drivers.Set(nil)
	bump(f.DriversRev)
	_ = f.DriverCount.Set(0)
	_ = f.DriversLoadedAt.Set(time.Time{})
	_ = f.DriversError.Set("")
	_ = f.SelectedDriver.Set("")
	_ = f.OverrideResult.Set("")
	_ = f.Loads.Set(nil)
	bump(f.LoadsRev)
	_ = f.LoadsLoadedAt.Set(time.Time{})
	_ = f.LoadsError.Set("")
	f.clearSurroundings("")
}

// onEvent reloads what a successful sync changed: an HOS sync the drivers (and with
// them the loads' drive time left), a TMS sync the loads.
func (f *Fleet) onEvent(s *session, e Event) {
	if e.Type != string(gqlclient.SyncEventTypeSyncSucceeded) {
		return
	}
	switch e.Vendor {
	case string(gqlclient.VendorSamsaraEld):
		f.m.goSession(func() { f.loadDrivers(s) })
	case string(gqlclient.VendorTruckbaseTms):
		f.m.goSession(func() { f.loadLoads(s) })
	}
}

// Reload loads both views again now.
func (f *Fleet) Reload() {
	if s := f.m.session(); s != nil {
		f.m.goSession(func() { f.loadDrivers(s) })
	}
}

// DriverPageSize is how many drivers one request reads: the server's cost limit
// counts every field of every driver, so a large fleet's board is read in pages.
const DriverPageSize = 500

// allDrivers reads the whole board a page at a time (driverPage), or in one request
// from a server without driverPage (an addition to the contract).
func allDrivers(ctx context.Context, c *gqlclient.Client) ([]gqlclient.DriverFields, error) {
	var out []gqlclient.DriverFields
	var after *string
	for {
		first := DriverPageSize
		page, err := gqlclient.DriverPage(ctx, c, &first, after)
		if err != nil {
			if after != nil || ctx.Err() != nil {
				return nil, err
			}
			whole, werr := gqlclient.Drivers(ctx, c)
			if werr != nil {
				return nil, werr
			}
			out = out[:0]
			for _, d := range whole.Drivers {
				out = append(out, d.DriverFields)
			}
			return out, nil
		}
		for _, d := range page.DriverPage {
			out = append(out, d.DriverFields)
		}
		if len(page.DriverPage) < first {
			return out, nil
		}
		last := page.DriverPage[len(page.DriverPage)-1].DriverId
		after = &last
	}
}

// loadDrivers reloads every driver, then the loads (which show drivers' drive time).
func (f *Fleet) loadDrivers(s *session) {
	seq := f.drvSeq.Add(1)
	ctx, cancel := context.WithTimeout(s.ctx, CallTimeout)
	defer cancel()
	drivers, err := allDrivers(ctx, s.client)
	if err != nil {
		f.m.callFailed(s, "load drivers", err)
		msg := "Could not load the drivers: " + gqlclient.Message(err)
		f.m.do(func() {
			if s.ctx.Err() == nil && f.drvSeq.Load() == seq {
				_ = f.DriversError.Set(msg)
			}
		})
		return
	}
	rows := make([]DriverRow, len(drivers))
	for i, d := range drivers {
		rows[i] = driverRowFrom(d)
	}
	now := f.m.opts.Now()
	f.m.do(func() {
		if s.ctx.Err() != nil || f.drvSeq.Load() != seq {
			return // logged out, or a newer load is on its way
		}
		f.mu.Lock()
		f.all = rows
		f.mu.Unlock()
		_ = f.DriverCount.Set(len(rows))
		_ = f.DriversError.Set("")
		_ = f.DriversLoadedAt.Set(now) // before the rows: whoever sees them sees this
		f.show()
	})
	f.loadLoads(s)
}

// show sets Drivers from the loaded rows, the search and the order; it runs on the
// UI goroutine.
func (f *Fleet) show() {
	q, _ := f.Search.Get()
	order, _ := f.Sort.Get()
	f.mu.Lock()
	rows := FilterDrivers(f.all, q)
	f.mu.Unlock()
	SortDrivers(rows, order)
	_ = f.Drivers.Set(rows)
	bump(f.DriversRev)
}

// bump changes a revision counter.
func bump(b binding.Int) {
	v, _ := b.Get()
	_ = b.Set(v + 1)
}

// FilterDrivers returns the rows whose name, id, duty status or marks contain q
// (case-insensitive; all when q is blank), in a new slice.
func FilterDrivers(rows []DriverRow, q string) []DriverRow {
	q = strings.ToLower(strings.TrimSpace(q))
	out := make([]DriverRow, 0, len(rows))
	for _, r := range rows {
		if q == "" || strings.Contains(strings.ToLower(r.Name), q) || strings.Contains(strings.ToLower(r.ID), q) ||
			strings.Contains(strings.ToLower(Title(r.Duty)), q) || strings.Contains(strings.ToLower(strings.Join(r.Marks(), " ")), q) {
			out = append(out, r)
		}
	}
	return out
}

// SortDrivers orders rows in place. SortDriveLeft (the default): drivers whose drive
// time is unknown first (nobody reported it: it may be none at all), then least drive
// time left first, then by name.
func SortDrivers(rows []DriverRow, order string) {
	byName := func(a, b DriverRow) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
	}
	switch order {
	case SortName:
		slices.SortStableFunc(rows, byName)
	case SortDataAge:
		slices.SortStableFunc(rows, func(a, b DriverRow) int {
			return cmp.Or(a.SyncedAt.Compare(b.SyncedAt), byName(a, b))
		})
	default:
		slices.SortStableFunc(rows, func(a, b DriverRow) int {
			switch {
			case !a.Drive.Known && b.Drive.Known:
				return -1
			case a.Drive.Known && !b.Drive.Known:
				return 1
			case a.Drive.Known && a.Drive.Value != b.Drive.Value:
				return cmp.Compare(a.Drive.Value, b.Drive.Value)
			}
			return byName(a, b)
		})
	}
}

// Driver returns the loaded driver with the id.
func (f *Fleet) Driver(id string) (DriverRow, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.all {
		if r.ID == id {
			return r, true
		}
	}
	return DriverRow{}, false
}

// loadLoads reloads the active loads and joins them with the loaded drivers.
func (f *Fleet) loadLoads(s *session) {
	seq := f.loadSeq.Add(1)
	ctx, cancel := context.WithTimeout(s.ctx, CallTimeout)
	defer cancel()
	resp, err := gqlclient.Loads(ctx, s.client)
	if err != nil {
		f.m.callFailed(s, "load loads", err)
		msg := "Could not load the loads: " + gqlclient.Message(err)
		f.m.do(func() {
			if s.ctx.Err() == nil && f.loadSeq.Load() == seq {
				_ = f.LoadsError.Set(msg)
			}
		})
		return
	}
	loads := make([]gqlclient.LoadFields, len(resp.Loads))
	for i, l := range resp.Loads {
		loads[i] = l.LoadFields
	}
	now := f.m.opts.Now()
	f.m.do(func() {
		if s.ctx.Err() != nil || f.loadSeq.Load() != seq {
			return
		}
		f.mu.Lock()
		f.loads = loads
		f.mu.Unlock()
		_ = f.LoadsError.Set("")
		_ = f.LoadsLoadedAt.Set(now)
		f.showLoads()
	})
}

// showLoads sets Loads from the loaded loads and drivers: flagged ones first, then
// by pickup time. It runs on the UI goroutine.
func (f *Fleet) showLoads() {
	f.mu.Lock()
	drivers := make(map[string]DriverRow, len(f.all))
	for _, d := range f.all {
		drivers[d.ID] = d
	}
	rows := make([]LoadRow, len(f.loads))
	for i, l := range f.loads {
		rows[i] = loadRowFrom(l, drivers)
	}
	f.mu.Unlock()
	SortLoads(rows)
	_ = f.Loads.Set(rows)
	bump(f.LoadsRev)
}

// SortLoads puts flagged loads (driver short of drive time) first, then orders by
// pickup appointment (unknown last) and id.
func SortLoads(rows []LoadRow) {
	slices.SortStableFunc(rows, func(a, b LoadRow) int {
		switch {
		case a.Short && !b.Short:
			return -1
		case !a.Short && b.Short:
			return 1
		case !a.PickupAt.IsZero() && b.PickupAt.IsZero():
			return -1
		case a.PickupAt.IsZero() && !b.PickupAt.IsZero():
			return 1
		}
		return cmp.Or(a.PickupAt.Compare(b.PickupAt), cmp.Compare(a.ID, b.ID))
	})
}

// SelectLoad shows the diesel prices and the weather near the load's pickup and
// delivery; "" shows none.
func (f *Fleet) SelectLoad(id string) {
	s := f.m.session()
	if s == nil {
		return
	}
	var row LoadRow
	found := false
	for _, r := range f.loadRows() {
		if r.ID == id {
			row, found = r, true
			break
		}
	}
	seq := f.surrSeq.Add(1)
	f.m.do(func() {
		f.clearSurroundings(id)
		if !found {
			return
		}
		for _, b := range []binding.String{f.PickupFuel, f.DeliveryFuel, f.PickupWeather, f.DeliveryWeather} {
			_ = b.Set("Loading…")
		}
	})
	if !found {
		return
	}
	for _, job := range []struct {
		p       Point
		fuel    bool
		out     binding.String
		missing string
	}{
		{row.PickupPoint, true, f.PickupFuel, "The pickup has no coordinates: nothing to look up."},
		{row.DeliveryPoint, true, f.DeliveryFuel, "The delivery has no coordinates: nothing to look up."},
		{row.PickupPoint, false, f.PickupWeather, "The pickup has no coordinates: nothing to look up."},
		{row.DeliveryPoint, false, f.DeliveryWeather, "The delivery has no coordinates: nothing to look up."},
	} {
		f.m.goSession(func() {
			text := job.missing
			if job.p.Known {
				if job.fuel {
					text = f.fuelText(s, job.p)
				} else {
					text = f.weatherText(s, job.p)
				}
			}
			f.m.do(func() {
				if f.surrSeq.Load() == seq && s.ctx.Err() == nil {
					_ = job.out.Set(text)
				}
			})
		})
	}
}

func (f *Fleet) loadRows() []LoadRow {
	rows, _ := f.Loads.Get()
	return slices.Clone(rows)
}

func (f *Fleet) clearSurroundings(id string) {
	_ = f.SelectedLoad.Set(id)
	for _, b := range []binding.String{f.PickupFuel, f.DeliveryFuel, f.PickupWeather, f.DeliveryWeather} {
		_ = b.Set("")
	}
}

// fuelText lists the stations near p, cheapest diesel first, each with its source
// and how old its price is.
func (f *Fleet) fuelText(s *session, p Point) string {
	ctx, cancel := context.WithTimeout(s.ctx, CallTimeout)
	defer cancel()
	resp, err := gqlclient.FuelNear(ctx, s.client, p.Lat, p.Lon)
	if err != nil {
		f.m.callFailed(s, "fuel near", err)
		return "Diesel prices unavailable: " + gqlclient.Message(err)
	}
	st := slices.Clone(resp.FuelStations)
	if len(st) == 0 {
		return "No stations within 25 miles."
	}
	slices.SortStableFunc(st, func(a, b gqlclient.FuelNearFuelStationsFuelStation) int {
		pa, pb := a.DieselPrice, b.DieselPrice
		switch {
		case pa != nil && pb == nil:
			return -1
		case pa == nil && pb != nil:
			return 1
		case pa != nil && pb != nil:
			return cmp.Compare(*pa, *pb)
		}
		return 0
	})
	now := f.m.opts.Now()
	lines := make([]string, 0, len(st))
	for _, x := range st {
		lines = append(lines, FuelLine(x.FuelStationFields, now))
	}
	return strings.Join(lines, "\n")
}

// FuelLine is one station: "Love's Travel Stop #262 · 3.8 mi · diesel $3.689 ·
// Fuel Finder, price 12m old"; unknown values are "—".
func FuelLine(x gqlclient.FuelStationFields, now time.Time) string {
	diesel := "—"
	if x.DieselPrice != nil {
		diesel = fmt.Sprintf("$%.3f", *x.DieselPrice)
	}
	dist := "—"
	if x.DistanceMiles != nil {
		dist = fmt.Sprintf("%.1f mi", *x.DistanceMiles)
	}
	age := "age unknown"
	if x.LastUpdated != nil {
		age = "price " + strings.TrimSuffix(Ago(*x.LastUpdated, now), " ago") + " old"
		if strings.HasPrefix(age, "price just now") {
			age = "price just updated"
		}
	}
	return fmt.Sprintf("%s · %s · diesel %s · %s, %s", x.Name, dist, diesel, SourceName(x.DataSource), age)
}

// weatherText is the weather at p with its source and age.
func (f *Fleet) weatherText(s *session, p Point) string {
	ctx, cancel := context.WithTimeout(s.ctx, CallTimeout)
	defer cancel()
	resp, err := gqlclient.WeatherAt(ctx, s.client, p.Lat, p.Lon)
	if err != nil {
		f.m.callFailed(s, "weather at", err)
		return "Weather unavailable: " + gqlclient.Message(err)
	}
	return WeatherLine(resp.Weather.WeatherFields, f.m.opts.Now())
}

// WeatherLine is "28°F (feels 18°F) · Snow: snow · wind 22 mph · OpenWeather,
// observed 5m ago"; unknown values are "—".
func WeatherLine(w gqlclient.WeatherFields, now time.Time) string {
	feels, wind := "—", "—"
	if w.FeelsLikeF != nil {
		feels = fmt.Sprintf("%.0f°F", *w.FeelsLikeF)
	}
	if w.WindSpeedMph != nil {
		wind = fmt.Sprintf("%.0f mph", *w.WindSpeedMph)
	}
	cond := orDefault(w.Conditions, "—")
	if d := deref(w.Description); d != "" && !strings.EqualFold(d, cond) {
		cond += ": " + d
	}
	return fmt.Sprintf("%.0f°F (feels %s) · %s · wind %s · %s, observed %s",
		w.TemperatureF, feels, cond, wind, SourceName(w.DataSource), Ago(w.ObservedAt, now))
}

// SourceName names a dataSource in a dispatcher's words.
func SourceName(s string) string {
	switch s {
	case "samsara_eld":
		return "Samsara ELD"
	case "manual_override":
		return "manual override"
	case "fuelfinder":
		return "Fuel Finder"
	case "openweather":
		return "OpenWeather"
	case "truckbase_tms", "truckbase":
		return "Truckbase"
	}
	return s
}

// SelectDriver picks the driver the override form is for.
func (f *Fleet) SelectDriver(id string) {
	f.m.do(func() {
		if cur, _ := f.SelectedDriver.Get(); cur != id {
			_ = f.SelectedDriver.Set(id)
			_ = f.OverrideResult.Set("")
			_ = f.OverrideOK.Set(false)
		}
	})
}

// Override sets a manual override of the selected driver's HOS; the server checks
// the values, the reason (1..500 characters) and the expiry (at most 14 days ahead).
func (f *Fleet) Override(in OverrideInput) {
	id, _ := f.SelectedDriver.Get()
	reason := strings.TrimSpace(in.Reason)
	if reason == "" {
		f.m.do(func() {
			_ = f.OverrideOK.Set(false)
			_ = f.OverrideResult.Set("Say why the vendor's data is overridden (the reason is shown to every dispatcher).")
		})
		return
	}
	input := gqlclient.HOSOverrideInput{
		DutyStatus: gqlclient.DutyStatus(in.Duty), HoursDriven: in.HoursDriven,
		DriveRemainingHours: in.Drive, ShiftRemainingHours: in.Shift,
		CycleRemainingHours: in.Cycle, TimeUntilBreakHours: in.Break, Reason: &reason,
	}
	if !in.ExpiresAt.IsZero() {
		t := in.ExpiresAt.UTC()
		input.ExpiresAt = &t
	}
	f.act(id, "Overriding", func(ctx context.Context, s *session) (string, error) {
		resp, err := gqlclient.OverrideDriverHOS(ctx, s.client, id, input)
		if err != nil {
			return "", err
		}
		until := "until cleared"
		if e := resp.OverrideDriverHOS.OverrideExpiresAt; e != nil {
			until = "until " + e.Local().Format("Mon 15:04")
		}
		return fmt.Sprintf("Override set for %s, %s.", id, until), nil
	})
}

// ClearOverride removes the selected driver's override: the vendor's data is served
// again.
func (f *Fleet) ClearOverride() {
	id, _ := f.SelectedDriver.Get()
	f.act(id, "Clearing the override of", func(ctx context.Context, s *session) (string, error) {
		if _, err := gqlclient.ClearDriverHOSOverride(ctx, s.client, id); err != nil {
			return "", err
		}
		return fmt.Sprintf("Override of %s cleared: the vendor's data is shown again.", id), nil
	})
}

func (f *Fleet) act(id, doing string, call func(context.Context, *session) (string, error)) {
	s := f.m.session()
	if busy, _ := f.Overriding.Get(); s == nil || id == "" || busy {
		return
	}
	f.m.do(func() {
		_ = f.Overriding.Set(true)
		_ = f.OverrideOK.Set(false)
		_ = f.OverrideResult.Set(doing + " " + id + "…")
	})
	f.m.goSession(func() {
		ctx, cancel := context.WithTimeout(s.ctx, CallTimeout)
		defer cancel()
		text, err := call(ctx, s)
		if err != nil {
			f.m.callFailed(s, "override", err)
			text = "Not done: " + gqlclient.Message(err)
		}
		f.m.do(func() {
			_ = f.Overriding.Set(false)
			_ = f.OverrideOK.Set(err == nil)
			_ = f.OverrideResult.Set(text)
		})
		if err == nil {
			f.loadDrivers(s)
		}
	})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefTime(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return *p
}
