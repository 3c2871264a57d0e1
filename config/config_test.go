package config_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/config"
)

// env is a map-backed getenv.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// vendorURLs are the vendors' base URL variables as the server passes them
// (app.LoadConfig, from the vendor table), with their documented defaults.
var vendorURLs = []config.BaseURLVar{
	{Name: "SAMSARA_API_URL", Default: "https://api.samsara.com"},
	{Name: "TRUCKBASE_API_URL", Default: "https://api.truckbase.io/v1"},
	{Name: "FUELFINDER_API_URL", Default: "https://api.fuelfinder.com/v1"},
	{Name: "OPENWEATHER_API_URL", Default: "https://api.openweathermap.org/data/2.5"},
}

const (
	testJWTSecret = "0123456789abcdef0123456789abcdef-jwt"
	testPGURL     = "postgres://sally:hunter2pw@db.internal:5432/sally?sslmode=disable"
)

var testKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

func TestLoadDefaults(t *testing.T) {
	t.Parallel()

	cfg, err := config.Load(env{}.get, vendorURLs...)
	require.NoError(t, err)

	require.Equal(t, 8080, cfg.Port)
	require.Equal(t, "./data", cfg.DataDir)
	require.Empty(t, cfg.DatabaseURL)
	require.Equal(t, config.DriverSQLite, cfg.Driver)
	require.Equal(t, filepath.Join("./data", "sally.db"), cfg.SQLitePath)
	require.Equal(t, "file:"+filepath.Join("./data", "sally.db")+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate", cfg.DSN)
	require.True(t, cfg.Embedded())
	require.Nil(t, cfg.JWTSecret)
	require.Nil(t, cfg.CredentialsKey)
	require.Equal(t, 12*time.Hour, cfg.TokenTTL)
	require.Equal(t, "admin@localhost", cfg.AdminEmail)
	require.Empty(t, cfg.AdminPassword)
	require.True(t, cfg.Sandbox)
	require.True(t, cfg.Demo)
	defaults := map[string]string{}
	for _, v := range vendorURLs {
		defaults[v.Name] = v.Default
	}
	require.Equal(t, defaults, cfg.VendorURLs)
	require.Empty(t, cfg.SMTPHost)
	require.Equal(t, 587, cfg.SMTPPort)
	require.Empty(t, cfg.SMTPUser)
	require.Empty(t, cfg.SMTPPass)
	require.Equal(t, "starttls", cfg.SMTPTLS)
	require.Equal(t, "alerts@sally.app", cfg.AlertFromEmail)
	require.Equal(t, 90, cfg.SyncLogRetentionDays)
	require.Equal(t, 3, cfg.RetryMaxAttempts)
	require.Equal(t, time.Second, cfg.RetryBaseDelay)
	require.Equal(t, 10*time.Second, cfg.RetryMaxDelay)
	require.Equal(t, 5, cfg.CircuitFailureThreshold)
	require.Equal(t, 60, cfg.CircuitOpenSeconds)
	require.Equal(t, time.Minute, cfg.CircuitOpenDuration())
	require.Equal(t, 64, cfg.SyncConcurrency)
	require.Equal(t, 10, cfg.DatabaseMaxConns)
	require.Empty(t, cfg.TrustedProxies)
	require.Equal(t, 0.8, cfg.VendorDownRatio)
	require.Equal(t, 20, cfg.VendorDownMinCalls)
	require.Equal(t, 20*time.Second, cfg.VendorDownWindow)
	require.Equal(t, 30*time.Second, cfg.VendorProbeInterval)
	require.Empty(t, cfg.PublicURL)
	require.Equal(t, "http://localhost:8080", cfg.PublicBaseURL(8080))
	require.Equal(t, 3, cfg.CredentialsFailuresBeforePause)
	require.Empty(t, cfg.CORSAllowedOrigins)
	require.Equal(t, slog.LevelInfo, cfg.LogLevel)
	require.Equal(t, "text", cfg.LogFormat)
}

func TestLoadEveryVariable(t *testing.T) {
	t.Parallel()

	cfg, err := config.Load(env{
		"PORT":                              "9090",
		"DATA_DIR":                          "/var/lib/sally",
		"DATABASE_URL":                      testPGURL,
		"JWT_SECRET":                        testJWTSecret,
		"TOKEN_TTL":                         "30m",
		"CREDENTIALS_KEY":                   testKey,
		"ADMIN_EMAIL":                       " Root@Example.COM ",
		"ADMIN_PASSWORD":                    "correct horse battery",
		"SANDBOX":                           "true",
		"DEMO":                              "false",
		"SAMSARA_API_URL":                   "http://localhost:9000/samsara/",
		"TRUCKBASE_API_URL":                 "http://localhost:9000/truckbase",
		"FUELFINDER_API_URL":                "https://fuel.example.com/v2",
		"OPENWEATHER_API_URL":               "https://weather.example.com",
		"SMTP_HOST":                         "smtp.example.com",
		"SMTP_PORT":                         "465",
		"SMTP_USER":                         "mailer",
		"SMTP_PASS":                         "mail-password",
		"SMTP_TLS":                          "TLS",
		"ALERT_FROM_EMAIL":                  "Sally Alerts <alerts@example.com>",
		"SYNC_LOG_RETENTION_DAYS":           "30",
		"RETRY_MAX_ATTEMPTS":                "5",
		"RETRY_BASE_DELAY":                  "250ms",
		"RETRY_MAX_DELAY":                   "2s",
		"CIRCUIT_FAILURE_THRESHOLD":         "7",
		"CIRCUIT_OPEN_SECONDS":              "15",
		"SYNC_CONCURRENCY":                  "200",
		"DATABASE_MAX_CONNS":                "20",
		"TRUSTED_PROXIES":                   " 10.0.0.0/8, 192.168.1.7 ,::1",
		"VENDOR_DOWN_RATIO":                 "0.6",
		"VENDOR_DOWN_MIN_CALLS":             "50",
		"VENDOR_DOWN_WINDOW":                "45s",
		"VENDOR_PROBE_INTERVAL":             "10s",
		"PUBLIC_URL":                        " https://sally.example.com/console/ ",
		"CREDENTIALS_FAILURES_BEFORE_PAUSE": "5",
		"CORS_ALLOWED_ORIGINS":              " https://app.example.com , http://localhost:5173/ ,, ",
		"LOG_LEVEL":                         "DEBUG",
		"LOG_FORMAT":                        "json",
	}.get, vendorURLs...)
	require.NoError(t, err)

	require.Equal(t, 9090, cfg.Port)
	require.Equal(t, "/var/lib/sally", cfg.DataDir)
	require.Equal(t, testPGURL, cfg.DatabaseURL)
	require.Equal(t, config.DriverPostgres, cfg.Driver)
	require.Equal(t, testPGURL, cfg.DSN)
	require.Empty(t, cfg.SQLitePath)
	require.False(t, cfg.Embedded())
	require.Equal(t, []byte(testJWTSecret), cfg.JWTSecret)
	require.Equal(t, 30*time.Minute, cfg.TokenTTL)
	require.Equal(t, bytes.Repeat([]byte{7}, 32), cfg.CredentialsKey)
	require.Equal(t, "root@example.com", cfg.AdminEmail)
	require.Equal(t, "correct horse battery", cfg.AdminPassword)
	require.True(t, cfg.Sandbox)
	require.False(t, cfg.Demo)
	require.Equal(t, map[string]string{
		"SAMSARA_API_URL":     "http://localhost:9000/samsara",
		"TRUCKBASE_API_URL":   "http://localhost:9000/truckbase",
		"FUELFINDER_API_URL":  "https://fuel.example.com/v2",
		"OPENWEATHER_API_URL": "https://weather.example.com",
	}, cfg.VendorURLs)
	require.Equal(t, "smtp.example.com", cfg.SMTPHost)
	require.Equal(t, 465, cfg.SMTPPort)
	require.Equal(t, "mailer", cfg.SMTPUser)
	require.Equal(t, "mail-password", cfg.SMTPPass)
	require.Equal(t, "tls", cfg.SMTPTLS)
	require.Equal(t, "Sally Alerts <alerts@example.com>", cfg.AlertFromEmail)
	require.Equal(t, 30, cfg.SyncLogRetentionDays)
	require.Equal(t, 5, cfg.RetryMaxAttempts)
	require.Equal(t, 250*time.Millisecond, cfg.RetryBaseDelay)
	require.Equal(t, 2*time.Second, cfg.RetryMaxDelay)
	require.Equal(t, 7, cfg.CircuitFailureThreshold)
	require.Equal(t, 15, cfg.CircuitOpenSeconds)
	require.Equal(t, 200, cfg.SyncConcurrency)
	require.Equal(t, 20, cfg.DatabaseMaxConns)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("::1/128")}, cfg.TrustedProxies)
	require.Equal(t, 0.6, cfg.VendorDownRatio)
	require.Equal(t, 50, cfg.VendorDownMinCalls)
	require.Equal(t, 45*time.Second, cfg.VendorDownWindow)
	require.Equal(t, 10*time.Second, cfg.VendorProbeInterval)
	require.Equal(t, "https://sally.example.com/console", cfg.PublicURL)
	require.Equal(t, "https://sally.example.com/console", cfg.PublicBaseURL(9090))
	require.Equal(t, 5, cfg.CredentialsFailuresBeforePause)
	require.Equal(t, []string{"https://app.example.com", "http://localhost:5173"}, cfg.CORSAllowedOrigins)
	require.Equal(t, slog.LevelDebug, cfg.LogLevel)
	require.Equal(t, "json", cfg.LogFormat)
}

