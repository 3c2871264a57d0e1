// Package event carries what the sync engine does to whoever watches: self-contained
// events (every field filled when published, so fan-out never queries the database)
// and an in-process bus that drops a subscriber who falls behind rather than block.
//
// The bus has two kinds of subscribers. Subscribe gives a channel of event copies,
// simple to use in tests and background jobs. Stream is for many long-lived clients
// (GraphQL subscriptions): it keeps no goroutine and only the events not yet read,
// and hands every stream the same *Delivery of an event, whose Memo lets derived work
// (rendering the event for a client) be done once per event instead of once per
// subscriber. Across processes, event/pgnotify carries events through PostgreSQL.
package event

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// Type is the contract's SyncEventType.
type Type string

// The event types of the contract.
const (
	SyncStarted       Type = "SYNC_STARTED"
	SyncRetrying      Type = "SYNC_RETRYING"
	SyncSucceeded     Type = "SYNC_SUCCEEDED"
	SyncFailed        Type = "SYNC_FAILED"
	CircuitOpened     Type = "CIRCUIT_OPENED"
	CircuitHalfOpened Type = "CIRCUIT_HALF_OPENED"
	CircuitClosed     Type = "CIRCUIT_CLOSED"
	AlertRaised       Type = "ALERT_RAISED"
	AlertResolved     Type = "ALERT_RESOLVED"
	// IntegrationChanged: created, changed (settings, credentials, state, muting) or
	// deleted; Message says which.
	IntegrationChanged Type = "INTEGRATION_CHANGED"
	// StreamReset tells a subscriber that it may have missed events (the server lost
	// its database connection for a while, or could not pass events on): refetch.
	// Published with Bus.Reset, one per subscriber.
	StreamReset Type = "STREAM_RESET"
	// VendorDown and VendorUp are vendor-wide: a vendor is down for every tenant (its
	// syncs fail at once without calling it), or back. They carry no tenant or
	// integration (see Filter).
	VendorDown Type = "VENDOR_DOWN"
	VendorUp   Type = "VENDOR_UP"
)

// Placeholders of a STREAM_RESET event's fields that the contract makes non-null but
// that mean nothing without an integration: the vendor (when the subscription has
// no integration filter) and the circuit state.
const (
	ResetVendor       = "SAMSARA_ELD"
	ResetCircuitState = "CLOSED"
	// ResetName is a STREAM_RESET event's integrationName: what happened.
	ResetName = "live events may have been missed"
)

// Resetter is a Publisher that can also tell all its subscribers that they may have
// missed events (the Bus).
type Resetter interface {
	Reset(ctx context.Context, reason string)
}

// SyncLog is the sync a SYNC_* event belongs to, as it stood when published.
type SyncLog struct {
	ID               string     `json:"id"`
	IntegrationID    string     `json:"integrationId"`
	SyncType         string     `json:"syncType"`
	Status           string     `json:"status"`
	Trigger          string     `json:"trigger"`
	StartedAt        time.Time  `json:"startedAt"`
	CompletedAt      *time.Time `json:"completedAt,omitempty"`
	DurationMs       *int64     `json:"durationMs,omitempty"`
	Attempts         int        `json:"attempts"`
	RecordsProcessed int        `json:"recordsProcessed"`
	RecordsCreated   int        `json:"recordsCreated"`
	RecordsUpdated   int        `json:"recordsUpdated"`
	Error            *string    `json:"error,omitempty"`
	ErrorClass       *string    `json:"errorClass,omitempty"`
	// TriggeredByID is the id of the user who asked for a MANUAL sync; subscribers
	// resolve triggeredBy from it as themselves.
	TriggeredByID *string `json:"triggeredById,omitempty"`
	// Tries are the sync's vendor requests so far (SyncLog.tries).
	Tries []Try `json:"tries,omitempty"`
}

