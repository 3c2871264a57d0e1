package model

import (
	"fmt"
	"strings"
	"time"
)

// Ago says how long before now t was: "just now", "42s ago", "5m ago", "3h ago",
// "2d ago"; "never" for the zero time.
func Ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < 5*time.Second {
		return "just now"
	}
	return short(d) + " ago"
}

// Until says how long after now t is: "in 1m 40s", "due now"; "—" for the zero time.
func Until(t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := t.Sub(now)
	if d < time.Second {
		return "due now"
	}
	return "in " + short(d)
}

func short(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < 10*time.Minute:
		m, s := int(d/time.Minute), int(d%time.Minute/time.Second)
		if s == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm %ds", m, s)
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// Duration formats milliseconds: "850 ms", "1.2 s", "2m 5s"; "—" when negative
// (still running).
func Duration(ms int) string {
	switch {
	case ms < 0:
		return "—"
	case ms < 1000:
		return fmt.Sprintf("%d ms", ms)
	case ms < 60_000:
		return fmt.Sprintf("%.1f s", float64(ms)/1000)
	}
	d := time.Duration(ms) * time.Millisecond
	return fmt.Sprintf("%dm %ds", int(d/time.Minute), int(d%time.Minute/time.Second))
}

// Percent formats a success rate: "100%", "97.5%".
func Percent(rate float64) string {
	s := fmt.Sprintf("%.1f", rate)
	return strings.TrimSuffix(s, ".0") + "%"
}

// Rate24h is the list's success-rate cell: "97.5% of 40", "no syncs".
func Rate24h(in Integration) string {
	if in.Syncs24h == 0 {
		return "no syncs"
	}
	return fmt.Sprintf("%s of %d", Percent(in.SuccessRate24h), in.Syncs24h)
}

// Title turns an enum value into words: SYNC_SUCCEEDED → "Sync succeeded".
func Title(enum string) string {
	if enum == "" {
		return ""
	}
	s := strings.ToLower(strings.ReplaceAll(enum, "_", " "))
	return strings.ToUpper(s[:1]) + s[1:]
}

// EventText is the feed's summary of an event.
func EventText(e Event) string {
	parts := []string{e.IntegrationName, eventTitle(e.Type)}
	switch e.Type {
	case "SYNC_STARTED":
		if e.Trigger != "" {
			parts = append(parts, strings.ToLower(e.Trigger))
		}
	case "SYNC_RETRYING":
		if e.Message != "" {
			return strings.Join(append(parts, e.Message), " · ") // it says which try and why
		}
		if e.Attempt > 0 {
			parts = append(parts, fmt.Sprintf("try %d failed, next in %s", e.Attempt, Duration(e.RetryInMs)))
		}
	case "SYNC_SUCCEEDED":
		parts = append(parts, fmt.Sprintf("%d records", e.Records))
		if e.DurationMs >= 0 {
			parts = append(parts, Duration(e.DurationMs))
		}
	case "SYNC_FAILED":
		if e.DurationMs >= 0 {
			parts = append(parts, Duration(e.DurationMs))
		}
	}
	if e.Message != "" && e.Type != "SYNC_STARTED" && e.Type != "SYNC_SUCCEEDED" {
		parts = append(parts, e.Message)
	}
	return strings.Join(parts, " · ")
}

func eventTitle(t string) string {
	switch t {
	case "CIRCUIT_OPENED":
		return "Circuit opened"
	case "CIRCUIT_HALF_OPENED":
		return "Circuit half-open"
	case "CIRCUIT_CLOSED":
		return "Circuit closed"
	}
	return Title(t)
}
