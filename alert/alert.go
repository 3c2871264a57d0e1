// Package alert emails a tenant's admins when an integration is in trouble: once per
// incident, durably, and once more when it recovers.
//
// Rules. The Manager is the sync engine's Observer: after every finished sync it
// decides, in one database transaction, whether to raise or resolve an alert.
//   - failure: the failed syncs of an integration within its alertWindowMinutes, and
//     since its last success, reach its alertFailureThreshold. Severity ERROR, or
//     CRITICAL while its circuit breaker is open.
//   - stale: an enabled integration has had no successful sync for more than twice
//     its interval (the scheduler stopped, or its runs never finish). WARNING. Not
//     raised while a failure alert of the integration is open; a failure alert raised
//     later supersedes it (the incident is then the failure).
//   - recovery: the next successful sync resolves the open alert and sends one
//     notice (INFO, firing false) that refers to it.
//
// Failures are counted from the sync logs, so the rule holds across restarts and
// replicas; and a partial unique index allows one open alert per integration, so two
// replicas deciding at once still raise one (the loser's transaction fails and it
// finds the winner's alert). Manager.Run sweeps every minute: the staleness check,
// and a catch-up that makes any decision a server did not get to make (it stopped
// between recording a sync and running the rules on it).
//
// Delivery is an outbox: the alert row (PENDING, with its recipients) is written in
// the transaction that decides to raise it, and the Worker delivers it afterwards
// through a Sender, retrying with backoff while the mail server is unreachable or
// answers 4xx, and recording FAILED with the reason on a 5xx or after giving up.
// Each delivery is claimed with a conditional update, so two replicas never both send
// it, and every attempt carries the alert's own Message-ID.
package alert

import (
	"context"
	"errors"
	"time"
)

// Kinds of alert (Alert.kind).
const (
	KindFailure  = "failure"
	KindStale    = "stale"
	KindRecovery = "recovery"
)

// Message is one email to send. Its fields match mail.Message, so the server passes
// a mail sender with a plain conversion (mail.Message(m)).
type Message struct {
	// ID is the Message-ID, brackets included: the same on every attempt.
	ID      string
	To      []string
	Subject string
	Text    string
	HTML    string
	Date    time.Time
	// InReplyTo threads a recovery notice under the alert it resolves.
	InReplyTo string
}

// Sender delivers messages. An error is temporary (the worker tries again later)
// unless IsPermanent says otherwise.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, m Message) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// permanent is the interface of errors that know whether retrying can help
// (mail.Error implements it).
type permanent interface{ Permanent() bool }

// IsPermanent reports whether a Sender's error says that sending again cannot
// succeed (a 5xx answer): the worker then records the alert FAILED at once.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p) && p.Permanent()
}

// Permanent marks err as permanent for IsPermanent (for Senders without their own
// error type).
func Permanent(err error) error { return permanentError{err} }

type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() error   { return e.err }
func (e permanentError) Permanent() bool { return true }
