package vendors

import (
	"context"
	"net/url"
)

type callKey struct{}

// WithCall names the vendor call made with ctx in words, e.g. "drivers page 2" or
// "clocks batch 3 of 10": the Do hook reads it (CallFrom) to say which call of a sync
// each try belongs to (SyncLog.tries).
func WithCall(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, callKey{}, name)
}

// CallFrom returns the name WithCall gave ctx's call, or "".
func CallFrom(ctx context.Context) string {
	s, _ := ctx.Value(callKey{}).(string)
	return s
}

// defaultCall names a call its adapter did not name: the URL's path, never its query
// (which may carry a key).
func defaultCall(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Path == "" {
		return "request"
	}
	return "GET " + u.Path
}