func TestLoadDerived(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		env   env
		check func(t *testing.T, cfg config.Config)
	}{
		{
			name: "SQLiteURL",
			env:  env{"DATABASE_URL": "sqlite:///srv/sally/other.db"},
			check: func(t *testing.T, cfg config.Config) {
				require.Equal(t, config.DriverSQLite, cfg.Driver)
				require.Equal(t, "/srv/sally/other.db", cfg.SQLitePath)
				require.Equal(t, "file:/srv/sally/other.db?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate", cfg.DSN)
				require.False(t, cfg.Sandbox, "SANDBOX defaults to true only without DATABASE_URL")
				require.False(t, cfg.Demo)
				require.Nil(t, cfg.JWTSecret, "SQLite may start without secrets")
			},
		},
		{
			name: "PostgresqlScheme",
			env:  env{"DATABASE_URL": "postgresql://u@h/db", "JWT_SECRET": testJWTSecret, "CREDENTIALS_KEY": testKey},
			check: func(t *testing.T, cfg config.Config) {
				require.Equal(t, config.DriverPostgres, cfg.Driver)
				require.Equal(t, "postgresql://u@h/db", cfg.DSN)
				require.False(t, cfg.Sandbox)
				require.False(t, cfg.Demo)
			},
		},
		{
			name: "DemoFollowsSandbox",
			env:  env{"DATABASE_URL": "sqlite:///x.db", "SANDBOX": "1"},
			check: func(t *testing.T, cfg config.Config) {
				require.True(t, cfg.Sandbox)
				require.True(t, cfg.Demo)
			},
		},
		{
			name: "SandboxOffTurnsDemoOff",
			env:  env{"SANDBOX": "false"},
			check: func(t *testing.T, cfg config.Config) {
				require.False(t, cfg.Sandbox)
				require.False(t, cfg.Demo)
			},
		},
		{
			name: "DataDirMovesSQLite",
			env:  env{"DATA_DIR": "/tmp/sally-x"},
			check: func(t *testing.T, cfg config.Config) {
				require.Equal(t, "/tmp/sally-x/sally.db", cfg.SQLitePath)
				require.True(t, strings.HasPrefix(cfg.DSN, "file:/tmp/sally-x/sally.db?"))
			},
		},
		{
			name: "PortZero",
			env:  env{"PORT": "0"},
			check: func(t *testing.T, cfg config.Config) {
				require.Equal(t, 0, cfg.Port)
			},
		},
		{
			name: "CredentialsKeyURLSafeUnpadded",
			env:  env{"CREDENTIALS_KEY": base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))},
			check: func(t *testing.T, cfg config.Config) {
				require.Equal(t, bytes.Repeat([]byte{0xfb}, 32), cfg.CredentialsKey)
			},
		},
		{
			name: "CORSWildcard",
			env:  env{"CORS_ALLOWED_ORIGINS": "*"},
			check: func(t *testing.T, cfg config.Config) {
				require.Equal(t, []string{"*"}, cfg.CORSAllowedOrigins)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load(tt.env.get)
			require.NoError(t, err)
			tt.check(t, cfg)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		env      env
		wantErr  []string // substrings of the error
		notInErr []string // e.g. secret values
	}{
		{name: "PortNotANumber", env: env{"PORT": "abc"}, wantErr: []string{`PORT: want an integer 0..65535, got "abc"`}},
		{name: "PortTooLarge", env: env{"PORT": "70000"}, wantErr: []string{"PORT: want an integer 0..65535"}},
		{name: "PortNegative", env: env{"PORT": "-1"}, wantErr: []string{"PORT:"}},
		{name: "DatabaseURLScheme", env: env{"DATABASE_URL": "mysql://root:toor@h/db"}, wantErr: []string{"DATABASE_URL:", `got scheme "mysql"`}, notInErr: []string{"toor"}},
		{name: "DatabaseURLNoScheme", env: env{"DATABASE_URL": "just-a-file.db"}, wantErr: []string{"DATABASE_URL:"}},
		{name: "DatabaseURLSQLiteEmpty", env: env{"DATABASE_URL": "sqlite://"}, wantErr: []string{"DATABASE_URL:"}},
		{name: "DatabaseURLSQLiteQuery", env: env{"DATABASE_URL": "sqlite:///x.db?mode=ro"}, wantErr: []string{"DATABASE_URL:"}},
		{name: "PostgresWithoutSecrets", env: env{"DATABASE_URL": testPGURL}, wantErr: []string{"JWT_SECRET and CREDENTIALS_KEY are required when DATABASE_URL points at PostgreSQL"}, notInErr: []string{"hunter2pw"}},
		{name: "PostgresWithoutJWTSecret", env: env{"DATABASE_URL": testPGURL, "CREDENTIALS_KEY": testKey}, wantErr: []string{"JWT_SECRET is required when DATABASE_URL points at PostgreSQL"}, notInErr: []string{"CREDENTIALS_KEY"}},
		{name: "PostgresWithoutCredentialsKey", env: env{"DATABASE_URL": testPGURL, "JWT_SECRET": testJWTSecret}, wantErr: []string{"CREDENTIALS_KEY is required when DATABASE_URL points at PostgreSQL"}, notInErr: []string{"JWT_SECRET"}},
		{name: "JWTSecretTooShort", env: env{"JWT_SECRET": "short-secret"}, wantErr: []string{"JWT_SECRET: want at least 32 bytes"}, notInErr: []string{"short-secret"}},
		{name: "TokenTTLBad", env: env{"TOKEN_TTL": "12 hours"}, wantErr: []string{`TOKEN_TTL: want a positive duration`, `"12 hours"`}},
		{name: "TokenTTLZero", env: env{"TOKEN_TTL": "0s"}, wantErr: []string{"TOKEN_TTL:"}},
		{name: "CredentialsKeyNotBase64", env: env{"CREDENTIALS_KEY": "not base64 at all!!"}, wantErr: []string{"CREDENTIALS_KEY: want 32 bytes in base64"}, notInErr: []string{"not base64 at all"}},
		{name: "CredentialsKeyWrongLength", env: env{"CREDENTIALS_KEY": base64.StdEncoding.EncodeToString([]byte("sixteen-byte-key"))}, wantErr: []string{"CREDENTIALS_KEY: want 32 bytes in base64", "got 16 bytes"}},
		{name: "AdminEmailBad", env: env{"ADMIN_EMAIL": "not-an-email"}, wantErr: []string{`ADMIN_EMAIL: want an email address`, `"not-an-email"`}},
		{name: "AdminEmailDisplayName", env: env{"ADMIN_EMAIL": "Root <root@example.com>"}, wantErr: []string{"ADMIN_EMAIL:"}},
		{name: "AdminPasswordShort", env: env{"ADMIN_PASSWORD": "tooshort"}, wantErr: []string{"ADMIN_PASSWORD: want at least 12 characters"}, notInErr: []string{"tooshort"}},
		{name: "AdminPasswordGuessable", env: env{"ADMIN_PASSWORD": "password1234"}, wantErr: []string{"ADMIN_PASSWORD: invalid password: must not be easy to guess"}, notInErr: []string{"password1234"}},
		{name: "AdminPasswordOwnEmail", env: env{"ADMIN_EMAIL": "ops@example.com", "ADMIN_PASSWORD": "ops@example.com"}, wantErr: []string{"ADMIN_PASSWORD: invalid password: must not be easy to guess"}},
		{name: "SandboxBad", env: env{"SANDBOX": "yes please"}, wantErr: []string{`SANDBOX: want true or false, got "yes please"`}},
		{name: "DemoBad", env: env{"DEMO": "maybe"}, wantErr: []string{`DEMO: want true or false`}},
		{name: "SamsaraURLBad", env: env{"SAMSARA_API_URL": "api.samsara.com"}, wantErr: []string{"SAMSARA_API_URL: want an absolute http(s) URL"}},
		{name: "TruckbaseURLBad", env: env{"TRUCKBASE_API_URL": "ftp://x"}, wantErr: []string{"TRUCKBASE_API_URL:"}},
		{name: "FuelFinderURLBad", env: env{"FUELFINDER_API_URL": "://"}, wantErr: []string{"FUELFINDER_API_URL:"}},
		{name: "OpenWeatherURLBad", env: env{"OPENWEATHER_API_URL": "https://x/?appid=1"}, wantErr: []string{"OPENWEATHER_API_URL:"}},
		{name: "SMTPHostWithPort", env: env{"SMTP_HOST": "smtp.example.com:587"}, wantErr: []string{`SMTP_HOST: want a host name or IP address such as smtp.example.com (the port goes in SMTP_PORT), got "smtp.example.com:587"`}},
		{name: "SMTPHostURL", env: env{"SMTP_HOST": "smtp://smtp.example.com"}, wantErr: []string{"SMTP_HOST: want a host name"}},
		{name: "SMTPHostSpace", env: env{"SMTP_HOST": "smtp example.com"}, wantErr: []string{"SMTP_HOST: want a host name"}},
		{name: "SMTPHostEmptyLabel", env: env{"SMTP_HOST": "smtp..example.com"}, wantErr: []string{"SMTP_HOST: want a host name"}},
		{name: "SMTPPortBad", env: env{"SMTP_PORT": "0"}, wantErr: []string{`SMTP_PORT: want an integer 1..65535, got "0"`}},
		{name: "SMTPTLSBad", env: env{"SMTP_TLS": "ssl"}, wantErr: []string{`SMTP_TLS: want one of starttls, tls, none, got "ssl"`}},
		{name: "AlertFromEmailBad", env: env{"ALERT_FROM_EMAIL": "alerts"}, wantErr: []string{"ALERT_FROM_EMAIL:"}},
		{name: "RetentionBad", env: env{"SYNC_LOG_RETENTION_DAYS": "0"}, wantErr: []string{"SYNC_LOG_RETENTION_DAYS: want an integer 1..36500"}},
		{name: "RetryMaxAttemptsBad", env: env{"RETRY_MAX_ATTEMPTS": "zero"}, wantErr: []string{"RETRY_MAX_ATTEMPTS: want an integer 1..100"}},
		{name: "RetryBaseDelayBad", env: env{"RETRY_BASE_DELAY": "1"}, wantErr: []string{"RETRY_BASE_DELAY: want a positive duration"}},
		{name: "RetryMaxDelayBad", env: env{"RETRY_MAX_DELAY": "-5s"}, wantErr: []string{"RETRY_MAX_DELAY: want a positive duration"}},
		{name: "RetryMaxBelowBase", env: env{"RETRY_BASE_DELAY": "5s", "RETRY_MAX_DELAY": "1s"}, wantErr: []string{"RETRY_MAX_DELAY: want at least RETRY_BASE_DELAY"}},
		{name: "CircuitThresholdBad", env: env{"CIRCUIT_FAILURE_THRESHOLD": "0"}, wantErr: []string{"CIRCUIT_FAILURE_THRESHOLD: want an integer"}},
		{name: "CircuitOpenSecondsBad", env: env{"CIRCUIT_OPEN_SECONDS": "1m"}, wantErr: []string{"CIRCUIT_OPEN_SECONDS: want an integer"}},
		{name: "DatabaseMaxConnsOne", env: env{"DATABASE_MAX_CONNS": "1"}, wantErr: []string{`DATABASE_MAX_CONNS: want an integer 2..10000, got "1"`}},
		{name: "TrustedProxiesGarbage", env: env{"TRUSTED_PROXIES": "10.0.0.0/8,lb.example.com"}, wantErr: []string{`TRUSTED_PROXIES: want comma-separated IP addresses or CIDR prefixes such as 10.0.0.0/8, got "lb.example.com"`}},
		{name: "SyncConcurrencyZero", env: env{"SYNC_CONCURRENCY": "0"}, wantErr: []string{`SYNC_CONCURRENCY: want an integer 1..10000, got "0"`}},
		{name: "SyncConcurrencyNotANumber", env: env{"SYNC_CONCURRENCY": "lots"}, wantErr: []string{`SYNC_CONCURRENCY: want an integer 1..10000, got "lots"`}},
		{name: "SyncConcurrencyTooLarge", env: env{"SYNC_CONCURRENCY": "10001"}, wantErr: []string{"SYNC_CONCURRENCY: want an integer 1..10000"}},
		{name: "PublicURLNotAbsolute", env: env{"PUBLIC_URL": "sally.example.com"}, wantErr: []string{`PUBLIC_URL: want an absolute http(s) URL`}},
		{name: "PublicURLWithQuery", env: env{"PUBLIC_URL": "https://sally.example.com/?x=1"}, wantErr: []string{`PUBLIC_URL: want an absolute http(s) URL`}},
		{name: "CredentialsFailuresZero", env: env{"CREDENTIALS_FAILURES_BEFORE_PAUSE": "0"}, wantErr: []string{`CREDENTIALS_FAILURES_BEFORE_PAUSE: want an integer 1..1000, got "0"`}},
		{name: "VendorDownRatioZero", env: env{"VENDOR_DOWN_RATIO": "0"}, wantErr: []string{`VENDOR_DOWN_RATIO: want a fraction above 0 and at most 1, such as 0.8, got "0"`}},
		{name: "VendorDownRatioAboveOne", env: env{"VENDOR_DOWN_RATIO": "1.5"}, wantErr: []string{"VENDOR_DOWN_RATIO:"}},
		{name: "VendorDownRatioPercent", env: env{"VENDOR_DOWN_RATIO": "80%"}, wantErr: []string{"VENDOR_DOWN_RATIO:"}},
		{name: "VendorDownRatioNaN", env: env{"VENDOR_DOWN_RATIO": "NaN"}, wantErr: []string{"VENDOR_DOWN_RATIO:"}},
		{name: "VendorDownMinCallsBad", env: env{"VENDOR_DOWN_MIN_CALLS": "0"}, wantErr: []string{"VENDOR_DOWN_MIN_CALLS: want an integer 1..1000000"}},
		{name: "VendorDownWindowBad", env: env{"VENDOR_DOWN_WINDOW": "20"}, wantErr: []string{"VENDOR_DOWN_WINDOW: want a positive duration"}},
		{name: "VendorProbeIntervalBad", env: env{"VENDOR_PROBE_INTERVAL": "-1s"}, wantErr: []string{"VENDOR_PROBE_INTERVAL: want a positive duration"}},
		{name: "CORSOriginWithPath", env: env{"CORS_ALLOWED_ORIGINS": "https://ok.example.com,https://app.example.com/login"}, wantErr: []string{`CORS_ALLOWED_ORIGINS: want comma-separated origins`, `"https://app.example.com/login"`}},
		{name: "LogLevelBad", env: env{"LOG_LEVEL": "verbose"}, wantErr: []string{`LOG_LEVEL: want one of debug, info, warn, error, got "verbose"`}},
		{name: "LogFormatBad", env: env{"LOG_FORMAT": "xml"}, wantErr: []string{`LOG_FORMAT: want one of text, json, got "xml"`}},
		{name: "SeveralAtOnce", env: env{"PORT": "x", "LOG_FORMAT": "xml"}, wantErr: []string{"PORT:", "LOG_FORMAT:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(tt.env.get, vendorURLs...)
			require.Error(t, err)
			for _, want := range tt.wantErr {
				require.Contains(t, err.Error(), want)
			}
			for _, not := range tt.notInErr {
				require.NotContains(t, err.Error(), not)
			}
		})
	}
}

