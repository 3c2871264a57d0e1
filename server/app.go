package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sallyhq/sally/alert"
	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/config"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/event/pgnotify"
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/mail"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
	"github.com/sallyhq/sally/vendors"
)

// app is the composition root: every long-lived dependency, built once with explicit
// constructor arguments.
type app struct {
	cfg    config.Config
	logger *slog.Logger
	store  *store.Store
	tokens *auth.Tokens
	bus    *event.Bus
	// events is what the engine (and alerts) publish to: the bus itself on SQLite; on
	// PostgreSQL the bridge, which also reaches the other replicas' buses.
	events   event.Publisher
	bridge   *pgnotify.Bridge // nil on SQLite
	engine   *syncer.Engine
	alerts   *alert.Manager   // the engine's Observer; its Run catches up and checks staleness
	mailer   *alert.Worker    // delivers stored alerts (the outbox)
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
	a.events = a.bus
	if cfg.Driver == config.DriverPostgres {
		a.bridge, err = pgnotify.New(pgnotify.Options{
			DSN: cfg.DSN, DB: st.DB, Local: a.bus, Logger: logger.With("component", "events"),
		})
		if err != nil {
			return nil, err
		}
		a.events = a.bridge
	}
	a.registry.MustRegister(
		collectors.NewDBStatsCollector(st.DB, "sally"),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sally_db_statements_total",
			Help: "Statements this server sent through its ent client (BEGIN and COMMIT of transactions included).",
		}, func() float64 { return float64(st.Statements()) }),
	)
	if a.bridge != nil {
		a.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sally_events_notified_total",
			Help: "Events this server sent to the other servers (one NOTIFY each).",
		}, func() float64 { return float64(a.bridge.Stats().Sent) }))
	}
	a.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sally_event_subscribers",
		Help: "Live event subscriptions (syncEvents) open on this server.",
	}, func() float64 { return float64(a.bus.Subscribers()) }))

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
	// The calls in flight to one vendor from this server: one per sync slot. A fixed
	// 16 capped a replica near 130 calls a second per vendor at 0.1 s a call
	// (cmd/capacity: fuel and weather syncs, ~20 calls each, fell 45 s behind at
	// 97 syncs/s on 3 replicas while the replicas' CPUs idled).
	policy.MaxConcurrent = max(resilience.DefaultMaxConcurrent, cfg.SyncConcurrency)

	if err := a.buildAlerts(sealer, cfg.PublicBaseURL(port(selfURL))); err != nil {
		return nil, err
	}
	a.engine = syncer.New(syncer.Options{
		Store:         st,
		Sealer:        sealer,
		URLs:          urls,
		HTTPClient:    vendors.NewHTTPClient(),
		Settings:      resilience.Settings{Default: policy},
		MaxConcurrent: cfg.SyncConcurrency,
		Health: syncer.HealthOptions{
			Ratio: cfg.VendorDownRatio, MinCalls: cfg.VendorDownMinCalls,
			Window: cfg.VendorDownWindow, ProbeInterval: cfg.VendorProbeInterval,
		},
		Publisher:     a.events,
		Observer:      a.alerts,
		Metrics:       syncer.NewMetrics(a.registry),
		Logger:        logger.With("component", "syncer"),
		RetentionDays: cfg.SyncLogRetentionDays,
	})
	a.resolver = &graph.Resolver{Deps: graph.Deps{
		Store:              st,
		Tokens:             a.tokens,
		Hasher:             auth.DefaultHasher,
		Throttle:           st.NewThrottle(auth.DefaultMaxFailures, auth.DefaultWindow, time.Now),
		Sealer:             sealer,
		Logger:             logger,
		Now:                time.Now,
		Syncer:             a.engine,
		Events:             a.bus,
		Publisher:          a.events,
		IntegrationChanged: a.engine.Forget,
		PublicURL:          cfg.PublicBaseURL(port(selfURL)),
	}}
	if a.cfg.SMTPHost != "" {
		a.resolver.MailKick = a.mailer.Kick
	}
	return a, nil
}

// start launches the background workers; they stop when ctx ends.
func (a *app) start(ctx context.Context) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.engine.Run(ctx, syncer.SchedulerOptions{})
	}()
	a.wg.Go(func() { a.mailer.Run(ctx) })
	a.wg.Go(func() { a.alerts.Run(ctx, alert.DefaultSweepEvery) })
	if a.bridge != nil {
		a.wg.Go(func() {
			if err := a.bridge.Run(ctx); err != nil {
				a.logger.Error("live events will not reach the other servers", "err", err)
			}
		})
	}
}

// buildAlerts makes the alert rules and their delivery worker; with SMTP_HOST unset,
// alerts are recorded and logged, and marked as not delivered.
func (a *app) buildAlerts(sealer *auth.Sealer, publicURL string) error {
	var sender alert.Sender
	if a.cfg.SMTPHost != "" {
		m, err := mail.New(mail.Options{
			Host: a.cfg.SMTPHost, Port: a.cfg.SMTPPort, Username: a.cfg.SMTPUser, Password: a.cfg.SMTPPass,
			TLS: a.cfg.SMTPTLS, From: a.cfg.AlertFromEmail,
		})
		if err != nil {
			return fmt.Errorf("SMTP settings: %w", err)
		}
		sender = alert.SenderFunc(func(ctx context.Context, msg alert.Message) error {
			return m.Send(ctx, mail.Message(msg))
		})
	} else {
		a.logger.Warn("SMTP_HOST is not set: alerts are recorded but not emailed")
	}
	a.mailer = alert.NewWorker(alert.WorkerOptions{
		Client: a.store.Client, Sender: sender, Logger: a.logger.With("component", "alert-mail"),
		Open: sealer.Open, // invitation and reset emails carry their link sealed
	})
	domain := alert.DefaultMessageDomain
	if at := strings.LastIndex(a.cfg.AlertFromEmail, "@"); at >= 0 {
		domain = strings.Trim(a.cfg.AlertFromEmail[at+1:], "> ")
	}
	a.alerts = alert.NewManager(alert.Options{
		Client: a.store.Client, Publisher: a.events, Logger: a.logger.With("component", "alert"),
		Notify: a.mailer.Kick, MessageDomain: domain,
		CredentialsFailuresBeforePause: a.cfg.CredentialsFailuresBeforePause, PublicURL: publicURL,
	})
	return nil
}

// port is the port of a URL such as http://localhost:8080 (0 when it has none).
func port(u string) int {
	p, err := strconv.Atoi(u[strings.LastIndex(u, ":")+1:])
	if err != nil {
		return 0
	}
	return p
}

// wait blocks until the background workers have stopped.
func (a *app) wait() { a.wg.Wait() }

var _ http.Handler = (*sandbox.Sandbox)(nil)
