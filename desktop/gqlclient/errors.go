package gqlclient

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error codes of the contract (extensions.code).
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeConflict        = "CONFLICT"
	CodeInternal        = "INTERNAL"
)

// ErrUnauthenticated is returned by Events when the server refuses the token (the
// socket is closed with 4403): the caller must log in again.
var ErrUnauthenticated = errors.New("the server refused the session: log in again")

// Code is the contract's extensions.code of the first GraphQL error in err, "" when
// err carries none.
func Code(err error) string {
	if errors.Is(err, ErrUnauthenticated) {
		return CodeUnauthenticated
	}
	for _, e := range gqlErrors(err) {
		if c, ok := e.Extensions["code"].(string); ok && c != "" {
			return c
		}
	}
	return ""
}

// IsUnauthenticated reports whether err means the token is missing, bad or expired.
func IsUnauthenticated(err error) bool { return Code(err) == CodeUnauthenticated }

// IsNetwork reports whether err means the server could not be reached (refused,
// reset, timed out): the desktop shows itself offline rather than an error.
func IsNetwork(err error) bool {
	if err == nil || len(gqlErrors(err)) > 0 {
		return false
	}
	var ue *url.Error
	var ne net.Error
	var oe *net.OpError
	var he *graphql.HTTPError
	switch {
	case errors.As(err, &he):
		return he.StatusCode >= 502 && he.StatusCode <= 504
	case errors.As(err, &oe), errors.As(err, &ue), errors.As(err, &ne):
		return true
	}
	return false
}

// Message says what went wrong in words a dispatcher understands: the server's
// message for GraphQL errors, "cannot reach the server" for network errors.
func Message(err error) string {
	if err == nil {
		return ""
	}
	if errs := gqlErrors(err); len(errs) > 0 {
		msgs := make([]string, 0, len(errs))
		for _, e := range errs {
			msgs = append(msgs, e.Message)
		}
		return strings.Join(msgs, "; ")
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		return "the server did not answer in time"
	case IsNetwork(err):
		return "cannot reach the server"
	}
	return err.Error()
}

func gqlErrors(err error) gqlerror.List {
	var list gqlerror.List
	if errors.As(err, &list) {
		return list
	}
	var he *graphql.HTTPError
	if errors.As(err, &he) && len(he.Response.Errors) > 0 {
		if he.StatusCode >= 502 && he.StatusCode <= 504 {
			return nil // a proxy's page, not the API's answer
		}
		return he.Response.Errors
	}
	var one *gqlerror.Error
	if errors.As(err, &one) {
		return gqlerror.List{one}
	}
	return nil
}
