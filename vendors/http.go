package vendors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Named defaults of the shared HTTP plumbing.
const (
	// DefaultTimeout bounds one HTTP request (sending it and reading its answer) when
	// an adapter's Config leaves Timeout at zero.
	DefaultTimeout = 10 * time.Second
	// MaxBodyBytes caps a successful answer's body; a larger one is KindBadResponse.
	MaxBodyBytes = 10 << 20
	// MaxRetryAfter caps what a vendor's Retry-After can ask us to wait.
	MaxRetryAfter = 60 * time.Second

	maxErrorBodyBytes = 64 << 10 // read this much of an error answer for its message
	maxDrainBytes     = 1 << 20  // drain at most this much so the connection can be reused
	maxMessageLen     = 300      // Error.Message is cut to this many bytes
)

// DoFunc runs one vendor HTTP request, call, possibly wrapped in resilience policies
// (retries, a circuit breaker). It must pass its ctx, or one derived from it, to call.
// Every adapter's Config has a Do field of this shape; nil runs call directly.
type DoFunc = func(ctx context.Context, call func(ctx context.Context) error) error

// NewHTTPClient returns an http.Client tuned for many small JSON requests to a few
// vendor hosts: connections are kept and reused (up to 100 idle per host), dials and
// TLS handshakes are bounded, and redirects are followed only on the same host so
// that credential headers never leave it. It has no overall Client.Timeout: every
// request is bounded by its context, which the adapters set per request.
func NewHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          200,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: transport, CheckRedirect: sameHostRedirects}
}

// sameHostRedirects follows at most 5 redirects and only to the original host, since
// vendor credentials travel in custom headers that net/http would forward anywhere.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		return http.ErrUseLastResponse
	}
	return nil
}

var sharedClient = sync.OnceValue(NewHTTPClient)

// SharedHTTPClient returns one process-wide client from NewHTTPClient, used by
// adapters whose Config has no HTTPClient, so that all integrations share one pool of
// connections per vendor host.
func SharedHTTPClient() *http.Client { return sharedClient() }

// Requester sends an adapter's HTTP requests and turns every outcome into *Error.
// Adapters build one in New from their Config; it is safe for concurrent use.
type Requester struct {
	Vendor  string        // put in every Error
	Client  *http.Client  // nil: SharedHTTPClient()
	Timeout time.Duration // per request; 0 or less: DefaultTimeout
	Header  http.Header   // added to every request (the credentials)
	// Secrets are replaced by "[REDACTED]" in every message, in case a vendor or a
	// library echoes them. Empty strings are ignored.
	Secrets []string
	// ErrorMessage extracts the vendor's message from a non-2xx body; nil uses
	// ErrorBodyMessage.
	ErrorMessage func(body []byte) string
	// Do wraps each request; nil runs it directly. See DoFunc.
	Do DoFunc
}

// Get sends one GET request for rawURL through r.Do and hands the body of a 2xx
// answer to decode, inside the same call so that a bad answer is one failed attempt.
// An error returned by decode that is not an *Error becomes KindBadResponse. Every
// error Get returns is an *Error; an error of the Do hook that carries none (an open
// circuit breaker, say) becomes KindUnavailable wrapping it, or KindCanceled /
// KindTimeout when ctx is done.
func (r *Requester) Get(ctx context.Context, rawURL string, decode func(body []byte) error) error {
	call := func(ctx context.Context) error {
		body, err := r.fetch(ctx, http.MethodGet, rawURL)
		if err != nil {
			return err
		}
		if err := decode(body); err != nil {
			return r.badResponse(err)
		}
		return nil
	}
	var err error
	if r.Do == nil {
		err = call(ctx)
	} else {
		if CallFrom(ctx) == "" {
			ctx = WithCall(ctx, defaultCall(rawURL))
		}
		err = r.Do(ctx, call)
	}
	if err == nil {
		return nil
	}
	if _, ok := AsError(err); ok {
		return err
	}
	// The Do hook failed on its own (an open breaker, say): keep its error as the cause.
	kind := KindUnavailable
	if ctx.Err() != nil {
		kind = ctxKind(ctx)
	}
	return &Error{Kind: kind, Vendor: r.Vendor, Message: r.clean(err.Error()), Err: err}
}

