// Package pgnotify carries events between the server processes (replicas) that share
// one PostgreSQL database, with LISTEN/NOTIFY.
//
// A Bridge is the event.Publisher of one process. Publish hands the event to the
// process's own bus at once (its subscribers never wait for the database) and queues
// it for pg_notify; a listener (lib/pq's pq.Listener, which reconnects by itself after
// the database restarts) hands the events of the other processes to the same bus.
// Every notification names the process that sent it, and a process skips its own, so
// each local subscriber gets each event exactly once.
//
// NOTIFY is not durable: events published while a listener is disconnected are lost
// to that process's subscribers. No loss is silent, though: when the listener
// reconnects (within DefaultMaxReconnect of the database's return), every local
// subscriber gets a STREAM_RESET event (event.Bus.Reset) and refetches; and a
// process that could not pass some of its events on (the database away for longer
// than retryFor, its queue full) sends the others a reset notification, which
// does the same to their subscribers.
// Payloads must stay under PostgreSQL's 8000 bytes: the free-text fields of a bigger
// event (message, syncLog.error) are shortened to fit, and the event says so.
package pgnotify

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"

	"github.com/sallyhq/sally/event"
)

// Defaults of Options.
const (
	// ChannelPrefix starts the default channel name; the database schema ends it, so
	// that servers on different schemas of one database do not hear each other.
	ChannelPrefix       = "sally_events"
	DefaultMinReconnect = 100 * time.Millisecond
	// DefaultMaxReconnect bounds the wait between the listener's attempts to
	// reconnect: it is listening again within about this long of the database's
	// return (the contract's "within 1 s").
	DefaultMaxReconnect = 500 * time.Millisecond
	DefaultQueue        = 4096
	// MaxPayload is the largest notification payload PostgreSQL accepts (it must be
	// shorter than 8000 bytes with the default configuration).
	MaxPayload = 7999
	// pingInterval checks the listener's connection when the channel is quiet.
	pingInterval = 30 * time.Second
	// retryFor is how long a notification is retried while the database is
	// unreachable before it is given up (and logged).
	retryFor = time.Minute
)

// Options configure a Bridge. DSN, DB and Local are required.
type Options struct {
	// DSN opens the listener's own connection (a postgres:// URL or key=value
	// string, as lib/pq takes it).
	DSN string
	// DB sends the notifications (the store's pool).
	DB *sql.DB
	// Local receives this process's events at once and the other processes' events
	// as they arrive: the process's event.Bus.
	Local event.Publisher
	// Channel is the NOTIFY channel; empty means ChannelPrefix + ":" + the current
	// schema of DB.
	Channel string
	// MinReconnect and MaxReconnect bound the listener's reconnect backoff.
	MinReconnect, MaxReconnect time.Duration
	// Queue is how many events may wait to be sent (DefaultQueue if 0); beyond it
	// Publish drops them for the other processes, with a log line.
	Queue  int
	Logger *slog.Logger
}

// Stats count what a Bridge did, for tests and logs.
type Stats struct {
	Sent       int64 // notifications sent
	Received   int64 // events of other processes handed to Local
	Trimmed    int64 // events shortened to fit the payload limit
	Dropped    int64 // events that could not be sent to the other processes
	Reconnects int64 // times the listener reconnected after losing its connection
	Resets     int64 // STREAM_RESETs given to the local subscribers
}

// Bridge publishes events to this process and, through PostgreSQL, to the others.
type Bridge struct {
	opts   Options
	origin string
	log    *slog.Logger
	queue  chan event.Event
	ready  chan struct{}
	once   sync.Once

	sent, received, trimmed, dropped, reconnects, resets atomic.Int64
	// lost is set when an event could not be passed on: the others must be told.
	lost atomic.Bool
}

var _ event.Publisher = (*Bridge)(nil)

