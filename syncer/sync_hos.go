package syncer

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/fleetdriver"
	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/samsara"
)

// syncHOS upserts every active driver and their clocks from the ELD.
func (e *Engine) syncHOS(ctx context.Context, in *ent.Integration, c *samsara.Client) (result, error) {
	drivers, err := c.Drivers(ctx)
	if err != nil {
		return result{}, err
	}
	ids := make([]string, 0, len(drivers))
	for _, d := range drivers {
		ids = append(ids, d.ID)
	}
	clocks := map[string]vendors.HOS{}
	if len(ids) > 0 {
		hos, err := c.HOSClocks(ctx, ids)
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
				setClocks(cr.Mutation(), h, now)
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
							updateClocks(u)
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
	return clocksUnchanged(cur, h)
}
