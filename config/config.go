// Package config turns the process environment into one typed Config.
//
// Load is the only place in the service that reads the environment (through the
// getenv function it is given, so tests pass a map). It is pure: it parses and
// validates, and never touches the filesystem. The embedded default (SQLite) may start
// without secrets; EnsureSecrets then generates them once under DataDir and reuses them
// on later starts. Production (PostgreSQL) must set them: Load refuses to go on
// without them, because replicas must share one key and a generated one would lock
// every other replica out.
//
// The names and defaults follow shared/docs/runtime.md ("Environment") to the letter.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sallyhq/sally/auth"
)

// Defaults, named so that callers, tests and docs agree on one value each.
const (
	DefaultPort                    = 8080
	DefaultDataDir                 = "./data"
	DefaultTokenTTL                = 12 * time.Hour
	DefaultAdminEmail              = "admin@localhost"
	DefaultSMTPPort                = 587
	DefaultSMTPTLS                 = SMTPTLSStartTLS
	DefaultAlertFromEmail          = "alerts@sally.app"
	DefaultSyncLogRetentionDays    = 90
	DefaultRetryMaxAttempts        = 3
	DefaultRetryBaseDelay          = time.Second
	DefaultRetryMaxDelay           = 10 * time.Second
	DefaultCircuitFailureThreshold = 5
	DefaultCircuitOpenSeconds      = 60
	DefaultSyncConcurrency         = 64
	// DefaultDatabaseMaxConns is DATABASE_MAX_CONNS on PostgreSQL: with it, 9 replicas
	// (each its pool of 9 and its event listener) fit PostgreSQL's default
	// max_connections of 100, with room for an operator's psql.
	DefaultDatabaseMaxConns    = 10
	DefaultVendorDownRatio     = 0.8
	DefaultVendorDownMinCalls  = 20
	DefaultVendorDownWindow    = 20 * time.Second
	DefaultVendorProbeInterval = 30 * time.Second
	// DefaultCredentialsFailuresBeforePause is CREDENTIALS_FAILURES_BEFORE_PAUSE's
	// default: consecutive syncs the vendor refused the credentials of (401/403)
	// before the integration becomes NEEDS_CREDENTIALS.
	DefaultCredentialsFailuresBeforePause = 3
	DefaultLogLevel                       = slog.LevelInfo
	DefaultLogFormat                      = LogFormatText

	// SQLiteFile is the database file name of the embedded default inside DataDir.
	SQLiteFile = "sally.db"

	// MinJWTSecretLen is the shortest JWT_SECRET accepted, in bytes: an HMAC-SHA256
	// key shorter than the hash invites offline guessing of the key from one token.
	MinJWTSecretLen = 32
	// CredentialsKeyLen is the length of CREDENTIALS_KEY once base64-decoded: an
	// AES-256 key.
	CredentialsKeyLen = 32
	// MinAdminPasswordLen matches the contract's "password at least 12 characters".
	MinAdminPasswordLen = 12
)

// Database drivers, as the lead's store expects them in Config.Driver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// SMTP_TLS modes.
const (
	SMTPTLSStartTLS = "starttls"
	SMTPTLSImplicit = "tls"
	SMTPTLSNone     = "none"
)

// LOG_FORMAT values.
const (
	LogFormatText = "text"
	LogFormatJSON = "json"
)

// sqlitePragmas are appended to every SQLite DSN: foreign keys on (SQLite leaves them
// off), a generous busy timeout and WAL so the syncer and the API don't trip over each
// other's locks, and immediate transactions so writers queue instead of failing with
// SQLITE_BUSY on upgrade.
const sqlitePragmas = "?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"

