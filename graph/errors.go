package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sallyhq/sally/ent"
)

// The contract's error codes (extensions.code).
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeConflict        = "CONFLICT"
	CodeInternal        = "INTERNAL"
)

// Error is an error with a contract code and a message safe to show any client.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the code and a formatted, client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func errUnauthenticated(msg string) *Error { return &Error{Code: CodeUnauthenticated, Message: msg} }
func errForbidden() *Error {
	return &Error{Code: CodeForbidden, Message: "your role does not allow this"}
}
func errNotFound(what string) *Error { return &Error{Code: CodeNotFound, Message: what + " not found"} }
func badInput(format string, args ...any) *Error {
	return Errorf(CodeBadUserInput, format, args...)
}

// ErrorCoder lets packages graph does not import (syncer, vendors) hand a code through.
type ErrorCoder interface {
	ErrorCode() string
}

// presentError maps any resolver error to the contract's codes. Messages of errors we
// do not know are replaced: INTERNAL never tells internals.
func presentError(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var (
			e     *Error
			coder ErrorCoder
		)
		switch {
		case errors.As(err, &e):
			gerr.Message = e.Message
			setCode(gerr, e.Code)
		case errors.As(err, &coder):
			gerr.Message = coder.(error).Error() // its own words, without gqlgen's position prefix
			setCode(gerr, coder.ErrorCode())
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
			gerr.Message = "the request was canceled or took too long"
			setCode(gerr, CodeInternal)
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
			logger.ErrorContext(ctx, "internal error", "err", err, "path", gerr.Path.String())
			gerr.Message = "internal error"
			setCode(gerr, CodeInternal)
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
	case CodeUnauthenticated, CodeForbidden, CodeNotFound, CodeBadUserInput, CodeConflict, CodeInternal:
		return true
	}
	return false
}

// recoverPanic turns a panic in a resolver into INTERNAL: no panic reaches a client.
func recoverPanic(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return &Error{Code: CodeInternal, Message: "internal error"}
	}
}
