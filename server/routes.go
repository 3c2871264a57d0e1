package main

import (
	"net/http"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/web"
)

// routes is every endpoint of the server, in one place.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	api := graph.NewHandler(a.resolver, graph.HandlerOptions{AllowedOrigins: a.cfg.CORSAllowedOrigins, TrustedProxies: a.cfg.TrustedProxies})
	mux.Handle("/graphql", a.cors(auth.Middleware(a.tokens)(api)))
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	if a.sandbox != nil {
		mux.Handle("/sandbox/", http.StripPrefix("/sandbox", a.sandbox))
	}
	mux.Handle("/", web.Handler()) // the browser UI; unknown paths get its 404
	return securityHeaders(mux)
}

// cors answers browsers from CORS_ALLOWED_ORIGINS; without it only the same origin
// may call (browsers enforce that when no Access-Control-Allow-Origin is sent).
func (a *app) cors(next http.Handler) http.Handler {
	allowed := a.cfg.CORSAllowedOrigins
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
