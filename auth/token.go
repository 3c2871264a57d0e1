package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is the iss claim of every token: Parse refuses tokens minted for anything else
// that might share the key.
const Issuer = "sally"

// ClockSkew is how far the clocks of two replicas may disagree: a token minted by one
// is accepted this long before its nbf and iat. Its exp is exact: the login told the
// client expiresAt, and a token is refused from that moment on every replica whose
// clock is right.
const ClockSkew = 30 * time.Second

// MaxTokenLen bounds what Parse looks at, so a huge header costs nothing to refuse.
const MaxTokenLen = 4096

// Token errors. Both map to UNAUTHENTICATED; their messages are safe to show.
var (
	ErrInvalidToken = errors.New("invalid token")
	ErrExpiredToken = errors.New("token expired")
)

// claims is the token body: sub = user id, tid = tenant id, plus email and role so
// that a request needs no database read to know its viewer.
type claims struct {
	TenantID string `json:"tid"`
	Email    string `json:"email"`
	Role     Role   `json:"role"`
	// Gen is the user's token generation when the token was issued: a password
	// change, a used reset link or a deactivation raises the user's, which ends
	// every token of an older generation (checked against the database every 15 s).
	Gen int64 `json:"gen,omitempty"`
	jwt.RegisteredClaims
}

// Tokens issues and verifies access tokens (JWT, HS256) with one secret. It is safe
// for concurrent use.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
	parser *jwt.Parser

	// verified remembers the tokens whose signature and claims were checked, so that a
	// client's every request does not decode and verify its token again: the time
	// checks (exp, nbf, iat) are still made on every use.
	mu       sync.RWMutex
	verified map[string]verifiedToken
}

type verifiedToken struct {
	viewer    Viewer
	notBefore time.Time // the later of nbf and iat
	expiresAt time.Time // exp
}

// maxVerified bounds the cache of verified tokens; it starts afresh when full.
const maxVerified = 10_000

// NewTokens returns a Tokens signing with secret (config.JWTSecret; every replica must
// share it), issuing tokens valid for ttl. now is the clock (time.Now when nil), so
// tests can expire tokens without sleeping.
func NewTokens(secret []byte, ttl time.Duration, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	t := &Tokens{secret: append([]byte(nil), secret...), ttl: ttl, now: now}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), // no "none", no RS256 key confusion
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(ClockSkew),
		jwt.WithTimeFunc(func() time.Time { return t.now() }),
	)
	return t
}

// TTL is how long issued tokens live.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue mints a token for v. expiresAt is the token's exp (whole seconds, UTC), which
// the login payload reports.
func (t *Tokens) Issue(v Viewer) (token string, expiresAt time.Time, err error) {
	if v.UserID == "" || v.TenantID == "" || !v.Role.Valid() {
		return "", time.Time{}, errors.New("issue token: viewer needs a user id, a tenant id and a valid role")
	}
	if len(t.secret) == 0 {
		return "", time.Time{}, errors.New("issue token: no signing secret")
	}
	now := t.now().UTC().Truncate(time.Second)
	expiresAt = now.Add(t.ttl)
	c := claims{
		TenantID: v.TenantID,
		Email:    v.Email,
		Role:     v.Role,
		Gen:      v.TokenGen,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   v.UserID,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(expiresAt),
			ID:        rand.Text(), // jti: 128 random bits, lets a future deny-list name one token
		},
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue token: %w", err)
	}
	return token, expiresAt, nil
}

// Parse verifies token (signature, algorithm HS256 only, issuer, exp and nbf with
// ClockSkew) and returns its viewer. Errors wrap ErrExpiredToken or ErrInvalidToken.
func (t *Tokens) Parse(token string) (*Viewer, error) {
	if token == "" || len(token) > MaxTokenLen {
		return nil, ErrInvalidToken
	}
	t.mu.RLock()
	vt, ok := t.verified[token]
	t.mu.RUnlock()
	if ok {
		now := t.now()
		if !now.Before(vt.expiresAt) {
			return nil, ErrExpiredToken
		}
		if !now.Add(ClockSkew).Before(vt.notBefore) {
			v := vt.viewer
			return &v, nil
		}
		// Not valid yet by this clock: let the parser say why.
	}
	var c claims
	if _, err := t.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil }); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, ErrExpiredToken
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if c.Subject == "" || c.TenantID == "" || !c.Role.Valid() {
		return nil, fmt.Errorf("%w: missing or bad claims", ErrInvalidToken)
	}
	// The parser's leeway covers exp too; exp is exact here (see ClockSkew).
	if c.ExpiresAt == nil || !t.now().Before(c.ExpiresAt.Time) {
		return nil, ErrExpiredToken
	}
	v := &Viewer{UserID: c.Subject, TenantID: c.TenantID, Email: c.Email, Role: c.Role, TokenGen: c.Gen}
	if c.ExpiresAt != nil {
		v.ExpiresAt = c.ExpiresAt.UTC()
	}
	t.remember(token, v, &c)
	return v, nil
}

// remember caches a token that Parse has verified.
func (t *Tokens) remember(token string, v *Viewer, c *claims) {
	if c.ExpiresAt == nil {
		return // WithExpirationRequired makes this impossible; never cache forever
	}
	vt := verifiedToken{viewer: *v, expiresAt: c.ExpiresAt.Time}
	for _, d := range []*jwt.NumericDate{c.NotBefore, c.IssuedAt} {
		if d != nil && d.After(vt.notBefore) {
			vt.notBefore = d.Time
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.verified == nil || len(t.verified) >= maxVerified {
		t.verified = make(map[string]verifiedToken)
	}
	t.verified[token] = vt
}

// ParseAuthorization verifies an Authorization header value ("Bearer <token>"), for
// the HTTP middleware and the websocket connection_init payload alike.
func (t *Tokens) ParseAuthorization(header string) (*Viewer, error) {
	tok, ok := BearerToken(header)
	if !ok {
		return nil, fmt.Errorf("%w: want an Authorization header of the form \"Bearer <token>\"", ErrInvalidToken)
	}
	return t.Parse(tok)
}

// BearerToken extracts the token of an Authorization header "Bearer <token>" (the
// scheme case-insensitive, as RFC 9110 says). ok is false for any other shape.
func BearerToken(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", false
	}
	return tok, true
}

// Middleware authenticates HTTP requests. With a valid Authorization header the
// request's context carries its Viewer (FromContext); with a bad or expired one it
// carries the reason instead (ErrorFromContext), and resolvers answer UNAUTHENTICATED;
// without one it carries neither, so the login mutation works. It never answers the
// request itself: which operations need a viewer is the API's decision.
func Middleware(t *Tokens) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, present := r.Header["Authorization"]; !present {
				next.ServeHTTP(w, r)
				return
			}
			ctx := r.Context()
			if v, err := t.ParseAuthorization(r.Header.Get("Authorization")); err != nil {
				ctx = NewErrorContext(ctx, err)
			} else {
				ctx = NewContext(ctx, v)
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