// Try is one vendor request of a sync (the contract's SyncTry).
type Try struct {
	Call       string    `json:"call"`
	Attempt    int       `json:"attempt"`
	StartedAt  time.Time `json:"startedAt"`
	DurationMs int64     `json:"durationMs"`
	HTTPStatus *int      `json:"httpStatus,omitempty"`
	ErrorClass *string   `json:"errorClass,omitempty"`
	Error      *string   `json:"error,omitempty"`
	RetryInMs  *int64    `json:"retryInMs,omitempty"`
}

// Event is one thing that happened to an integration of a tenant.
type Event struct {
	Type            Type      `json:"type"`
	At              time.Time `json:"at"`
	TenantID        string    `json:"tenantId"`
	IntegrationID   string    `json:"integrationId"`
	IntegrationName string    `json:"integrationName"`
	Vendor          string    `json:"vendor"`
	SyncLog         *SyncLog  `json:"syncLog,omitempty"`
	Attempt         *int      `json:"attempt,omitempty"`
	RetryInMs       *int      `json:"retryInMs,omitempty"`
	CircuitState    string    `json:"circuitState"`
	Message         *string   `json:"message,omitempty"`
}

// Marshal encodes an event for transports between processes.
func (e Event) Marshal() ([]byte, error) { return json.Marshal(e) }

// Unmarshal decodes what Marshal encoded.
func Unmarshal(b []byte) (Event, error) {
	var e Event
	err := json.Unmarshal(b, &e)
	return e, err
}

// Publisher is what the sync engine and alerts publish to: the Bus in one process,
// pgnotify.Bridge across the replicas that share a PostgreSQL database.
type Publisher interface {
	Publish(ctx context.Context, e Event)
}

var _ Publisher = (*Bus)(nil)

// Filter selects the events a subscriber receives: always one tenant's, optionally
// one integration's. Vendor-wide events (VendorDown, VendorUp: no TenantID) reach
// every subscriber without an integration, and those of an integration of that
// vendor.
type Filter struct {
	TenantID      string
	IntegrationID string // empty = all of the tenant's integrations
	// Vendor is the vendor of IntegrationID (the Event.Vendor spelling): for the
	// STREAM_RESET events of the subscriber, and so that vendor-wide events reach it.
	Vendor string
}

// VendorWide reports whether e concerns a vendor for every tenant rather than one
// tenant's integration.
func (e Event) VendorWide() bool { return e.TenantID == "" }

func (f Filter) match(e Event) bool {
	if e.VendorWide() {
		return f.IntegrationID == "" || f.Vendor == e.Vendor
	}
	return e.TenantID == f.TenantID && (f.IntegrationID == "" || f.IntegrationID == e.IntegrationID)
}

// ErrSlowSubscriber is why a subscription ends when its buffer overflowed.
var ErrSlowSubscriber = errors.New("subscriber too slow: events were dropped")

// ErrClosed is what Stream.Next returns after Close.
var ErrClosed = errors.New("event stream closed")

// Delivery is one published event as the bus hands it to its streams: the same
// pointer for every stream that receives it. Treat Event as read-only.
type Delivery struct {
	Event Event

	mu   sync.Mutex
	memo map[any]*memoEntry
}

type memoEntry struct {
	once sync.Once
	v    any
}

// Memo returns what compute returns for key, calling it at most once per delivery:
// when many subscribers ask for the same key at once, one computes and the others
// wait for its result. Keys are compared with ==, as map keys are.
func (d *Delivery) Memo(key any, compute func() any) any {
	d.mu.Lock()
	if d.memo == nil {
		d.memo = make(map[any]*memoEntry, 2)
	}
	m := d.memo[key]
	if m == nil {
		m = &memoEntry{}
		d.memo[key] = m
	}
	d.mu.Unlock()
	m.once.Do(func() { m.v = compute() })
	return m.v
}

// subscriber is what the bus fans out to.
type subscriber interface {
	filter() Filter
	// deliver queues d without blocking; false means there was no room.
	deliver(d *Delivery) bool
	// end closes the subscriber: err is nil when its context ended, else why it was
	// dropped.
	end(err error)
}

