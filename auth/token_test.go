package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/internal/testclock"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	alice  = auth.Viewer{
		UserID:   "6f1c2a3e-1111-4c4c-8888-000000000001",
		TenantID: "6f1c2a3e-2222-4c4c-8888-000000000002",
		Email:    "alice@example.com",
		Role:     auth.RoleAdmin,
	}
	t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
)

// clock is a settable fake time source.
type clock = testclock.Clock

func newClock() *clock { return testclock.New(t0) }

func TestTokensRoundTrip(t *testing.T) {
	t.Parallel()

	clk := newClock()
	tokens := auth.NewTokens(secret, 12*time.Hour, clk.Now)

	tok, exp, err := tokens.Issue(alice)
	require.NoError(t, err)
	require.Equal(t, t0.Add(12*time.Hour), exp)
	require.Equal(t, 12*time.Hour, tokens.TTL())

	got, err := tokens.Parse(tok)
	require.NoError(t, err)
	require.True(t, exp.Equal(got.ExpiresAt), "the viewer knows when its token expires")
	got.ExpiresAt = time.Time{}
	require.Equal(t, &alice, got)

	// The claims are the documented ones.
	var claims jwt.MapClaims
	_, _, err = jwt.NewParser().ParseUnverified(tok, &claims)
	require.NoError(t, err)
	require.Equal(t, alice.UserID, claims["sub"])
	require.Equal(t, alice.TenantID, claims["tid"])
	require.Equal(t, alice.Email, claims["email"])
	require.Equal(t, "ADMIN", claims["role"])
	require.Equal(t, "sally", claims["iss"])
	require.NotEmpty(t, claims["jti"])
	for _, k := range []string{"iat", "nbf", "exp"} {
		require.Contains(t, claims, k)
	}

	tok2, _, err := tokens.Issue(alice)
	require.NoError(t, err)
	require.NotEqual(t, tok, tok2, "jti makes every token unique")

	clk.Add(12*time.Hour - time.Second)
	_, err = tokens.Parse(tok)
	require.NoError(t, err, "still valid just before exp")
}

func TestTokensIssueRefusesIncompleteViewer(t *testing.T) {
	t.Parallel()

	tokens := auth.NewTokens(secret, time.Hour, nil)
	for name, v := range map[string]auth.Viewer{
		"NoUser":   {TenantID: "t", Role: auth.RoleAdmin},
		"NoTenant": {UserID: "u", Role: auth.RoleAdmin},
		"BadRole":  {UserID: "u", TenantID: "t", Role: "ROOT"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, _, err := tokens.Issue(v)
			require.Error(t, err)
		})
	}
}