// Config is the whole runtime configuration. Fields holding secrets (JWTSecret,
// CredentialsKey, AdminPassword, SMTPPass, and any password inside DatabaseURL/DSN) are
// redacted by String, GoString and LogValue, so a Config may be printed or logged
// whole; never log those fields one by one.
type Config struct {
	Port    int    // PORT; 0 = pick a free port
	DataDir string // DATA_DIR

	// DatabaseURL is DATABASE_URL as given (empty = the embedded SQLite default).
	DatabaseURL string
	// Driver is DriverSQLite or DriverPostgres, derived from DatabaseURL.
	Driver string
	// DSN is what to hand to sql.Open(Driver, DSN): for PostgreSQL DATABASE_URL as
	// given, for SQLite a "file:" DSN with the pragmas the service needs.
	DSN string
	// SQLitePath is the SQLite database file; empty for PostgreSQL.
	SQLitePath string

	JWTSecret      []byte        // JWT_SECRET (raw bytes of the variable); nil until EnsureSecrets on SQLite
	TokenTTL       time.Duration // TOKEN_TTL
	CredentialsKey []byte        // CREDENTIALS_KEY, decoded: 32 bytes; nil until EnsureSecrets on SQLite

	AdminEmail    string // ADMIN_EMAIL, lower-cased
	AdminPassword string // ADMIN_PASSWORD; empty = the server generates one and prints it once

	Sandbox bool // SANDBOX
	Demo    bool // DEMO

	// VendorURLs are the vendors' base URLs (SAMSARA_API_URL, …), by variable name,
	// each without a trailing slash: one for each variable Load was given, its
	// default when unset.
	VendorURLs map[string]string

	SMTPHost       string // SMTP_HOST; empty = alerts are recorded but not mailed
	SMTPPort       int    // SMTP_PORT
	SMTPUser       string // SMTP_USER
	SMTPPass       string // SMTP_PASS
	SMTPTLS        string // SMTP_TLS: SMTPTLSStartTLS, SMTPTLSImplicit or SMTPTLSNone
	AlertFromEmail string // ALERT_FROM_EMAIL

	SyncLogRetentionDays int // SYNC_LOG_RETENTION_DAYS

	RetryMaxAttempts        int           // RETRY_MAX_ATTEMPTS, the first try included
	RetryBaseDelay          time.Duration // RETRY_BASE_DELAY
	RetryMaxDelay           time.Duration // RETRY_MAX_DELAY
	CircuitFailureThreshold int           // CIRCUIT_FAILURE_THRESHOLD
	CircuitOpenSeconds      int           // CIRCUIT_OPEN_SECONDS

	// SyncConcurrency is SYNC_CONCURRENCY: the syncs one server runs at once. They
	// wait on vendors, not the CPU, so it is far above the core count; each vendor
	// gets a fair share of them while others have due work.
	SyncConcurrency int

	// DatabaseMaxConns is DATABASE_MAX_CONNS: the most PostgreSQL connections one
	// server opens, its event listener included (so its pool has one fewer).
	DatabaseMaxConns int

	// TrustedProxies are TRUSTED_PROXIES: the load balancers (addresses or CIDR
	// prefixes) whose X-Forwarded-For names the client, for the per-address login
	// limit; from any other peer the header is ignored.
	TrustedProxies []netip.Prefix
	// Vendor-wide health: a vendor is down for everyone when, over the last
	// VendorDownWindow, at least VendorDownMinCalls calls to it were made (by every
	// server together) and at least VendorDownRatio of them failed with a
	// vendor-health error; one probe per VendorProbeInterval checks for recovery.
	VendorDownRatio     float64       // VENDOR_DOWN_RATIO, 0 < r <= 1
	VendorDownMinCalls  int           // VENDOR_DOWN_MIN_CALLS
	VendorDownWindow    time.Duration // VENDOR_DOWN_WINDOW
	VendorProbeInterval time.Duration // VENDOR_PROBE_INTERVAL

	// PublicURL is PUBLIC_URL without a trailing slash: the address people reach the
	// web page at; links in emails start with it. Empty when unset: PublicBaseURL
	// then answers http://localhost:<the port the server listens on>.
	PublicURL string
	// CredentialsFailuresBeforePause is CREDENTIALS_FAILURES_BEFORE_PAUSE.
	CredentialsFailuresBeforePause int

	// CORSAllowedOrigins are the browser origins allowed (CORS_ALLOWED_ORIGINS), each
	// trimmed and without a trailing slash; "*" allows any; empty = same origin only.
	CORSAllowedOrigins []string

	LogLevel  slog.Level // LOG_LEVEL
	LogFormat string     // LOG_FORMAT: LogFormatText or LogFormatJSON
}

