package samsara

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sallyhq/sally/vendors"
)

// maxDriveHours is the federal 11-hour driving limit that driveRemaining counts down.
const maxDriveHours = 11.0

// msPerHour converts Samsara's millisecond durations to hours.
const msPerHour = 3.6e6

// page is Samsara's pagination object.
type page struct {
	EndCursor   string
	HasNextPage bool
}

// listPage is the envelope of every Samsara list; data is decoded once its
// presence is known.
type listPage struct {
	Data       json.RawMessage `json:"data"`
	Pagination *struct {
		EndCursor   vendors.Text `json:"endCursor"`
		HasNextPage *bool        `json:"hasNextPage"`
	} `json:"pagination"`
}

func decodeList[T any](body []byte) ([]T, page, error) {
	var lp listPage
	if err := json.Unmarshal(body, &lp); err != nil {
		return nil, page{}, fmt.Errorf("decode page: %w", err)
	}
	if len(lp.Data) == 0 {
		return nil, page{}, errors.New("decode page: no data list in the answer")
	}
	var items []T // "data": null reads as an empty page
	if err := json.Unmarshal(lp.Data, &items); err != nil {
		return nil, page{}, fmt.Errorf("decode page: data: %w", err)
	}
	var p page
	if lp.Pagination != nil {
		p.EndCursor = string(lp.Pagination.EndCursor)
		p.HasNextPage = lp.Pagination.HasNextPage != nil && *lp.Pagination.HasNextPage
	}
	return items, p, nil
}

// wireDriver is one item of GET /fleet/drivers.
type wireDriver struct {
	ID                     vendors.Text            `json:"id"`
	Name                   vendors.Text            `json:"name"`
	DriverActivationStatus vendors.Text            `json:"driverActivationStatus"`
	ExternalIDs            map[string]vendors.Text `json:"externalIds"`
}

func decodeDriversPage(body []byte) ([]vendors.Driver, page, error) {
	items, p, err := decodeList[wireDriver](body)
	if err != nil {
		return nil, p, err
	}
	out := make([]vendors.Driver, 0, len(items))
	for _, w := range items {
		if w.ID == "" {
			continue
		}
		out = append(out, mapDriver(w))
	}
	return out, p, nil
}