// DefaultBuffer is how many events a subscriber may fall behind before it is dropped.
const DefaultBuffer = 256

// Bus fans events out to the subscribers of this process. Publish never blocks: a
// subscriber whose buffer is full is dropped with ErrSlowSubscriber.
type Bus struct {
	buffer int

	mu      sync.RWMutex
	tenants map[string]map[subscriber]struct{}
	n       int
}

// NewBus returns a bus whose subscribers may lag by buffer events (DefaultBuffer if 0).
func NewBus(buffer int) *Bus {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	return &Bus{buffer: buffer, tenants: map[string]map[subscriber]struct{}{}}
}

func (b *Bus) add(s subscriber) {
	t := s.filter().TenantID
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.tenants[t]
	if m == nil {
		m = map[subscriber]struct{}{}
		b.tenants[t] = m
	}
	m[s] = struct{}{}
	b.n++
}

// remove unregisters s; false when it was not registered (any more).
func (b *Bus) remove(s subscriber) bool {
	t := s.filter().TenantID
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.tenants[t]
	if _, ok := m[s]; !ok {
		return false
	}
	delete(m, s)
	if len(m) == 0 {
		delete(b.tenants, t)
	}
	b.n--
	return true
}

// Publish delivers e to every matching subscriber without ever blocking: one whose
// buffer is full is dropped with ErrSlowSubscriber.
func (b *Bus) Publish(_ context.Context, e Event) {
	d := &Delivery{Event: e}
	var slow []subscriber
	b.mu.RLock()
	if e.VendorWide() {
		for _, subs := range b.tenants {
			for s := range subs {
				if s.filter().match(e) && !s.deliver(d) {
					slow = append(slow, s)
				}
			}
		}
	} else {
		for s := range b.tenants[e.TenantID] {
			if s.filter().match(e) && !s.deliver(d) {
				slow = append(slow, s)
			}
		}
	}
	b.mu.RUnlock()
	for _, s := range slow {
		if b.remove(s) {
			s.end(ErrSlowSubscriber)
		}
	}
}

var _ Resetter = (*Bus)(nil)

// Reset sends every subscriber, of every tenant, a STREAM_RESET event whose
// integrationId is its filter's and whose message is reason. Like Publish it never
// blocks: a subscriber without room is dropped (its client reconnects and refetches
// anyway).
func (b *Bus) Reset(_ context.Context, reason string) {
	at := time.Now().UTC()
	var slow []subscriber
	b.mu.RLock()
	for _, m := range b.tenants {
		for s := range m {
			f := s.filter()
			msg := reason
			e := Event{
				Type: StreamReset, At: at, TenantID: f.TenantID, IntegrationID: f.IntegrationID,
				IntegrationName: ResetName, Vendor: cmp.Or(f.Vendor, ResetVendor),
				CircuitState: ResetCircuitState, Message: &msg,
			}
			if !s.deliver(&Delivery{Event: e}) {
				slow = append(slow, s)
			}
		}
	}
	b.mu.RUnlock()
	for _, s := range slow {
		if b.remove(s) {
			s.end(ErrSlowSubscriber)
		}
	}
}

// Subscribers counts the current subscribers (for metrics and tests).
func (b *Bus) Subscribers() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.n
}

// Subscription is one subscriber's channel of events.
type Subscription struct {
	// C receives the events; it is closed when the subscription ends (Err says why).
	C <-chan Event

	c      chan Event
	f      Filter
	stop   func() bool
	mu     sync.Mutex
	err    error
	closed bool
}

// Subscribe returns a channel of the events matching f until ctx ends (or the
// subscriber falls behind, see Subscription.Err).
func (b *Bus) Subscribe(ctx context.Context, f Filter) *Subscription {
	c := make(chan Event, b.buffer)
	s := &Subscription{C: c, c: c, f: f}
	b.watch(ctx, s, func() { s.end(nil) }, func(stop func() bool) {
		s.mu.Lock()
		s.stop = stop
		s.mu.Unlock()
	})
	return s
}