// Embedded reports whether this is the embedded default (no DATABASE_URL): the case
// in which SANDBOX and DEMO default to true.
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

// CircuitOpenDuration is CircuitOpenSeconds as a time.Duration, the form the
// resilience policies take.
func (c Config) CircuitOpenDuration() time.Duration {
	return time.Duration(c.CircuitOpenSeconds) * time.Second
}

// PublicBaseURL is where links in emails point: PUBLIC_URL, or
// http://localhost:<port> when it is unset (port: the one the server listens on).
func (c Config) PublicBaseURL(port int) string {
	if c.PublicURL != "" {
		return c.PublicURL
	}
	return fmt.Sprintf("http://localhost:%d", port)
}

// BaseURLVar is a variable holding a vendor's base URL, and its default (the
// vendor's production API). The vendors are the sync engine's: the server passes
// every vendor's (app.LoadConfig), so that this package need not know them.
type BaseURLVar struct {
	Name, Default string
}

// Load reads and validates the configuration through getenv (os.Getenv in main, a
// map lookup in tests), and the vendors' base URLs from vendorURLs. It reports every
// bad variable at once (errors.Join), each error naming the variable and what it
// expects; values of secret variables are never echoed. It writes nothing: call
// EnsureSecrets afterwards.
func Load(getenv func(string) string, vendorURLs ...BaseURLVar) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		Port:    p.int("PORT", DefaultPort, 0, 65535),
		DataDir: p.str("DATA_DIR", DefaultDataDir),
	}
	c.DatabaseURL = p.str("DATABASE_URL", "")
	p.database(&c)

	embedded := c.DatabaseURL == ""
	c.TokenTTL = p.duration("TOKEN_TTL", DefaultTokenTTL)
	c.JWTSecret = p.jwtSecret()
	c.CredentialsKey = p.credentialsKey()
	if c.Driver == DriverPostgres {
		var missing []string
		if p.str("JWT_SECRET", "") == "" {
			missing = append(missing, "JWT_SECRET")
		}
		if p.str("CREDENTIALS_KEY", "") == "" {
			missing = append(missing, "CREDENTIALS_KEY")
		}
		if len(missing) > 0 {
			verb := "is"
			if len(missing) > 1 {
				verb = "are"
			}
			p.errs = append(p.errs, fmt.Errorf("%s %s required when DATABASE_URL points at PostgreSQL (replicas must share them)",
				strings.Join(missing, " and "), verb))
		}
	}

	c.AdminEmail = p.email("ADMIN_EMAIL", DefaultAdminEmail)
	c.AdminPassword = p.adminPassword(c.AdminEmail)

	c.Sandbox = p.bool("SANDBOX", embedded)
	c.Demo = p.bool("DEMO", c.Sandbox)

	c.VendorURLs = make(map[string]string, len(vendorURLs))
	for _, v := range vendorURLs {
		c.VendorURLs[v.Name] = p.baseURL(v.Name, v.Default)
	}

	c.SMTPHost = p.host("SMTP_HOST")
	c.SMTPPort = p.int("SMTP_PORT", DefaultSMTPPort, 1, 65535)
	c.SMTPUser = p.str("SMTP_USER", "")
	c.SMTPPass = p.getenv("SMTP_PASS") // as given: a password may end in a space
	c.SMTPTLS = p.oneOf("SMTP_TLS", DefaultSMTPTLS, SMTPTLSStartTLS, SMTPTLSImplicit, SMTPTLSNone)
	c.AlertFromEmail = p.fromAddress("ALERT_FROM_EMAIL", DefaultAlertFromEmail)

	c.SyncLogRetentionDays = p.int("SYNC_LOG_RETENTION_DAYS", DefaultSyncLogRetentionDays, 1, 36500)

	c.RetryMaxAttempts = p.int("RETRY_MAX_ATTEMPTS", DefaultRetryMaxAttempts, 1, 100)
	c.RetryBaseDelay = p.duration("RETRY_BASE_DELAY", DefaultRetryBaseDelay)
	c.RetryMaxDelay = p.duration("RETRY_MAX_DELAY", DefaultRetryMaxDelay)
	if c.RetryBaseDelay > 0 && c.RetryMaxDelay > 0 && c.RetryMaxDelay < c.RetryBaseDelay {
		p.errs = append(p.errs, fmt.Errorf("RETRY_MAX_DELAY: want at least RETRY_BASE_DELAY (%s), got %s", c.RetryBaseDelay, c.RetryMaxDelay))
	}
	c.CircuitFailureThreshold = p.int("CIRCUIT_FAILURE_THRESHOLD", DefaultCircuitFailureThreshold, 1, 1_000_000)
	c.CircuitOpenSeconds = p.int("CIRCUIT_OPEN_SECONDS", DefaultCircuitOpenSeconds, 1, 86400)

	c.SyncConcurrency = p.int("SYNC_CONCURRENCY", DefaultSyncConcurrency, 1, 10_000)
	c.DatabaseMaxConns = p.int("DATABASE_MAX_CONNS", DefaultDatabaseMaxConns, 2, 10_000)
	c.TrustedProxies = p.prefixes("TRUSTED_PROXIES")
	c.VendorDownRatio = p.ratio("VENDOR_DOWN_RATIO", DefaultVendorDownRatio)
	c.VendorDownMinCalls = p.int("VENDOR_DOWN_MIN_CALLS", DefaultVendorDownMinCalls, 1, 1_000_000)
	c.VendorDownWindow = p.duration("VENDOR_DOWN_WINDOW", DefaultVendorDownWindow)
	c.VendorProbeInterval = p.duration("VENDOR_PROBE_INTERVAL", DefaultVendorProbeInterval)

	c.CORSAllowedOrigins = p.origins("CORS_ALLOWED_ORIGINS")

	c.PublicURL = p.publicURL("PUBLIC_URL")
	c.CredentialsFailuresBeforePause = p.int("CREDENTIALS_FAILURES_BEFORE_PAUSE", DefaultCredentialsFailuresBeforePause, 1, 1000)

	c.LogLevel = p.logLevel("LOG_LEVEL")
	c.LogFormat = p.oneOf("LOG_FORMAT", DefaultLogFormat, LogFormatText, LogFormatJSON)

	if err := errors.Join(p.errs...); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// NewLogger builds the service's logger: LOG_FORMAT picks text or JSON, LOG_LEVEL the
