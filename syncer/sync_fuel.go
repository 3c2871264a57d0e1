package syncer

import (
	"context"
	"slices"
	"time"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/fuelstation"
	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/fuelfinder"
)

// syncFuel refreshes the stations near the active loads' stops.
func (e *Engine) syncFuel(ctx context.Context, in *ent.Integration, c *fuelfinder.Client) (result, error) {
	stops, err := e.stops(ctx, in.TenantID)
	if err != nil {
		return result{}, err
	}
	if len(stops) == 0 {
		// Nothing to look up: check the key anyway, so that a wrong one fails this
		// sync instead of the first one after a load arrives.
		if err := c.TestConnection(ctx); err != nil {
			return result{}, err
		}
	}
	lists, err := each(ctx, stops, func(ctx context.Context, s stop) ([]vendors.FuelStation, error) {
		return c.Stations(vendors.WithCall(ctx, "fuel near "+s.key()), s.lat, s.lon, DefaultFuelRadiusMiles, DefaultFuelPerStop)
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
		// New and changed stations go in multi-row upserts, not one statement each: a
		// sync refreshes hundreds of prices, and a statement per row held a pooled
		// connection for the whole transaction (cmd/capacity: pool waits at 60 syncs/s).
		var rows []*ent.FuelStationCreate
		for _, id := range order {
			st := stations[id]
			res.processed++
			cur := byID[id]
			if cur != nil && stationUnchanged(cur, st) {
				continue
			}
			if cur == nil {
				res.created++
			} else {
				res.updated++
			}
			cr := tx.FuelStation.Create().SetTenantID(in.TenantID).SetIntegrationID(in.ID).SetStationID(id)
			setStation(cr.Mutation(), st, now) // a cleared field is inserted as NULL
			rows = append(rows, cr)
		}
		for chunk := range slices.Chunk(rows, upsertChunk) {
			err := tx.FuelStation.CreateBulk(chunk...).
				OnConflictColumns(fuelstation.FieldIntegrationID, fuelstation.FieldStationID).
				Update(func(u *ent.FuelStationUpsert) {
					// Every column setStation writes, NULLs included (excluded.x).
					u.UpdateName().UpdateBrand().UpdateAddress().UpdateCity().UpdateState().UpdateZip().
						UpdateLatitude().UpdateLongitude().UpdatePricePerGallon().UpdateDieselPrice().
						UpdateAmenities().UpdateLastUpdated().UpdateDataSource().UpdateSyncedAt().UpdateUpdatedAt()
				}).Exec(ctx)
			if err != nil {
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
	setOrClear(m.SetBrand, m.ClearBrand, nonEmpty(st.Brand))
	setOrClear(m.SetAddress, m.ClearAddress, nonEmpty(st.Address))
	setOrClear(m.SetCity, m.ClearCity, nonEmpty(st.City))
	setOrClear(m.SetState, m.ClearState, nonEmpty(st.State))
	setOrClear(m.SetZip, m.ClearZip, nonEmpty(st.Zip))
	m.SetLatitude(st.Latitude)
	m.SetLongitude(st.Longitude)
	setOrClear(m.SetPricePerGallon, m.ClearPricePerGallon, st.RegularPrice)
	setOrClear(m.SetDieselPrice, m.ClearDieselPrice, st.DieselPrice)
	m.SetAmenities(nonNil(st.Amenities))
	setOrClear(m.SetLastUpdated, m.ClearLastUpdated, utc(st.UpdatedAt))
	m.SetDataSource("fuelfinder")
}

func stationUnchanged(cur *ent.FuelStation, st vendors.FuelStation) bool {
	return cur.Name == st.Name && strEq(cur.Brand, st.Brand) && strEq(cur.Address, st.Address) &&
		strEq(cur.City, st.City) && strEq(cur.State, st.State) && strEq(cur.Zip, st.Zip) &&
		floatEq(&cur.Latitude, &st.Latitude) && floatEq(&cur.Longitude, &st.Longitude) &&
		floatEq(cur.PricePerGallon, st.RegularPrice) && floatEq(cur.DieselPrice, st.DieselPrice) &&
		slices.Equal(nonNil(cur.Amenities), nonNil(st.Amenities)) &&
		sameInstant(cur.LastUpdated, st.UpdatedAt)
}