// watch registers s and ends it (with end) when ctx ends; setStop receives the
// function that cancels the watch. Whatever the interleaving with ctx, s is never
// left registered once it has ended.
func (b *Bus) watch(ctx context.Context, s subscriber, end func(), setStop func(func() bool)) {
	stop := context.AfterFunc(ctx, func() {
		end() // before remove: see below
		b.remove(s)
	})
	setStop(stop)
	b.add(s)
	if ctx.Err() != nil {
		// The watch may have run before add: then remove did nothing.
		end()
		b.remove(s)
	}
}

// Err says why C was closed: nil when the subscriber's context ended.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Subscription) filter() Filter { return s.f }

func (s *Subscription) deliver(d *Delivery) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return true
	}
	select {
	case s.c <- d.Event:
		return true
	default:
		return false
	}
}

func (s *Subscription) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed, s.err = true, err
	close(s.c)
	if s.stop != nil {
		s.stop()
	}
}

// Stream is one subscriber's queue of deliveries, read with Next. Unlike a
// Subscription it allocates room only for the events it holds and runs no goroutine
// of its own, which matters with thousands of subscribers.
type Stream struct {
	bus    *Bus
	f      Filter
	onDrop func(error)
	ready  chan struct{} // a token when q may have grown or the stream ended
	stop   func() bool

	mu     sync.Mutex
	q      []*Delivery
	head   int
	err    error
	closed bool
}

// Stream returns a stream of the events matching f until ctx ends, Close is called,
// or the subscriber falls behind by more than the bus's buffer. In that last case
// onDrop (when not nil) is called with ErrSlowSubscriber, from the publisher's
// goroutine: it must not block. It is the moment to tell the client, whose own
// goroutine may well be stuck writing to it.
func (b *Bus) Stream(ctx context.Context, f Filter, onDrop func(error)) *Stream {
	s := &Stream{bus: b, f: f, onDrop: onDrop, ready: make(chan struct{}, 1)}
	b.watch(ctx, s, func() { s.close(ctx.Err()) }, func(stop func() bool) {
		s.mu.Lock()
		s.stop = stop
		s.mu.Unlock()
	})
	return s
}

func (s *Stream) filter() Filter { return s.f }

func (s *Stream) deliver(d *Delivery) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return true
	}
	if len(s.q)-s.head >= s.bus.buffer {
		s.mu.Unlock()
		return false
	}
	s.q = append(s.q, d)
	s.mu.Unlock()
	s.signal()
	return true
}

func (s *Stream) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

func (s *Stream) end(err error) {
	if s.close(err) && s.onDrop != nil && err != nil {
		s.onDrop(err)
	}
}

// close ends the stream; false when it had ended already.
func (s *Stream) close(err error) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.closed, s.err = true, err
	s.q, s.head = nil, 0
	stop := s.stop
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	s.signal()
	return true
}

// Next waits for the next event. It returns ErrSlowSubscriber once the stream was
// dropped for falling behind, ErrClosed after Close, the stream's context's error
// once that ended, and ctx's error when ctx ends first.
func (s *Stream) Next(ctx context.Context) (*Delivery, error) {
	for {
		s.mu.Lock()
		if s.closed {
			err := s.err
			s.mu.Unlock()
			return nil, err
		}
		if s.head < len(s.q) {
			d := s.q[s.head]
			s.q[s.head] = nil
			s.head++
			if s.head == len(s.q) {
				s.q, s.head = s.q[:0], 0
			}
			s.mu.Unlock()
			return d, nil
		}
		s.mu.Unlock()
		select {
		case <-s.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close ends the stream and releases it from the bus.
func (s *Stream) Close() {
	s.bus.remove(s)
	s.close(ErrClosed)
}
