package app

import (
	"net/http"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/web"
)

// Routes is every endpoint of the server, in one place.
func (a *App) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/graphql", a.GraphQL())
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{}))
	if a.Sandbox != nil {
		mux.Handle("/sandbox/", http.StripPrefix("/sandbox", a.Sandbox))
	}
	mux.Handle("/", web.Handler()) // the browser UI; unknown paths get its 404
	return securityHeaders(mux)
}

// GraphQL is what Routes serves at /graphql: the API behind CORS and the auth
// middleware.
func (a *App) GraphQL() http.Handler {
	api := graph.NewHandler(a.Resolver, graph.HandlerOptions{AllowedOrigins: a.Config.CORSAllowedOrigins, TrustedProxies: a.Config.TrustedProxies})
	return a.cors(auth.Middleware(a.Tokens)(api))
}

// cors answers browsers from CORS_ALLOWED_ORIGINS; without it only the same origin
// may call (browsers enforce that when no Access-Control-Allow-Origin is sent).
func (a *App) cors(next http.Handler) http.Handler {
	allowed := a.Config.CORSAllowedOrigins
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && (slices.Contains(allowed, "*") || slices.Contains(allowed, strings.TrimSuffix(origin, "/"))) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Max-Age", "600")
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders are safe defaults for every answer.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
