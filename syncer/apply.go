package syncer

import (
	"context"
	"math"
	"time"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/vendors"
)

// run does the work of one sync: the integration's vendor's sync (see vendorTable),
// with every request run by do.
func (e *Engine) run(ctx context.Context, in *ent.Integration, do vendors.DoFunc) (result, error) {
	v, c, err := e.connect(in, do)
	if err != nil {
		return result{}, err
	}
	return v.sync(e, ctx, in, c)
}

// withTx runs fn in a transaction; a failure of ours becomes an internalError.
func (e *Engine) withTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	tx, err := e.client.Tx(ctx)
	if err != nil {
		return internalError{err}
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return internalError{err}
	}
	if err := tx.Commit(); err != nil {
		return internalError{err}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// eqHours compares clock values at a precision finer than anything a person reads
// (and than a database round trip disturbs).
func eqHours(a *float64, b float64) bool {
	return a != nil && math.Abs(*a-b) < 1e-9
}

// setOrClear sets a nullable column to *v, or clears it when v is nil (the vendor
// sent nothing): a sync never keeps a value the vendor no longer sends.
func setOrClear[T any](set func(T), clear func(), v *T) {
	if v == nil {
		clear()
		return
	}
	set(*v)
}

// nonEmpty is an optional string the vendor sent as "" when it has none.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// utc is an optional time in UTC.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func strEq(p *string, v string) bool { return (p == nil && v == "") || (p != nil && *p == v) }

func floatEq(p, v *float64) bool {
	if p == nil || v == nil {
		return p == nil && v == nil
	}
	return math.Abs(*p-*v) < 1e-9
}

// sameInstant compares optional times by instant (a database round trip may change
// the location and, on PostgreSQL, cut below microseconds).
func sameInstant(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