// minimum level. main passes stderr; tests pass a buffer or t.Output().
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == LogFormatJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parser collects one error per bad variable, so an operator fixes them all in one go.
type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, want, got string) {
	p.errs = append(p.errs, fmt.Errorf("%s: want %s, got %q", name, want, got))
}

// str is the trimmed value of name, or def when unset or blank.
func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

// host is a host name or IP address (no port, scheme or path), "" when unset.
func (p *parser) host(name string) string {
	v := p.str(name, "")
	if v == "" {
		return ""
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return v
	}
	ok := len(v) <= 253
	for label := range strings.SplitSeq(strings.TrimSuffix(v, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			ok = false
			break
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				ok = false
				break
			}
		}
	}
	if !ok {
		p.fail(name, "a host name or IP address such as smtp.example.com (the port goes in SMTP_PORT)", v)
		return ""
	}
	return v
}

func (p *parser) int(name string, def, lo, hi int) int {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, fmt.Sprintf("an integer %d..%d", lo, hi), v)
		return def
	}
	return n
}

// ratio is a fraction in (0, 1].
func (p *parser) ratio(name string, def float64) float64 {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0 && f <= 1) {
		p.fail(name, "a fraction above 0 and at most 1, such as 0.8", v)
		return def
	}
	return f
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.fail(name, "a positive duration such as 1s, 10m or 12h", v)
		return def
	}
	return d
}

