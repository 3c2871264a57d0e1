package samsara_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/internal/vendortest"
	"github.com/sallyhq/sally/vendors/samsara"
)

const testKey = "tok-secret-123"

// setup starts a server for h and returns a client of it and the request recorder.
// The client counts the calls that went through its Do hook.
type setup struct {
	client *samsara.Client
	rec    *vendortest.Recorder
	calls  *atomic.Int64
}

func newSetup(t *testing.T, h http.Handler, mutate ...func(*samsara.Config)) setup {
	t.Helper()
	rec := &vendortest.Recorder{Next: h}
	srv := vendortest.Server(t, rec)
	calls := new(atomic.Int64)
	cfg := samsara.Config{
		BaseURL: srv.URL + "/",
		APIKey:  testKey,
		Do: func(ctx context.Context, call func(context.Context) error) error {
			calls.Add(1)
			return call(ctx)
		},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	return setup{client: samsara.New(cfg), rec: rec, calls: calls}
}

// round rounds the hour fields so that expected values can be written as literals;
// nil (not reported) stays nil.
func round(hs []vendors.HOS) []vendors.HOS {
	r := func(f *float64) *float64 {
		if f == nil {
			return nil
		}
		v := math.Round(*f*1e6) / 1e6
		return &v
	}
	out := slices.Clone(hs)
	for i := range out {
		h := &out[i]
		h.HoursDriven, h.DriveRemainingHours = r(h.HoursDriven), r(h.DriveRemainingHours)
		h.ShiftRemainingHours, h.CycleRemainingHours = r(h.ShiftRemainingHours), r(h.CycleRemainingHours)
		h.TimeUntilBreakHours = r(h.TimeUntilBreakHours)
		h.CycleViolationHours, h.ShiftDrivingViolationHours = r(h.CycleViolationHours), r(h.ShiftDrivingViolationHours)
	}
	return out
}

// f returns a pointer to v: a reported value in an expected HOS.
func f(v float64) *float64 { return &v }

func TestHOSClocksGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fixture string
		body    string // used when fixture is ""
		want    []vendors.HOS
		kind    vendors.Kind
	}{
		{name: "VendorsMdExample", fixture: "clocks.json", want: []vendors.HOS{{
			DriverID: "52001", DriverName: "Maria Lopez", DutyStatus: vendors.DutyDriving,
			HoursDriven: f(5.166667), DriveRemainingHours: f(5.833333), ShiftRemainingHours: f(7.833333),
			CycleRemainingHours: f(23.333333), TimeUntilBreakHours: f(5.833333),
			CycleViolationHours: f(0), ShiftDrivingViolationHours: f(0),
		}}},
		{name: "StatusesAndMissingSubObjects", fixture: "clocks_variants.json", want: []vendors.HOS{
			{DriverID: "1", DriverName: "Off Duty", DutyStatus: vendors.DutyOffDuty, HoursDriven: f(0), DriveRemainingHours: f(11),
				ShiftRemainingHours: f(14), CycleRemainingHours: f(70), TimeUntilBreakHours: f(8)},
			{DriverID: "2", DriverName: "Sleeper", DutyStatus: vendors.DutySleeperBerth, Note: samsara.NoteNoClocks},
			{DriverID: "3", DriverName: "On Duty", DutyStatus: vendors.DutyOnDuty},
			{DriverID: "4", DriverName: "Yard", DutyStatus: vendors.DutyYardMove, HoursDriven: f(11), DriveRemainingHours: f(0)},
			{DriverID: "5", DriverName: "Personal", DutyStatus: vendors.DutyPersonalConveyance, HoursDriven: f(11), DriveRemainingHours: f(0)},
			{DriverID: "6", DriverName: "Disconnected", DutyStatus: vendors.DutyUnknown, Note: samsara.NoteDisconnected,
				HoursDriven: f(6), DriveRemainingHours: f(5), ShiftRemainingHours: f(10)},
			{DriverID: "7", DutyStatus: vendors.DutyUnknown, Note: samsara.NoteNoStatus + "; " + samsara.NoteNoClocks},
			{DriverID: "8", DriverName: "Future", DutyStatus: vendors.DutyUnknown, Note: `unknown duty status "waitingTime"`},
			{DriverID: "9", DriverName: "Upper", DutyStatus: vendors.DutyDriving, Note: samsara.NoteNoClocks},
		}},
		{name: "EmptyPage", body: `{"data":[],"pagination":{"endCursor":"","hasNextPage":false}}`, want: nil},
		{name: "NullData", body: `{"data":null}`, want: nil},
		{name: "NullStatusIsNotReported", body: `{"data":[{"driver":{"id":"1"},"currentDutyStatus":{"hosStatusType":null},"clocks":{}}]}`,
			want: []vendors.HOS{{DriverID: "1", DutyStatus: vendors.DutyUnknown, Note: samsara.NoteNoStatus}}},
		{name: "ViolationsHalfReported", body: `{"data":[{"driver":{"id":"1"},"currentDutyStatus":{"hosStatusType":"onDuty"},"clocks":{},"violations":{"cycleViolationDurationMs":1800000}}]}`,
			want: []vendors.HOS{{DriverID: "1", DutyStatus: vendors.DutyOnDuty, CycleViolationHours: f(0.5)}}},
		{name: "WrongFieldType", fixture: "clocks_wrong_types.json", kind: vendors.KindBadResponse},
		{name: "Truncated", fixture: "clocks_truncated.json", kind: vendors.KindBadResponse},
		{name: "Garbage", fixture: "garbage.bin", kind: vendors.KindBadResponse},
		{name: "NoDataList", body: `{"items":[]}`, kind: vendors.KindBadResponse},
		{name: "DataNotAList", body: `{"data":{"driver":{}}}`, kind: vendors.KindBadResponse},
		{name: "BareArray", body: `[]`, kind: vendors.KindBadResponse},
		{name: "EmptyBody", body: ``, kind: vendors.KindBadResponse},
		{name: "StatusNotAString", body: `{"data":[{"driver":{"id":"1"},"currentDutyStatus":{"hosStatusType":{}}}]}`, kind: vendors.KindBadResponse},
		{name: "ViolationNotANumber", body: `{"data":[{"driver":{"id":"1"},"violations":{"cycleViolationDurationMs":{}}}]}`, kind: vendors.KindBadResponse},
		{name: "PaginationWrongType", body: `{"data":[],"pagination":{"hasNextPage":"yes"}}`, kind: vendors.KindBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tt.body)
			if tt.fixture != "" {
				body = vendortest.Fixture(t, tt.fixture)
			}
			s := newSetup(t, vendortest.Answer{Body: body})
			got, err := s.client.HOSClocks(t.Context(), nil)
			if tt.kind != "" {
				e := vendortest.RequireKind(t, err, tt.kind)
				require.Equal(t, samsara.Vendor, e.Vendor)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, round(got))
		})
	}
}

