package syncer

import (
	"context"
	"slices"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/weatherreport"
	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/openweather"
)

// syncWeather refreshes the weather at the active loads' stops.
func (e *Engine) syncWeather(ctx context.Context, in *ent.Integration, c *openweather.Client) (result, error) {
	stops, err := e.stops(ctx, in.TenantID)
	if err != nil {
		return result{}, err
	}
	if len(stops) == 0 {
		// As in syncFuel: a sync with nothing to refresh still checks the key.
		if err := c.TestConnection(ctx); err != nil {
			return result{}, err
		}
	}
	reports, err := each(ctx, stops, func(ctx context.Context, s stop) (vendors.Weather, error) {
		return c.Current(vendors.WithCall(ctx, "weather at "+s.key()), s.lat, s.lon)
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
		// Changed reports go in multi-row upserts, as in syncFuel.
		var rows []*ent.WeatherReportCreate
		for i, s := range stops {
			w := reports[i]
			res.processed++
			cur := byKey[s.key()]
			if cur != nil && weatherUnchanged(cur, w) {
				continue
			}
			if cur == nil {
				res.created++
			} else {
				res.updated++
			}
			cr := tx.WeatherReport.Create().SetTenantID(in.TenantID).SetIntegrationID(in.ID).SetLocationKey(s.key())
			setWeather(cr.Mutation(), s, w) // a cleared field is inserted as NULL
			cr.SetSyncedAt(now)
			rows = append(rows, cr)
		}
		for chunk := range slices.Chunk(rows, upsertChunk) {
			err := tx.WeatherReport.CreateBulk(chunk...).
				OnConflictColumns(weatherreport.FieldIntegrationID, weatherreport.FieldLocationKey).
				Update(func(u *ent.WeatherReportUpsert) {
					u.UpdateLatitude().UpdateLongitude().UpdateTemperatureF().UpdateFeelsLikeF().
						UpdateHumidity().UpdateWindSpeedMph().UpdateConditions().UpdateDescription().
						UpdateObservedAt().UpdateDataSource().UpdateSyncedAt().UpdateUpdatedAt()
				}).Exec(ctx)
			if err != nil {
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
	setOrClear(m.SetFeelsLikeF, m.ClearFeelsLikeF, w.FeelsLikeF)
	setOrClear(m.SetHumidity, m.ClearHumidity, w.Humidity)
	setOrClear(m.SetWindSpeedMph, m.ClearWindSpeedMph, w.WindSpeedMph)
	m.SetConditions(w.Conditions)
	setOrClear(m.SetDescription, m.ClearDescription, nonEmpty(w.Description))
	m.SetObservedAt(w.ObservedAt.UTC())
	m.SetDataSource("openweather")
}

func weatherUnchanged(cur *ent.WeatherReport, w vendors.Weather) bool {
	return floatEq(&cur.TemperatureF, &w.TemperatureF) && floatEq(cur.FeelsLikeF, w.FeelsLikeF) &&
		eqPtr(cur.Humidity, w.Humidity) && floatEq(cur.WindSpeedMph, w.WindSpeedMph) &&
		cur.Conditions == w.Conditions && strEq(cur.Description, w.Description) &&
		sameInstant(&cur.ObservedAt, &w.ObservedAt)
}
