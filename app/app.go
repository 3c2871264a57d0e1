// Package app is the composition root: it builds every long-lived dependency of the
// service from the configuration, with explicit constructor arguments, and serves
// its routes. The server command (server/) runs it; internal/testserver wraps the
// same constructor with the options tests change, so the two cannot drift.
package app

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

// App is the service's dependencies, built once by New.
type App struct {
	Config   config.Config
	Logger   *slog.Logger
	Store    *store.Store
	Tokens   *auth.Tokens
	Sealer   *auth.Sealer
	Throttle *store.Throttle
	Bus      *event.Bus
	// Events is what the engine (and alerts) publish to: the bus itself on SQLite; on
	// PostgreSQL the bridge, which also reaches the other replicas' buses.
	Events   event.Publisher
	Bridge   *pgnotify.Bridge // nil on SQLite (and with Options.LocalEvents)
	Engine   *syncer.Engine
	Alerts   *alert.Manager   // the engine's Observer; its Run catches up and checks staleness
	Mailer   *alert.Worker    // delivers stored alerts (the outbox)
	Sandbox  *sandbox.Sandbox // nil unless SANDBOX=true
	Registry *prometheus.Registry
	Resolver *graph.Resolver

	wg sync.WaitGroup // background workers
}

// Options are what New is given besides the configuration: the store, the logger,
// the server's own address, and what tests change. The zero value of each test
// field is what the server runs with.
type Options struct {
	Config config.Config
	Store  *store.Store
	Logger *slog.Logger
	// SelfURL is this server's own address (the sandbox's, when SANDBOX=true, and
	// the port of PUBLIC_URL's default).
	SelfURL string

	// VendorURLs, when set, are the vendors' APIs instead of the configured ones (a
	// test's own sandbox).
	VendorURLs *syncer.VendorURLs
	// Policy, when set, is the resilience config instead of the configured one.
	Policy *resilience.Config
	// Hasher hashes passwords; auth.DefaultHasher when zero.
	Hasher auth.Hasher
	// LocalEvents publishes to this process's bus only, without the PostgreSQL
	// bridge (a test with one process).
	LocalEvents bool
	// Deps, when set, changes the resolver's dependencies last.
	Deps func(*graph.Deps)
}

// New builds the dependencies.
func New(o Options) (*App, error) {
	cfg, st, logger, selfURL := o.Config, o.Store, o.Logger, o.SelfURL
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sealer, err := auth.NewSealer(cfg.CredentialsKey)
	if err != nil {
		return nil, fmt.Errorf("CREDENTIALS_KEY: %w", err)
	}
	a := &App{Config: cfg, Logger: logger, Store: st, Tokens: TokensFor(cfg), Sealer: sealer, Bus: event.NewBus(0)}
	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.Events = a.Bus
	if cfg.Driver == config.DriverPostgres && !o.LocalEvents {
		a.Bridge, err = pgnotify.New(pgnotify.Options{
			DSN: cfg.DSN, DB: st.DB, Local: a.Bus, Logger: logger.With("component", "events"),
		})
		if err != nil {
			return nil, err
		}
		a.Events = a.Bridge
	}
	a.Registry.MustRegister(
		collectors.NewDBStatsCollector(st.DB, "sally"),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sally_db_statements_total",
			Help: "Statements this server sent through its ent client (BEGIN and COMMIT of transactions included).",
		}, func() float64 { return float64(st.Statements()) }),
	)
	if a.Bridge != nil {
		a.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sally_events_notified_total",
			Help: "Events this server sent to the other servers (one NOTIFY each).",
		}, func() float64 { return float64(a.Bridge.Stats().Sent) }))
	}
	a.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sally_event_subscribers",
		Help: "Live event subscriptions (syncEvents) open on this server.",
	}, func() float64 { return float64(a.Bus.Subscribers()) }))

	urls := syncer.VendorURLs{}
	for _, v := range syncer.Vendors() {
		urls[v.Name] = cfg.VendorURLs[v.URLVar]
	}
	if cfg.Sandbox {
		a.Sandbox = sandbox.New(sandbox.Options{Logger: logger.With("component", "sandbox")})
		urls = syncer.SandboxURLs(selfURL + "/sandbox")
	}
	if o.VendorURLs != nil {
		urls = *o.VendorURLs
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
	if o.Policy != nil {
		policy = *o.Policy
	}
	hasher := o.Hasher
	if hasher == (auth.Hasher{}) {
		hasher = auth.DefaultHasher
	}

	if err := a.buildAlerts(sealer, cfg.PublicBaseURL(port(selfURL))); err != nil {
		return nil, err
	}
	a.Engine = syncer.New(syncer.Options{
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
		Publisher:     a.Events,
		Observer:      a.Alerts,
		Metrics:       syncer.NewMetrics(a.Registry),
		Logger:        logger.With("component", "syncer"),
		RetentionDays: cfg.SyncLogRetentionDays,
	})
	a.Throttle = st.NewThrottle(auth.DefaultMaxFailures, auth.DefaultWindow, time.Now)
	deps := graph.Deps{
		Store:              st,
		Tokens:             a.Tokens,
		Hasher:             hasher,
		Throttle:           a.Throttle,
		Sealer:             sealer,
		Logger:             logger,
		Now:                time.Now,
		Syncer:             a.Engine,
		Events:             a.Bus,
		Publisher:          a.Events,
		IntegrationChanged: a.Engine.Forget,
		PublicURL:          cfg.PublicBaseURL(port(selfURL)),
	}
	if cfg.SMTPHost != "" {
		deps.MailKick = a.Mailer.Kick
	}
	if o.Deps != nil {
		o.Deps(&deps)
	}
	a.Resolver = &graph.Resolver{Deps: deps}
	return a, nil
}