// fetch runs one request under the per-request timeout and returns a 2xx body.
func (r *Requester) fetch(ctx context.Context, method, rawURL string) ([]byte, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	reqCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	counter := requestCounterFrom(ctx)
	if counter != nil {
		var stop context.CancelCauseFunc
		reqCtx, stop = context.WithCancelCause(reqCtx)
		defer stop(nil)
		reqCtx = httptrace.WithClientTrace(reqCtx, counter.trace(stop))
	}

	req, err := http.NewRequestWithContext(reqCtx, method, rawURL, nil)
	if err != nil {
		return nil, &Error{Kind: KindBadRequest, Vendor: r.Vendor, Message: "invalid request URL", Err: errors.New("invalid request URL")}
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	client := r.Client
	if client == nil {
		client = SharedHTTPClient()
	}
	if counter != nil && counter.limit == 1 {
		client = freshClient(client)
	}

	resp, err := client.Do(req)
	if err != nil {
		return nil, r.transportError(ctx, reqCtx, err)
	}
	if counter != nil {
		counter.gotStatus(resp.StatusCode)
	}
	defer func() {
		_, _ = io.CopyN(io.Discard, resp.Body, maxDrainBytes)
		_ = resp.Body.Close()
	}()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, r.statusError(ctx, reqCtx, resp)
	}
	if resp.ContentLength > MaxBodyBytes {
		return nil, &Error{Kind: KindBadResponse, Vendor: r.Vendor, Status: resp.StatusCode,
			Message: fmt.Sprintf("response body larger than %d bytes", MaxBodyBytes)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, r.transportError(ctx, reqCtx, err)
	}
	if len(body) > MaxBodyBytes {
		return nil, &Error{Kind: KindBadResponse, Vendor: r.Vendor, Status: resp.StatusCode,
			Message: fmt.Sprintf("response body larger than %d bytes", MaxBodyBytes)}
	}
	return body, nil
}

// statusError maps a non-2xx answer to its Kind, with the vendor's message.
func (r *Requester) statusError(ctx, reqCtx context.Context, resp *http.Response) error {
	e := &Error{Vendor: r.Vendor, Status: resp.StatusCode, Kind: KindForStatus(resp.StatusCode)}
	if e.Kind == KindRateLimited || e.Kind == KindUnavailable {
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			e.RetryAfter = d
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
	if err != nil && reqCtx.Err() != nil {
		// The deadline passed while the error body was still arriving: the status
		// is what counts, but say the answer was cut.
		e.Message = "error body not read in time"
		return e
	}
	extract := r.ErrorMessage
	if extract == nil {
		extract = ErrorBodyMessage
	}
	e.Message = r.clean(extract(body))
	if e.Message == "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.Message = "unexpected redirect"
	}
	return e
}

// KindForStatus maps a non-2xx HTTP status to a Kind: 401, 403, 404, 429 and 5xx to
// their own kinds, 408 to KindTimeout (the vendor gave up waiting for us, which a
// retry can fix, as Samsara's SDK treats it), other 4xx to KindBadRequest, and
// anything else (an unexpected 1xx or 3xx) to KindBadResponse.
func KindForStatus(status int) Kind {
	switch {
	case status == http.StatusUnauthorized:
		return KindUnauthorized
	case status == http.StatusForbidden:
		return KindForbidden
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusRequestTimeout:
		return KindTimeout
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status >= 400 && status < 500:
		return KindBadRequest
	case status >= 500 && status < 600:
		return KindUnavailable
	default:
		return KindBadResponse
	}
}

// transportError maps a failure to send the request or read the answer.
func (r *Requester) transportError(ctx, reqCtx context.Context, err error) error {
	cause := redactURLError(err)
	e := &Error{Vendor: r.Vendor, Err: cause}
	switch {
	case ctx.Err() != nil:
		e.Kind = ctxKind(ctx)
	case errors.Is(context.Cause(reqCtx), errRequestLimit):
		// A reused connection failed before any answer and the counter refused the
		// Transport's re-send: its error is lost, but this is what happened.
		e.Kind = KindNetwork
		e.Message = "connection closed before an answer"
		return e
	case reqCtx.Err() != nil:
		e.Kind = KindTimeout
		e.Message = "no answer within the per-request timeout"
		return e
	case isTimeout(err):
		e.Kind = KindTimeout
	default:
		e.Kind = KindNetwork
	}
	if errors.Is(err, io.ErrUnexpectedEOF) && e.Kind == KindNetwork {
		e.Message = "truncated response: connection closed early"
		return e
	}
	e.Message = r.clean(innermost(cause).Error())
	return e
}

// ctxKind says why a done ctx ended: a canceled caller is KindCanceled, a passed
// deadline (the caller's own or a per-request one) is KindTimeout.
func ctxKind(ctx context.Context) Kind {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return KindTimeout
	}
	return KindCanceled
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// innermost returns the cause below *url.Error, whose text would repeat the URL.
func innermost(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// redactURLError returns err with the URL of any *url.Error at its top stripped of its
// query and user info, where credentials such as OpenWeather's appid travel.
func redactURLError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) || ue != err {
		return err
	}
	return &url.Error{Op: ue.Op, URL: RedactURL(ue.URL), Err: ue.Err}
}