// New returns a Bridge; it sends and listens once Run is called.
func New(opts Options) (*Bridge, error) {
	if opts.DSN == "" || opts.DB == nil || opts.Local == nil {
		return nil, errors.New("pgnotify: DSN, DB and Local are required")
	}
	if opts.MinReconnect <= 0 {
		opts.MinReconnect = DefaultMinReconnect
	}
	if opts.MaxReconnect < opts.MinReconnect {
		opts.MaxReconnect = max(DefaultMaxReconnect, opts.MinReconnect)
	}
	if opts.Queue <= 0 {
		opts.Queue = DefaultQueue
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &Bridge{
		opts:   opts,
		origin: hex.EncodeToString(b),
		log:    opts.Logger,
		queue:  make(chan event.Event, opts.Queue),
		ready:  make(chan struct{}),
	}, nil
}

// Channel is the NOTIFY channel (known once Ready).
func (b *Bridge) Channel() string { return b.opts.Channel }

// Ready is closed once the listener listens for the first time.
func (b *Bridge) Ready() <-chan struct{} { return b.ready }

// Stats returns the counters so far.
func (b *Bridge) Stats() Stats {
	return Stats{
		Sent: b.sent.Load(), Received: b.received.Load(), Trimmed: b.trimmed.Load(),
		Dropped: b.dropped.Load(), Reconnects: b.reconnects.Load(), Resets: b.resets.Load(),
	}
}

// Publish delivers e to this process's subscribers and queues it for the others. It
// never blocks.
func (b *Bridge) Publish(ctx context.Context, e event.Event) {
	b.opts.Local.Publish(ctx, e)
	select {
	case b.queue <- e:
	default:
		b.lost.Store(true)
		if n := b.dropped.Add(1); n == 1 || n%100 == 0 {
			b.log.Error("event queue full: events are not reaching the other servers",
				"dropped", n, "type", e.Type, "integration", e.IntegrationID)
		}
	}
}

// Run sends the queued events and listens for the other processes' until ctx ends.
// It returns an error only when it cannot listen at all.
func (b *Bridge) Run(ctx context.Context) error {
	if b.opts.Channel == "" {
		var schema string
		if err := b.opts.DB.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return fmt.Errorf("pgnotify: current schema: %w", err)
		}
		b.opts.Channel = ChannelPrefix + ":" + schema
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { b.send(ctx) })

	l := pq.NewListener(listenerDSN(b.opts.DSN, b.origin), b.opts.MinReconnect, b.opts.MaxReconnect, b.listenerEvent)
	defer func() {
		_ = l.Close()
		// Unblock lib/pq's goroutine if it is handing over a notification.
		go func() {
			for range l.Notify {
			}
		}()
	}()
	stop := context.AfterFunc(ctx, func() { _ = l.Close() }) // unblocks Listen
	defer stop()
	if err := l.Listen(b.opts.Channel); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("pgnotify: listen on %q: %w", b.opts.Channel, err)
	}
	b.log.Info("listening for other servers' events", "channel", b.opts.Channel)
	b.once.Do(func() { close(b.ready) })

	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case n, ok := <-l.Notify:
			if !ok {
				return nil
			}
			if n == nil {
				// Reconnected, and listening again: what was sent meanwhile is lost
				// (NOTIFY is not durable), so the local subscribers must refetch.
				b.reset(ctx, "the server lost its database connection for a while: refetch what is shown")
				continue
			}
			b.receive(ctx, n.Extra)
			ping.Reset(pingInterval)
		case <-ping.C:
			go func() { _ = l.Ping() }() // a dead connection makes the listener reconnect
		}
	}
}

func (b *Bridge) listenerEvent(ev pq.ListenerEventType, err error) {
	switch ev {
	case pq.ListenerEventDisconnected:
		b.log.Warn("event listener lost its database connection: reconnecting", "err", err)
	case pq.ListenerEventReconnected:
		b.reconnects.Add(1)
		b.log.Info("event listener reconnected")
	case pq.ListenerEventConnectionAttemptFailed:
		b.log.Warn("event listener cannot connect to the database", "err", err)
	}
}

// reset gives every local subscriber a STREAM_RESET.
func (b *Bridge) reset(ctx context.Context, reason string) {
	r, ok := b.opts.Local.(event.Resetter)
	if !ok {
		return
	}
	b.resets.Add(1)
	b.log.Warn("live events may have been missed: subscribers told to refetch", "reason", reason)
	r.Reset(ctx, reason)
}

// envelope is a notification's payload: the event and the process that sent it, or
// (Reset) word that the process could not pass some of its events on.
type envelope struct {
	Origin string      `json:"o"`
	Event  event.Event `json:"e"`
	Reset  bool        `json:"r,omitempty"`
}

func (b *Bridge) receive(ctx context.Context, payload string) {
	var env envelope
	if err := json.Unmarshal([]byte(payload), &env); err != nil {
		b.log.Error("undecodable event notification", "err", err, "bytes", len(payload))
		return
	}
	if env.Origin == b.origin {
		return // Publish delivered it locally already
	}
	if env.Reset {
		b.reset(ctx, "another server could not pass its events on for a while: refetch what is shown")
		return
	}
	b.received.Add(1)
	b.opts.Local.Publish(ctx, env.Event)
}

// send notifies the queued events in order, retrying while the database is away.
// After a loss it first tells the others (a reset notification), as soon as it can.
func (b *Bridge) send(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			b.sendReset(ctx)
		case e := <-b.queue:
			b.sendReset(ctx)
			payload, trimmed, err := Encode(b.origin, e)
			if err != nil {
				b.lost.Store(true)
				b.dropped.Add(1)
				b.log.Error("event not sent to the other servers", "err", err, "type", e.Type, "integration", e.IntegrationID)
				continue
			}
			if trimmed {
				b.trimmed.Add(1)
				b.log.Warn("event shortened to fit a notification", "type", e.Type, "integration", e.IntegrationID)
			}
			if err := b.notify(ctx, payload); err != nil {
				if ctx.Err() != nil {
					return
				}
				b.lost.Store(true)
				b.dropped.Add(1)
				b.log.Error("event not sent to the other servers", "err", err, "type", e.Type, "integration", e.IntegrationID)
				continue
			}
			b.sent.Add(1)
		}
	}
}

