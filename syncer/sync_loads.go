package syncer

import (
	"context"
	"time"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/load"
	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/truckbase"
)

// syncLoads upserts the TMS's active loads and marks the ones that left the list.
func (e *Engine) syncLoads(ctx context.Context, in *ent.Integration, c *truckbase.Client) (result, error) {
	loads, err := c.ActiveLoads(ctx)
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
	setOrClear(m.SetPickupAddress, m.ClearPickupAddress, nonEmpty(l.Pickup.Address))
	setOrClear(m.SetPickupCity, m.ClearPickupCity, nonEmpty(l.Pickup.City))
	setOrClear(m.SetPickupState, m.ClearPickupState, nonEmpty(l.Pickup.State))
	setOrClear(m.SetPickupZip, m.ClearPickupZip, nonEmpty(l.Pickup.Zip))
	setOrClear(m.SetDeliveryAddress, m.ClearDeliveryAddress, nonEmpty(l.Delivery.Address))
	setOrClear(m.SetDeliveryCity, m.ClearDeliveryCity, nonEmpty(l.Delivery.City))
	setOrClear(m.SetDeliveryState, m.ClearDeliveryState, nonEmpty(l.Delivery.State))
	setOrClear(m.SetDeliveryZip, m.ClearDeliveryZip, nonEmpty(l.Delivery.Zip))
	setOrClear(m.SetAssignedDriverID, m.ClearAssignedDriverID, nonEmpty(l.DriverID))
	setOrClear(m.SetPickupLatitude, m.ClearPickupLatitude, l.Pickup.Latitude)
	setOrClear(m.SetPickupLongitude, m.ClearPickupLongitude, l.Pickup.Longitude)
	setOrClear(m.SetDeliveryLatitude, m.ClearDeliveryLatitude, l.Delivery.Latitude)
	setOrClear(m.SetDeliveryLongitude, m.ClearDeliveryLongitude, l.Delivery.Longitude)
	setOrClear(m.SetTotalMiles, m.ClearTotalMiles, l.Miles)
	setOrClear(m.SetPickupAppointment, m.ClearPickupAppointment, utc(l.PickupAppointment))
	setOrClear(m.SetDeliveryAppointment, m.ClearDeliveryAppointment, utc(l.DeliveryAppointment))
	m.SetStatus(load.Status(l.Status))
	m.SetActive(true)
	m.SetDataSource("truckbase_tms")
	m.SetSyncedAt(now)
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