func (p *parser) bool(name string, def bool) bool {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, "true or false", v)
		return def
	}
	return b
}

// oneOf accepts one of the allowed values, case-insensitively, and returns it lower-case.
func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(strings.TrimSpace(p.getenv(name)))
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(name, "one of "+strings.Join(allowed, ", "), v)
	return def
}

func (p *parser) logLevel(name string) slog.Level {
	switch v := strings.ToLower(strings.TrimSpace(p.getenv(name))); v {
	case "":
		return DefaultLogLevel
	case "debug":
		return slog.LevelDebug
	case "info":
		return slog.LevelInfo
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		p.fail(name, "one of debug, info, warn, error", v)
		return DefaultLogLevel
	}
}

// database derives Driver, DSN and SQLitePath from DATABASE_URL. Errors name only the
// scheme, never the URL: it may hold a password.
func (p *parser) database(c *Config) {
	const want = "postgres://…, postgresql://… or sqlite:///path/file.db"
	if c.DatabaseURL == "" {
		c.Driver = DriverSQLite
		c.SQLitePath = filepath.Join(c.DataDir, SQLiteFile)
		c.DSN = sqliteDSN(c.SQLitePath)
		return
	}
	scheme, rest, ok := strings.Cut(c.DatabaseURL, "://")
	if !ok {
		p.errs = append(p.errs, fmt.Errorf("DATABASE_URL: want %s, got a value without a scheme", want))
		return
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		if _, err := url.Parse(c.DatabaseURL); err != nil {
			p.errs = append(p.errs, errors.New("DATABASE_URL: want a valid postgres:// URL, got one that does not parse"))
			return
		}
		c.Driver = DriverPostgres
		c.DSN = c.DatabaseURL
	case "sqlite":
		if rest == "" || rest == "/" || strings.ContainsAny(rest, "?#") {
			p.errs = append(p.errs, fmt.Errorf("DATABASE_URL: want sqlite:///path/file.db (a file path, no query), got %q", c.DatabaseURL))
			return
		}
		c.Driver = DriverSQLite
		c.SQLitePath = rest
		c.DSN = sqliteDSN(rest)
	default:
		p.errs = append(p.errs, fmt.Errorf("DATABASE_URL: want %s, got scheme %q", want, scheme))
	}
}

func sqliteDSN(path string) string { return "file:" + path + sqlitePragmas }

// jwtSecret is JWT_SECRET as raw bytes (trimmed), nil when unset. The value is never
// echoed in errors.
func (p *parser) jwtSecret() []byte {
	v := strings.TrimSpace(p.getenv("JWT_SECRET"))
	if v == "" {
		return nil
	}
	if len(v) < MinJWTSecretLen {
		p.errs = append(p.errs, fmt.Errorf("JWT_SECRET: want at least %d bytes (e.g. openssl rand -base64 32), got %d bytes", MinJWTSecretLen, len(v)))
		return nil
	}
	return []byte(v)
}