// TokensFor is the token issuer of a configuration.
func TokensFor(cfg config.Config) *auth.Tokens {
	return auth.NewTokens(cfg.JWTSecret, cfg.TokenTTL, time.Now)
}

// LoadConfig reads the service's configuration from getenv: config.Load with every
// vendor's base URL variable (SAMSARA_API_URL, …), which the vendor table names.
func LoadConfig(getenv func(string) string) (config.Config, error) {
	var urls []config.BaseURLVar
	for _, v := range syncer.Vendors() {
		urls = append(urls, config.BaseURLVar{Name: v.URLVar, Default: v.DefaultURL})
	}
	return config.Load(getenv, urls...)
}

// Start launches the background workers; they stop when ctx ends.
func (a *App) Start(ctx context.Context) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.Engine.Run(ctx, syncer.SchedulerOptions{})
	}()
	a.wg.Go(func() { a.Mailer.Run(ctx) })
	a.wg.Go(func() { a.Alerts.Run(ctx, alert.DefaultSweepEvery) })
	if a.Bridge != nil {
		a.wg.Go(func() {
			if err := a.Bridge.Run(ctx); err != nil {
				a.Logger.Error("live events will not reach the other servers", "err", err)
			}
		})
	}
}

// buildAlerts makes the alert rules and their delivery worker; with SMTP_HOST unset,
// alerts are recorded and logged, and marked as not delivered.
func (a *App) buildAlerts(sealer *auth.Sealer, publicURL string) error {
	var sender alert.Sender
	if a.Config.SMTPHost != "" {
		m, err := mail.New(mail.Options{
			Host: a.Config.SMTPHost, Port: a.Config.SMTPPort, Username: a.Config.SMTPUser, Password: a.Config.SMTPPass,
			TLS: a.Config.SMTPTLS, From: a.Config.AlertFromEmail,
		})
		if err != nil {
			return fmt.Errorf("SMTP settings: %w", err)
		}
		sender = alert.SenderFunc(func(ctx context.Context, msg alert.Message) error {
			return m.Send(ctx, mail.Message(msg))
		})
	} else {
		a.Logger.Warn("SMTP_HOST is not set: alerts are recorded but not emailed")
	}
	a.Mailer = alert.NewWorker(alert.WorkerOptions{
		Client: a.Store.Client, Sender: sender, Logger: a.Logger.With("component", "alert-mail"),
		Open: sealer.Open, // invitation and reset emails carry their link sealed
	})
	domain := alert.DefaultMessageDomain
	if at := strings.LastIndex(a.Config.AlertFromEmail, "@"); at >= 0 {
		domain = strings.Trim(a.Config.AlertFromEmail[at+1:], "> ")
	}
	a.Alerts = alert.NewManager(alert.Options{
		Client: a.Store.Client, Publisher: a.Events, Logger: a.Logger.With("component", "alert"),
		Notify: a.Mailer.Kick, MessageDomain: domain,
		CredentialsFailuresBeforePause: a.Config.CredentialsFailuresBeforePause, PublicURL: publicURL,
		VendorName: syncer.DisplayName,
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

// Wait blocks until the background workers have stopped.
func (a *App) Wait() { a.wg.Wait() }

var _ http.Handler = (*sandbox.Sandbox)(nil)
