package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/loginfailure"
)

// Throttle counts failed logins per email in a sliding window, in the database, so
// that every replica sharing it counts the same failures: behind a load balancer an
// attacker gets max guesses per window in all, not max per replica. Once an email
// has max failures within the window, Allowed refuses it until the oldest of them is
// older than the window; the caller answers refused attempts exactly like a wrong
// password and does not call Fail for them. It is safe for concurrent use.
type Throttle struct {
	client *ent.Client
	max    int
	window time.Duration
	now    func() time.Time
	sweep  sweeper
}

// NewThrottle returns a Throttle over s allowing maxFailures failures per email within
// window (auth.DefaultMaxFailures and auth.DefaultWindow). now is the clock, time.Now
// when nil.
func (s *Store) NewThrottle(maxFailures int, window time.Duration, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{client: s.Client, max: max(maxFailures, 1), window: window, now: now}
}

// emailKey is how an email is stored: hashed, after the normalization login applies.
func emailKey(email string) string {
	sum := sha256.Sum256([]byte(auth.NormalizeEmail(email)))
	return hex.EncodeToString(sum[:])
}

// Failures returns how many failed logins of email are within the window.
func (t *Throttle) Failures(ctx context.Context, email string) (int, error) {
	n, err := t.client.LoginFailure.Query().
		Where(loginfailure.EmailHash(emailKey(email)), loginfailure.FailedAtGT(t.now().Add(-t.window))).
		Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	return n, nil
}

// Allowed reports whether a login for email may be tried now: false once the email
// has max failures within the window (so with 10, the 11th attempt is refused).
func (t *Throttle) Allowed(ctx context.Context, email string) (bool, error) {
	n, err := t.Failures(ctx, email)
	return n < t.max, err
}

// Fail records a failed login for email. Once per window it also deletes the
// failures that have left it, for every email.
func (t *Throttle) Fail(ctx context.Context, email string) error {
	now := t.now().UTC()
	if err := t.client.LoginFailure.Create().SetEmailHash(emailKey(email)).SetFailedAt(now).Exec(ctx); err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	if t.sweep.due(now, t.window) {
		if _, err := t.client.LoginFailure.Delete().Where(loginfailure.FailedAtLTE(now.Add(-t.window))).Exec(ctx); err != nil {
			return fmt.Errorf("login throttle: sweep: %w", err)
		}
	}
	return nil
}

// Succeed forgets the failures of email after a successful login.
func (t *Throttle) Succeed(ctx context.Context, email string) error {
	if _, err := t.client.LoginFailure.Delete().Where(loginfailure.EmailHash(emailKey(email))).Exec(ctx); err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	return nil
}

// Len is how many failures are stored, all emails together, for tests.
func (t *Throttle) Len(ctx context.Context) (int, error) {
	return t.client.LoginFailure.Query().Count(ctx)
}