func TestEnsureSecrets(t *testing.T) {
	t.Parallel()

	t.Run("GeneratesAndReuses", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "nested", "data")
		e := env{"DATA_DIR": dir}

		first := load(t, e)
		require.NoError(t, first.EnsureSecrets())
		require.GreaterOrEqual(t, len(first.JWTSecret), config.MinJWTSecretLen)
		require.Len(t, first.CredentialsKey, 32)

		fi, err := os.Stat(dir)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
		fi, err = os.Stat(filepath.Join(dir, config.SecretsFile))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

		second := load(t, e)
		require.NoError(t, second.EnsureSecrets())
		require.Equal(t, first.JWTSecret, second.JWTSecret)
		require.Equal(t, first.CredentialsKey, second.CredentialsKey)

		other := load(t, env{"DATA_DIR": t.TempDir()})
		require.NoError(t, other.EnsureSecrets())
		require.NotEqual(t, first.JWTSecret, other.JWTSecret)
		require.NotEqual(t, first.CredentialsKey, other.CredentialsKey)
	})

	t.Run("EnvironmentWinsAndIsNotWritten", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		cfg := load(t, env{"DATA_DIR": dir, "JWT_SECRET": testJWTSecret})
		require.NoError(t, cfg.EnsureSecrets())
		require.Equal(t, []byte(testJWTSecret), cfg.JWTSecret)
		require.Len(t, cfg.CredentialsKey, 32)

		b, err := os.ReadFile(filepath.Join(dir, config.SecretsFile))
		require.NoError(t, err)
		require.NotContains(t, string(b), testJWTSecret)
		var stored map[string]string
		require.NoError(t, json.Unmarshal(b, &stored))
		require.Equal(t, base64.StdEncoding.EncodeToString(cfg.CredentialsKey), stored["CREDENTIALS_KEY"])
	})

	t.Run("BothFromEnvironmentWritesNothing", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "data")
		cfg := load(t, env{"DATA_DIR": dir, "JWT_SECRET": testJWTSecret, "CREDENTIALS_KEY": testKey})
		require.NoError(t, cfg.EnsureSecrets())
		_, err := os.Stat(filepath.Join(dir, config.SecretsFile))
		require.ErrorIs(t, err, os.ErrNotExist)
	})

	t.Run("TightensLooseFile", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		first := load(t, env{"DATA_DIR": dir})
		require.NoError(t, first.EnsureSecrets())
		path := filepath.Join(dir, config.SecretsFile)
		require.NoError(t, os.Chmod(path, 0o644))

		second := load(t, env{"DATA_DIR": dir})
		require.NoError(t, second.EnsureSecrets())
		require.Equal(t, first.CredentialsKey, second.CredentialsKey)
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	})

	t.Run("CorruptFileIsAnError", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, config.SecretsFile)
		require.NoError(t, os.WriteFile(path, []byte(`{"CREDENTIALS_KEY": "c2VjcmV0LXRoYXQtaXMtdG9vLXNob3J0"}`), 0o600))
		cfg := load(t, env{"DATA_DIR": dir})
		err := cfg.EnsureSecrets()
		require.ErrorContains(t, err, "CREDENTIALS_KEY is not 32 bytes")
		require.NotContains(t, err.Error(), "c2VjcmV0")

		require.NoError(t, os.WriteFile(path, []byte(`{not json`), 0o600))
		cfg = load(t, env{"DATA_DIR": dir})
		require.ErrorContains(t, cfg.EnsureSecrets(), "is not valid JSON")
	})

	t.Run("PostgresNeedsEnvironment", func(t *testing.T) {
		t.Parallel()
		cfg := load(t, env{"DATABASE_URL": testPGURL, "JWT_SECRET": testJWTSecret, "CREDENTIALS_KEY": testKey})
		require.NoError(t, cfg.EnsureSecrets())

		cfg.CredentialsKey = nil
		require.ErrorContains(t, cfg.EnsureSecrets(), "required when DATABASE_URL points at PostgreSQL")
	})
}

