package syncer

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/fleetdriver"
	"github.com/sallyhq/sally/ent/fuelstation"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/load"
	"github.com/sallyhq/sally/ent/weatherreport"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/vendors"
)

// run does the work of one sync by integration type.
func (e *Engine) run(ctx context.Context, in *ent.Integration, tr *tracker) (result, error) {
	c, err := e.clientsFor(in, e.doFunc(in, tr))
	if err != nil {
		return result{}, err
	}
	switch in.IntegrationType {
	case integration.IntegrationTypeHOS_ELD:
		return e.syncHOS(ctx, in, c)
	case integration.IntegrationTypeTMS:
		return e.syncLoads(ctx, in, c)
	case integration.IntegrationTypeFUEL:
		return e.syncFuel(ctx, in, c)
	default:
		return e.syncWeather(ctx, in, c)
	}
}

// withTx runs fn in a transaction; a failure of ours becomes an internalError.
func (e *Engine) withTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	tx, err := e.client.Tx(ctx)
	if err != nil {
		return internalError{err}
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return internalError{err}
	}
	if err := tx.Commit(); err != nil {
		return internalError{err}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// eqHours compares clock values at a precision finer than anything a person reads
// (and than a database round trip disturbs).
func eqHours(a *float64, b float64) bool {
	return a != nil && math.Abs(*a-b) < 1e-9
}

// syncHOS upserts every active driver and their clocks from the ELD.
func (e *Engine) syncHOS(ctx context.Context, in *ent.Integration, c clients) (result, error) {
	drivers, err := c.samsara.Drivers(ctx)
	if err != nil {
		return result{}, err
	}
	ids := make([]string, 0, len(drivers))
	for _, d := range drivers {
		ids = append(ids, d.ID)
	}
	clocks := map[string]vendors.HOS{}
	if len(ids) > 0 {
		hos, err := c.samsara.HOSClocks(ctx, ids)
		if err != nil {
			return result{}, err
		}
		for _, h := range hos {
			clocks[h.DriverID] = h
		}
	}
	now := e.now()
	var res result
	err = e.withTx(ctx, func(tx *ent.Tx) error {
		existing, err := tx.FleetDriver.Query().Where(fleetdriver.IntegrationID(in.ID)).All(ctx)
		if err != nil {
			return err
		}
		byID := make(map[string]*ent.FleetDriver, len(existing))
		for _, d := range existing {
			byID[d.DriverID] = d
		}
		// The new and changed drivers go in a few multi-row upserts rather than one
		// statement each (a 1000-driver fleet moves hundreds of clocks per sync).
		// Rows are grouped by which columns they set, so that an upsert never
		// clears what the vendor did not send (a clock, an external id) and never
		// touches the dispatcher's override.
		type shape struct{ clock, external bool }
		groups := map[shape][]*ent.FleetDriverCreate{}
		var order []shape
		noClock := 0
		for _, d := range drivers {
			res.processed++
			h, hasClock := clocks[d.ID]
			if !hasClock {
				noClock++
			}
			cur := byID[d.ID]
			switch {
			case cur == nil:
				res.created++
			case hosUnchanged(cur, d, h, hasClock):
				continue
			default:
				res.updated++
			}
			cr := tx.FleetDriver.Create().SetTenantID(in.TenantID).SetIntegrationID(in.ID).
				SetDriverID(d.ID).SetName(d.Name).SetActive(true).SetLastSyncedAt(now)
			if d.ExternalID != "" {
				cr.SetExternalDriverID(d.ExternalID)
			}
			if hasClock {
				cr.SetDutyStatus(h.DutyStatus).SetHoursDriven(h.HoursDriven).
					SetDriveRemainingHours(h.DriveRemainingHours).SetShiftRemainingHours(h.ShiftRemainingHours).
					SetCycleRemainingHours(h.CycleRemainingHours).SetTimeUntilBreakHours(h.TimeUntilBreakHours).
					SetHosSyncedAt(now)
			}
			k := shape{clock: hasClock, external: d.ExternalID != ""}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], cr)
		}
		for _, k := range order {
			for chunk := range slices.Chunk(groups[k], upsertChunk) {
				err := tx.FleetDriver.CreateBulk(chunk...).
					OnConflictColumns(fleetdriver.FieldIntegrationID, fleetdriver.FieldDriverID).
					Update(func(u *ent.FleetDriverUpsert) {
						u.UpdateName().UpdateActive().UpdateLastSyncedAt().UpdateUpdatedAt()
						if k.external {
							u.UpdateExternalDriverID()
						}
						if k.clock {
							u.UpdateDutyStatus().UpdateHoursDriven().UpdateDriveRemainingHours().
								UpdateShiftRemainingHours().UpdateCycleRemainingHours().
								UpdateTimeUntilBreakHours().UpdateHosSyncedAt()
						}
					}).Exec(ctx)
				if err != nil {
					return err
				}
			}
		}
		// Drivers the ELD no longer lists as active (found here rather than with a
		// NOT IN of every listed id, which a large fleet would push past the
		// databases' limits on bind parameters).
		listed := make(map[string]bool, len(drivers))
		for _, d := range drivers {
			listed[d.ID] = true
		}
		var gone []uuid.UUID
		for _, d := range existing {
			if d.Active && !listed[d.DriverID] {
				gone = append(gone, d.ID)
			}
		}
		for chunk := range slices.Chunk(gone, upsertChunk) {
			n, err := tx.FleetDriver.Update().Where(fleetdriver.IDIn(chunk...)).SetActive(false).Save(ctx)
			res.updated += n
			if err != nil {
				return err
			}
		}
		// The cache was confirmed now even where nothing changed, but only where the
		// vendor sent a clock this time.
		if noClock == 0 {
			return tx.FleetDriver.Update().
				Where(fleetdriver.IntegrationID(in.ID), fleetdriver.Active(true), fleetdriver.DutyStatusNotNil()).
				SetHosSyncedAt(now).Exec(ctx)
		}
		var confirmed []uuid.UUID
		for _, d := range existing {
			if _, ok := clocks[d.DriverID]; ok && listed[d.DriverID] && d.DutyStatus != nil {
				confirmed = append(confirmed, d.ID)
			}
		}
		for chunk := range slices.Chunk(confirmed, upsertChunk) {
			if err := tx.FleetDriver.Update().Where(fleetdriver.IDIn(chunk...)).SetHosSyncedAt(now).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// upsertChunk bounds the rows of one multi-row statement: about 20 columns each
// stays well under SQLite's and PostgreSQL's limits on bind parameters.
const upsertChunk = 500

func hosUnchanged(cur *ent.FleetDriver, d vendors.Driver, h vendors.HOS, hasClock bool) bool {
	if !cur.Active || !eqPtr(cur.Name, &d.Name) {
		return false
	}
	if d.ExternalID != "" && !eqPtr(cur.ExternalDriverID, &d.ExternalID) {
		return false
	}
	if !hasClock {
		return true
	}
	return eqPtr(cur.DutyStatus, &h.DutyStatus) && eqHours(cur.HoursDriven, h.HoursDriven) &&
		eqHours(cur.DriveRemainingHours, h.DriveRemainingHours) &&
		eqHours(cur.ShiftRemainingHours, h.ShiftRemainingHours) &&
		eqHours(cur.CycleRemainingHours, h.CycleRemainingHours) &&
		eqHours(cur.TimeUntilBreakHours, h.TimeUntilBreakHours)
}

// syncLoads upserts the TMS's active loads and marks the ones that left the list.
func (e *Engine) syncLoads(ctx context.Context, in *ent.Integration, c clients) (result, error) {
	loads, err := c.truckbase.ActiveLoads(ctx)
	if err != nil {
		return result{}, err
	}
	now := e.now()
	var res result
	err = e.withTx(ctx, func(tx *ent.Tx) error {
		existing, err := tx.Load.Query().Where(load.IntegrationID(in.ID)).All(ctx)
		if err != nil {
			return err
		}
		byID := make(map[string]*ent.Load, len(existing))
		for _, l := range existing {
			byID[l.LoadID] = l
		}
		seen := make([]string, 0, len(loads))
		for _, l := range loads {
			res.processed++
			seen = append(seen, l.ID)
			cur := byID[l.ID]
			if cur != nil && loadUnchanged(cur, l) {
				continue
			}
			if cur == nil {
				res.created++
				cr := tx.Load.Create().SetTenantID(in.TenantID).SetIntegrationID(in.ID).SetLoadID(l.ID)
				setLoad(cr.Mutation(), l, now)
				if err := cr.Exec(ctx); err != nil {
					return err
				}
				continue
			}
			res.updated++
			u := tx.Load.UpdateOne(cur)
			setLoad(u.Mutation(), l, now)
			if err := u.Exec(ctx); err != nil {
				return err
			}
		}
		n, err := tx.Load.Update().
			Where(load.IntegrationID(in.ID), load.Active(true), load.LoadIDNotIn(seen...)).
			SetActive(false).SetSyncedAt(now).Save(ctx)
		res.updated += n
		return err
	})
	return res, err
}

func setLoad(m *ent.LoadMutation, l vendors.Load, now time.Time) {
	setOpt := func(set func(string), clear func(), v string) {
		if v == "" {
			clear()
			return
		}
		set(v)
	}
	setOpt(m.SetPickupAddress, m.ClearPickupAddress, l.Pickup.Address)
	setOpt(m.SetPickupCity, m.ClearPickupCity, l.Pickup.City)
	setOpt(m.SetPickupState, m.ClearPickupState, l.Pickup.State)
	setOpt(m.SetPickupZip, m.ClearPickupZip, l.Pickup.Zip)
	setOpt(m.SetDeliveryAddress, m.ClearDeliveryAddress, l.Delivery.Address)
	setOpt(m.SetDeliveryCity, m.ClearDeliveryCity, l.Delivery.City)
	setOpt(m.SetDeliveryState, m.ClearDeliveryState, l.Delivery.State)
	setOpt(m.SetDeliveryZip, m.ClearDeliveryZip, l.Delivery.Zip)
	setOpt(m.SetAssignedDriverID, m.ClearAssignedDriverID, l.DriverID)
	setF := func(set func(float64), clear func(), v *float64) {
		if v == nil {
			clear()
			return
		}
		set(*v)
	}
	setF(m.SetPickupLatitude, m.ClearPickupLatitude, l.Pickup.Latitude)
	setF(m.SetPickupLongitude, m.ClearPickupLongitude, l.Pickup.Longitude)
	setF(m.SetDeliveryLatitude, m.ClearDeliveryLatitude, l.Delivery.Latitude)
	setF(m.SetDeliveryLongitude, m.ClearDeliveryLongitude, l.Delivery.Longitude)
	setF(m.SetTotalMiles, m.ClearTotalMiles, l.Miles)
	if l.PickupAppointment != nil {
		m.SetPickupAppointment(l.PickupAppointment.UTC())
	} else {
		m.ClearPickupAppointment()
	}
	if l.DeliveryAppointment != nil {
		m.SetDeliveryAppointment(l.DeliveryAppointment.UTC())
	} else {
		m.ClearDeliveryAppointment()
	}
	m.SetStatus(load.Status(l.Status))
	m.SetActive(true)
	m.SetDataSource("truckbase_tms")
	m.SetSyncedAt(now)
}

func strEq(p *string, v string) bool { return (p == nil && v == "") || (p != nil && *p == v) }

func floatEq(p, v *float64) bool {
	if p == nil || v == nil {
		return p == nil && v == nil
	}
	return math.Abs(*p-*v) < 1e-9
}

// sameInstant compares optional times by instant (a database round trip may change
// the location and, on PostgreSQL, cut below microseconds).
func sameInstant(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

func loadUnchanged(cur *ent.Load, l vendors.Load) bool {
	return cur.Active && string(cur.Status) == l.Status &&
		strEq(cur.PickupAddress, l.Pickup.Address) && strEq(cur.PickupCity, l.Pickup.City) &&
		strEq(cur.PickupState, l.Pickup.State) && strEq(cur.PickupZip, l.Pickup.Zip) &&
		strEq(cur.DeliveryAddress, l.Delivery.Address) && strEq(cur.DeliveryCity, l.Delivery.City) &&
		strEq(cur.DeliveryState, l.Delivery.State) && strEq(cur.DeliveryZip, l.Delivery.Zip) &&
		strEq(cur.AssignedDriverID, l.DriverID) &&
		floatEq(cur.PickupLatitude, l.Pickup.Latitude) && floatEq(cur.PickupLongitude, l.Pickup.Longitude) &&
		floatEq(cur.DeliveryLatitude, l.Delivery.Latitude) && floatEq(cur.DeliveryLongitude, l.Delivery.Longitude) &&
		floatEq(cur.TotalMiles, l.Miles) &&
		sameInstant(cur.PickupAppointment, l.PickupAppointment) &&
		sameInstant(cur.DeliveryAppointment, l.DeliveryAppointment)
}

// stop is a point where fuel and weather matter: a pickup or delivery of an active load.
type stop struct{ lat, lon float64 }

// key rounds to ~1 km, the cache key OpenWeather asks for.
func (s stop) key() string { return fmt.Sprintf("%.2f,%.2f", s.lat, s.lon) }

// stops returns the distinct pickup and delivery points of the tenant's active loads.
func (e *Engine) stops(ctx context.Context, tenantID uuid.UUID) ([]stop, error) {
	loads, err := e.client.Load.Query().
		Where(load.TenantID(tenantID), load.Active(true), load.StatusIn(load.StatusASSIGNED, load.StatusIN_TRANSIT)).
		Order(ent.Asc(load.FieldLoadID)).All(ctx)
	if err != nil {
		return nil, internalError{err}
	}
	seen := map[string]bool{}
	var out []stop
	add := func(lat, lon *float64) {
		if lat == nil || lon == nil || len(out) >= DefaultMaxStops {
			return
		}
		s := stop{math.Round(*lat*100) / 100, math.Round(*lon*100) / 100}
		if !seen[s.key()] {
			seen[s.key()] = true
			out = append(out, s)
		}
	}
	for _, l := range loads {
		add(l.PickupLatitude, l.PickupLongitude)
		add(l.DeliveryLatitude, l.DeliveryLongitude)
	}
	return out, nil
}

// each runs fn for every stop, four at a time. The first failure stops the calls
// not yet started (every stop must succeed for the sync to, so the rest would only
// load a vendor that is failing) and is the error returned: the root cause, not the
// open-breaker or canceled errors of the calls it took down with it. Calls under way
// are canceled only by a root cause, so that one still retrying is not cut short
// before it can report what really failed.
func each[T any](ctx context.Context, stops []stop, fn func(ctx context.Context, s stop) (T, error)) ([]T, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]T, len(stops))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil || (consequential(firstErr) && !consequential(err)) {
			firstErr = err
		}
		if !consequential(err) {
			cancel()
		}
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil
	}
	sem := make(chan struct{}, 4)
	for i, s := range stops {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil || failed() {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			v, err := fn(ctx, s)
			if err != nil {
				fail(err)
				return
			}
			out[i] = v
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err() // the sync's own deadline passed before every stop started
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// consequential reports whether err only follows from another failure: a call refused
// by the breaker another call opened, or stopped because another call failed.
func consequential(err error) bool {
	switch resilience.Classify(err) {
	case resilience.ClassCircuitOpen, resilience.ClassCanceled:
		return true
	}
	return false
}

// syncFuel refreshes the stations near the active loads' stops.
func (e *Engine) syncFuel(ctx context.Context, in *ent.Integration, c clients) (result, error) {
	stops, err := e.stops(ctx, in.TenantID)
	if err != nil {
		return result{}, err
	}
	if len(stops) == 0 {
		// Nothing to look up: check the key anyway, so that a wrong one fails this
		// sync instead of the first one after a load arrives.
		if err := c.fuelfinder.TestConnection(ctx); err != nil {
			return result{}, err
		}
	}
	lists, err := each(ctx, stops, func(ctx context.Context, s stop) ([]vendors.FuelStation, error) {
		return c.fuelfinder.Stations(ctx, s.lat, s.lon, DefaultFuelRadiusMiles, DefaultFuelPerStop)
	})
	if err != nil {
		return result{}, err
	}
	stations := map[string]vendors.FuelStation{}
	var order []string
	for _, l := range lists {
		for _, st := range l {
			if _, ok := stations[st.ID]; !ok {
				order = append(order, st.ID)
			}
			stations[st.ID] = st
		}
	}
	now := e.now()
	var res result
	err = e.withTx(ctx, func(tx *ent.Tx) error {
		existing, err := tx.FuelStation.Query().Where(fuelstation.IntegrationID(in.ID)).All(ctx)
		if err != nil {
			return err
		}
		byID := map[string]*ent.FuelStation{}
		for _, s := range existing {
			byID[s.StationID] = s
		}
		for _, id := range order {
			st := stations[id]
			res.processed++
			cur := byID[id]
			if cur != nil && stationUnchanged(cur, st) {
				continue
			}
			var m *ent.FuelStationMutation
			var exec func(context.Context) error
			if cur == nil {
				res.created++
				cr := tx.FuelStation.Create().SetTenantID(in.TenantID).SetIntegrationID(in.ID).SetStationID(id)
				m, exec = cr.Mutation(), cr.Exec
			} else {
				res.updated++
				u := tx.FuelStation.UpdateOne(cur)
				m, exec = u.Mutation(), u.Exec
			}
			setStation(m, st, now)
			if err := exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

func setStation(m *ent.FuelStationMutation, st vendors.FuelStation, now time.Time) {
	m.SetName(st.Name)
	m.SetSyncedAt(now)
	opt := func(set func(string), clear func(), v string) {
		if v == "" {
			clear()
		} else {
			set(v)
		}
	}
	opt(m.SetBrand, m.ClearBrand, st.Brand)
	opt(m.SetAddress, m.ClearAddress, st.Address)
	opt(m.SetCity, m.ClearCity, st.City)
	opt(m.SetState, m.ClearState, st.State)
	opt(m.SetZip, m.ClearZip, st.Zip)
	m.SetLatitude(st.Latitude)
	m.SetLongitude(st.Longitude)
	if st.RegularPrice != nil {
		m.SetPricePerGallon(*st.RegularPrice)
	} else {
		m.ClearPricePerGallon()
	}
	if st.DieselPrice != nil {
		m.SetDieselPrice(*st.DieselPrice)
	} else {
		m.ClearDieselPrice()
	}
	m.SetAmenities(nonNil(st.Amenities))
	if st.UpdatedAt != nil {
		m.SetLastUpdated(st.UpdatedAt.UTC())
	} else {
		m.ClearLastUpdated()
	}
	m.SetDataSource("fuelfinder")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func stationUnchanged(cur *ent.FuelStation, st vendors.FuelStation) bool {
	return cur.Name == st.Name && strEq(cur.Brand, st.Brand) && strEq(cur.Address, st.Address) &&
		strEq(cur.City, st.City) && strEq(cur.State, st.State) && strEq(cur.Zip, st.Zip) &&
		floatEq(&cur.Latitude, &st.Latitude) && floatEq(&cur.Longitude, &st.Longitude) &&
		floatEq(cur.PricePerGallon, st.RegularPrice) && floatEq(cur.DieselPrice, st.DieselPrice) &&
		slices.Equal(nonNil(cur.Amenities), nonNil(st.Amenities)) &&
		sameInstant(cur.LastUpdated, st.UpdatedAt)
}

// syncWeather refreshes the weather at the active loads' stops.
func (e *Engine) syncWeather(ctx context.Context, in *ent.Integration, c clients) (result, error) {
	stops, err := e.stops(ctx, in.TenantID)
	if err != nil {
		return result{}, err
	}
	if len(stops) == 0 {
		// As in syncFuel: a sync with nothing to refresh still checks the key.
		if err := c.openweather.TestConnection(ctx); err != nil {
			return result{}, err
		}
	}
	reports, err := each(ctx, stops, func(ctx context.Context, s stop) (vendors.Weather, error) {
		return c.openweather.Current(ctx, s.lat, s.lon)
	})
	if err != nil {
		return result{}, err
	}
	now := e.now()
	var res result
	err = e.withTx(ctx, func(tx *ent.Tx) error {
		existing, err := tx.WeatherReport.Query().Where(weatherreport.IntegrationID(in.ID)).All(ctx)
		if err != nil {
			return err
		}
		byKey := map[string]*ent.WeatherReport{}
		for _, w := range existing {
			byKey[w.LocationKey] = w
		}
		for i, s := range stops {
			w := reports[i]
			res.processed++
			cur := byKey[s.key()]
			if cur != nil && weatherUnchanged(cur, w) {
				continue
			}
			var m *ent.WeatherReportMutation
			var exec func(context.Context) error
			if cur == nil {
				res.created++
				cr := tx.WeatherReport.Create().SetTenantID(in.TenantID).SetIntegrationID(in.ID).SetLocationKey(s.key())
				m, exec = cr.Mutation(), cr.Exec
			} else {
				res.updated++
				u := tx.WeatherReport.UpdateOne(cur)
				m, exec = u.Mutation(), u.Exec
			}
			setWeather(m, s, w)
			m.SetSyncedAt(now)
			if err := exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

func setWeather(m *ent.WeatherReportMutation, s stop, w vendors.Weather) {
	m.SetLatitude(s.lat)
	m.SetLongitude(s.lon)
	m.SetTemperatureF(w.TemperatureF)
	if w.FeelsLikeF != nil {
		m.SetFeelsLikeF(*w.FeelsLikeF)
	} else {
		m.ClearFeelsLikeF()
	}
	if w.Humidity != nil {
		m.SetHumidity(*w.Humidity)
	} else {
		m.ClearHumidity()
	}
	if w.WindSpeedMph != nil {
		m.SetWindSpeedMph(*w.WindSpeedMph)
	} else {
		m.ClearWindSpeedMph()
	}
	m.SetConditions(w.Conditions)
	if w.Description != "" {
		m.SetDescription(w.Description)
	} else {
		m.ClearDescription()
	}
	m.SetObservedAt(w.ObservedAt.UTC())
	m.SetDataSource("openweather")
}

func weatherUnchanged(cur *ent.WeatherReport, w vendors.Weather) bool {
	return floatEq(&cur.TemperatureF, &w.TemperatureF) && floatEq(cur.FeelsLikeF, w.FeelsLikeF) &&
		eqPtr(cur.Humidity, w.Humidity) && floatEq(cur.WindSpeedMph, w.WindSpeedMph) &&
		cur.Conditions == w.Conditions && strEq(cur.Description, w.Description) &&
		sameInstant(&cur.ObservedAt, &w.ObservedAt)
}
