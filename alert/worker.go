package alert

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sallyhq/sally/ent"
	entalert "github.com/sallyhq/sally/ent/alert"
	"github.com/sallyhq/sally/ent/predicate"
)

// Named defaults of the delivery worker.
const (
	DefaultPollEvery   = 5 * time.Second  // how often to look for due alerts
	DefaultBaseBackoff = 10 * time.Second // wait after the first failed attempt…
	DefaultMaxBackoff  = 15 * time.Minute // …doubling up to this
	DefaultGiveUpAfter = 24 * time.Hour   // then FAILED, this long after the alert was raised
	DefaultSendTimeout = time.Minute      // deadline of one attempt's context
	DefaultLease       = 10 * time.Minute // a claim's hold before another worker may retry
	DefaultBatch       = 20               // alerts per poll
	// NoSenderError is the last_error of alerts recorded while SMTP_HOST is unset.
	NoSenderError = "not delivered: SMTP_HOST is not set"
)

// WorkerOptions configure a Worker; Client is required.
type WorkerOptions struct {
	Client *ent.Client
	// Sender delivers the emails; nil means email is not configured: due alerts are
	// recorded FAILED with NoSenderError.
	Sender      Sender
	Logger      *slog.Logger
	Now         func() time.Time
	PollEvery   time.Duration
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	GiveUpAfter time.Duration
	SendTimeout time.Duration
	// Lease is how long a claimed alert is left to its claimer before another worker
	// may try it (the claimer died mid-send); DefaultLease when 0. Longer than any
	// send takes, so that a slow send is never doubled by an impatient replica.
	Lease time.Duration
	Batch int
	// Open unseals the set-password link of an account email (auth.Sealer.Open);
	// without it, account emails fail as undeliverable.
	Open func(sealed string) ([]byte, error)
}

// Worker delivers PENDING alerts: the outbox's consumer. Several workers (one per
// replica) may run against one database; each alert is claimed by one.
type Worker struct {
	opts WorkerOptions
	db   *ent.Client
	log  *slog.Logger
	kick chan struct{}
}

// NewWorker returns a Worker.
func NewWorker(o WorkerOptions) *Worker {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollEvery <= 0 {
		o.PollEvery = DefaultPollEvery
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = DefaultBaseBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.BaseBackoff {
		o.MaxBackoff = o.BaseBackoff
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = DefaultGiveUpAfter
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = DefaultSendTimeout
	}
	if o.Lease <= 0 {
		o.Lease = max(DefaultLease, 2*o.SendTimeout)
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	return &Worker{opts: o, db: o.Client, log: o.Logger, kick: make(chan struct{}, 1)}
}

func (w *Worker) now() time.Time { return w.opts.Now().UTC() }

// Kick makes a running worker look for due alerts now (the Manager calls it after
// storing one). It never blocks.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run delivers due alerts until ctx ends: at once (alerts left by a previous run are
// due), then on every poll and every Kick.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.opts.PollEvery)
	defer t.Stop()
	for {
		// A full batch means there may be more due right now (bounded, so that a
		// database refusing every update cannot spin this loop).
		for range 10 {
			if w.DeliverDue(ctx) < w.opts.Batch || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.kick:
		}
	}
}

// DeliverDue makes one pass over the due alerts, oldest first, and returns how many
// it looked at.
func (w *Worker) DeliverDue(ctx context.Context) int {
	ctx = system(ctx)
	now := w.now()
	due, err := w.db.Alert.Query().
		Where(entalert.StatusEQ(entalert.StatusPENDING),
			entalert.Or(entalert.NextAttemptAtIsNil(), entalert.NextAttemptAtLTE(now))).
		Order(ent.Asc(entalert.FieldCreatedAt), ent.Asc(entalert.FieldID)).
		Limit(w.opts.Batch).All(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("alert delivery: find due alerts", "err", err)
		}
		return 0
	}
	for _, a := range due {
		if ctx.Err() != nil {
			break
		}
		if err := w.deliver(ctx, a); err != nil && ctx.Err() == nil {
			w.log.Error("alert delivery", "alert", a.ID, "err", err)
		}
	}
	return len(due)
}

