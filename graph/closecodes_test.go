package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/graph"
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
		{"SubscribeBeforeInit", []string{subscribe}, graph.CloseUnauthorized},
		{"SecondInit", []string{init, init}, graph.CloseTooManyInits},
		{"SecondInitAfterSubscribe", []string{init, subscribe, init}, graph.CloseTooManyInits},
		{"NoInit", nil, graph.CloseInitTimeout},
		// graphql-transport-ws: a message that is not valid, or of an unknown type,
		// closes with 4400 (gqlgen said 1002 before connection_init, 1000 after).
		{"NotJSONBeforeInit", []string{`not json`}, graph.CloseBadRequest},
		{"NotJSONAfterInit", []string{init, `not json`}, graph.CloseBadRequest},
		{"UnknownType", []string{init, `{"type":"bogus"}`}, graph.CloseBadRequest},
		{"ServerTypeFromClient", []string{init, `{"id":"1","type":"next","payload":{}}`}, graph.CloseBadRequest},
		{"SubscribeWithoutID", []string{init, `{"type":"subscribe","payload":{"query":"subscription { syncEvents { type } }"}}`}, graph.CloseBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), graph.InitTimeout+30*time.Second)
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