// credentialsKey decodes CREDENTIALS_KEY, nil when unset. The value is never echoed.
func (p *parser) credentialsKey() []byte {
	v := strings.TrimSpace(p.getenv("CREDENTIALS_KEY"))
	if v == "" {
		return nil
	}
	key, err := decodeKey(v)
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("CREDENTIALS_KEY: want %d bytes in base64 (e.g. openssl rand -base64 32), got a value that is not base64", CredentialsKeyLen))
		return nil
	}
	if len(key) != CredentialsKeyLen {
		p.errs = append(p.errs, fmt.Errorf("CREDENTIALS_KEY: want %d bytes in base64 (e.g. openssl rand -base64 32), got %d bytes", CredentialsKeyLen, len(key)))
		return nil
	}
	return key
}

// decodeKey accepts standard and URL-safe base64, padded or not, since operators paste
// keys from different tools.
func decodeKey(s string) ([]byte, error) {
	var firstErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// adminPassword is ADMIN_PASSWORD, held to the rule of every password
// (auth.ValidatePassword, which also refuses the admin's own email).
func (p *parser) adminPassword(email string) string {
	v := p.getenv("ADMIN_PASSWORD") // as given: spaces may be part of a password
	if strings.TrimSpace(v) == "" {
		return ""
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) < MinAdminPasswordLen {
		p.errs = append(p.errs, fmt.Errorf("ADMIN_PASSWORD: want at least %d characters of UTF-8 text, or unset to generate one", MinAdminPasswordLen))
		return ""
	}
	if err := auth.ValidatePassword(v, email); err != nil {
		p.errs = append(p.errs, fmt.Errorf("ADMIN_PASSWORD: %w, or unset to generate one", err))
		return ""
	}
	return v
}

// email accepts a bare address (no display name) and lower-cases it; "admin@localhost"
// is valid, so a dot in the domain is not required.
func (p *parser) email(name, def string) string {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || !strings.EqualFold(a.Address, v) || len(v) > 254 {
		p.fail(name, "an email address such as admin@example.com", v)
		return def
	}
	return strings.ToLower(v)
}

// fromAddress accepts an address with or without a display name ("Sally <alerts@x>"),
// as a From header does; it is kept as given.
func (p *parser) fromAddress(name, def string) string {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	if _, err := mail.ParseAddress(v); err != nil {
		p.fail(name, "an email address such as alerts@example.com", v)
		return def
	}
	return v
}

// baseURL accepts an absolute http(s) URL and drops trailing slashes, so adapters can
// append "/path" safely.
func (p *parser) baseURL(name, def string) string {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		p.fail(name, "an absolute http(s) URL without query or credentials, such as "+def, v)
		return def
	}
	return strings.TrimRight(v, "/")
}

// publicURL is an absolute http(s) URL, possibly with a path (a console served under
// a prefix), without query, fragment or credentials; "" when unset.
func (p *parser) publicURL(name string) string {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		p.fail(name, "an absolute http(s) URL without query or credentials, such as https://sally.example.com", v)
		return ""
	}
	return strings.TrimRight(v, "/")
}

// prefixes splits a comma-separated list of IP addresses and CIDR prefixes (an
// address is a prefix of its full length).
func (p *parser) prefixes(name string) []netip.Prefix {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return nil
	}
	var out []netip.Prefix
	for e := range strings.SplitSeq(v, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if a, err := netip.ParseAddr(e); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		pfx, err := netip.ParsePrefix(e)
		if err != nil {
			p.fail(name, "comma-separated IP addresses or CIDR prefixes such as 10.0.0.0/8", e)
			continue
		}
		out = append(out, pfx.Masked())
	}
	return out
}

// origins splits CORS_ALLOWED_ORIGINS on commas. Each entry is "*" or scheme://host[:port]
// (what browsers send in Origin: no path, no trailing slash).
func (p *parser) origins(name string) []string {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return nil
	}
	var out []string
	for o := range strings.SplitSeq(v, ",") {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
				p.fail(name, "comma-separated origins such as https://app.example.com or *", o)
				continue
			}
		}
		out = append(out, o)
	}
	return out
}
