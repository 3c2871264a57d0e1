package web_test

import (
	"crypto/tls"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/web"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	h := web.Handler()

	serve := func(t *testing.T, method, path string, header http.Header) *http.Response {
		t.Helper()
		req := httptest.NewRequest(method, path, nil)
		req.Host = "sally.example:8080"
		for k, v := range header {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}

	t.Run("ServesIndexAtRoot", func(t *testing.T) {
		t.Parallel()
		res := serve(t, http.MethodGet, "/", nil)
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
		require.Contains(t, string(body), "<title>Sally Integrations</title>")
		require.Contains(t, string(body), `<script type="module" src="/app.js"></script>`)
	})

	t.Run("SetsSecurityHeaders", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/", "/app.js", "/style.css", "/nope"} {
			res := serve(t, http.MethodGet, path, nil)
			csp := res.Header.Get("Content-Security-Policy")
			for _, d := range []string{
				"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
				"base-uri 'none'", "frame-ancestors 'none'", "require-trusted-types-for 'script'",
				"connect-src 'self' ws://sally.example:8080 wss://sally.example:8080",
			} {
				require.Contains(t, csp, d, path)
			}
			require.NotContains(t, csp, "unsafe-inline", path)
			require.NotContains(t, csp, "unsafe-eval", path)
			require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"), path)
			require.Equal(t, "DENY", res.Header.Get("X-Frame-Options"), path)
			require.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"), path)
			require.Equal(t, "same-origin", res.Header.Get("Cross-Origin-Opener-Policy"), path)
			require.NotEmpty(t, res.Header.Get("Permissions-Policy"), path)
			require.Empty(t, res.Header.Get("Access-Control-Allow-Origin"), path)
			require.Empty(t, res.Header.Get("Strict-Transport-Security"), path)
		}
	})

	t.Run("SetsHSTSOverTLS", func(t *testing.T) {
		t.Parallel()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.TLS = &tls.ConnectionState{}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Contains(t, rec.Result().Header.Get("Strict-Transport-Security"), "max-age=")
	})

	t.Run("ServesAssetsWithTheirTypes", func(t *testing.T) {
		t.Parallel()
		for path, ct := range map[string]string{
			"/app.js":                "text/javascript; charset=utf-8",
			"/api.js":                "text/javascript; charset=utf-8",
			"/format.js":             "text/javascript; charset=utf-8",
			"/dom.js":                "text/javascript; charset=utf-8",
			"/views/integrations.js": "text/javascript; charset=utf-8",
			"/style.css":             "text/css; charset=utf-8",
			"/favicon.svg":           "image/svg+xml",
			"/index.html":            "text/html; charset=utf-8",
		} {
			res := serve(t, http.MethodGet, path, nil)
			require.Equal(t, http.StatusOK, res.StatusCode, path)
			require.Equal(t, ct, res.Header.Get("Content-Type"), path)
			require.Equal(t, "no-cache", res.Header.Get("Cache-Control"), path)
			require.NotEmpty(t, res.Header.Get("ETag"), path)
		}
	})

	t.Run("AnswersNotModifiedForItsETag", func(t *testing.T) {
		t.Parallel()
		etag := serve(t, http.MethodGet, "/app.js", nil).Header.Get("ETag")
		res := serve(t, http.MethodGet, "/app.js", http.Header{"If-None-Match": {etag}})
		require.Equal(t, http.StatusNotModified, res.StatusCode)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/nope", "/static/app.js", "/../web.go", "/app.js/"} {
			require.Equal(t, http.StatusNotFound, serve(t, http.MethodGet, path, nil).StatusCode, path)
		}
	})

	t.Run("ErrMethodNotAllowed", func(t *testing.T) {
		t.Parallel()
		res := serve(t, http.MethodPost, "/", nil)
		require.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
		require.Equal(t, "GET, HEAD", res.Header.Get("Allow"))
	})

	t.Run("HeadHasNoBody", func(t *testing.T) {
		t.Parallel()
		res := serve(t, http.MethodHead, "/", nil)
		body, _ := io.ReadAll(res.Body)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Empty(t, body)
	})
}

func TestCSP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, host, connect string
	}{
		{"HostAndPort", "localhost:8080", "connect-src 'self' ws://localhost:8080 wss://localhost:8080;"},
		{"IPv6", "[::1]:8080", "connect-src 'self' ws://[::1]:8080 wss://[::1]:8080;"},
		{"ErrHostWithSemicolon", "evil.example; script-src *", "connect-src 'self';"},
		{"ErrEmptyHost", "", "connect-src 'self';"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := web.CSP(tc.host)
			require.Contains(t, got, tc.connect)
			require.Equal(t, 1, strings.Count(got, "script-src"))
		})
	}
}

// TestNoHTMLSinks keeps API text out of HTML parsing: the scripts (the shell's and
// every view's) never use innerHTML, outerHTML, insertAdjacentHTML, document.write or
// eval (Trusted Types would also refuse them at run time).
func TestNoHTMLSinks(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	var paths []string
	err := filepath.WalkDir("static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".js") {
			paths = append(paths, strings.TrimPrefix(filepath.ToSlash(p), "static"))
		}
		return err
	})
	require.NoError(t, err)
	require.Contains(t, paths, "/views/integrations.js")
	for _, path := range paths {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		src := rec.Body.String()
		require.NotEmpty(t, src, path)
		for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
			require.NotContains(t, src, sink, path)
		}
	}
}
