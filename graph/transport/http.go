package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sallyhq/sally/apierr"
)

// MediaGraphQLResponse is the GraphQL-over-HTTP specification's own response type.
const MediaGraphQLResponse = "application/graphql-response+json"

// jsonPOST is gqlgen's POST transport made to follow the GraphQL-over-HTTP
// specification, SHOULDs included, as the contract says:
//   - request errors (a body that is not a GraphQL request, a document that does not
//     parse or validate, variables that do not coerce, a limit refused before any
//     work) carry no data entry; they answer 200 for application/json and 400 for
//     application/graphql-response+json;
//   - invalid request parameters (no query, wrong types) answer 400;
//   - the response's data is written as the executor produced it: gqltransport.POST puts
//     it through json.Marshal, which scans it again to compact it, and that was a
//     tenth of a history page's CPU.
type jsonPOST struct{ gqltransport.POST }

var _ graphql.Transport = jsonPOST{}

// responseType is the media type of the answer to a request with this Accept header:
// application/json for none, */*, application/* and application/json, the
// specification's type when it comes first or alone (gqlgen's negotiation); "" when
// the header names neither (406 Not Acceptable).
func responseType(accept string) string {
	if accept == "" {
		return "application/json"
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", "application/json":
			return "application/json"
		case MediaGraphQLResponse:
			return MediaGraphQLResponse
		}
	}
	return ""
}

// Do serves one request.
func (jsonPOST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	media, ok := negotiate(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		requestError(w, r, exec, media, http.StatusBadRequest, gqlerror.List{gqlerror.Errorf("could not read the request body")})
		return
	}
	params, err := decodeParams(body)
	if err != nil {
		requestError(w, r, exec, media, http.StatusBadRequest, gqlerror.List{badRequest(err.Error())})
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(w, r, exec, media, params, false)
}

// jsonGET is gqlgen's GET transport made to follow the GraphQL-over-HTTP
// specification as jsonPOST does: the same statuses and bodies for request errors
// (gqlgen answered 422 with "data": null for a document that does not parse or
// validate, and errors without a code for variables that do not decode), and 405
// Method Not Allowed with Allow: POST for a mutation, as the specification requires
// (gqlgen said 406).
type jsonGET struct{ gqltransport.GET }

var _ graphql.Transport = jsonGET{}

// Do serves one request.
func (jsonGET) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	media, ok := negotiate(w, r)
	if !ok {
		return
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		requestError(w, r, exec, media, http.StatusBadRequest, gqlerror.List{badRequest("the request's URL query does not parse: send ?query=...&variables=...")})
		return
	}
	params := &graphql.RawParams{Query: query.Get("query"), OperationName: query.Get("operationName"), Headers: r.Header}
	if params.Query == "" {
		requestError(w, r, exec, media, http.StatusBadRequest, gqlerror.List{badRequest("the request has no query: send ?query=...")})
		return
	}
	for _, p := range []struct {
		name string
		into *map[string]any
	}{{"variables", &params.Variables}, {"extensions", &params.Extensions}} {
		v := query.Get(p.name)
		if v == "" || v == "null" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(p.into); err != nil {
			requestError(w, r, exec, media, http.StatusBadRequest, gqlerror.List{badRequest(fmt.Sprintf("the request's %s must be a JSON object", p.name))})
			return
		}
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(w, r, exec, media, params, true)
}

// negotiate sets the response's Content-Type from the request's Accept header, or
// answers 406 Not Acceptable when the header names no type this server writes (the
// specification's recommended choice) and reports false.
func negotiate(w http.ResponseWriter, r *http.Request) (string, bool) {
	media := responseType(r.Header.Get("Accept"))
	if media == "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotAcceptable)
		writeResponse(w, &graphql.Response{Errors: gqlerror.List{badRequest(
			"not acceptable: accept application/graphql-response+json or application/json")}}, false)
		return "", false
	}
	w.Header().Set("Content-Type", media)
	return media, true
}

// badRequest is an error of the request as a whole, with the contract's code.
func badRequest(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": apierr.CodeBadUserInput}}
}

// requestError answers an error of the request as a whole: no data entry; status 0
// means the specification's choice for a document that does not parse or validate
// (200 for application/json, 400 for application/graphql-response+json).
func requestError(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, media string, status int, errs gqlerror.List) {
	if status == 0 {
		status = http.StatusOK
		if media == MediaGraphQLResponse {
			status = http.StatusBadRequest
		}
	}
	w.WriteHeader(status)
	writeResponse(w, exec.DispatchError(r.Context(), errs), false)
}

// execute runs a decoded request; viaGET refuses everything but queries with 405.
func execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, media string, params *graphql.RawParams, viaGET bool) {
	ctx := r.Context()
	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		ctx = graphql.WithOperationContext(ctx, rc)
		requestError(w, r.WithContext(ctx), exec, media, 0, opErr)
		return
	}
	if viaGET && rc.Operation != nil && rc.Operation.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		requestError(w, r, exec, media, http.StatusMethodNotAllowed, gqlerror.List{badRequest(
			fmt.Sprintf("a %s cannot be sent with GET: send it with POST", rc.Operation.Operation))})
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	resp := responses(ctx)
	if len(resp.Data) == 0 && len(resp.Errors) > 0 {
		// Refused before execution (a limit): a request error too.
		if media == MediaGraphQLResponse {
			w.WriteHeader(http.StatusBadRequest)
		}
		writeResponse(w, resp, false)
		return
	}
	writeResponse(w, resp, true)
}

