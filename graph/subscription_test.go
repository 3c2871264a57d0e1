package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/config"
	_ "github.com/sallyhq/sally/ent/runtime" // privacy policies and defaults
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/graph/transport"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
	"github.com/sallyhq/sally/internal/wsclient"
	"github.com/sallyhq/sally/store"
)

// eventsQuery selects every field a dashboard shows.
const eventsQuery = `subscription($id: ID) { syncEvents(integrationId: $id) {
  type at integrationId integrationName vendor circuitState message attempt retryInMs
  syncLog { id integrationId syncType status trigger startedAt completedAt durationMs attempts recordsProcessed error }
} }`

type syncEvent struct {
	Type            string
	At              time.Time
	IntegrationID   string
	IntegrationName string
	Vendor          string
	CircuitState    string
	SyncLog         *struct {
		ID, IntegrationID, SyncType, Status, Trigger string
		StartedAt                                    time.Time
		CompletedAt                                  *time.Time
		DurationMs                                   *int
		Attempts, RecordsProcessed                   int
		Error                                        *string
	}
}

// subFixture is a tenant with one Samsara integration on the sandbox.
type subFixture struct {
	api           *testserver.API
	tenantID      string
	token         string
	integrationID string
}

func subSetup(t *testing.T, s *store.Store) *subFixture {
	t.Helper()
	api := testserver.New(t, s)
	tenantID, token := api.SeedTenant(t, "Acme Freight")
	return &subFixture{api: api, tenantID: tenantID, token: token, integrationID: api.CreateIntegration(t, token, nil)}
}

// dial opens a graphql-transport-ws socket as the token's user; it closes when the
// test ends.
func dial(t *testing.T, url, token string, o wsclient.Options) *wsclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o.Token = token
	c, err := wsclient.Dial(ctx, url, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// subscribe opens a socket and subscribes to syncEvents; it waits until the server
// has registered the subscription (want subscribers on the bus in all).
func subscribe(t *testing.T, api *testserver.API, token string, vars map[string]any, want int) (*wsclient.Client, *wsclient.Subscription) {
	t.Helper()
	c := dial(t, api.URL, token, wsclient.Options{})
	sub, err := c.Subscribe(context.Background(), eventsQuery, vars)
	require.NoError(t, err)
	waitSubscribers(t, api.Bus, want)
	return c, sub
}

func waitSubscribers(t *testing.T, bus *event.Bus, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return bus.Subscribers() == n }, 30*time.Second, 5*time.Millisecond,
		"want %d subscribers on the bus, have %d", n, bus.Subscribers())
}

// next returns the subscription's next message.
func next(t *testing.T, sub *wsclient.Subscription) wsclient.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := sub.Next(ctx)
	require.NoError(t, err)
	return m
}

// nextEvent returns the subscription's next event; anything else fails the test.
func nextEvent(t *testing.T, sub *wsclient.Subscription) syncEvent {
	t.Helper()
	m := next(t, sub)
	require.Equal(t, "next", m.Type, "payload: %s", m.Payload)
	var p struct {
		Data   struct{ SyncEvents syncEvent }
		Errors []testserver.Error
	}
	require.NoError(t, json.Unmarshal(m.Payload, &p))
	require.Empty(t, p.Errors, "payload: %s", m.Payload)
	return p.Data.SyncEvents
}

// errorCode is the extensions.code of a message carrying errors: an "error" message
// or a "next" one with errors.
func errorCode(t *testing.T, m wsclient.Message) string {
	t.Helper()
	var errs []testserver.Error
	switch m.Type {
	case "error":
		require.NoError(t, json.Unmarshal(m.Payload, &errs))
	case "next":
		var p struct{ Errors []testserver.Error }
		require.NoError(t, json.Unmarshal(m.Payload, &p))
		errs = p.Errors
	}
	require.NotEmpty(t, errs, "want errors, got %s %s", m.Type, m.Payload)
	return errs[0].Extensions.Code
}

