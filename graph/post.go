package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// jsonPOST is gqlgen's POST transport for the requests it answers with
// application/json (the others, which ask for application/graphql-response+json, go
// to transport.POST itself), with one change: the response's data is written as the
// executor produced it. transport.POST puts the response through json.Marshal, which
// scans the data again to compact it; that was a tenth of a history page's CPU.
type jsonPOST struct{ transport.POST }

var _ graphql.Transport = jsonPOST{}

// Supports takes what transport.POST takes, when the answer is application/json.
func (t jsonPOST) Supports(r *http.Request) bool {
	return t.POST.Supports(r) && acceptsJSON(r.Header.Get("Accept"))
}

// acceptsJSON tells whether gqlgen would answer application/json to this Accept
// header (its default for an absent one, */* and application/*).
func acceptsJSON(accept string) bool {
	if accept == "" {
		return true
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", "application/json":
			return true
		case "application/graphql-response+json":
			return false
		}
	}
	return false
}

// Do serves the request as transport.POST does.
func (jsonPOST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	w.Header().Set("Content-Type", "application/json")
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("could not read request body: %+v", err)}))
		return
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf(
			"json request body could not be decoded: %+v body:%s", err, body)}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	rc, opErr := exec.CreateOperationContext(ctx, &params)
	if opErr != nil {
		if errcode.GetErrorKind(opErr) == errcode.KindProtocol {
			w.WriteHeader(http.StatusUnprocessableEntity)
		}
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

// writeResponse writes resp as json.Marshal would (same keys, same order), except that
// data goes out as it is rather than compacted and HTML-escaped again.
func writeResponse(w io.Writer, resp *graphql.Response) {
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
			errs = []byte(`[{"message":"internal error","extensions":{"code":"` + CodeInternal + `"}}]`)
		}
		head = append(append(append(head, `"errors":`...), errs...), ',')
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
	writeError(w, http.StatusBadRequest, "transport not supported: send a POST with Content-Type application/json, a GET with a query parameter, or a graphql-transport-ws websocket")
}

// writeError answers a request that never reached the executor: one BAD_USER_INPUT
// error with msg.
func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	writeResponse(w, &graphql.Response{Errors: gqlerror.List{{
		Message: msg, Extensions: map[string]any{"code": CodeBadUserInput},
	}}})
}