func TestDriversGolden(t *testing.T) {
	t.Parallel()
	s := newSetup(t, vendortest.Answer{Body: vendortest.Fixture(t, "drivers.json")})
	got, err := s.client.Drivers(t.Context())
	require.NoError(t, err)
	require.Equal(t, []vendors.Driver{
		{ID: "52001", Name: "Maria Lopez", ExternalID: "E-77", Active: true},
		{ID: "52002", Name: "Dwayne Carter", Active: true},
		{ID: "52003", Name: "Numeric Id", Active: true},
	}, got)

	reqs := s.rec.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "/fleet/drivers", reqs[0].URL.Path)
	require.Equal(t, "512", reqs[0].URL.Query().Get("limit"))
	require.Equal(t, "active", reqs[0].URL.Query().Get("driverActivationStatus"))
	require.False(t, reqs[0].URL.Query().Has("after"))
	require.Equal(t, "Bearer "+testKey, reqs[0].Header.Get("Authorization"))
}

// pages answers a Samsara list from a map of cursor to body.
func pages(bodies map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.URL.Query().Get("after")]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"message":"unknown cursor"}`))
			return
		}
		_, _ = w.Write([]byte(body))
	})
}

func TestDriversPagination(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pages   map[string]string
		want    []string // driver ids
		afters  []string // the after parameters sent, in order
		kind    vendors.Kind
		message string
	}{
		{
			name: "FollowsCursorsThroughEmptyPages",
			pages: map[string]string{
				"":   `{"data":[{"id":"1"},{"id":"2"}],"pagination":{"endCursor":"c1","hasNextPage":true}}`,
				"c1": `{"data":[],"pagination":{"endCursor":"c2","hasNextPage":true}}`,
				"c2": `{"data":[{"id":"3"},{"id":"2"}],"pagination":{"endCursor":"","hasNextPage":false}}`,
			},
			want:   []string{"1", "2", "3"},
			afters: []string{"", "c1", "c2"},
		},
		{
			name: "CursorNeedingEscaping",
			pages: map[string]string{
				"":         `{"data":[{"id":"1"}],"pagination":{"endCursor":"a+b/c=&d","hasNextPage":true}}`,
				"a+b/c=&d": `{"data":[{"id":"2"}],"pagination":{"endCursor":"a+b/c=&d","hasNextPage":false}}`,
			},
			want:   []string{"1", "2"},
			afters: []string{"", "a+b/c=&d"},
		},
		{
			name: "NoPaginationObjectIsTheLastPage",
			pages: map[string]string{
				"": `{"data":[{"id":"1"}]}`,
			},
			want:   []string{"1"},
			afters: []string{""},
		},
		{
			name: "SameCursorTwice",
			pages: map[string]string{
				"":   `{"data":[],"pagination":{"endCursor":"c1","hasNextPage":true}}`,
				"c1": `{"data":[],"pagination":{"endCursor":"c1","hasNextPage":true}}`,
			},
			kind:    vendors.KindBadResponse,
			message: "pagination: the same endCursor came twice",
		},
		{
			name: "NextPageWithoutCursor",
			pages: map[string]string{
				"": `{"data":[{"id":"1"}],"pagination":{"endCursor":"","hasNextPage":true}}`,
			},
			kind:    vendors.KindBadResponse,
			message: "pagination: hasNextPage without an endCursor",
		},
		{
			name: "LaterPageFails",
			pages: map[string]string{
				"": `{"data":[{"id":"1"}],"pagination":{"endCursor":"gone","hasNextPage":true}}`,
			},
			kind:    vendors.KindBadRequest,
			message: "unknown cursor",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, pages(tt.pages))
			got, err := s.client.Drivers(t.Context())
			if tt.kind != "" {
				e := vendortest.RequireKind(t, err, tt.kind)
				require.Equal(t, tt.message, e.Message)
				return
			}
			require.NoError(t, err)
			var ids []string
			for _, d := range got {
				ids = append(ids, d.ID)
			}
			require.Equal(t, tt.want, ids)
			var afters []string
			for _, r := range s.rec.Requests() {
				afters = append(afters, r.URL.Query().Get("after"))
			}
			require.Equal(t, tt.afters, afters)
			require.Equal(t, int64(len(tt.afters)), s.calls.Load(), "one Do call per page")
		})
	}
}

// clocksServer answers /fleet/hos/clocks for the drivers named in driverIds, in
// reverse order and two pages per batch, recording the most requests in flight.
type clocksServer struct {
	mu          sync.Mutex
	inFlight    int
	maxInFlight int
	fail        string // a driver id whose batch answers 503
}

func (cs *clocksServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cs.mu.Lock()
	cs.inFlight++
	cs.maxInFlight = max(cs.maxInFlight, cs.inFlight)
	cs.mu.Unlock()
	defer func() {
		cs.mu.Lock()
		cs.inFlight--
		cs.mu.Unlock()
	}()

	ids := strings.Split(r.URL.Query().Get("driverIds"), ",")
	if cs.fail != "" && slices.Contains(ids, cs.fail) {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("overloaded"))
		return
	}
	slices.Reverse(ids)
	half := len(ids) / 2
	part, next, more := ids[:half], "p2-"+ids[0], true
	if r.URL.Query().Get("after") != "" {
		part, next, more = ids[half:], "", false
	}
	type item struct {
		Driver struct {
			ID string `json:"id"`
		} `json:"driver"`
	}
	items := make([]item, len(part))
	for i, id := range part {
		items[i].Driver.ID = id
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"data":       items,
		"pagination": map[string]any{"endCursor": next, "hasNextPage": more},
	})
}

func TestHOSClocksBatches(t *testing.T) {
	t.Parallel()
	var ids []string
	for i := range 450 {
		ids = append(ids, fmt.Sprintf("d%03d", i))
	}
	input := append(slices.Clone(ids), "", "d001", " ") // duplicates and blanks are dropped
	cs := &clocksServer{}
	s := newSetup(t, cs)

	got, err := s.client.HOSClocks(t.Context(), input)
	require.NoError(t, err)

	// Batch order, and the vendor's (reversed) order within a batch.
	var want []string
	for start := 0; start < len(ids); start += samsara.BatchSize {
		batch := slices.Clone(ids[start:min(start+samsara.BatchSize, len(ids))])
		slices.Reverse(batch)
		want = append(want, batch...)
	}
	var gotIDs []string
	for _, h := range got {
		gotIDs = append(gotIDs, h.DriverID)
	}
	require.Equal(t, want, gotIDs)

	reqs := s.rec.Requests()
	require.Len(t, reqs, 10, "5 batches of 2 pages")
	require.Equal(t, int64(10), s.calls.Load())
	for _, r := range reqs {
		require.LessOrEqual(t, len(strings.Split(r.URL.Query().Get("driverIds"), ",")), samsara.BatchSize)
		require.Equal(t, "512", r.URL.Query().Get("limit"))
		require.Contains(t, r.URL.RawQuery, "driverIds=d", "ids joined by literal commas")
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	require.LessOrEqual(t, cs.maxInFlight, samsara.Concurrency)
}

func TestHOSClocksBatchFails(t *testing.T) {
	t.Parallel()
	var ids []string
	for i := range 450 {
		ids = append(ids, fmt.Sprintf("d%03d", i))
	}
	s := newSetup(t, &clocksServer{fail: "d250"})
	_, err := s.client.HOSClocks(t.Context(), ids)
	e := vendortest.RequireKind(t, err, vendors.KindUnavailable)
	require.Equal(t, 503, e.Status)
	require.Equal(t, time.Second, e.RetryAfter)
	require.Equal(t, "overloaded", e.Message)
}

func TestHOSClocksAll(t *testing.T) {
	t.Parallel()
	s := newSetup(t, vendortest.Answer{Body: vendortest.Fixture(t, "clocks.json")})
	for _, ids := range [][]string{nil, {}, {"", "  "}} {
		_, err := s.client.HOSClocks(t.Context(), ids)
		require.NoError(t, err)
	}
	for _, r := range s.rec.Requests() {
		require.Equal(t, "/fleet/hos/clocks", r.URL.Path)
		require.False(t, r.URL.Query().Has("driverIds"))
		require.Equal(t, "512", r.URL.Query().Get("limit"))
	}
}

func TestHOS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		driverID string
		kind     vendors.Kind
		requests int
	}{
		{"Found", "52001", "", 1},
		{"Absent", "99999", vendors.KindNotFound, 1},
		{"EmptyID", " ", vendors.KindBadRequest, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, vendortest.Answer{Body: vendortest.Fixture(t, "clocks.json")})
			got, err := s.client.HOS(t.Context(), tt.driverID)
			require.Len(t, s.rec.Requests(), tt.requests)
			if tt.kind != "" {
				vendortest.RequireKind(t, err, tt.kind)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "Maria Lopez", got.DriverName)
			require.Equal(t, tt.driverID, s.rec.Requests()[0].URL.Query().Get("driverIds"))
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	hang, _ := vendortest.Hang()
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		handler    http.Handler
		kind       vendors.Kind
		status     int
		retryAfter time.Duration
		message    string
	}{
		{name: "Unauthorized", handler: vendortest.Answer{Status: 401, Body: vendortest.Fixture(t, "error_401.json")},
			kind: vendors.KindUnauthorized, status: 401, message: "Unauthorized: invalid token"},
		{name: "Forbidden", handler: vendortest.Answer{Status: 403, Body: []byte(`{"message":"missing scope: Read Drivers","requestId":"x"}`)},
			kind: vendors.KindForbidden, status: 403, message: "missing scope: Read Drivers"},
		{name: "NotFound", handler: vendortest.Answer{Status: 404, Body: []byte(`{"message":"Not Found","requestId":"x"}`)},
			kind: vendors.KindNotFound, status: 404, message: "Not Found"},
		{name: "BadRequest", handler: vendortest.Answer{Status: 400, Body: []byte(`{"message":"limit must be 1..512","requestId":"x"}`)},
			kind: vendors.KindBadRequest, status: 400, message: "limit must be 1..512"},
		{name: "RateLimitedFractional", handler: vendortest.Answer{Status: 429, Header: map[string]string{"Retry-After": "0.40235"},
			Body: vendortest.Fixture(t, "error_429.json")},
			kind: vendors.KindRateLimited, status: 429, retryAfter: 402350 * time.Microsecond, message: "Rate limit exceeded"},
		{name: "RateLimitedHTTPDate", handler: vendortest.Answer{Status: 429, Header: map[string]string{"Retry-After": date}},
			kind: vendors.KindRateLimited, status: 429, retryAfter: vendors.MaxRetryAfter},
		{name: "UnavailablePlainText", handler: vendortest.Answer{Status: 503, Header: map[string]string{"Retry-After": "3", "Content-Type": "text/plain"},
			Body: vendortest.Fixture(t, "error_503.txt")},
			kind: vendors.KindUnavailable, status: 503, retryAfter: 3 * time.Second, message: "upstream connect error or disconnect/reset before headers"},
		{name: "InternalError", handler: vendortest.Answer{Status: 500, Body: []byte(`{"message":"internal","requestId":"x"}`)},
			kind: vendors.KindUnavailable, status: 500, message: "internal"},
		{name: "Reset", handler: vendortest.Reset, kind: vendors.KindNetwork},
		{name: "TruncatedTransfer", handler: vendortest.Truncated, kind: vendors.KindNetwork},
		{name: "Oversized", handler: vendortest.Oversized, kind: vendors.KindBadResponse, status: 200},
		{name: "Timeout", handler: hang, kind: vendors.KindTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, tt.handler, func(c *samsara.Config) {
				if tt.name == "Timeout" {
					c.Timeout = 20 * time.Millisecond
				}
			})
			_, err := s.client.Drivers(t.Context())
			e := vendortest.RequireKind(t, err, tt.kind)
			require.Equal(t, samsara.Vendor, e.Vendor)
			require.Equal(t, tt.status, e.Status)
			require.Equal(t, tt.retryAfter, e.RetryAfter)
			if tt.message != "" {
				require.Equal(t, tt.message, e.Message)
			}
			require.NotContains(t, err.Error(), testKey)
		})
	}
}

func TestCanceled(t *testing.T) {
	t.Parallel()
	hang, arrived := vendortest.Hang()
	s := newSetup(t, hang)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := s.client.HOSClocks(ctx, []string{"1"})
	vendortest.RequireKind(t, err, vendors.KindCanceled)
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	s := newSetup(t, pages(map[string]string{
		"": `{"data":[{"id":"1"}],"pagination":{"endCursor":"c1","hasNextPage":true}}`,
	}))
	require.NoError(t, s.client.TestConnection(t.Context()))
	reqs := s.rec.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "/fleet/drivers", reqs[0].URL.Path)
	require.Equal(t, "1", reqs[0].URL.Query().Get("limit"))
}

func TestMissingKey(t *testing.T) {
	t.Parallel()
	s := newSetup(t, vendortest.Answer{}, func(c *samsara.Config) { c.APIKey = "" })
	_, err := s.client.Drivers(t.Context())
	vendortest.RequireKind(t, err, vendors.KindUnauthorized)
	_, err = s.client.HOSClocks(t.Context(), nil)
	vendortest.RequireKind(t, err, vendors.KindUnauthorized)
	vendortest.RequireKind(t, s.client.TestConnection(t.Context()), vendors.KindUnauthorized)
	require.Empty(t, s.rec.Requests())
}
