// Package event carries what the sync engine does to whoever watches: self-contained
// events (every field filled when published, so fan-out never queries the database)
// and an in-process bus that drops a subscriber who falls behind rather than block.
package event

import (
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
)

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

// Publisher is what the sync engine and alerts publish to.
type Publisher interface {
	Publish(ctx context.Context, e Event)
}

// Filter selects the events a subscriber receives: always one tenant's, optionally
// one integration's.
type Filter struct {
	TenantID      string
	IntegrationID string // empty = all of the tenant's integrations
}

func (f Filter) match(e Event) bool {
	return e.TenantID == f.TenantID && (f.IntegrationID == "" || f.IntegrationID == e.IntegrationID)
}

// ErrSlowSubscriber is why a subscription ends when its buffer overflowed.
var ErrSlowSubscriber = errors.New("subscriber too slow: events were dropped")

// Subscription is one subscriber's stream.
type Subscription struct {
	C      <-chan Event
	c      chan Event
	filter Filter
	mu     sync.Mutex
	err    error
	closed bool
}

// Err says why C was closed: nil when the subscriber's context ended.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Subscription) close(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed, s.err = true, err
	close(s.c)
}

// DefaultBuffer is how many events a subscriber may fall behind before it is dropped.
const DefaultBuffer = 256

// Bus fans events out to the subscribers of this process.
type Bus struct {
	buffer int
	mu     sync.RWMutex
	subs   map[*Subscription]struct{}
}

// NewBus returns a bus whose subscribers may lag by buffer events (DefaultBuffer if 0).
func NewBus(buffer int) *Bus {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	return &Bus{buffer: buffer, subs: map[*Subscription]struct{}{}}
}

// Subscribe returns a stream of the events matching f until ctx ends (or the
// subscriber falls behind, see Subscription.Err).
func (b *Bus) Subscribe(ctx context.Context, f Filter) *Subscription {
	c := make(chan Event, b.buffer)
	s := &Subscription{C: c, c: c, filter: f}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.remove(s, nil)
	}()
	return s
}

func (b *Bus) remove(s *Subscription, err error) {
	b.mu.Lock()
	delete(b.subs, s)
	b.mu.Unlock()
	s.close(err)
}

// Publish delivers e to every matching subscriber without ever blocking: one whose
// buffer is full is dropped with ErrSlowSubscriber.
func (b *Bus) Publish(_ context.Context, e Event) {
	var slow []*Subscription
	b.mu.RLock()
	for s := range b.subs {
		if !s.filter.match(e) {
			continue
		}
		s.mu.Lock()
		if !s.closed {
			select {
			case s.c <- e:
			default:
				slow = append(slow, s)
			}
		}
		s.mu.Unlock()
	}
	b.mu.RUnlock()
	for _, s := range slow {
		b.remove(s, ErrSlowSubscriber)
	}
}

// Subscribers counts the current subscribers (for metrics and tests).
func (b *Bus) Subscribers() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.subs)
}