// sendReset tells the other processes, when events were lost since the last time,
// that their subscribers may have missed some.
func (b *Bridge) sendReset(ctx context.Context) {
	if !b.lost.Swap(false) {
		return
	}
	payload, err := json.Marshal(envelope{Origin: b.origin, Reset: true})
	if err == nil {
		err = b.notify(ctx, payload)
	}
	if err != nil {
		b.lost.Store(true) // try again later
		if ctx.Err() == nil {
			b.log.Warn("cannot tell the other servers that events were lost: will retry", "err", err)
		}
	}
}

func (b *Bridge) notify(ctx context.Context, payload []byte) error {
	deadline := time.Now().Add(retryFor)
	wait := 50 * time.Millisecond
	for {
		_, err := b.opts.DB.ExecContext(ctx, `SELECT pg_notify($1, $2)`, b.opts.Channel, string(payload))
		var pqErr *pq.Error
		if err == nil || errors.As(err, &pqErr) || ctx.Err() != nil || time.Now().After(deadline) {
			return err // sent, refused by the server, or given up
		}
		b.log.Warn("cannot notify the other servers: retrying", "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// Encode returns the notification payload of e sent by origin, at most MaxPayload
// bytes: when the event is bigger, the oldest of syncLog.tries are left out, and if
// that is not enough, all of them and its long free-text fields (message,
// syncLog.error, integrationName) are shortened to a common length, each ending in
// "…"; trimmed is true.
func Encode(origin string, e event.Event) (payload []byte, trimmed bool, err error) {
	payload, err = json.Marshal(envelope{Origin: origin, Event: e})
	if err != nil || len(payload) <= MaxPayload {
		return payload, false, err
	}
	if e.SyncLog != nil {
		sl := *e.SyncLog // do not change the caller's
		e.SyncLog = &sl
		if tries := sl.Tries; len(tries) > 0 {
			// First the sync's tries go, oldest first: the newest that fit are kept
			// (the sync log itself keeps them all for a refetch).
			keep := func(k int) ([]byte, bool) {
				sl.Tries = tries[len(tries)-k:]
				b, err := json.Marshal(envelope{Origin: origin, Event: e})
				return b, err == nil && len(b) <= MaxPayload
			}
			lo, hi := 0, len(tries)
			for lo < hi {
				mid := (lo + hi + 1) / 2
				if _, ok := keep(mid); ok {
					lo = mid
				} else {
					hi = mid - 1
				}
			}
			if b, ok := keep(lo); ok {
				return b, true, nil
			}
			sl.Tries = nil
		}
	}
	fields := textFields(&e)
	orig := make([]string, len(fields))
	for i, f := range fields {
		orig[i] = *f
	}
	// fit shortens every field longer than n bytes to n (plus "…").
	fit := func(n int) ([]byte, error) {
		for i, f := range fields {
			*f = orig[i]
			if len(orig[i]) > n {
				*f = cut(orig[i], n) + "…"
			}
		}
		b, err := json.Marshal(envelope{Origin: origin, Event: e})
		if err == nil && len(b) > MaxPayload {
			err = fmt.Errorf("event of %d bytes does not fit a notification", len(b))
		}
		return b, err
	}
	if _, err = fit(0); err != nil {
		return nil, false, err
	}
	// The longest common length that fits (no field can keep more than MaxPayload).
	lo, hi := 0, MaxPayload
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if _, err := fit(mid); err == nil {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	payload, err = fit(lo)
	return payload, true, err
}

// textFields are the fields of e that may be long, as pointers to shorten them in
// place (e's pointers are replaced by copies first).
func textFields(e *event.Event) []*string {
	out := []*string{&e.IntegrationName}
	if e.Message != nil {
		m := *e.Message
		e.Message = &m
		out = append(out, e.Message)
	}
	if e.SyncLog != nil && e.SyncLog.Error != nil {
		s := *e.SyncLog.Error
		e.SyncLog.Error = &s
		out = append(out, e.SyncLog.Error)
	}
	return out
}

// cut returns the first n bytes of s or fewer, never splitting a character.
func cut(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// listenerDSN names the listener's connection (application_name), so that an
// operator (or a test) can tell it apart in pg_stat_activity.
func listenerDSN(dsn, origin string) string {
	name := "sally-events-" + origin
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return dsn
		}
		q := u.Query()
		q.Set("application_name", name)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " application_name=" + name
}

// ApplicationName is the application_name of the bridge's listener connection.
func (b *Bridge) ApplicationName() string { return "sally-events-" + b.origin }
