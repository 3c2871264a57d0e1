package graph_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/graph/transport"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/wsclient"
)

// TestWebsocketProtocolCloseCodes: the graphql-transport-ws close codes the contract
// names (and 4400 for an invalid message, as the protocol prescribes), seen by a client that speaks the protocol on a raw socket (gqlgen closes with
// 1002 for each of these).
func TestWebsocketProtocolCloseCodes(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	init := `{"type":"connection_init","payload":{"Authorization":"Bearer ` + f.token + `"}}`
	subscribe := `{"id":"1","type":"subscribe","payload":{"query":"subscription { syncEvents { type } }"}}`
	tests := []struct {
		name     string
		messages []string
		code     int
	}{
		{"SubscribeBeforeInit", []string{subscribe}, transport.CloseUnauthorized},
		{"SecondInit", []string{init, init}, transport.CloseTooManyInits},
		{"SecondInitAfterSubscribe", []string{init, subscribe, init}, transport.CloseTooManyInits},
		{"NoInit", nil, transport.CloseInitTimeout},
		// graphql-transport-ws: a message that is not valid, or of an unknown type,
		// closes with 4400 (gqlgen said 1002 before connection_init, 1000 after).
		{"NotJSONBeforeInit", []string{`not json`}, transport.CloseBadRequest},
		{"NotJSONAfterInit", []string{init, `not json`}, transport.CloseBadRequest},
		{"UnknownType", []string{init, `{"type":"bogus"}`}, transport.CloseBadRequest},
		{"ServerTypeFromClient", []string{init, `{"id":"1","type":"next","payload":{}}`}, transport.CloseBadRequest},
		{"SubscribeWithIDInUse", []string{init, subscribe, subscribe}, transport.CloseSubscriberExists},
		{"SubscribeWithoutID", []string{init, `{"type":"subscribe","payload":{"query":"subscription { syncEvents { type } }"}}`}, transport.CloseBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), transport.InitTimeout+30*time.Second)
			defer cancel()
			conn, _, err := websocket.Dial(ctx, f.api.URL, &websocket.DialOptions{Subprotocols: []string{wsclient.Protocol}})
			require.NoError(t, err)
			defer conn.CloseNow()
			for _, m := range tt.messages {
				require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(m)))
			}
			for {
				_, msg, err := conn.Read(ctx)
				if err != nil {
					require.Equal(t, tt.code, wsclient.CloseStatus(err), "err: %v", err)
					return
				}
				t.Logf("message: %s", msg) // connection_ack, pings, an error
			}
		})
	}
}

// TestWebsocketIDReusedAfterComplete: an id is in use only while its operation runs;
// once the server completed it, the client may subscribe with it again (4409 is for
// an id still in use).
func TestWebsocketIDReusedAfterComplete(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, f.api.URL, &websocket.DialOptions{Subprotocols: []string{wsclient.Protocol}})
	require.NoError(t, err)
	defer conn.CloseNow()
	write := func(m string) { require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(m))) }
	read := func() string {
		for {
			_, msg, err := conn.Read(ctx)
			require.NoError(t, err)
			if !strings.Contains(string(msg), `"type":"ping"`) {
				return string(msg)
			}
		}
	}
	write(`{"type":"connection_init","payload":{"Authorization":"Bearer ` + f.token + `"}}`)
	require.Contains(t, read(), "connection_ack")
	for range 2 {
		write(`{"id":"q","type":"subscribe","payload":{"query":"{ me { email } }"}}`)
		require.Contains(t, read(), `"type":"next"`)
		require.Contains(t, read(), `"type":"complete"`)
	}
	// A subscription the client completes frees its id too.
	for range 2 {
		write(`{"id":"s","type":"subscribe","payload":{"query":"subscription { syncEvents { type } }"}}`)
		write(`{"id":"s","type":"complete"}`)
	}
	write(`{"id":"q","type":"subscribe","payload":{"query":"{ me { email } }"}}`)
	for {
		m := read()
		if strings.Contains(m, `"id":"q"`) {
			require.Contains(t, m, `"type":"next"`)
			break
		}
	}
}

// TestWebsocketRequestErrorsAreErrorMessages: a subscribe whose document does not
// parse or validate, or that a limit refuses before any work, is answered with the
// protocol's "error" message (its payload the errors, each with its code), not with
// "next" and "complete" as if it had run; the socket stays open and the id is free.
func TestWebsocketRequestErrorsAreErrorMessages(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, f.api.URL, &websocket.DialOptions{Subprotocols: []string{wsclient.Protocol}})
	require.NoError(t, err)
	defer conn.CloseNow()
	write := func(m string) { require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(m))) }
	read := func() map[string]any {
		for {
			_, msg, err := conn.Read(ctx)
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(msg, &m), string(msg))
			if m["type"] != "ping" {
				return m
			}
		}
	}
	write(`{"type":"connection_init","payload":{"Authorization":"Bearer ` + f.token + `"}}`)
	require.Equal(t, "connection_ack", read()["type"])
	for _, q := range []string{
		`subscription { nosuch }`,
		`subscription { syncEvents { `,
		`subscription($id: ID) { syncEvents(integrationId: $id) { type } }", "variables": {"id": {"x": 1}}`,
	} {
		body, err := json.Marshal(q)
		require.NoError(t, err)
		payload := `{"query":` + string(body) + `}`
		if strings.Contains(q, `"variables"`) {
			payload = `{"query":"` + q + `}`
		}
		write(`{"id":"1","type":"subscribe","payload":` + payload + `}`)
		m := read()
		require.Equal(t, "error", m["type"], "%s: %v", q, m)
		require.Equal(t, "1", m["id"])
		errs, ok := m["payload"].([]any)
		require.True(t, ok, "payload is a list of errors: %v", m)
		require.NotEmpty(t, errs)
		ext := errs[0].(map[string]any)["extensions"].(map[string]any)
		require.Equal(t, graph.CodeBadUserInput, ext["code"])
	}
	// The socket still serves, and the id is free again.
	write(`{"id":"1","type":"subscribe","payload":{"query":"{ me { email } }"}}`)
	require.Equal(t, "next", read()["type"])
}
