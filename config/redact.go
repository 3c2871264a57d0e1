package config

import (
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// redacted stands in for a secret that is set; unset secrets print as "".
const redacted = "[REDACTED]"

var _ slog.LogValuer = Config{}

// LogValue lets `logger.Info("starting", "config", cfg)` log the whole configuration
// without its secrets: JWT_SECRET, CREDENTIALS_KEY, ADMIN_PASSWORD and SMTP_PASS show
// only whether they are set, and a password inside DATABASE_URL is masked.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.Int("port", c.Port),
		slog.String("data_dir", c.DataDir),
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("driver", c.Driver),
		slog.String("dsn", redactURL(c.DSN)),
		slog.String("sqlite_path", c.SQLitePath),
		slog.String("jwt_secret", secret(len(c.JWTSecret) > 0)),
		slog.Duration("token_ttl", c.TokenTTL),
		slog.String("credentials_key", secret(len(c.CredentialsKey) > 0)),
		slog.String("admin_email", c.AdminEmail),
		slog.String("admin_password", secret(c.AdminPassword != "")),
		slog.Bool("sandbox", c.Sandbox),
		slog.Bool("demo", c.Demo),
	}
	for _, name := range slices.Sorted(maps.Keys(c.VendorURLs)) {
		attrs = append(attrs, slog.String(strings.ToLower(name), c.VendorURLs[name]))
	}
	return slog.GroupValue(append(attrs,
		slog.String("smtp_host", c.SMTPHost),
		slog.Int("smtp_port", c.SMTPPort),
		slog.String("smtp_user", c.SMTPUser),
		slog.String("smtp_pass", secret(c.SMTPPass != "")),
		slog.String("smtp_tls", c.SMTPTLS),
		slog.String("alert_from_email", c.AlertFromEmail),
		slog.Int("sync_log_retention_days", c.SyncLogRetentionDays),
		slog.Int("retry_max_attempts", c.RetryMaxAttempts),
		slog.Duration("retry_base_delay", c.RetryBaseDelay),
		slog.Duration("retry_max_delay", c.RetryMaxDelay),
		slog.Int("circuit_failure_threshold", c.CircuitFailureThreshold),
		slog.Int("circuit_open_seconds", c.CircuitOpenSeconds),
		slog.Int("sync_concurrency", c.SyncConcurrency),
		slog.Float64("vendor_down_ratio", c.VendorDownRatio),
		slog.Int("vendor_down_min_calls", c.VendorDownMinCalls),
		slog.Duration("vendor_down_window", c.VendorDownWindow),
		slog.Duration("vendor_probe_interval", c.VendorProbeInterval),
		slog.String("public_url", c.PublicURL),
		slog.Int("credentials_failures_before_pause", c.CredentialsFailuresBeforePause),
		slog.String("cors_allowed_origins", strings.Join(c.CORSAllowedOrigins, ",")),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("log_format", c.LogFormat),
	)...)
}

// String renders the configuration for humans with secrets redacted, so that
// fmt.Print(cfg), %v and %+v are safe.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("config.Config{")
	for i, a := range c.LogValue().Group() {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%s", a.Key, a.Value.String())
	}
	b.WriteString("}")
	return b.String()
}

// GoString makes %#v as safe as %v; without it fmt would print every field raw.
func (c Config) GoString() string { return c.String() }

func secret(set bool) string {
	if set {
		return redacted
	}
	return ""
}

// redactURL masks the password of a URL (postgres://user:pass@host) and the
// password=… parameter lib/pq also accepts. Non-URLs (SQLite DSNs) pass unchanged.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		if strings.Contains(s, "://") {
			return redacted // unparsable and may hold a password: show nothing
		}
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