// decodeParams reads a GraphQL-over-HTTP request body: an object whose query is a
// non-empty string, whose operationName is a string or null and whose variables and
// extensions are objects or null. Anything else is an invalid request, in words a
// client can act on.
func decodeParams(body []byte) (*graphql.RawParams, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, errors.New("the request body is not a JSON object: send {\"query\": \"...\", \"variables\": {...}}")
	}
	params := &graphql.RawParams{}
	isNull := func(v json.RawMessage) bool { return len(v) == 0 || string(v) == "null" }
	field := func(name string, into any, what string) error {
		v, ok := raw[name]
		if !ok || isNull(v) {
			return nil
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(into); err != nil {
			return fmt.Errorf("the request's %s must be %s", name, what)
		}
		return nil
	}
	if err := field("query", &params.Query, "a string"); err != nil {
		return nil, err
	}
	if params.Query == "" {
		return nil, errors.New("the request has no query: send {\"query\": \"...\"}")
	}
	if err := field("operationName", &params.OperationName, "a string or null"); err != nil {
		return nil, err
	}
	if err := field("variables", &params.Variables, "an object or null"); err != nil {
		return nil, err
	}
	if err := field("extensions", &params.Extensions, "an object or null"); err != nil {
		return nil, err
	}
	return params, nil
}

// writeResponse writes resp as json.Marshal would (same keys, same order), except that
// data goes out as it is rather than compacted and HTML-escaped again, and only when
// withData (a request error has no data entry).
func writeResponse(w io.Writer, resp *graphql.Response, withData bool) {
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		b, _ := json.Marshal(resp) // incremental delivery: rare, leave it to encoding/json
		_, _ = w.Write(b)
		return
	}
	// The data is written from where it is, between a small head and tail.
	head := append(make([]byte, 0, 64), '{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			errs = []byte(`[{"message":"internal error","extensions":{"code":"` + apierr.CodeInternal + `"}}]`)
		}
		head = append(append(head, `"errors":`...), errs...)
		if withData {
			head = append(head, ',')
		}
	}
	if !withData {
		tail := []byte{'}'}
		if len(resp.Extensions) > 0 {
			if ext, err := json.Marshal(resp.Extensions); err == nil {
				tail = append(append([]byte(`,"extensions":`), ext...), '}')
			}
		}
		_, _ = w.Write(append(head, tail...))
		return
	}
	head = append(head, `"data":`...)
	data := []byte(resp.Data)
	if len(data) == 0 {
		data = []byte("null")
	}
	tail := []byte{'}'}
	if len(resp.Extensions) > 0 {
		if ext, err := json.Marshal(resp.Extensions); err == nil {
			tail = append(append([]byte(`,"extensions":`), ext...), '}')
		}
	}
	for _, part := range [][]byte{head, data, tail} {
		if _, err := w.Write(part); err != nil {
			return
		}
	}
}

// unsupported answers what no other transport takes (a POST that is not
// application/json, a PUT…) as gqlgen would, 400 "transport not supported", but
// with the contract's code and a hint. Registered last.
type unsupported struct{}

var _ graphql.Transport = unsupported{}

func (unsupported) Supports(*http.Request) bool { return true }

func (unsupported) Do(w http.ResponseWriter, _ *http.Request, _ graphql.GraphExecutor) {
	WriteError(w, http.StatusBadRequest, "transport not supported: send a POST with Content-Type application/json, a GET with a query parameter, or a graphql-transport-ws websocket")
}

// WriteError answers a request that never reached the executor: one BAD_USER_INPUT
// error with msg.
func WriteError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	writeResponse(w, &graphql.Response{Errors: gqlerror.List{{
		Message: msg, Extensions: map[string]any{"code": apierr.CodeBadUserInput},
	}}}, false)
}

// MaxBodyBytes bounds a GraphQL request body.
const MaxBodyBytes = 1 << 20

// ReadBody bounds req's body to MaxBodyBytes and, for a POST, reads it whole, so that
// one too large is refused as the client's mistake (413, BAD_USER_INPUT) where gqlgen
// would report an internal error. It answers w itself and reports false when the body
// could not be read.
func ReadBody(w http.ResponseWriter, req *http.Request) (*http.Request, bool) {
	if req.Body == nil {
		return req, true
	}
	req.Body = http.MaxBytesReader(w, req.Body, MaxBodyBytes)
	if req.Method != http.MethodPost {
		return req, true
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		status, msg := http.StatusBadRequest, "could not read the request body"
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status, msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes)
		}
		WriteError(w, status, msg)
		return req, false
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	return req, true
}