func (w *Worker) deliver(ctx context.Context, a *ent.Alert) error {
	now := w.now()
	due := entalert.And(entalert.ID(a.ID), entalert.StatusEQ(entalert.StatusPENDING),
		entalert.DeliveryAttempts(a.DeliveryAttempts),
		entalert.Or(entalert.NextAttemptAtIsNil(), entalert.NextAttemptAtLTE(now)))

	if w.opts.Sender == nil {
		_, err := wipeLink(w.db.Alert.Update().Where(due), a).
			SetStatus(entalert.StatusFAILED).SetLastError(NoSenderError).ClearNextAttemptAt().
			Save(ctx)
		if err == nil {
			w.log.Warn("alert not delivered: SMTP_HOST is not set", "alert", a.ID, "title", a.Title)
		}
		return err
	}

	var inReplyTo string
	if a.ResolvesAlertID != nil {
		orig, err := w.db.Alert.Get(ctx, *a.ResolvesAlertID)
		if err != nil && !ent.IsNotFound(err) {
			return err
		}
		if orig != nil && orig.Status == entalert.StatusPENDING {
			// The alert this notice resolves is not out yet: the notice follows it.
			next := now.Add(w.opts.BaseBackoff)
			if orig.NextAttemptAt != nil && orig.NextAttemptAt.After(now) {
				next = orig.NextAttemptAt.UTC().Add(time.Millisecond)
			}
			_, err := w.db.Alert.Update().Where(due).SetNextAttemptAt(next).Save(ctx)
			return err
		}
		if orig != nil {
			inReplyTo = orig.MessageID
		}
	}

	// Claim it: the conditional update succeeds for one worker only. Until the lease
	// ends, nobody else tries it.
	n, err := w.db.Alert.Update().Where(due).
		AddDeliveryAttempts(1).SetNextAttemptAt(now.Add(w.opts.Lease)).Save(ctx)
	if err != nil || n != 1 {
		return err
	}
	attempt := a.DeliveryAttempts + 1
	claimed := entalert.And(entalert.ID(a.ID), entalert.StatusEQ(entalert.StatusPENDING),
		entalert.DeliveryAttempts(attempt))

	email, err := w.render(a)
	if err != nil {
		return w.fail(ctx, a, claimed, fmt.Sprintf("not delivered: %v", err))
	}
	msgID := a.MessageID
	if msgID == "" {
		msgID = MessageID(a.ID, DefaultMessageDomain)
	}
	msg := Message{
		ID: msgID, To: a.Recipients, Subject: email.Subject, Text: email.Text, HTML: email.HTML,
		Date: a.CreatedAt.UTC(), InReplyTo: inReplyTo,
	}
	// From here on a shutdown waits for the attempt (bounded by its timeouts): an
	// email that went out must be recorded SENT, or the next start would resend it.
	ctx = context.WithoutCancel(ctx)
	sendCtx, cancel := context.WithTimeout(ctx, w.opts.SendTimeout)
	err = w.opts.Sender.Send(sendCtx, msg)
	cancel()
	done := w.now()
	switch {
	case err == nil:
		_, uerr := wipeLink(w.db.Alert.Update().Where(claimed), a).
			SetStatus(entalert.StatusSENT).SetSentAt(done).ClearNextAttemptAt().ClearLastError().
			Save(ctx)
		if uerr == nil {
			w.log.Info("alert sent", "alert", a.ID, "title", a.Title, "recipients", len(a.Recipients), "attempt", attempt)
		}
		return uerr
	case IsPermanent(err):
		return w.fail(ctx, a, claimed, "rejected by the mail server: "+err.Error())
	case done.Sub(a.CreatedAt) >= w.opts.GiveUpAfter:
		return w.fail(ctx, a, claimed, fmt.Sprintf("gave up after %d attempts over %s: %v",
			attempt, duration(done.Sub(a.CreatedAt)), err))
	default:
		wait := w.backoff(attempt)
		_, uerr := w.db.Alert.Update().Where(claimed).
			SetNextAttemptAt(done.Add(wait)).SetLastError(truncate(err.Error(), 1000)).
			Save(ctx)
		w.log.Warn("alert delivery failed; will retry", "alert", a.ID, "attempt", attempt, "retryIn", wait, "err", err)
		return uerr
	}
}

// fail records the claimed alert FAILED with why; it is not tried again.
func (w *Worker) fail(ctx context.Context, a *ent.Alert, claimed predicate.Alert, reason string) error {
	_, err := wipeLink(w.db.Alert.Update().Where(claimed), a).
		SetStatus(entalert.StatusFAILED).SetLastError(truncate(reason, 1000)).ClearNextAttemptAt().
		Save(ctx)
	if err == nil {
		w.log.Error("alert not delivered", "alert", a.ID, "title", a.Title, "reason", reason)
	}
	return err
}

// render writes the email of an outbox row: an alert, or an account email whose
// sealed link it opens.
func (w *Worker) render(a *ent.Alert) (Email, error) {
	if !IsAccountKind(a.Kind) {
		return Render(a)
	}
	if w.opts.Open == nil || a.Details.SealedLink == "" {
		return Email{}, fmt.Errorf("the set-password link cannot be read")
	}
	link, err := w.opts.Open(a.Details.SealedLink)
	if err != nil {
		return Email{}, fmt.Errorf("the set-password link cannot be read: %w", err)
	}
	return RenderAccount(a, string(link))
}

// wipeLink removes an account email's sealed link once it is no longer needed (sent,
// or given up): the outbox keeps no usable copy of it.
func wipeLink(u *ent.AlertUpdate, a *ent.Alert) *ent.AlertUpdate {
	if !IsAccountKind(a.Kind) || a.Details.SealedLink == "" {
		return u
	}
	d := a.Details
	d.SealedLink = ""
	return u.SetDetails(d)
}

// backoff is the wait after the attempt-th failed attempt: BaseBackoff doubling, up
// to MaxBackoff.
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.opts.BaseBackoff
	for i := 1; i < attempt && d < w.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, w.opts.MaxBackoff)
}

// truncate bounds s to n bytes of valid UTF-8 (PostgreSQL refuses anything else,
// and mail servers' answers may hold anything).
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}
