package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/config"
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/store"
)

// app is the composition root: every long-lived dependency, built once with explicit
// constructor arguments.
type app struct {
	cfg      config.Config
	logger   *slog.Logger
	store    *store.Store
	tokens   *auth.Tokens
	resolver *graph.Resolver

	wg sync.WaitGroup // background workers
}

func newApp(ctx context.Context, cfg config.Config, st *store.Store, logger *slog.Logger) (*app, error) {
	sealer, err := auth.NewSealer(cfg.CredentialsKey)
	if err != nil {
		return nil, fmt.Errorf("credentials key: %w", err)
	}
	a := &app{cfg: cfg, logger: logger, store: st, tokens: tokensFor(cfg)}
	a.resolver = &graph.Resolver{Deps: graph.Deps{
		Store:    st,
		Tokens:   a.tokens,
		Hasher:   auth.DefaultHasher,
		Throttle: auth.NewThrottle(auth.DefaultMaxFailures, auth.DefaultWindow, time.Now),
		Sealer:   sealer,
		Logger:   logger,
		Now:      time.Now,
	}}
	return a, nil
}

// start launches the background workers; they stop when ctx ends.
func (a *app) start(ctx context.Context) {}

// wait blocks until the background workers have stopped.
func (a *app) wait() { a.wg.Wait() }

func (a *app) close() {}