func syncNow(t *testing.T, api *testserver.API, token, integrationID string) (logID string) {
	t.Helper()
	var out struct{ SyncIntegration struct{ ID, Status string } }
	api.Do(t, token, `mutation($id: ID!) { syncIntegration(id: $id) { id status } }`,
		map[string]any{"id": integrationID}).Decode(t, &out)
	require.Equal(t, "SUCCESS", out.SyncIntegration.Status)
	return out.SyncIntegration.ID
}

func TestSyncEventsOfManualSyncArriveInOrder(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := subSetup(t, s)
		_, sub := subscribe(t, f.api, f.token, nil, 1)
		before := time.Now()
		logID := syncNow(t, f.api, f.token, f.integrationID)

		started := nextEvent(t, sub)
		require.Equal(t, "SYNC_STARTED", started.Type)
		require.Equal(t, f.integrationID, started.IntegrationID)
		require.Equal(t, "Samsara ELD", started.IntegrationName)
		require.Equal(t, "SAMSARA_ELD", started.Vendor)
		require.Equal(t, "CLOSED", started.CircuitState)
		require.WithinRange(t, started.At, before.Add(-time.Second), time.Now())
		require.NotNil(t, started.SyncLog)
		require.Equal(t, logID, started.SyncLog.ID)
		require.Equal(t, "RUNNING", started.SyncLog.Status)
		require.Equal(t, "MANUAL", started.SyncLog.Trigger)
		require.Equal(t, "HOS_SYNC", started.SyncLog.SyncType)
		require.Nil(t, started.SyncLog.CompletedAt)

		done := nextEvent(t, sub)
		require.Equal(t, "SYNC_SUCCEEDED", done.Type)
		require.False(t, done.At.Before(started.At), "events out of order")
		require.Equal(t, logID, done.SyncLog.ID)
		require.Equal(t, "SUCCESS", done.SyncLog.Status)
		require.NotNil(t, done.SyncLog.CompletedAt)
		require.NotNil(t, done.SyncLog.DurationMs)
		require.Positive(t, done.SyncLog.RecordsProcessed)
		require.Equal(t, 1, done.SyncLog.Attempts)
		require.Nil(t, done.SyncLog.Error)
	})
}

func TestSyncEventsTenantIsolation(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	_, tokenB := f.api.SeedTenant(t, "Other Freight")
	integrationB := f.api.CreateIntegration(t, tokenB, map[string]any{"displayName": "B's ELD"})
	otherA := f.api.CreateIntegration(t, f.token, map[string]any{
		"integrationType": "FUEL", "vendor": "FUELFINDER", "displayName": "A's fuel",
		"credentials": map[string]any{"apiKey": "fuel-key-0001"},
	})

	_, subA := subscribe(t, f.api, f.token, nil, 1)
	_, subB := subscribe(t, f.api, tokenB, nil, 2)
	_, subOneA := subscribe(t, f.api, f.token, map[string]any{"id": f.integrationID}, 3)

	// A's syncs first: A sees them, in order.
	syncNow(t, f.api, f.token, otherA)
	syncNow(t, f.api, f.token, f.integrationID)
	for _, want := range []string{otherA, otherA, f.integrationID, f.integrationID} {
		require.Equal(t, want, nextEvent(t, subA).IntegrationID)
	}
	// The subscriber to one integration got only that one's.
	require.Equal(t, "SYNC_STARTED", nextEvent(t, subOneA).Type)
	require.Equal(t, f.integrationID, nextEvent(t, subOneA).IntegrationID)

	// Then B's: had B been sent any of A's events, they would come first.
	syncNow(t, f.api, tokenB, integrationB)
	for range 2 {
		e := nextEvent(t, subB)
		require.Equal(t, integrationB, e.IntegrationID)
		require.Equal(t, "B's ELD", e.IntegrationName)
	}
	// And A sees nothing of B's: its next event is its own next sync's.
	syncNow(t, f.api, f.token, f.integrationID)
	require.Equal(t, f.integrationID, nextEvent(t, subA).IntegrationID)
}

