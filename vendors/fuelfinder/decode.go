package fuelfinder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sallyhq/sally/vendors"
)

// wireStation is one station; the second name of each pair is the alternative
// vendors.md asks us to tolerate. Where both are present the first wins.
type wireStation struct {
	ID           vendors.Text   `json:"id"`
	StationID    vendors.Text   `json:"station_id"`
	Name         vendors.Text   `json:"name"`
	Brand        vendors.Text   `json:"brand"`
	Address      vendors.Text   `json:"address"`
	City         vendors.Text   `json:"city"`
	State        vendors.Text   `json:"state"`
	Zip          vendors.Text   `json:"zip"`
	PostalCode   vendors.Text   `json:"postal_code"`
	Lat          vendors.Number `json:"lat"`
	Lon          vendors.Number `json:"lon"`
	Latitude     vendors.Number `json:"latitude"`
	Longitude    vendors.Number `json:"longitude"`
	RegularPrice vendors.Number `json:"regular_price"`
	Price        vendors.Number `json:"price"`
	DieselPrice  vendors.Number `json:"diesel_price"`
	Distance     vendors.Number `json:"distance"`
	Amenities    amenities      `json:"amenities"`
	UpdatedAt    vendors.Time   `json:"updated_at"`
}

// amenities is a list of strings, or one comma-separated string.
type amenities []string

func (a *amenities) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*a = nil
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		for part := range strings.SplitSeq(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				*a = append(*a, part)
			}
		}
		return nil
	case len(b) > 0 && b[0] == '[':
		var list []vendors.Text
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		for _, item := range list {
			if s := strings.TrimSpace(string(item)); s != "" {
				*a = append(*a, s)
			}
		}
		return nil
	}
	return errors.New("amenities: expected a list or a string")
}

// decodeStations reads {"stations": […]}, {"data": […]} or a bare array.
func decodeStations(body []byte) ([]vendors.FuelStation, error) {
	items, err := vendors.DecodeList[*wireStation](body, "stations", "data")
	if err != nil {
		return nil, fmt.Errorf("decode stations: %w", err)
	}
	out := make([]vendors.FuelStation, 0, len(items))
	for _, w := range items {
		if w == nil {
			continue
		}
		if s, ok := mapStation(*w); ok {
			out = append(out, s)
		}
	}
	return out, nil
}

func mapStation(w wireStation) (vendors.FuelStation, bool) {
	id := strings.TrimSpace(string(first(w.ID, w.StationID)))
	lat, lon := firstNumber(w.Lat, w.Latitude), firstNumber(w.Lon, w.Longitude)
	if id == "" || !lat.Set || !lon.Set {
		return vendors.FuelStation{}, false
	}
	return vendors.FuelStation{
		ID:            id,
		Name:          string(w.Name),
		Brand:         string(w.Brand),
		Address:       string(w.Address),
		City:          string(w.City),
		State:         string(w.State),
		Zip:           string(first(w.Zip, w.PostalCode)),
		Latitude:      lat.Value,
		Longitude:     lon.Value,
		RegularPrice:  firstNumber(w.RegularPrice, w.Price).Ptr(),
		DieselPrice:   w.DieselPrice.Ptr(),
		DistanceMiles: w.Distance.Ptr(),
		Amenities:     []string(w.Amenities),
		UpdatedAt:     w.UpdatedAt.Ptr(),
	}, true
}

func first(a, b vendors.Text) vendors.Text {
	if a != "" {
		return a
	}
	return b
}

func firstNumber(a, b vendors.Number) vendors.Number {
	if a.Set {
		return a
	}
	return b
}
