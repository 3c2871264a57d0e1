package graph_test

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/graph"
)

// TestClientAddr: X-Forwarded-For names the client only when the peer is a trusted
// proxy, and then the address nearest to the client that is not itself a trusted
// proxy; from anyone else it is ignored (a client could pick any address and escape
// the per-address login limit).
func TestClientAddr(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"NoProxy", "203.0.113.7:5555", nil, "203.0.113.7"},
		{"UntrustedPeerForgesHeader", "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7"},
		{"TrustedProxy", "10.1.2.3:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"ClientForgesLeftmost", "10.1.2.3:443", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"TwoTrustedHops", "10.1.2.3:443", []string{"198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"SeveralHeaders", "10.1.2.3:443", []string{"1.2.3.4", "198.51.100.1"}, "198.51.100.1"},
		{"GarbledHop", "10.1.2.3:443", []string{"198.51.100.1, not-an-ip"}, "10.1.2.3"},
		{"TrustedProxyNoHeader", "10.1.2.3:443", nil, "10.1.2.3"},
		{"IPv6Loopback", "[::1]:443", []string{"2001:db8::1"}, "2001:db8::1"},
		{"IPv4Mapped", "[::ffff:203.0.113.7]:5555", nil, "203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/graphql", nil)
			r.RemoteAddr = tt.peer
			for _, h := range tt.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			require.Equal(t, tt.want, graph.ClientAddr(r, trusted))
		})
	}
}