func TestSyncEventsIntegrationOfAnotherTenant(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	_, tokenB := f.api.SeedTenant(t, "Other Freight")
	c := dial(t, f.api.URL, tokenB, wsclient.Options{})
	for name, id := range map[string]string{
		"OtherTenants": f.integrationID,
		"Unknown":      "00000000-0000-4000-8000-000000000000",
		"NotAnID":      "not-an-id",
	} {
		t.Run(name, func(t *testing.T) {
			sub, err := c.Subscribe(context.Background(), eventsQuery, map[string]any{"id": id})
			require.NoError(t, err)
			require.Equal(t, graph.CodeNotFound, errorCode(t, next(t, sub)))
		})
	}
	require.Zero(t, f.api.Bus.Subscribers())
}

func TestWebsocketRefusesBadTokens(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	expired := testserver.NewTokens(func() time.Time { return time.Now().Add(-13 * time.Hour) })
	expiredToken, _, err := expired.Issue(auth.Viewer{UserID: "00000000-0000-4000-8000-000000000001",
		TenantID: f.tenantID, Email: "old@example.com", Role: auth.RoleAdmin})
	require.NoError(t, err)
	otherSecret := auth.NewTokens([]byte("another-secret-of-at-least-32-bytes!"), time.Hour, time.Now)
	forged, _, err := otherSecret.Issue(auth.Viewer{UserID: "00000000-0000-4000-8000-000000000001",
		TenantID: f.tenantID, Email: "x@example.com", Role: auth.RoleAdmin})
	require.NoError(t, err)

	tests := []struct {
		name    string
		payload map[string]any
	}{
		{"ErrNoPayload", nil},
		{"ErrNoAuthorization", map[string]any{"foo": "bar"}},
		{"ErrGarbageToken", map[string]any{"Authorization": "Bearer not.a.token"}},
		{"ErrNoScheme", map[string]any{"Authorization": f.token}},
		{"ErrExpiredToken", map[string]any{"Authorization": "Bearer " + expiredToken}},
		{"ErrForgedToken", map[string]any{"Authorization": "Bearer " + forged}},
		{"ErrTokenNotAString", map[string]any{"Authorization": 42}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			payload := tt.payload
			if payload == nil {
				payload = map[string]any{}
			}
			// Dial fails on the first message that is not connection_ack: the close.
			_, err := wsclient.Dial(ctx, f.api.URL, wsclient.Options{InitPayload: payload})
			require.Error(t, err)
			require.Equal(t, transport.CloseForbidden, wsclient.CloseStatus(err), "err: %v", err)
			require.Equal(t, transport.ReasonForbidden, wsclient.CloseReason(err))
		})
	}

	t.Run("OKLowerCaseKey", func(t *testing.T) {
		t.Parallel()
		c := dial(t, f.api.URL, "", wsclient.Options{InitPayload: map[string]any{"authorization": "Bearer " + f.token}})
		require.NoError(t, c.Close())
	})

	t.Run("ErrPayloadNotAnObject", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, f.api.URL, &websocket.DialOptions{Subprotocols: []string{wsclient.Protocol}})
		require.NoError(t, err)
		defer conn.CloseNow()
		require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init","payload":"Bearer x"}`)))
		_, _, err = conn.Read(ctx)
		require.Equal(t, transport.CloseBadRequest, wsclient.CloseStatus(err), "err: %v", err)
	})
}

