package syncer

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sallyhq/sally/ent/schema"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/resilience"
)

// tryLog collects the vendor requests of one sync as they end (SyncLog.tries), from
// the resilience policy's OnTry hook: the first schema.MaxSyncTries are kept, each
// message with the integration's secrets redacted, and the sync writes them once
// when it ends.
type tryLog struct {
	secrets []string

	mu    sync.Mutex
	tries []schema.SyncTry
}

// redacted is what stands in for a secret in a try's message.
const redacted = "[REDACTED]"

// add records one try of the call named call.
func (l *tryLog) add(call string, t resilience.Try) {
	if call == "" {
		call = "request"
	}
	st := schema.SyncTry{
		Call: call, Attempt: t.Attempt, StartedAt: t.Start.UTC(),
		DurationMs: t.Duration.Milliseconds(),
	}
	if t.Status != 0 {
		st.HTTPStatus = &t.Status
	}
	if t.Err != nil {
		class := string(t.Class)
		msg := l.redact(t.Message)
		st.ErrorClass, st.Error = &class, &msg
	}
	if t.Wait > 0 {
		ms := t.Wait.Milliseconds()
		st.RetryInMs = &ms
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.tries) < schema.MaxSyncTries {
		l.tries = append(l.tries, st)
	}
}

// redact replaces the integration's secrets in s (vendors' own messages are already
// cleaned by the adapters; this is the last line).
func (l *tryLog) redact(s string) string {
	for _, secret := range l.secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, redacted)
		}
	}
	return s
}

// snapshot returns the tries so far in the order they started.
func (l *tryLog) snapshot() []schema.SyncTry {
	l.mu.Lock()
	out := slices.Clone(l.tries)
	l.mu.Unlock()
	slices.SortStableFunc(out, func(a, b schema.SyncTry) int { return a.StartedAt.Compare(b.StartedAt) })
	if out == nil {
		out = []schema.SyncTry{}
	}
	return out
}

// eventTries converts stored tries for an event.
func eventTries(ts []schema.SyncTry) []event.Try {
	out := make([]event.Try, len(ts))
	for i, t := range ts {
		out[i] = event.Try{
			Call: t.Call, Attempt: t.Attempt, StartedAt: t.StartedAt.UTC().Truncate(time.Microsecond),
			DurationMs: t.DurationMs, HTTPStatus: t.HTTPStatus, ErrorClass: t.ErrorClass, Error: t.Error,
			RetryInMs: t.RetryInMs,
		}
	}
	return out
}
