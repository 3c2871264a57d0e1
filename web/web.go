// Package web is the browser UI of Sally Integrations: a small single-page app (plain
// JavaScript modules and CSS, no framework, no CDN) embedded in the binary and served
// at / next to the GraphQL API it calls.
//
// index.html is a shell (navigation bar, login form, one outlet); app.js routes the
// location's hash (#/<path>/…) to the view module registered for <path> in its VIEWS
// list (web/static/views/*.js, loaded on first use), and shows a navigation link for
// each view the user's role may open. See docs/web.md.
//
// The page logs in with the login mutation, keeps the token in sessionStorage (never
// in a URL), sends it as "Authorization: Bearer …" on every request and in the
// graphql-transport-ws connection_init of its one live syncEvents subscription. It
// shows the integrations with their health and, per integration, the sync statistics
// and the paged, filterable sync history, updated live.
//
// Every answer carries a strict Content-Security-Policy: only the server's own scripts,
// styles and connections, no inline scripts or styles, and Trusted Types enforced, so
// the page cannot assign HTML strings to the DOM (text from the API goes in with
// textContent).
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	etag        string
	contentType string
}

// contentTypes are the types of the files in static/, by extension, so that they do
// not depend on the machine's MIME tables (module scripts must be served as
// JavaScript).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
}

// Handler serves the UI: index.html at /, the other files of static/ at their names,
// 404 for anything else. Only GET and HEAD are allowed.
func Handler() http.Handler {
	assets := map[string]asset{}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			ct = "application/octet-stream"
		}
		assets["/"+name] = asset{
			body:        body,
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
			contentType: ct,
		}
		return nil
	})
	if err != nil {
		panic(err) // embedded files are always readable
	}
	assets["/"] = assets["/index.html"]

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header(), r)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		a, ok := assets[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", a.etag)
		// Revalidate every time: the ETag makes that a cheap 304, and a new build is
		// picked up at once.
		h.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}

// validHost is what a Host header may hold to be echoed into connect-src: a host name
// or address with an optional port, nothing that could end the directive.
var validHost = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// CSP returns the Content-Security-Policy of the page for a request to host: the page
// may load scripts, styles and images only from the server itself, may connect only to
// its own /graphql (over HTTP and websocket: some browsers do not let 'self' cover
// ws:/wss:, so the request's own host is named), and may not be framed.
func CSP(host string) string {
	connect := "'self'"
	if validHost.MatchString(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"font-src 'self'",
		"connect-src " + connect,
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
		"require-trusted-types-for 'script'",
		"trusted-types 'none'",
	}, "; ")
}

func setSecurityHeaders(h http.Header, r *http.Request) {
	h.Set("Content-Security-Policy", CSP(r.Host))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}
