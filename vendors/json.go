package vendors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The JSON helper types below let the adapters read vendor answers whose field types
// drift (ids sent as numbers, numbers sent as strings, null anywhere) without giving
// up on the whole answer, while a value of a truly wrong type (an object where a number
// belongs) still fails the decode, which the adapters report as KindBadResponse.

var jsonNull = []byte("null")

// Text is a JSON string that also accepts a number (kept as written) or null ("").
type Text string

// UnmarshalJSON implements json.Unmarshaler.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, jsonNull):
		*t = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
		return nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*t = Text(n.String())
		return nil
	}
	return errors.New("expected a string or a number")
}

// Number is an optional JSON number that also accepts a numeric string. Null, an
// absent field and "" leave it unset.
type Number struct {
	Value float64
	Set   bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*n = Number{}
	if bytes.Equal(b, jsonNull) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("expected a number, got the string %.40q", s)
		}
		*n = Number{Value: f, Set: true}
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return errors.New("expected a number")
	}
	*n = Number{Value: f, Set: true}
	return nil
}

// Ptr returns a pointer to the value, or nil when it is unset.
func (n Number) Ptr() *float64 {
	if !n.Set {
		return nil
	}
	v := n.Value
	return &v
}

// Or returns the value, or def when it is unset.
func (n Number) Or(def float64) float64 {
	if !n.Set {
		return def
	}
	return n.Value
}

// Time is an optional timestamp written as RFC 3339 (with or without fractional
// seconds), or as "2006-01-02T15:04:05" / "2006-01-02 15:04:05", taken as UTC. Null
// and "" leave it unset; any other string fails the decode.
type Time struct {
	Value time.Time
	Set   bool
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z0700"}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	*t = Time{}
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("expected a timestamp string")
	}
	if s == nil || strings.TrimSpace(*s) == "" {
		return nil
	}
	v := strings.TrimSpace(*s)
	for _, layout := range timeLayouts {
		if p, err := time.Parse(layout, v); err == nil {
			*t = Time{Value: p.UTC(), Set: true}
			return nil
		}
	}
	return fmt.Errorf("unreadable timestamp %.40q", v)
}

// Ptr returns a pointer to the time, or nil when it is unset.
func (t Time) Ptr() *time.Time {
	if !t.Set {
		return nil
	}
	v := t.Value
	return &v
}

// DecodeList decodes a list answer that may be a bare JSON array or an object holding
// the array under one of keys (tried in order, first present wins). A present key
// whose value is null is an empty list. An answer with none of the keys is an error:
// it is not the list we asked for.
func DecodeList[T any](body []byte, keys ...string) ([]T, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errors.New("empty body")
	}
	var items []T
	if body[0] == '[' {
		if err := json.Unmarshal(body, &items); err != nil {
			return nil, err
		}
		return items, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, err
	}
	for _, k := range keys {
		raw, ok := obj[k]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		return items, nil
	}
	return nil, fmt.Errorf("no %s list in the answer", strings.Join(keys, " or "))
}