func TestSyncEventsEndWhenTheTokenExpires(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	admin := f.api.SeedUser(t, f.tenantID, auth.RoleAdmin)
	// A token that expires in one to two seconds: issued as if 12h (the TTL) minus 2s
	// ago. (A JWT's exp is whole seconds: with 1s, a token issued late in a second
	// expired within milliseconds, before its socket's connection_init.)
	tokens := testserver.NewTokens(func() time.Time { return time.Now().Add(-config.DefaultTokenTTL + 2*time.Second) })
	token, expiresAt, err := tokens.Issue(auth.Viewer{UserID: admin.ID, TenantID: f.tenantID, Email: admin.Email, Role: auth.RoleAdmin})
	require.NoError(t, err)
	c, sub := subscribe(t, f.api, token, nil, 1)

	// The subscription ends with an "error" message once the token has expired.
	m := next(t, sub)
	require.False(t, time.Now().Before(expiresAt.Add(-time.Millisecond)), "ended before the token expired")
	require.Equal(t, "error", m.Type, "payload: %s", m.Payload)
	require.Equal(t, graph.CodeUnauthenticated, errorCode(t, m))
	require.Contains(t, string(m.Payload), "expired")
	_, err = sub.Next(context.Background())
	require.ErrorIs(t, err, wsclient.ErrEnded)
	waitSubscribers(t, f.api.Bus, 0)

	// The socket stays open, but refuses new subscriptions with that token.
	again, err := c.Subscribe(context.Background(), eventsQuery, nil)
	require.NoError(t, err)
	require.Equal(t, graph.CodeUnauthenticated, errorCode(t, next(t, again)))
}

func TestWebsocketKeepAlive(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	const interval = 50 * time.Millisecond
	srv := httptest.NewServer(auth.Middleware(f.api.Tokens)(graph.NewHandler(f.api.Resolver, graph.HandlerOptions{PingInterval: interval})))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Subprotocols: []string{wsclient.Protocol}})
	require.NoError(t, err)
	defer conn.CloseNow()
	write := func(msg string) { require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(msg))) }
	read := func() (string, error) {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return "", err
		}
		var m wsclient.Message
		require.NoError(t, json.Unmarshal(b, &m))
		return m.Type, nil
	}
	write(`{"type":"connection_init","payload":{"Authorization":"Bearer ` + f.token + `"}}`)
	typ, err := read()
	require.NoError(t, err)
	require.Equal(t, "connection_ack", typ)

	// A client that answers the server's pings stays connected...
	for range 5 {
		typ, err := read()
		require.NoError(t, err)
		require.Equal(t, "ping", typ)
		write(`{"type":"pong"}`)
	}
	// ...and the server answers the client's.
	write(`{"type":"ping"}`)
	for {
		typ, err := read()
		require.NoError(t, err)
		if typ == "pong" {
			break
		}
		require.Equal(t, "ping", typ)
		write(`{"type":"pong"}`)
	}
	// One that stops answering is dropped.
	for {
		if _, err := read(); err != nil {
			break
		}
	}
}

func TestSyncEventsStalledSubscriberIsDropped(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	_, healthy := subscribe(t, f.api, f.token, nil, 1)
	stalled := dial(t, f.api.URL, f.token, wsclient.Options{ReadBuffer: 16 << 10})
	stalledSub, err := stalled.Subscribe(context.Background(), eventsQuery, nil)
	require.NoError(t, err)
	waitSubscribers(t, f.api.Bus, 2)
	stalled.Stall()

	// Publish in batches that the healthy subscriber reads in full before the next:
	// it never waits for the stalled one, which falls behind until it is dropped.
	msg := strings.Repeat("the vendor said something long. ", 32)
	const batch = 50
	sent := 0
	for f.api.Bus.Subscribers() == 2 {
		require.Less(t, sent, 40_000, "the stalled subscriber was never dropped")
		for range batch {
			sent++
			f.api.Bus.Publish(context.Background(), event.Event{
				Type: event.CircuitOpened, At: time.Now(), TenantID: f.tenantID, IntegrationID: f.integrationID,
				IntegrationName: "Samsara ELD", Vendor: "SAMSARA_ELD", CircuitState: "OPEN", Message: &msg,
			})
		}
		for range batch {
			require.Equal(t, "CIRCUIT_OPENED", nextEvent(t, healthy).Type)
		}
	}
	t.Logf("the stalled subscriber was dropped after %d events", sent)

	// Once it reads again, it gets what was in flight, then the close with its reason.
	stalled.Resume()
	resumed := time.Now()
	for range stalledSub.C {
	}
	<-stalled.Done()
	t.Logf("it read its backlog and the close in %s", time.Since(resumed))
	require.Equal(t, transport.CloseTooSlow, wsclient.CloseStatus(stalled.Err()), "err: %v", stalled.Err())
	require.Equal(t, transport.ReasonTooSlow, wsclient.CloseReason(stalled.Err()))

	// The healthy one goes on.
	syncNow(t, f.api, f.token, f.integrationID)
	require.Equal(t, "SYNC_STARTED", nextEvent(t, healthy).Type)
}

