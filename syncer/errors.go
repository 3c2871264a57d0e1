package syncer

import (
	"errors"

	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/vendors"
)

// Classes the engine adds to resilience's for failures that are not the vendor's.
const (
	ClassInterrupted resilience.Class = "interrupted" // the server running it died or stopped
	ClassInternal    resilience.Class = "internal"    // our database or code failed
)

// errCredentials: the sealed credentials cannot be opened (CREDENTIALS_KEY changed).
var errCredentials = errors.New("the stored credentials cannot be read (was CREDENTIALS_KEY changed?): enter the API key again")

// errWrongVendor: a live lookup found an integration whose vendor's adapter is not
// the one it needs (the vendor serves another integration type).
var errWrongVendor = errors.New("the integration's vendor does not answer this query")

// errStopped: the server stopped, and its grace for running syncs ran out, while
// the sync ran. It runs again at its next schedule (or on any replica still up).
var errStopped = errors.New("interrupted: the server stopped while this sync ran; it runs again at its next schedule")

// internalError wraps a failure of ours (database, code) so that its details stay in
// the logs and the sync log says only what a dispatcher can use.
type internalError struct{ err error }

func (e internalError) Error() string { return "internal error: " + e.err.Error() }
func (e internalError) Unwrap() error { return e.err }

func classOf(err error) resilience.Class {
	switch {
	case errors.Is(err, errStopped):
		return ClassInterrupted
	case errors.Is(err, errCredentials), errors.Is(err, ErrNeedsCredentials):
		return resilience.ClassAuth
	case errors.As(err, new(internalError)):
		return ClassInternal
	case isVendorDown(err):
		return resilience.ClassCircuitOpen
	}
	if _, ok := vendors.AsError(err); ok {
		return resilience.Classify(err)
	}
	if c := resilience.Classify(err); c != resilience.ClassUnknown {
		return c
	}
	return ClassInternal
}

// describe says why a sync failed in words a dispatcher understands.
func describe(err error) string {
	switch classOf(err) {
	case ClassInternal:
		return "internal error: the synced data could not be saved; the server log has details"
	case resilience.ClassAuth:
		if errors.Is(err, errCredentials) {
			return "auth: " + errCredentials.Error()
		}
		if errors.Is(err, ErrNeedsCredentials) {
			return "auth: " + ErrNeedsCredentials.Error()
		}
	case ClassInterrupted:
		return errStopped.Error()
	case resilience.ClassCircuitOpen:
		if isVendorDown(err) {
			return err.Error()
		}
	}
	return resilience.Describe(err)
}
