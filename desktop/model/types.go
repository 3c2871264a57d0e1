package model

import (
	"cmp"
	"strings"
	"time"

	"github.com/sallyhq/sally/desktop/gqlclient"
)

// Health is what the monitor's indicator shows for an integration, worst first.
type Health int

// The health states, from the dispatcher's point of view.
const (
	// Healthy: enabled, circuit closed, the last sync (if any) succeeded.
	Healthy Health = iota
	// Retrying: a running sync is retrying a vendor call, or the circuit is half-open.
	Retrying
	// Failing: the last sync failed.
	Failing
	// CircuitOpen: the vendor failed so often that calls are refused for a while.
	CircuitOpen
	// NeedsCredentials: the vendor kept rejecting the key; no sync runs until an admin
	// enters a new one.
	NeedsCredentials
	// Disabled: paused by an admin; the scheduler leaves the integration alone.
	Disabled
)

// String is the indicator's label.
func (h Health) String() string {
	switch h {
	case Healthy:
		return "healthy"
	case Retrying:
		return "retrying"
	case Failing:
		return "failing"
	case CircuitOpen:
		return "circuit open"
	case NeedsCredentials:
		return "needs new key"
	case Disabled:
		return "paused"
	}
	return "unknown"
}

// Integration is one row of the integrations list.
type Integration struct {
	ID     string
	Name   string
	Vendor string // SAMSARA_ELD, …
	Type   string // HOS_ELD, …
	// VendorName is how the server names the vendor ("Samsara"), else Vendor.
	VendorName string

	Enabled bool
	// State is ACTIVE, PAUSED or NEEDS_CREDENTIALS; StateReason says why when it is
	// not ACTIVE, in the server's words.
	State, StateReason string
	// Circuit is CLOSED, OPEN or HALF_OPEN.
	Circuit string
	// LastSyncAt is zero when it never synced.
	LastSyncAt time.Time
	// LastSyncStatus is RUNNING, SUCCESS, FAILED or "" (never synced).
	LastSyncStatus string
	// NextSyncAt is zero while disabled.
	NextSyncAt time.Time
	// SuccessRate24h is the percentage of successful syncs among Syncs24h, the
	// finished syncs of the last 24 hours.
	SuccessRate24h float64
	Syncs24h       int
	// Running is set by a SYNC_STARTED event and cleared when that sync ends;
	// Retrying likewise by SYNC_RETRYING. A reload after reconnecting clears both
	// (the end of the sync may have been missed).
	Running, Retrying bool

	Health Health
}

// HealthOf derives the indicator from an integration's state.
func HealthOf(in Integration) Health {
	switch {
	case !in.Enabled:
		return Disabled
	case in.State == string(gqlclient.IntegrationStateNeedsCredentials):
		return NeedsCredentials
	case in.Circuit == string(gqlclient.CircuitStateOpen):
		return CircuitOpen
	case in.Retrying || in.Circuit == string(gqlclient.CircuitStateHalfOpen):
		return Retrying
	case in.LastSyncStatus == string(gqlclient.SyncStatusFailed):
		return Failing
	}
	return Healthy
}

// Event is one entry of the live feed.
type Event struct {
	Type            string // SYNC_STARTED, …
	At              time.Time
	IntegrationID   string
	IntegrationName string
	Vendor          string
	Circuit         string
	// Status, Trigger, Records and DurationMs come from the event's sync (SYNC_*).
	Status     string
	Trigger    string
	Records    int
	DurationMs int // -1 when unknown
	Attempt    int
	RetryInMs  int
	Message    string
	// SyncID and ErrorClass come from the event's sync; NeedsCredentials is set on an
	// INTEGRATION_CHANGED event about rejected credentials.
	SyncID, ErrorClass string
	NeedsCredentials   bool
	// Text is the feed's one-line summary (without the time).
	Text string
}

// SyncRow is one row of an integration's sync history.
type SyncRow struct {
	ID         string
	Status     string // RUNNING, SUCCESS, FAILED
	Type       string // HOS_SYNC, …
	Trigger    string // SCHEDULED, MANUAL
	StartedAt  time.Time
	DurationMs int // -1 while running
	Records    int
	Attempts   int
	Error      string
	ErrorClass string
}

// integrationFrom is a row of the list; vendorNames are the server's names of its
// vendors (Query.vendors), nil when unknown.
func integrationFrom(f gqlclient.IntegrationFields, vendorNames map[string]string) Integration {
	in := Integration{
		ID:             f.Id,
		Name:           f.DisplayName,
		Vendor:         string(f.Vendor),
		VendorName:     cmp.Or(vendorNames[string(f.Vendor)], string(f.Vendor)),
		Type:           string(f.IntegrationType),
		Enabled:        f.Enabled,
		State:          string(f.State),
		Circuit:        string(f.CircuitState),
		SuccessRate24h: f.Stats.SuccessRate,
		Syncs24h:       f.Stats.TotalSyncs,
	}
	if f.LastSyncAt != nil {
		in.LastSyncAt = *f.LastSyncAt
	}
	if f.LastSyncStatus != nil {
		in.LastSyncStatus = string(*f.LastSyncStatus)
	}
	if f.NextSyncAt != nil {
		in.NextSyncAt = *f.NextSyncAt
	}
	if f.StateReason != nil {
		in.StateReason = *f.StateReason
	}
	in.Health = HealthOf(in)
	return in
}

func syncRowFrom(f gqlclient.SyncLogFields) SyncRow {
	r := SyncRow{
		ID:         f.Id,
		Status:     string(f.Status),
		Type:       string(f.SyncType),
		Trigger:    string(f.Trigger),
		StartedAt:  f.StartedAt,
		DurationMs: -1,
		Records:    f.RecordsProcessed,
		Attempts:   f.Attempts,
	}
	if f.DurationMs != nil {
		r.DurationMs = *f.DurationMs
	}
	if f.Error != nil {
		r.Error = *f.Error
	}
	if f.ErrorClass != nil {
		r.ErrorClass = *f.ErrorClass
	}
	return r
}

func eventFrom(f gqlclient.SyncEventFields) Event {
	e := Event{
		Type:            string(f.Type),
		At:              f.At,
		IntegrationID:   f.IntegrationId,
		IntegrationName: f.IntegrationName,
		Vendor:          string(f.Vendor),
		Circuit:         string(f.CircuitState),
		DurationMs:      -1,
	}
	if f.SyncLog != nil {
		e.Status = string(f.SyncLog.Status)
		e.Trigger = string(f.SyncLog.Trigger)
		e.Records = f.SyncLog.RecordsProcessed
		if f.SyncLog.DurationMs != nil {
			e.DurationMs = *f.SyncLog.DurationMs
		}
		if f.SyncLog.Error != nil {
			e.Message = *f.SyncLog.Error
		}
		e.SyncID = f.SyncLog.Id
		if f.SyncLog.ErrorClass != nil {
			e.ErrorClass = *f.SyncLog.ErrorClass
		}
	}
	if f.Attempt != nil {
		e.Attempt = *f.Attempt
	}
	if f.RetryInMs != nil {
		e.RetryInMs = *f.RetryInMs
	}
	if f.Message != nil && *f.Message != "" {
		e.Message = *f.Message
	}
	e.NeedsCredentials = f.Type == gqlclient.SyncEventTypeIntegrationChanged &&
		strings.Contains(strings.ToLower(e.Message), "credentials")
	e.Text = EventText(e)
	return e
}
