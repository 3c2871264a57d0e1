package truckbase

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sallyhq/sally/vendors"
)

// wireLocation is a pickup or delivery point, under either name set.
type wireLocation struct {
	Address    vendors.Text   `json:"address"`
	City       vendors.Text   `json:"city"`
	State      vendors.Text   `json:"state"`
	Zip        vendors.Text   `json:"zip"`
	PostalCode vendors.Text   `json:"postal_code"`
	Lat        vendors.Number `json:"lat"`
	Lon        vendors.Number `json:"lon"`
	Latitude   vendors.Number `json:"latitude"`
	Longitude  vendors.Number `json:"longitude"`
}

// wireLoad is one load; the second name of each pair is the alternative vendors.md
// asks us to tolerate. Where both are present the first wins.
type wireLoad struct {
	ID                  vendors.Text   `json:"id"`
	LoadID              vendors.Text   `json:"loadId"`
	Pickup              *wireLocation  `json:"pickup"`
	Origin              *wireLocation  `json:"origin"`
	Delivery            *wireLocation  `json:"delivery"`
	Destination         *wireLocation  `json:"destination"`
	PickupTime          vendors.Time   `json:"pickupTime"`
	PickupAppointment   vendors.Time   `json:"pickup_appointment"`
	DeliveryTime        vendors.Time   `json:"deliveryTime"`
	DeliveryAppointment vendors.Time   `json:"delivery_appointment"`
	DriverID            vendors.Text   `json:"driverId"`
	DriverIDAlt         vendors.Text   `json:"driver_id"`
	Status              vendors.Text   `json:"status"`
	Miles               vendors.Number `json:"miles"`
	Distance            vendors.Number `json:"distance"`
}

// decodeLoads reads a list answer: {"loads": […]}, {"data": […]} or a bare array.
// Loads without an id are skipped.
func decodeLoads(body []byte) ([]vendors.Load, error) {
	items, err := vendors.DecodeList[*wireLoad](body, "loads", "data")
	if err != nil {
		return nil, fmt.Errorf("decode loads: %w", err)
	}
	out := make([]vendors.Load, 0, len(items))
	for _, w := range items {
		if w == nil {
			continue
		}
		l := mapLoad(*w)
		if l.ID == "" {
			continue
		}
		out = append(out, l)
	}
	return out, nil
}

// decodeLoad reads a single-load answer: the load itself, or the load wrapped in
// {"load": …} or {"data": …}. An answer without a load id is an error.
func decodeLoad(body []byte) (vendors.Load, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return vendors.Load{}, errors.New("decode load: the answer is not a JSON object")
	}
	var wrapper struct {
		Load json.RawMessage `json:"load"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &wrapper); err != nil {
		return vendors.Load{}, fmt.Errorf("decode load: %w", err)
	}
	var w wireLoad
	if err := json.Unmarshal(body, &w); err != nil {
		return vendors.Load{}, fmt.Errorf("decode load: %w", err)
	}
	if w.ID == "" && w.LoadID == "" {
		for _, inner := range []json.RawMessage{wrapper.Load, wrapper.Data} {
			inner = bytes.TrimSpace(inner)
			if len(inner) > 0 && inner[0] == '{' {
				if err := json.Unmarshal(inner, &w); err != nil {
					return vendors.Load{}, fmt.Errorf("decode load: %w", err)
				}
				break
			}
		}
	}
	l := mapLoad(w)
	if l.ID == "" {
		return vendors.Load{}, errors.New("decode load: the answer has no load id")
	}
	return l, nil
}

func mapLoad(w wireLoad) vendors.Load {
	l := vendors.Load{
		ID:                  strings.TrimSpace(string(first(w.ID, w.LoadID))),
		Pickup:              mapLocation(w.Pickup, w.Origin),
		Delivery:            mapLocation(w.Delivery, w.Destination),
		PickupAppointment:   firstTime(w.PickupTime, w.PickupAppointment).Ptr(),
		DeliveryAppointment: firstTime(w.DeliveryTime, w.DeliveryAppointment).Ptr(),
		DriverID:            string(first(w.DriverID, w.DriverIDAlt)),
		Status:              MapStatus(string(w.Status)),
	}
	if w.Miles.Set {
		l.Miles = w.Miles.Ptr()
	} else {
		l.Miles = w.Distance.Ptr()
	}
	return l
}

func mapLocation(primary, alt *wireLocation) vendors.Location {
	w := primary
	if w == nil {
		w = alt
	}
	if w == nil {
		return vendors.Location{}
	}
	loc := vendors.Location{
		Address: string(w.Address),
		City:    string(w.City),
		State:   string(w.State),
		Zip:     string(first(w.Zip, w.PostalCode)),
	}
	if w.Lat.Set {
		loc.Latitude = w.Lat.Ptr()
	} else {
		loc.Latitude = w.Latitude.Ptr()
	}
	if w.Lon.Set {
		loc.Longitude = w.Lon.Ptr()
	} else {
		loc.Longitude = w.Longitude.Ptr()
	}
	return loc
}

// MapStatus maps a Truckbase load status to the contract's: assigned, in_transit,
// delivered and cancelled, case-insensitively and whether words are joined by "_",
// "-" or " " (and "canceled" spelled either way); anything else is ASSIGNED.
func MapStatus(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("-", "_", " ", "_").Replace(s)
	switch s {
	case "in_transit", "intransit":
		return vendors.LoadInTransit
	case "delivered":
		return vendors.LoadDelivered
	case "cancelled", "canceled":
		return vendors.LoadCancelled
	default:
		return vendors.LoadAssigned
	}
}

func first(a, b vendors.Text) vendors.Text {
	if a != "" {
		return a
	}
	return b
}

func firstTime(a, b vendors.Time) vendors.Time {
	if a.Set {
		return a
	}
	return b
}