func mapDriver(w wireDriver) vendors.Driver {
	d := vendors.Driver{
		ID:     string(w.ID),
		Name:   string(w.Name),
		Active: w.DriverActivationStatus == "" || strings.EqualFold(string(w.DriverActivationStatus), "active"),
	}
	// externalIds is a map: take the value of the alphabetically first key, so that
	// "first" is the same on every call.
	keys := make([]string, 0, len(w.ExternalIDs))
	for k, v := range w.ExternalIDs {
		if v != "" {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		slices.Sort(keys)
		d.ExternalID = string(w.ExternalIDs[keys[0]])
	}
	return d
}

// wireClocks is one item of GET /fleet/hos/clocks; every sub-object is optional.
type wireClocks struct {
	Driver *struct {
		ID   vendors.Text `json:"id"`
		Name vendors.Text `json:"name"`
	} `json:"driver"`
	CurrentDutyStatus *struct {
		HosStatusType *vendors.Text `json:"hosStatusType"`
	} `json:"currentDutyStatus"`
	Clocks *struct {
		Break *struct {
			TimeUntilBreakDurationMs vendors.Number `json:"timeUntilBreakDurationMs"`
		} `json:"break"`
		Drive *struct {
			DriveRemainingDurationMs vendors.Number `json:"driveRemainingDurationMs"`
		} `json:"drive"`
		Shift *struct {
			ShiftRemainingDurationMs vendors.Number `json:"shiftRemainingDurationMs"`
		} `json:"shift"`
		Cycle *struct {
			CycleRemainingDurationMs vendors.Number `json:"cycleRemainingDurationMs"`
		} `json:"cycle"`
	} `json:"clocks"`
	Violations *struct {
		CycleViolationDurationMs        vendors.Number `json:"cycleViolationDurationMs"`
		ShiftDrivingViolationDurationMs vendors.Number `json:"shiftDrivingViolationDurationMs"`
	} `json:"violations"`
}

func decodeClocksPage(body []byte) ([]vendors.HOS, page, error) {
	items, p, err := decodeList[*wireClocks](body)
	if err != nil {
		return nil, p, err
	}
	out := make([]vendors.HOS, 0, len(items))
	for _, w := range items {
		if w == nil || w.Driver == nil || w.Driver.ID == "" {
			continue // clocks of nobody cannot be linked to a driver
		}
		out = append(out, mapClocks(*w))
	}
	return out, p, nil
}

// dutyStatuses maps Samsara's hosStatusType, compared case-insensitively.
var dutyStatuses = map[string]string{
	"offduty":            vendors.DutyOffDuty,
	"sleeperbed":         vendors.DutySleeperBerth,
	"driving":            vendors.DutyDriving,
	"onduty":             vendors.DutyOnDuty,
	"yardmove":           vendors.DutyYardMove,
	"personalconveyance": vendors.DutyPersonalConveyance,
}

// Notes of a clocks item whose values are missing or odd.
const (
	NoteDisconnected = "driver app disconnected"
	NoteNoStatus     = "no duty status reported"
	NoteNoClocks     = "no clocks reported"
)

// mapClocks maps one clocks item. Nothing the item does not report is made up: a
// clock that is absent (no clocks object, no drive / shift / cycle / break, or its
// duration missing or null) stays nil, and so do hoursDriven without a drive clock and
// a violation without its duration. An empty status (the driver's app is
// disconnected), an absent one and one this adapter does not know are UNKNOWN, and
// the Note says which; an item without clocks says so too.
func mapClocks(w wireClocks) vendors.HOS {
	h := vendors.HOS{DriverID: string(w.Driver.ID), DriverName: string(w.Driver.Name)}
	var notes []string

	switch {
	case w.CurrentDutyStatus == nil || w.CurrentDutyStatus.HosStatusType == nil:
		h.DutyStatus = vendors.DutyUnknown
		notes = append(notes, NoteNoStatus)
	default:
		status := strings.TrimSpace(string(*w.CurrentDutyStatus.HosStatusType))
		switch mapped, ok := dutyStatuses[strings.ToLower(status)]; {
		case ok:
			h.DutyStatus = mapped
		case status == "":
			h.DutyStatus = vendors.DutyUnknown
			notes = append(notes, NoteDisconnected)
		default:
			h.DutyStatus = vendors.DutyUnknown
			notes = append(notes, fmt.Sprintf("unknown duty status %.40q", status))
		}
	}

	if cl := w.Clocks; cl == nil {
		notes = append(notes, NoteNoClocks)
	} else {
		if cl.Drive != nil {
			h.DriveRemainingHours = hours(cl.Drive.DriveRemainingDurationMs)
			if h.DriveRemainingHours != nil {
				driven := max(0, maxDriveHours-*h.DriveRemainingHours)
				h.HoursDriven = &driven
			}
		}
		if cl.Shift != nil {
			h.ShiftRemainingHours = hours(cl.Shift.ShiftRemainingDurationMs)
		}
		if cl.Cycle != nil {
			h.CycleRemainingHours = hours(cl.Cycle.CycleRemainingDurationMs)
		}
		if cl.Break != nil {
			h.TimeUntilBreakHours = hours(cl.Break.TimeUntilBreakDurationMs)
		}
	}
	if v := w.Violations; v != nil {
		h.CycleViolationHours = hours(v.CycleViolationDurationMs)
		h.ShiftDrivingViolationHours = hours(v.ShiftDrivingViolationDurationMs)
	}
	h.Note = strings.Join(notes, "; ")
	return h
}

// hours converts a millisecond duration to hours, clamped at 0; nil when the
// duration was not reported.
func hours(ms vendors.Number) *float64 {
	if !ms.Set || math.IsNaN(ms.Value) {
		return nil
	}
	v := max(ms.Value, 0) / msPerHour
	return &v
}