func TestSyncEventsShareRenderingsPerSelection(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	dispatcher := f.api.SeedUser(t, f.tenantID, auth.RoleDispatcher)
	subscribeQuery := func(token, query string, vars map[string]any) *wsclient.Subscription {
		c := dial(t, f.api.URL, token, wsclient.Options{})
		sub, err := c.Subscribe(context.Background(), query, vars)
		require.NoError(t, err)
		return sub
	}
	const small = `subscription { syncEvents { type at } }`
	const withIntegration = `subscription { syncEvents { type syncLog { status integration { id displayName } } } }`
	const conditional = `subscription($all: Boolean!) { syncEvents { type vendor @include(if: $all) } }`
	subs := []*wsclient.Subscription{
		subscribeQuery(f.token, small, nil),
		subscribeQuery(dispatcher.Token, small, nil),
		subscribeQuery(f.token, withIntegration, nil),
		subscribeQuery(dispatcher.Token, withIntegration, nil),
		subscribeQuery(f.token, conditional, map[string]any{"all": true}),
		subscribeQuery(f.token, conditional, map[string]any{"all": false}),
	}
	waitSubscribers(t, f.api.Bus, len(subs))
	syncNow(t, f.api, f.token, f.integrationID)

	var got [][]string
	for _, sub := range subs {
		var payloads []string
		for range 2 {
			m := next(t, sub)
			require.Equal(t, "next", m.Type)
			payloads = append(payloads, string(m.Payload))
		}
		got = append(got, payloads)
	}
	require.Equal(t, got[0], got[1], "one selection, one rendering")
	require.JSONEq(t, `{"data":{"syncEvents":{"type":"SYNC_STARTED","syncLog":{"status":"RUNNING","integration":{"id":"`+
		f.integrationID+`","displayName":"Samsara ELD"}}}}}`, got[2][0])
	require.Equal(t, got[2], got[3])
	require.JSONEq(t, `{"data":{"syncEvents":{"type":"SYNC_STARTED","vendor":"SAMSARA_ELD"}}}`, got[4][0])
	require.JSONEq(t, `{"data":{"syncEvents":{"type":"SYNC_STARTED"}}}`, got[5][0])
	require.JSONEq(t, `{"data":{"syncEvents":{"type":"SYNC_SUCCEEDED"}}}`, got[5][1])
}

func TestSyncEventsOverSSE(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := subscribeSSE(t, ctx, f.api.URL, f.token)

	waitSubscribers(t, f.api.Bus, 1)
	logID := syncNow(t, f.api, f.token, f.integrationID)
	sc := bufio.NewScanner(res.Body)
	var types []string
	for len(types) < 2 && sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var p struct {
			Data struct{ SyncEvents syncEvent }
		}
		require.NoError(t, json.Unmarshal([]byte(data), &p), "data: %s", data)
		require.Equal(t, logID, p.Data.SyncEvents.SyncLog.ID)
		types = append(types, p.Data.SyncEvents.Type)
	}
	require.NoError(t, sc.Err())
	require.Equal(t, []string{"SYNC_STARTED", "SYNC_SUCCEEDED"}, types)
	cancel()
	waitSubscribers(t, f.api.Bus, 0)
}