// RedactURL returns rawURL without its query string and user info, so that it can be
// logged: vendors such as OpenWeather take the API key as a query parameter.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		if i := strings.IndexAny(rawURL, "?#"); i >= 0 {
			return rawURL[:i]
		}
		return rawURL
	}
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	u.RawFragment = ""
	return u.String()
}

func (r *Requester) badResponse(err error) error {
	if e, ok := err.(*Error); ok {
		if e.Vendor == "" {
			e.Vendor = r.Vendor
		}
		e.Message = r.clean(e.Message)
		return e
	}
	if _, ok := AsError(err); ok {
		return err
	}
	return &Error{Kind: KindBadResponse, Vendor: r.Vendor, Message: r.clean(err.Error()), Err: err}
}

// clean removes secrets from s, collapses white space and cuts it to a safe length.
func (r *Requester) clean(s string) string {
	for _, secret := range r.Secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[REDACTED]")
		}
	}
	return tidy(s)
}

// tidy collapses runs of white space and control characters, drops invalid UTF-8
// and cuts s to maxMessageLen bytes on a rune boundary.
func tidy(s string) string {
	var b strings.Builder
	space := false
	for _, c := range s {
		if c == utf8.RuneError || unicode.IsSpace(c) || unicode.IsControl(c) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if b.Len()+utf8.RuneLen(c) > maxMessageLen {
			b.WriteString("…")
			break
		}
		b.WriteRune(c)
	}
	return b.String()
}

// ErrorBodyMessage extracts a message from a vendor's error body in any of the four
// vendors' formats: {"message": …} (Samsara, OpenWeather), {"error": {"code": …,
// "message": …}} (Truckbase, Fuel Finder) or {"error": "…"}; a body that is not JSON
// is taken as plain text, unless it looks like HTML. It never fails.
func ErrorBodyMessage(body []byte) string {
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		return ""
	}
	var v struct {
		Message json.RawMessage `json:"message"`
		Error   json.RawMessage `json:"error"`
	}
	if strings.HasPrefix(trimmed, "{") {
		if json.Unmarshal([]byte(trimmed), &v) != nil {
			return ""
		}
		if s := jsonString(v.Message); s != "" {
			return s
		}
		if s := jsonString(v.Error); s != "" {
			return s
		}
		var inner struct {
			Code    json.RawMessage `json:"code"`
			Message json.RawMessage `json:"message"`
		}
		if json.Unmarshal(v.Error, &inner) == nil {
			if s := jsonString(inner.Message); s != "" {
				return s
			}
			return jsonString(inner.Code)
		}
		return ""
	}
	if strings.HasPrefix(trimmed, "<") || strings.HasPrefix(trimmed, "[") {
		return "" // HTML from a proxy, or JSON we do not know: the status says enough
	}
	return trimmed
}

// jsonString returns raw as text if it is a JSON string or number, else "".
func jsonString(raw json.RawMessage) string {
	var t Text
	if len(raw) == 0 || json.Unmarshal(raw, &t) != nil {
		return ""
	}
	return string(t)
}

// ParseRetryAfter parses a Retry-After header value as sent by the vendors: a number
// of seconds, fractional as Samsara sends it ("0.40235"), or an HTTP date. The wait is
// capped at MaxRetryAfter; a date in the past means no wait. ok is false when h is
// empty or unreadable, or negative.
func ParseRetryAfter(h string, now time.Time) (d time.Duration, ok bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(h, 64); err == nil {
		if math.IsNaN(secs) || secs < 0 {
			return 0, false
		}
		if math.IsInf(secs, 1) || secs >= MaxRetryAfter.Seconds() {
			return MaxRetryAfter, true
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	d = t.Sub(now)
	switch {
	case d < 0:
		return 0, true
	case d > MaxRetryAfter:
		return MaxRetryAfter, true
	}
	return d, true
}

// BadResponse returns a KindBadResponse error of vendor for an answer an adapter could
// not use; message must not contain secrets.
func BadResponse(vendor, message string) *Error {
	return &Error{Kind: KindBadResponse, Vendor: vendor, Message: tidy(message)}
}

// BadRequest returns a KindBadRequest error of vendor for input an adapter refuses
// before calling the vendor; message must not contain secrets.
func BadRequest(vendor, message string) *Error {
	return &Error{Kind: KindBadRequest, Vendor: vendor, Message: tidy(message)}
}
