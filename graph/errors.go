package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sallyhq/sally/apierr"
	"github.com/sallyhq/sally/ent"
)

// The contract's error codes (extensions.code), as apierr defines them.
const (
	CodeUnauthenticated = apierr.CodeUnauthenticated
	CodeForbidden       = apierr.CodeForbidden
	CodeNotFound        = apierr.CodeNotFound
	CodeBadUserInput    = apierr.CodeBadUserInput
	CodeConflict        = apierr.CodeConflict
	CodeRateLimited     = apierr.CodeRateLimited
	CodeInternal        = apierr.CodeInternal
)

// Error is the service's one coded error (apierr.Error): a contract code and a
// message safe to show any client, whichever package returned it.
type Error = apierr.Error

// Errorf returns an *Error with the code and a formatted, client-safe message.
func Errorf(code, format string, args ...any) *Error { return apierr.New(code, format, args...) }

func errUnauthenticated(msg string) *Error { return &Error{Code: CodeUnauthenticated, Message: msg} }
func errForbidden() *Error {
	return &Error{Code: CodeForbidden, Message: "your role does not allow this"}
}
func errNotFound(what string) *Error { return &Error{Code: CodeNotFound, Message: what + " not found"} }
func badInput(format string, args ...any) *Error {
	return Errorf(CodeBadUserInput, format, args...)
}

// internalError is an error of the server itself (a database or network failure, a
// bug) on its way to the error presenter, which logs its cause once and answers
// INTERNAL with a request id.
type internalError struct{ cause error }

func (e *internalError) Error() string { return e.cause.Error() }
func (e *internalError) Unwrap() error { return e.cause }

// userFacing tells errors that carry a contract code of their own (or map to one)
// from the rest, which are the server's own failures.
func userFacing(err error) bool {
	var (
		e  *Error
		ge *gqlerror.Error
	)
	return errors.As(err, &e) || errors.As(err, &ge) ||
		ent.IsNotFound(err) || ent.IsConstraintError(err) || ent.IsValidationError(err)
}

// markInternal is the resolvers' side of the error boundary: an error a resolver
// returns that is not a coded, user-facing one is the server's own failure. Marking it
// here tells it apart from gqlgen's errors about the request (an argument that does
// not convert), which reach the presenter in the same wrapper.
func markInternal(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if err != nil && !userFacing(err) {
		if _, ok := errors.AsType[*internalError](err); !ok {
			err = &internalError{cause: err}
		}
	}
	return res, err
}

// requestIDKey holds the request id in a request's context.
type requestIDKey struct{}

// RequestIDHeader is the response header that carries the request id.
const RequestIDHeader = "X-Request-Id"

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// withRequestID gives the request an id of its own (never the client's: log lines
// must be trustworthy).
func withRequestID(ctx context.Context) (context.Context, string) {
	id := newRequestID()
	return context.WithValue(ctx, requestIDKey{}, id), id
}

func requestID(ctx context.Context) string {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		return id
	}
	return newRequestID()
}

// presentError is the one error boundary: it maps any error to the contract's codes.
// Errors that are not coded and user-facing become INTERNAL with a request id, which
// the one log line of the error (with its cause) also carries; INTERNAL never tells
// internals.
func presentError(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var e *Error
		internal := func(msg string) *gqlerror.Error {
			id := requestID(ctx)
			cause := err
			if ie, ok := errors.AsType[*internalError](err); ok {
				cause = ie.cause
			}
			logger.ErrorContext(ctx, "internal error", "request_id", id, "err", cause, "path", gerr.Path.String())
			gerr.Message = msg
			setCode(gerr, CodeInternal)
			gerr.Extensions["requestId"] = id
			return gerr
		}
		if _, ok := errors.AsType[*internalError](err); ok {
			return internal("internal error")
		}
		switch {
		case errors.As(err, &e):
			if e.Code == CodeInternal {
				return internal(e.Message)
			}
			gerr.Message = e.Message
			setCode(gerr, e.Code)
			if e.Code == CodeRateLimited {
				gerr.Extensions["retryAfterSeconds"] = max(1, int(math.Ceil(e.RetryAfter.Seconds())))
			}
		case ent.IsNotFound(err):
			gerr.Message = "not found"
			setCode(gerr, CodeNotFound)
		case ent.IsConstraintError(err):
			gerr.Message = "conflicts with an existing record"
			setCode(gerr, CodeConflict)
		case ent.IsValidationError(err):
			gerr.Message = "invalid input"
			setCode(gerr, CodeBadUserInput)
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return internal("the request was canceled or took too long")
		default:
			var ge *gqlerror.Error
			if errors.As(err, &ge) && ge.Extensions != nil && ge.Extensions["code"] != nil {
				// Already coded by gqlgen (argument coercion and the like).
				if c, _ := ge.Extensions["code"].(string); c != "" && !isContractCode(c) {
					setCode(gerr, CodeBadUserInput)
				}
				return gerr
			}
			if ge != nil {
				// gqlgen's own errors: request-level ones (no field path: a body that is
				// not a GraphQL request, a parse or validation failure), and an argument
				// or input field that does not convert (a path: graphql.ErrorOnPath
				// wraps the scalar's or enum's unmarshal error). The client sent both;
				// resolvers return *Error or plain errors, never a *gqlerror.Error.
				setCode(gerr, CodeBadUserInput)
				return gerr
			}
			return internal("internal error")
		}
		return gerr
	}
}

func setCode(e *gqlerror.Error, code string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}

func isContractCode(c string) bool {
	switch c {
	case CodeUnauthenticated, CodeForbidden, CodeNotFound, CodeBadUserInput, CodeConflict, CodeRateLimited, CodeInternal:
		return true
	}
	return false
}

// recoverPanic turns a panic in a resolver into INTERNAL: no panic reaches a client.
func recoverPanic(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		return &internalError{cause: fmt.Errorf("panic: %v\n%s", p, debug.Stack())}
	}
}
