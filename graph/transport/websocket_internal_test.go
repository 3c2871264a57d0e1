package transport

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// message has the shape of gqlgen's protocol messages.
type message struct {
	Payload json.RawMessage `json:"payload,omitempty"`
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
}

func TestFrameEncodesLikeJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  any
		ok   bool
	}{
		{"Next", &message{Payload: json.RawMessage(`{"data":{"syncEvents":{"type":"SYNC_STARTED"}}}`), ID: "1", Type: "next"}, true},
		{"NoPayload", &message{ID: "abc-123", Type: "complete"}, true},
		{"NoID", &message{Type: "connection_ack"}, true},
		{"EscapedID", &message{ID: "a\"b\\c\n\u00e9<", Type: "complete"}, true},
		{"NotAPointer", message{Type: "ping"}, false},
		{"OtherStruct", &struct{ Type string }{"ping"}, false},
		{"ExtraField", &struct {
			message
			Extra string
		}{message{Type: "ping"}, "x"}, false},
		{"Map", map[string]any{"type": "ping"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := frame(tt.msg)
			require.Equal(t, tt.ok, ok)
			if !ok {
				return
			}
			want, err := json.Marshal(tt.msg)
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(got))
		})
	}
}
