// Package apierr is the one coded error of the service: a contract error code
// (extensions.code) and a message safe to show any client. Any package may return
// one (graph's resolvers, the sync engine's lookups); graph's error boundary answers
// it as it is, and everything else as INTERNAL. It imports nothing of ours.
package apierr

import (
	"fmt"
	"time"
)

// The contract's error codes.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeConflict        = "CONFLICT"
	CodeRateLimited     = "RATE_LIMITED"
	CodeInternal        = "INTERNAL"
)

// Error is an error with a contract code and a message safe to show any client.
type Error struct {
	Code    string
	Message string
	// RetryAfter is set on RATE_LIMITED: when the client may try again
	// (extensions.retryAfterSeconds, whole seconds, at least 1).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

// New returns an *Error with the code and a formatted, client-safe message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