// TestSyncEventsWithGraphQLWSClient subscribes with the npm graphql-ws client, as web
// frontends do (internal/wsclient/node; scripts/test.sh runs npm ci there).
func TestSyncEventsWithGraphQLWSClient(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	node := nodeClient(t)
	wsURL := "ws" + strings.TrimPrefix(f.api.URL, "http")

	t.Run("OK", func(t *testing.T) {
		out := node.start(t, wsURL, f.token, "2", f.integrationID)
		waitSubscribers(t, f.api.Bus, 1)
		logID := syncNow(t, f.api, f.token, f.integrationID)
		lines := out.wait(t)
		var types []string
		for _, l := range lines {
			if l.Kind != "next" {
				continue
			}
			var p struct {
				Data struct{ SyncEvents syncEvent }
			}
			require.NoError(t, json.Unmarshal(l.Payload, &p))
			require.Equal(t, logID, p.Data.SyncEvents.SyncLog.ID)
			types = append(types, p.Data.SyncEvents.Type)
		}
		require.Equal(t, []string{"SYNC_STARTED", "SYNC_SUCCEEDED"}, types, "lines: %+v", lines)
		waitSubscribers(t, f.api.Bus, 0)
	})

	t.Run("ErrBadToken", func(t *testing.T) {
		lines := node.start(t, wsURL, "not-a-token", "1", "").wait(t)
		var closed *nodeLine
		for _, l := range lines {
			if l.Kind == "closed" {
				closed = &l
			}
			require.NotEqual(t, "next", l.Kind, "no event may reach a refused client")
		}
		require.NotNil(t, closed, "lines: %+v", lines)
		require.Equal(t, transport.CloseForbidden, closed.Code)
		require.Equal(t, transport.ReasonForbidden, closed.Reason)
	})
}

type nodeRunner struct{ dir string }

type nodeLine struct {
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload"`
	Code    int             `json:"code"`
	Reason  string          `json:"reason"`
}

type nodeRun struct {
	cmd         *exec.Cmd
	out, stderr *strings.Builder
	done        chan error
}

// nodeClient finds node and the client's dependencies (installing them with npm ci
// when missing).
func nodeClient(t *testing.T) *nodeRunner {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node (>= 20) is required by this test: apt-get install nodejs npm")
	}
	dir, err := filepath.Abs(filepath.Join("..", "internal", "wsclient", "node"))
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "graphql-ws")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm ci in %s: %s", dir, out)
	}
	return &nodeRunner{dir: dir}
}

