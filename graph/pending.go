package graph

import (
	"context"

	"github.com/sallyhq/sally/graph/model"
)

func notYet() error { return Errorf(CodeInternal, "not available in this build") }

func (r *Resolver) testIntegration(ctx context.Context, id string) (*model.ConnectionTestResult, error) {
	return nil, notYet()
}
func (r *Resolver) syncIntegration(ctx context.Context, id string) (*model.SyncLog, error) {
	return nil, notYet()
}
func (r *Resolver) overrideDriverHOS(ctx context.Context, driverID string, in model.HOSOverrideInput) (*model.HOSData, error) {
	return nil, notYet()
}
func (r *Resolver) clearDriverHOSOverride(ctx context.Context, driverID string) (*model.HOSData, error) {
	return nil, notYet()
}
func (r *Resolver) drivers(ctx context.Context) ([]*model.Driver, error) { return nil, notYet() }
func (r *Resolver) driverHOS(ctx context.Context, driverID string) (*model.HOSData, error) {
	return nil, notYet()
}
func (r *Resolver) loads(ctx context.Context, status *model.LoadStatus) ([]*model.Load, error) {
	return nil, notYet()
}
func (r *Resolver) fuelStations(ctx context.Context, lat, lon float64, radius *float64, max *int) ([]*model.FuelStation, error) {
	return nil, notYet()
}
func (r *Resolver) weather(ctx context.Context, lat, lon float64) (*model.Weather, error) {
	return nil, notYet()
}
func (r *Resolver) syncEvents(ctx context.Context, integrationID *string) (<-chan *model.SyncEvent, error) {
	return nil, notYet()
}
