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
	"strings"
	"time"

	"entgo.io/ent/privacy"

	"github.com/sallyhq/sally/account"
	"github.com/sallyhq/sally/app"
	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/config"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/user"
	"github.com/sallyhq/sally/store"

	_ "github.com/sallyhq/sally/ent/runtime" // privacy policies and defaults
)

// shutdownTimeout bounds how long in-flight requests get after SIGINT/SIGTERM.
const shutdownTimeout = 15 * time.Second

// run is the whole program: main only adds the process's signals and environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		if args[0] == "reset-admin" && len(args) == 2 {
			return resetAdmin(ctx, args[1], getenv, stdout)
		}
		return fmt.Errorf("usage: server               run the service\n       server reset-admin EMAIL   print a one-time set-password link for that user")
	}
	cfg, err := app.LoadConfig(getenv)
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
	if cfg.Driver == config.DriverPostgres {
		st.SetMaxConns(cfg.DatabaseMaxConns - 1) // one is the event listener's
	}
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
	a, err := app.New(app.Options{Config: cfg, Store: st, Logger: logger, SelfURL: "http://" + hostPort(ln.Addr())})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           a.Routes(),
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
	a.Start(bg)

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
	a.Wait()
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
			// 130 random bits: passes the password rule (auth.ValidatePassword) by far.
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
			// On lines of its own, so that it is not lost next to the log.
			fmt.Fprint(stdout, firstAdminBanner(cfg.AdminEmail, password))
		}
		return nil
	})
}

// firstAdminBanner is what the first start prints for a generated password.
func firstAdminBanner(email, password string) string {
	line := strings.Repeat("=", 72)
	return "\n" + line + "\n" +
		"  The first SUPER_ADMIN was created. Sign in on the web page with:\n\n" +
		"    email:    " + email + "\n" +
		"    password: " + password + "\n\n" +
		"  It is shown only this once. Change it under Account > Change password.\n" +
		"  Lost it? Run: go run ./server reset-admin " + email + "\n" +
		line + "\n\n"
}

// resetAdmin is the operator's recovery path: it prints a one-time set-password link
// (72 h) for the user with the email, reactivating the user if needed. The old
// password keeps working until the link is used. It needs the server's configuration
// (DATABASE_URL, PUBLIC_URL), not a running server.
func resetAdmin(ctx context.Context, email string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		return err
	}
	if err := cfg.EnsureSecrets(); err != nil {
		return err
	}
	norm, err := auth.ValidateEmail(email)
	if err != nil {
		return fmt.Errorf("reset-admin: %w", err)
	}
	st, err := store.Open(ctx, cfg.Driver, cfg.DSN)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	sys := privacy.DecisionContext(ctx, privacy.Allow)
	u, err := st.Client.User.Query().Where(user.Email(norm)).Only(sys)
	if ent.IsNotFound(err) {
		return fmt.Errorf("reset-admin: no user has the email %s", norm)
	}
	if err != nil {
		return err
	}
	reactivated := false
	if !u.IsActive {
		if err := st.Client.User.UpdateOne(u).SetIsActive(true).Exec(sys); err != nil {
			return err
		}
		reactivated = true
	}
	link, err := account.Issue(sys, st.Client, u.ID, time.Now())
	if err != nil {
		return err
	}
	line := strings.Repeat("=", 72)
	fmt.Fprintf(stdout, "\n%s\n  One-time link to set a new password for %s (%s):\n\n    %s\n\n", line, u.Email, u.Role, link.URL(cfg.PublicBaseURL(cfg.Port)))
	fmt.Fprintf(stdout, "  It works once, until %s. The current password keeps working until then.\n", link.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
	if reactivated {
		fmt.Fprintf(stdout, "  The user was deactivated and is active again.\n")
	}
	fmt.Fprintf(stdout, "%s\n\n", line)
	return nil
}
