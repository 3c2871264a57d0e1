package syncer

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/fuelfinder"
	"github.com/sallyhq/sally/vendors/openweather"
)

// Cache lifetimes of the read-through vendor queries.
const (
	FuelCacheTTL    = time.Minute
	WeatherCacheTTL = 10 * time.Minute // OpenWeather: not more than once per 10 min per place
)

// integrationOf returns the tenant's integration of the type, enabled ones first.
func (e *Engine) integrationOf(ctx context.Context, tenantID uuid.UUID, t integration.IntegrationType) (*ent.Integration, error) {
	in, err := e.client.Integration.Query().
		Where(integration.TenantID(tenantID), integration.IntegrationTypeEQ(t)).
		Order(ent.Desc(integration.FieldEnabled), ent.Asc(integration.FieldCreatedAt)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("no %s integration: an admin must create one first", t)
	}
	if err != nil {
		return nil, err
	}
	if !in.Enabled {
		return nil, badInput("the %s integration %q is disabled", t, in.DisplayName)
	}
	if in.NeedsCredentials {
		return nil, badInput("the %s integration %q needs new credentials: the vendor rejected its key", t, in.DisplayName)
	}
	return in, nil
}

func checkPoint(lat, lon float64) error {
	if math.IsNaN(lat) || lat < -90 || lat > 90 {
		return badInput("latitude must be between -90 and 90")
	}
	if math.IsNaN(lon) || lon < -180 || lon > 180 {
		return badInput("longitude must be between -180 and 180")
	}
	return nil
}

// FuelStations asks the tenant's fuel vendor for stations near a point.
func (e *Engine) FuelStations(ctx context.Context, tenantID uuid.UUID, lat, lon, radius float64, limit int) ([]vendors.FuelStation, error) {
	if err := checkPoint(lat, lon); err != nil {
		return nil, err
	}
	if math.IsNaN(radius) || radius <= 0 || radius > 100 {
		return nil, badInput("radiusMiles must be more than 0 and at most 100")
	}
	if limit < 1 || limit > 50 {
		return nil, badInput("maxResults must be between 1 and 50")
	}
	in, err := e.integrationOf(ctx, tenantID, integration.IntegrationTypeFUEL)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s|fuel|%.4f|%.4f|%g|%d", in.ID, lat, lon, radius, limit)
	if v, ok := e.cache.get(key, e.now()); ok {
		return v.([]vendors.FuelStation), nil
	}
	c, err := clientOf[*fuelfinder.Client](e, in, e.doFunc(in, nil, resilience.Hooks{}))
	if err != nil {
		return nil, vendorFailed(err)
	}
	st, err := c.Stations(ctx, lat, lon, radius, limit)
	if err != nil {
		return nil, vendorFailed(err)
	}
	e.cache.put(key, st, FuelCacheTTL, e.now())
	return st, nil
}

// Weather asks the tenant's weather vendor for the current weather at a point.
func (e *Engine) Weather(ctx context.Context, tenantID uuid.UUID, lat, lon float64) (vendors.Weather, error) {
	if err := checkPoint(lat, lon); err != nil {
		return vendors.Weather{}, err
	}
	in, err := e.integrationOf(ctx, tenantID, integration.IntegrationTypeWEATHER)
	if err != nil {
		return vendors.Weather{}, err
	}
	key := fmt.Sprintf("%s|weather|%.2f|%.2f", in.ID, lat, lon)
	if v, ok := e.cache.get(key, e.now()); ok {
		return v.(vendors.Weather), nil
	}
	c, err := clientOf[*openweather.Client](e, in, e.doFunc(in, nil, resilience.Hooks{}))
	if err != nil {
		return vendors.Weather{}, vendorFailed(err)
	}
	w, err := c.Current(ctx, lat, lon)
	if err != nil {
		return vendors.Weather{}, vendorFailed(err)
	}
	e.cache.put(key, w, WeatherCacheTTL, e.now())
	return w, nil
}