func TestTokensParseRejects(t *testing.T) {
	t.Parallel()

	clk := newClock()
	tokens := auth.NewTokens(secret, time.Hour, clk.Now)
	valid, _, err := tokens.Issue(alice)
	require.NoError(t, err)

	mapClaims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{
			"sub": alice.UserID, "tid": alice.TenantID, "email": alice.Email, "role": "ADMIN",
			"iss": "sally", "iat": t0.Unix(), "nbf": t0.Unix(), "exp": t0.Add(time.Hour).Unix(), "jti": "x",
		}
		if mod != nil {
			mod(c)
		}
		return c
	}
	hs256 := func(t *testing.T, c jwt.MapClaims, key []byte) string {
		t.Helper()
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
		require.NoError(t, err)
		return s
	}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	rs256, err := jwt.NewWithClaims(jwt.SigningMethodRS256, mapClaims(nil)).SignedString(rsaKey)
	require.NoError(t, err)
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, mapClaims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	hs384, err := jwt.NewWithClaims(jwt.SigningMethodHS384, mapClaims(nil)).SignedString(secret)
	require.NoError(t, err)
	parts := strings.Split(valid, ".")

	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{name: "Empty", token: "", wantErr: auth.ErrInvalidToken},
		{name: "Garbage", token: "not.a.jwt", wantErr: auth.ErrInvalidToken},
		{name: "NoDots", token: "garbage", wantErr: auth.ErrInvalidToken},
		{name: "Huge", token: strings.Repeat("a", auth.MaxTokenLen+1), wantErr: auth.ErrInvalidToken},
		{name: "WrongSecret", token: hs256(t, mapClaims(nil), []byte("another-secret-another-secret-!!")), wantErr: auth.ErrInvalidToken},
		{name: "AlgNone", token: none, wantErr: auth.ErrInvalidToken},
		{name: "AlgRS256", token: rs256, wantErr: auth.ErrInvalidToken},
		{name: "AlgHS384", token: hs384, wantErr: auth.ErrInvalidToken},
		{name: "TamperedPayload", token: parts[0] + "." + hs256Payload(t, mapClaims(func(c jwt.MapClaims) { c["role"] = "SUPER_ADMIN" })) + "." + parts[2], wantErr: auth.ErrInvalidToken},
		{name: "WrongIssuer", token: hs256(t, mapClaims(func(c jwt.MapClaims) { c["iss"] = "other" }), secret), wantErr: auth.ErrInvalidToken},
		{name: "NoExpiry", token: hs256(t, mapClaims(func(c jwt.MapClaims) { delete(c, "exp") }), secret), wantErr: auth.ErrInvalidToken},
		{name: "NotYetValid", token: hs256(t, mapClaims(func(c jwt.MapClaims) { c["nbf"] = t0.Add(time.Hour).Unix() }), secret), wantErr: auth.ErrInvalidToken},
		{name: "NoSubject", token: hs256(t, mapClaims(func(c jwt.MapClaims) { delete(c, "sub") }), secret), wantErr: auth.ErrInvalidToken},
		{name: "NoTenant", token: hs256(t, mapClaims(func(c jwt.MapClaims) { delete(c, "tid") }), secret), wantErr: auth.ErrInvalidToken},
		{name: "UnknownRole", token: hs256(t, mapClaims(func(c jwt.MapClaims) { c["role"] = "ROOT" }), secret), wantErr: auth.ErrInvalidToken},
		{name: "Expired", token: hs256(t, mapClaims(func(c jwt.MapClaims) { c["exp"] = t0.Add(-time.Hour).Unix() }), secret), wantErr: auth.ErrExpiredToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := tokens.Parse(tt.token)
			require.ErrorIs(t, err, tt.wantErr)
			require.Nil(t, v)
		})
	}
}

// hs256Payload encodes claims as a JWT payload segment (unsigned).
func hs256Payload(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte("irrelevant-key-irrelevant-key-!!"))
	require.NoError(t, err)
	return strings.Split(s, ".")[1]
}

