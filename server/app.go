package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/config"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
	"github.com/sallyhq/sally/vendors"
)

// app is the composition root: every long-lived dependency, built once with explicit
// constructor arguments.
type app struct {
	cfg      config.Config
	logger   *slog.Logger
	store    *store.Store
	tokens   *auth.Tokens
	bus      *event.Bus
	engine   *syncer.Engine
	sandbox  *sandbox.Sandbox // nil unless SANDBOX=true
	registry *prometheus.Registry
	resolver *graph.Resolver

	wg sync.WaitGroup // background workers
}

// newApp builds the dependencies; selfURL is this server's own address (the
// sandbox's, when SANDBOX=true).
func newApp(cfg config.Config, st *store.Store, logger *slog.Logger, selfURL string) (*app, error) {
	sealer, err := auth.NewSealer(cfg.CredentialsKey)
	if err != nil {
		return nil, fmt.Errorf("CREDENTIALS_KEY: %w", err)
	}
	a := &app{cfg: cfg, logger: logger, store: st, tokens: tokensFor(cfg), bus: event.NewBus(0)}
	a.registry = prometheus.NewRegistry()
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	urls := syncer.VendorURLs{
		Samsara: cfg.SamsaraAPIURL, Truckbase: cfg.TruckbaseAPIURL,
		FuelFinder: cfg.FuelFinderAPIURL, OpenWeather: cfg.OpenWeatherAPIURL,
	}
	if cfg.Sandbox {
		a.sandbox = sandbox.New(sandbox.Options{Logger: logger.With("component", "sandbox")})
		base := selfURL + "/sandbox"
		urls = syncer.VendorURLs{
			Samsara: base + "/samsara", Truckbase: base + "/truckbase",
			FuelFinder: base + "/fuelfinder", OpenWeather: base + "/openweather",
		}
	}
	policy := resilience.DefaultConfig()
	policy.MaxAttempts = cfg.RetryMaxAttempts
	policy.BaseDelay = cfg.RetryBaseDelay
	policy.MaxDelay = cfg.RetryMaxDelay
	policy.FailureThreshold = cfg.CircuitFailureThreshold
	policy.OpenDelay = cfg.CircuitOpenDuration()

	a.engine = syncer.New(syncer.Options{
		Store:         st,
		Sealer:        sealer,
		URLs:          urls,
		HTTPClient:    vendors.NewHTTPClient(),
		Settings:      resilience.Settings{Default: policy},
		Publisher:     a.bus,
		Metrics:       syncer.NewMetrics(a.registry),
		Logger:        logger.With("component", "syncer"),
		RetentionDays: cfg.SyncLogRetentionDays,
	})
	a.resolver = &graph.Resolver{Deps: graph.Deps{
		Store:              st,
		Tokens:             a.tokens,
		Hasher:             auth.DefaultHasher,
		Throttle:           auth.NewThrottle(auth.DefaultMaxFailures, auth.DefaultWindow, time.Now),
		Sealer:             sealer,
		Logger:             logger,
		Now:                time.Now,
		Syncer:             a.engine,
		Events:             a.bus,
		IntegrationChanged: a.engine.Forget,
	}}
	return a, nil
}

// start launches the background workers; they stop when ctx ends.
func (a *app) start(ctx context.Context) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.engine.Run(ctx, syncer.SchedulerOptions{})
	}()
}

// wait blocks until the background workers have stopped.
func (a *app) wait() { a.wg.Wait() }

var _ http.Handler = (*sandbox.Sandbox)(nil)