func TestRedaction(t *testing.T) {
	t.Parallel()

	cfg := load(t, env{
		"DATABASE_URL":    testPGURL,
		"JWT_SECRET":      testJWTSecret,
		"CREDENTIALS_KEY": testKey,
		"ADMIN_PASSWORD":  "admin-password-123",
		"SMTP_PASS":       "smtp-password-456",
		"SMTP_USER":       "mailer",
	})
	secrets := []string{
		testJWTSecret, testKey, string(cfg.CredentialsKey),
		fmt.Sprintf("%x", cfg.CredentialsKey), fmt.Sprint(cfg.CredentialsKey),
		"admin-password-123", "smtp-password-456", "hunter2pw",
	}

	var text, jsonOut bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("starting", "config", cfg)
	slog.New(slog.NewJSONHandler(&jsonOut, nil)).Info("starting", "config", &cfg)

	outputs := map[string]string{
		"Sprint":     fmt.Sprint(cfg),
		"Sprintf%v":  fmt.Sprintf("%v", cfg),
		"Sprintf%+v": fmt.Sprintf("%+v", cfg),
		"Sprintf%#v": fmt.Sprintf("%#v", cfg),
		"Sprintf%s":  fmt.Sprintf("%s", &cfg), //lint:ignore S1025 the test is what %s prints
		"slogText":   text.String(),
		"slogJSON":   jsonOut.String(),
	}
	for name, out := range outputs {
		for _, s := range secrets {
			require.NotContains(t, out, s, name)
		}
		require.Contains(t, out, "mailer", name) // non-secrets still show
		require.Contains(t, out, "db.internal", name)
		require.Contains(t, out, "[REDACTED]", name)
		require.Contains(t, out, "openweather_api_url", name) // each vendor's base URL, by its variable
	}
}

