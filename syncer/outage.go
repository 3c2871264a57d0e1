package syncer

import (
	"context"
	"errors"
	"time"

	"github.com/sallyhq/sally/ent"
)

// Bounds of the retries of a sync's own bookkeeping while the database is away.
const (
	// DefaultRecordEndFor is how long a sync keeps trying to record its end after its
	// work ended, at least (and until its SyncTimeout from the start, when later):
	// a database blip must not turn a finished sync into an "interrupted" one.
	DefaultRecordEndFor = time.Minute
	// heartbeatRetry is how soon a failed heartbeat is tried again.
	heartbeatRetry = time.Second
)

// transient tells database errors worth retrying (a connection refused or cut, too
// many clients…) from answers that retrying cannot change.
func transient(err error) bool {
	return err != nil && !ent.IsNotFound(err) && !ent.IsConstraintError(err) && !ent.IsValidationError(err) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// persist runs write until it succeeds, fails for good, or deadline passes, waiting
// 100 ms to 2 s between tries; each failure is counted as the database's (see
// dbFailed).
func (e *Engine) persist(ctx context.Context, what string, deadline time.Time, write func(context.Context) error) error {
	wait := 100 * time.Millisecond
	for try := 1; ; try++ {
		err := write(ctx)
		if err == nil {
			if try > 1 {
				e.log.Info(what+": recorded after the database came back", "tries", try)
			}
			return nil
		}
		if !transient(err) {
			return err
		}
		e.dbFailed()
		if !time.Now().Add(wait).Before(deadline) {
			return err
		}
		if try == 1 {
			e.log.Warn(what+": the database is away: retrying", "err", err, "until", deadline.Format(time.RFC3339))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// dbFailed notes that the database failed this engine just now.
func (e *Engine) dbFailed() { e.lastDBFailure.Store(e.now().UnixNano()) }

// dbUpFor is how long the database has answered this engine without a failure it
// noticed; a long time when it never failed.
func (e *Engine) dbUpFor(now time.Time) time.Duration {
	last := e.lastDBFailure.Load()
	if last == 0 {
		return time.Duration(1<<63 - 1)
	}
	return now.Sub(time.Unix(0, last))
}
