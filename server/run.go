package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"entgo.io/ent/privacy"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/config"
	"github.com/sallyhq/sally/ent/user"
	"github.com/sallyhq/sally/store"

	_ "github.com/sallyhq/sally/ent/runtime" // privacy policies and defaults
)

// shutdownTimeout bounds how long in-flight requests get after SIGINT/SIGTERM.
const shutdownTimeout = 15 * time.Second

// run is the whole program: main only adds the process's signals and environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if err := cfg.EnsureSecrets(); err != nil {
		return err
	}
	logger := config.NewLogger(cfg, stderr)
	logger.Info("starting", "config", cfg)

	st, err := store.Open(ctx, cfg.Driver, cfg.DSN)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	sealer, err := auth.NewSealer(cfg.CredentialsKey)
	if err != nil {
		return fmt.Errorf("CREDENTIALS_KEY: %w", err)
	}
	if err := bootstrapAdmin(ctx, st, cfg, sealer, stdout, logger); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.Port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	app, err := newApp(cfg, st, logger, "http://"+hostPort(ln.Addr()))
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           app.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	logger.Info("listening", "addr", ln.Addr().String(), "url", "http://"+hostPort(ln.Addr()))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	app.start(bg)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	stopBG()
	app.wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

func hostPort(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok && (t.IP == nil || t.IP.IsUnspecified()) {
		return fmt.Sprintf("localhost:%d", t.Port)
	}
	return a.String()
}

// bootstrapAdmin creates the first SUPER_ADMIN (and its tenant) when there are no
// users, from ADMIN_EMAIL / ADMIN_PASSWORD, or with a random password printed once.
func bootstrapAdmin(ctx context.Context, st *store.Store, cfg config.Config, sealer *auth.Sealer, stdout io.Writer, logger *slog.Logger) error {
	sys := privacy.DecisionContext(ctx, privacy.Allow)
	return st.WithLock(sys, "bootstrap", func(ctx context.Context) error {
		n, err := st.Client.User.Query().Count(ctx)
		if err != nil || n > 0 {
			return err
		}
		password, generated := cfg.AdminPassword, false
		if password == "" {
			password, generated = rand.Text(), true
		}
		hash, err := auth.DefaultHasher.Hash(password)
		if err != nil {
			return err
		}
		tx, err := st.Client.Tx(ctx)
		if err != nil {
			return err
		}
		name := "Sally"
		if cfg.Demo {
			name = demoTenant
		}
		t, err := tx.Tenant.Create().SetName(name).Save(ctx)
		if err == nil {
			_, err = tx.User.Create().SetTenantID(t.ID).SetEmail(cfg.AdminEmail).
				SetPasswordHash(hash).SetRole(user.RoleSUPER_ADMIN).Save(ctx)
		}
		if err == nil && cfg.Demo {
			err = seedDemo(ctx, tx, t.ID, sealer)
		}
		if err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("create first admin: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		logger.Info("created the first SUPER_ADMIN", "email", cfg.AdminEmail)
		if generated {
			// Printed once, on stdout, never logged: it is not stored anywhere in clear.
			fmt.Fprintf(stdout, "First SUPER_ADMIN: %s  password: %s  (shown only once)\n", cfg.AdminEmail, password)
		}
		return nil
	})
}

// tokensFor builds the token issuer from the configuration.
func tokensFor(cfg config.Config) *auth.Tokens {
	return auth.NewTokens(cfg.JWTSecret, cfg.TokenTTL, time.Now)
}