func TestTokensExpireWithFakeClock(t *testing.T) {
	t.Parallel()

	clk := newClock()
	tokens := auth.NewTokens(secret, time.Hour, clk.Now)
	tok, _, err := tokens.Issue(alice)
	require.NoError(t, err)
	fresh, _, err := tokens.Issue(alice)
	require.NoError(t, err)
	// Verified once (and so remembered), then used until it expires.
	v, err := tokens.Parse(tok)
	require.NoError(t, err)
	require.Equal(t, alice.UserID, v.UserID)
	v.Role = auth.RoleSuperAdmin // a caller's change stays its own

	clk.Add(time.Hour - time.Second)
	v, err = tokens.Parse(tok)
	require.NoError(t, err, "a second before its exp")
	require.Equal(t, alice.Role, v.Role)

	clk.Add(time.Second)                      // exp itself: the expiresAt the login reported
	for _, tk := range []string{tok, fresh} { // remembered, and never seen before
		_, err = tokens.Parse(tk)
		require.ErrorIs(t, err, auth.ErrExpiredToken)
		require.NotErrorIs(t, err, auth.ErrInvalidToken)
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()

	tests := []struct {
		header string
		want   string
		wantOK bool
	}{
		{header: "Bearer abc.def.ghi", want: "abc.def.ghi", wantOK: true},
		{header: "bearer abc", want: "abc", wantOK: true},
		{header: "BEARER   abc  ", want: "abc", wantOK: true},
		{header: "  Bearer abc", want: "abc", wantOK: true},
		{header: ""},
		{header: "Bearer"},
		{header: "Bearer "},
		{header: "Basic dXNlcjpwYXNz"},
		{header: "abc.def.ghi"},
		{header: "Bearer abc def"},
		{header: "Bearerabc"},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			t.Parallel()
			got, ok := auth.BearerToken(tt.header)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestMiddleware(t *testing.T) {
	t.Parallel()

	clk := newClock()
	tokens := auth.NewTokens(secret, time.Hour, clk.Now)
	valid, _, err := tokens.Issue(alice)
	require.NoError(t, err)
	expired := func() string {
		old := auth.NewTokens(secret, time.Hour, func() time.Time { return t0.Add(-3 * time.Hour) })
		s, _, err := old.Issue(alice)
		require.NoError(t, err)
		return s
	}()

	type seen struct {
		viewer *auth.Viewer
		err    error
	}
	tests := []struct {
		name       string
		header     []string // nil = no Authorization header
		wantViewer bool
		wantErr    error
	}{
		{name: "NoHeader"},
		{name: "Valid", header: []string{"Bearer " + valid}, wantViewer: true},
		{name: "Expired", header: []string{"Bearer " + expired}, wantErr: auth.ErrExpiredToken},
		{name: "Garbage", header: []string{"Bearer nope"}, wantErr: auth.ErrInvalidToken},
		{name: "WrongScheme", header: []string{"Basic " + valid}, wantErr: auth.ErrInvalidToken},
		{name: "EmptyHeader", header: []string{""}, wantErr: auth.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got seen
			h := auth.Middleware(tokens)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got.viewer, _ = auth.FromContext(r.Context())
				got.err = auth.ErrorFromContext(r.Context())
				w.WriteHeader(http.StatusNoContent)
			}))
			req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			if tt.header != nil {
				req.Header["Authorization"] = tt.header
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			require.Equal(t, http.StatusNoContent, rec.Code, "the middleware never answers itself")
			if tt.wantViewer {
				require.False(t, got.viewer.ExpiresAt.IsZero())
				got.viewer.ExpiresAt = time.Time{}
				require.Equal(t, &alice, got.viewer)
			} else {
				require.Nil(t, got.viewer)
			}
			if tt.wantErr != nil {
				require.ErrorIs(t, got.err, tt.wantErr)
			} else {
				require.NoError(t, got.err)
			}
		})
	}
}

func TestRequire(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	_, err := auth.Require(ctx)
	require.ErrorIs(t, err, auth.ErrUnauthenticated)

	_, err = auth.Require(auth.NewErrorContext(ctx, auth.ErrExpiredToken))
	require.ErrorIs(t, err, auth.ErrExpiredToken)

	v, err := auth.Require(auth.NewContext(ctx, &alice))
	require.NoError(t, err)
	require.Equal(t, &alice, v)

	_, ok := auth.FromContext(auth.NewContext(ctx, nil))
	require.False(t, ok, "a nil viewer is no viewer")
}

func TestViewerRoles(t *testing.T) {
	t.Parallel()

	tests := []struct {
		role      auth.Role
		wantAdmin bool
		wantSuper bool
	}{
		{role: auth.RoleSuperAdmin, wantAdmin: true, wantSuper: true},
		{role: auth.RoleAdmin, wantAdmin: true},
		{role: auth.RoleDispatcher},
		{role: "ROOT"},
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			t.Parallel()
			v := &auth.Viewer{Role: tt.role}
			require.Equal(t, tt.wantAdmin, v.IsAdmin())
			require.Equal(t, tt.wantSuper, v.IsSuperAdmin())
		})
	}

	var nilViewer *auth.Viewer
	require.False(t, nilViewer.IsAdmin())
	require.False(t, nilViewer.IsSuperAdmin())
}