// Load reads the base URL variables it is given, and no other: the vendors are the
// sync engine's (app.LoadConfig passes every one).
func TestLoadVendorURLsGiven(t *testing.T) {
	t.Parallel()
	e := env{"SAMSARA_API_URL": "https://eu.example.com/", "ACME_API_URL": "not a URL"}
	cfg, err := config.Load(e.get, config.BaseURLVar{Name: "SAMSARA_API_URL", Default: "https://api.samsara.com"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"SAMSARA_API_URL": "https://eu.example.com"}, cfg.VendorURLs)

	cfg, err = config.Load(e.get)
	require.NoError(t, err)
	require.Empty(t, cfg.VendorURLs)
}

func TestNewLogger(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		env       env
		wantDebug bool
		wantJSON  bool
	}{
		{name: "DefaultsTextInfo", env: env{}},
		{name: "JSONDebug", env: env{"LOG_FORMAT": "json", "LOG_LEVEL": "debug"}, wantDebug: true, wantJSON: true},
		{name: "Error", env: env{"LOG_LEVEL": "error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			logger := config.NewLogger(load(t, tt.env), &buf)
			logger.Debug("debug-line")
			logger.Error("error-line")
			require.Equal(t, tt.wantDebug, strings.Contains(buf.String(), "debug-line"))
			require.Contains(t, buf.String(), "error-line")
			require.Equal(t, tt.wantJSON, strings.HasPrefix(buf.String(), "{"))
		})
	}
}

func load(t *testing.T, e env) config.Config {
	t.Helper()
	cfg, err := config.Load(e.get, vendorURLs...)
	require.NoError(t, err)
	return cfg
}
