package vendors_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/vendors"
)

func TestText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"String", `"52001"`, "52001", false},
		{"Number", `52001`, "52001", false},
		{"Float", `-1.5e3`, "-1.5e3", false},
		{"Null", `null`, "", false},
		{"Bool", `true`, "", true},
		{"Object", `{"a":1}`, "", true},
		{"BadNumber", `-`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v struct{ X vendors.Text }
			err := json.Unmarshal([]byte(`{"X":`+tt.in+`}`), &v)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, vendors.Text(tt.want), v.X)
		})
	}
}

func TestNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    vendors.Number
		wantErr bool
	}{
		{"Number", `21000000`, vendors.Number{Value: 21000000, Set: true}, false},
		{"Fraction", `2.989`, vendors.Number{Value: 2.989, Set: true}, false},
		{"NumericString", `" 380.4 "`, vendors.Number{Value: 380.4, Set: true}, false},
		{"EmptyString", `""`, vendors.Number{}, false},
		{"Null", `null`, vendors.Number{}, false},
		{"Word", `"lots"`, vendors.Number{}, true},
		{"NaNString", `"NaN"`, vendors.Number{}, true},
		{"Bool", `false`, vendors.Number{}, true},
		{"Object", `{}`, vendors.Number{}, true},
		{"OutOfRange", `1e400`, vendors.Number{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v struct{ X vendors.Number }
			err := json.Unmarshal([]byte(`{"X":`+tt.in+`}`), &v)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, v.X)
		})
	}
	require.Nil(t, vendors.Number{}.Ptr())
	require.Equal(t, 7.0, vendors.Number{}.Or(7))
	require.Equal(t, 2.0, *vendors.Number{Value: 2, Set: true}.Ptr())
}

func TestTime(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		in      string
		want    vendors.Time
		wantErr bool
	}{
		{"RFC3339", `"2026-11-26T13:00:00Z"`, vendors.Time{Value: want, Set: true}, false},
		{"Offset", `"2026-11-26T07:00:00-06:00"`, vendors.Time{Value: want, Set: true}, false},
		{"Fraction", `"2026-11-26T13:00:00.000Z"`, vendors.Time{Value: want, Set: true}, false},
		{"NoZone", `"2026-11-26T13:00:00"`, vendors.Time{Value: want, Set: true}, false},
		{"Space", `"2026-11-26 13:00:00"`, vendors.Time{Value: want, Set: true}, false},
		{"Empty", `""`, vendors.Time{}, false},
		{"Null", `null`, vendors.Time{}, false},
		{"Garbage", `"tomorrow"`, vendors.Time{}, true},
		{"Number", `1795702200`, vendors.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v struct{ X vendors.Time }
			err := json.Unmarshal([]byte(`{"X":`+tt.in+`}`), &v)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, v.X)
		})
	}
}

func TestDecodeList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		want    []int
		wantErr bool
	}{
		{"FirstKey", `{"loads":[1,2]}`, []int{1, 2}, false},
		{"SecondKey", `{"data":[3]}`, []int{3}, false},
		{"FirstKeyWins", `{"data":[3],"loads":[1]}`, []int{1}, false},
		{"BareArray", ` [4,5] `, []int{4, 5}, false},
		{"NullList", `{"loads":null}`, nil, false},
		{"NoKnownKey", `{"items":[1]}`, nil, true},
		{"Empty", ``, nil, true},
		{"Null", `null`, nil, true},
		{"String", `"x"`, nil, true},
		{"WrongItemType", `{"loads":["a"]}`, nil, true},
		{"Truncated", `{"loads":[1,`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := vendors.DecodeList[int]([]byte(tt.body), "loads", "data")
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
