package graph

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/load"
	"github.com/sallyhq/sally/graph/model"
	"github.com/sallyhq/sally/syncer"
	"github.com/sallyhq/sally/vendors"
)

func tenantOfViewer(ctx context.Context) (uuid.UUID, error) {
	v, err := viewer(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	id, err := uuid.Parse(v.TenantID)
	if err != nil {
		return uuid.Nil, errUnauthenticated("invalid token: log in again")
	}
	return id, nil
}

func (r *Resolver) testIntegration(ctx context.Context, id string) (*model.ConnectionTestResult, error) {
	in, err := r.getIntegration(ctx, id)
	if err != nil {
		return nil, err
	}
	res := r.Syncer.TestConnection(ctx, in)
	out := &model.ConnectionTestResult{Success: res.Success, LatencyMs: int(res.Latency.Milliseconds())}
	if !res.Success {
		out.Message = &res.Message
	}
	return out, nil
}

func (r *Resolver) syncIntegration(ctx context.Context, id string) (*model.SyncLog, error) {
	in, err := r.getIntegration(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := syncRefusal(in); err != nil {
		return nil, err
	}
	lg, err := r.Syncer.SyncNow(ctx, in.ID)
	if errors.Is(err, syncer.ErrDisabled) || errors.Is(err, syncer.ErrNeedsCredentials) {
		return nil, badInput("%s", err.Error())
	}
	if ent.IsNotFound(err) {
		return nil, errNotFound("integration")
	}
	if err != nil {
		return nil, err
	}
	return ToSyncLog(lg), nil
}

func (r *Resolver) loads(ctx context.Context, status *model.LoadStatus) ([]*model.Load, error) {
	q := r.Store.Client.Load.Query()
	if status != nil {
		if !status.IsValid() {
			return nil, badInput("unknown status")
		}
		q.Where(load.StatusEQ(load.Status(*status)))
	} else {
		q.Where(load.Active(true))
	}
	ls, err := q.Order(ent.Asc(load.FieldLoadID), ent.Asc(load.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Load, len(ls))
	for i, l := range ls {
		out[i] = &model.Load{
			LoadID: l.LoadID,
			PickupLocation: &model.Location{Address: l.PickupAddress, City: l.PickupCity, State: l.PickupState,
				Zip: l.PickupZip, Latitude: l.PickupLatitude, Longitude: l.PickupLongitude},
			DeliveryLocation: &model.Location{Address: l.DeliveryAddress, City: l.DeliveryCity, State: l.DeliveryState,
				Zip: l.DeliveryZip, Latitude: l.DeliveryLatitude, Longitude: l.DeliveryLongitude},
			PickupAppointment: utcPtr(l.PickupAppointment), DeliveryAppointment: utcPtr(l.DeliveryAppointment),
			AssignedDriverID: l.AssignedDriverID, Status: model.LoadStatus(l.Status), TotalMiles: l.TotalMiles,
			DataSource: l.DataSource, SyncedAt: utc(l.SyncedAt), Active: l.Active,
		}
	}
	return out, nil
}

func (r *Resolver) fuelStations(ctx context.Context, lat, lon float64, radius *float64, max *int) ([]*model.FuelStation, error) {
	tid, err := tenantOfViewer(ctx)
	if err != nil {
		return nil, err
	}
	rad, n := 25.0, 10
	if radius != nil {
		rad = *radius
	}
	if max != nil {
		n = *max
	}
	st, err := r.Syncer.FuelStations(ctx, tid, lat, lon, rad, n)
	if err != nil {
		return nil, err
	}
	out := make([]*model.FuelStation, len(st))
	for i, s := range st {
		out[i] = toStation(s)
	}
	return out, nil
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toStation(s vendors.FuelStation) *model.FuelStation {
	am := s.Amenities
	if am == nil {
		am = []string{}
	}
	return &model.FuelStation{
		StationID: s.ID, Name: s.Name, Brand: optStr(s.Brand), Address: optStr(s.Address), City: optStr(s.City),
		State: optStr(s.State), Zip: optStr(s.Zip), Latitude: s.Latitude, Longitude: s.Longitude,
		PricePerGallon: s.RegularPrice, DieselPrice: s.DieselPrice, DistanceMiles: s.DistanceMiles,
		Amenities: am, LastUpdated: utcPtr(s.UpdatedAt), DataSource: "fuelfinder",
	}
}

func (r *Resolver) weather(ctx context.Context, lat, lon float64) (*model.Weather, error) {
	tid, err := tenantOfViewer(ctx)
	if err != nil {
		return nil, err
	}
	w, err := r.Syncer.Weather(ctx, tid, lat, lon)
	if err != nil {
		return nil, err
	}
	return &model.Weather{
		Latitude: w.Latitude, Longitude: w.Longitude, TemperatureF: w.TemperatureF, FeelsLikeF: w.FeelsLikeF,
		Humidity: w.Humidity, WindSpeedMph: w.WindSpeedMph, Conditions: w.Conditions,
		Description: optStr(w.Description), ObservedAt: utc(w.ObservedAt), DataSource: "openweather",
	}, nil
}