func (n *nodeRunner) start(t *testing.T, args ...string) *nodeRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, "node", append([]string{"subscribe.mjs"}, args...)...)
	cmd.Dir = n.dir
	r := &nodeRun{cmd: cmd, out: &strings.Builder{}, stderr: &strings.Builder{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = r.out, r.stderr
	require.NoError(t, cmd.Start())
	go func() { r.done <- cmd.Wait() }()
	return r
}

// wait returns the lines the client printed once it has exited.
func (r *nodeRun) wait(t *testing.T) []nodeLine {
	t.Helper()
	<-r.done // exit status 1 is how the client reports a subscription error
	if r.stderr.Len() > 0 {
		t.Logf("node stderr: %s", r.stderr)
	}
	var lines []nodeLine
	for _, l := range strings.Split(strings.TrimSpace(r.out.String()), "\n") {
		if l == "" {
			continue
		}
		var nl nodeLine
		require.NoError(t, json.Unmarshal([]byte(l), &nl), "line: %s", l)
		lines = append(lines, nl)
	}
	return lines
}

func TestSyncEventsTwoSubscriptionsOnOneSocket(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	c := dial(t, f.api.URL, f.token, wsclient.Options{})
	types, err := c.Subscribe(context.Background(), `subscription { syncEvents { type } }`, nil)
	require.NoError(t, err)
	vendors, err := c.Subscribe(context.Background(), `subscription { syncEvents { vendor } }`, nil)
	require.NoError(t, err)
	waitSubscribers(t, f.api.Bus, 2)
	syncNow(t, f.api, f.token, f.integrationID)
	for _, want := range []string{"SYNC_STARTED", "SYNC_SUCCEEDED"} {
		m := next(t, types)
		require.Equal(t, types.ID, m.ID)
		require.JSONEq(t, `{"data":{"syncEvents":{"type":"`+want+`"}}}`, string(m.Payload))
		m = next(t, vendors)
		require.Equal(t, vendors.ID, m.ID)
		require.JSONEq(t, `{"data":{"syncEvents":{"vendor":"SAMSARA_ELD"}}}`, string(m.Payload))
	}
	// Stopping one leaves the other.
	require.NoError(t, types.Stop(context.Background()))
	waitSubscribers(t, f.api.Bus, 1)
	syncNow(t, f.api, f.token, f.integrationID)
	require.Equal(t, vendors.ID, next(t, vendors).ID)
}

// TestSyncEventsOverLegacyProtocol: clients of the older graphql-ws protocol
// (subprotocol "graphql-ws", gqlgen's test client among them) still get events.
func TestSyncEventsOverLegacyProtocol(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	sub := client.New(f.api.Handler).WebsocketWithPayload(`subscription { syncEvents { type syncLog { status } } }`,
		map[string]any{"Authorization": "Bearer " + f.token})
	defer sub.Close()
	waitSubscribers(t, f.api.Bus, 1)
	syncNow(t, f.api, f.token, f.integrationID)
	for _, want := range []string{"RUNNING", "SUCCESS"} {
		var got struct {
			SyncEvents struct {
				Type    string
				SyncLog struct{ Status string }
			}
		}
		require.NoError(t, sub.Next(&got))
		require.Equal(t, want, got.SyncEvents.SyncLog.Status)
	}
}

// TestSyncEventsStreamReset: when the server may have missed events (its database
// connection was lost, see event/pgnotify), every subscription gets a STREAM_RESET
// whose integrationId is its filter (empty without one) and whose vendor is that
// integration's.
func TestSyncEventsStreamReset(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	_, all := subscribe(t, f.api, f.token, nil, 1)
	_, one := subscribe(t, f.api, f.token, map[string]any{"id": f.integrationID}, 2)
	f.api.Bus.Reset(context.Background(), "the server lost its database connection for a while")
	for _, c := range []struct {
		sub *wsclient.Subscription
		id  string
	}{{all, ""}, {one, f.integrationID}} {
		var p struct {
			Data struct{ SyncEvents syncEvent }
		}
		require.NoError(t, json.Unmarshal(next(t, c.sub).Payload, &p))
		e := p.Data.SyncEvents
		require.Equal(t, "STREAM_RESET", e.Type)
		require.Equal(t, c.id, e.IntegrationID)
		require.Equal(t, "SAMSARA_ELD", e.Vendor)
		require.Equal(t, event.ResetName, e.IntegrationName)
		require.Nil(t, e.SyncLog)
	}
}

// TestSSEEndsWhenTheUserIsDeactivated: an SSE subscription of a user whose session
// ends (deactivated here) is cut off as a websocket is, and no event reaches it after.
func TestSSEEndsWhenTheUserIsDeactivated(t *testing.T) {
	t.Parallel()
	f := subSetup(t, testdb.Open(t, testdb.SQLite))
	u := f.api.SeedUser(t, f.tenantID, auth.RoleDispatcher)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := subscribeSSE(t, ctx, f.api.URL, u.Token)
	waitSubscribers(t, f.api.Bus, 1)

	start := time.Now()
	requireCode(t, f.api.Do(t, f.token, updateUserOp, map[string]any{"id": u.ID, "in": map[string]any{"isActive": false}}), "")
	syncNow(t, f.api, f.token, f.integrationID) // events the user must not get
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if ok {
			require.NotContains(t, data, `"syncEvents":{`, "an event reached a deactivated user: %s", data)
		}
	}
	require.NoError(t, ctx.Err(), "the response did not end")
	t.Logf("the SSE response ended %v after the deactivation", time.Since(start).Round(time.Millisecond))
	waitSubscribers(t, f.api.Bus, 0)
}

// subscribeSSE subscribes to syncEvents over SSE with token; the response (OK, an
// event stream) is closed when the test ends.
func subscribeSSE(t *testing.T, ctx context.Context, url, token string) *http.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": eventsQuery})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	return res
}
