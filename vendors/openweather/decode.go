package openweather

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/sallyhq/sally/vendors"
)

// wireWeather is the part of GET /weather this adapter reads.
type wireWeather struct {
	Cod   vendors.Text `json:"cod"`
	Coord *struct {
		Lat vendors.Number `json:"lat"`
		Lon vendors.Number `json:"lon"`
	} `json:"coord"`
	Weather []*struct {
		Main        vendors.Text `json:"main"`
		Description vendors.Text `json:"description"`
	} `json:"weather"`
	Main *struct {
		Temp      vendors.Number `json:"temp"`
		FeelsLike vendors.Number `json:"feels_like"`
		Humidity  vendors.Number `json:"humidity"`
	} `json:"main"`
	Wind *struct {
		Speed vendors.Number `json:"speed"`
	} `json:"wind"`
	Dt      vendors.Number `json:"dt"`
	Name    vendors.Text   `json:"name"`
	Message vendors.Text   `json:"message"`
}

// decodeWeather maps an answer of GET /weather. main.temp and dt are required (a
// reading without a temperature or a time is of no use); everything else is
// optional. Coordinates default to the ones asked for.
func decodeWeather(body []byte, lat, lon float64) (vendors.Weather, error) {
	var w wireWeather
	if err := json.Unmarshal(body, &w); err != nil {
		return vendors.Weather{}, fmt.Errorf("decode weather: %w", err)
	}
	if err := codError(wireError{Cod: w.Cod, Message: w.Message}); err != nil {
		return vendors.Weather{}, err
	}
	if w.Main == nil || !w.Main.Temp.Set {
		return vendors.Weather{}, errNoTemp
	}
	if !w.Dt.Set || w.Dt.Value < 0 || w.Dt.Value > 1e11 {
		return vendors.Weather{}, fmt.Errorf("decode weather: no usable dt in the answer")
	}
	out := vendors.Weather{
		Latitude:     lat,
		Longitude:    lon,
		TemperatureF: w.Main.Temp.Value,
		FeelsLikeF:   w.Main.FeelsLike.Ptr(),
		ObservedAt:   time.Unix(int64(w.Dt.Value), 0).UTC(),
		LocationName: string(w.Name),
	}
	if w.Coord != nil && w.Coord.Lat.Set && w.Coord.Lon.Set {
		out.Latitude, out.Longitude = w.Coord.Lat.Value, w.Coord.Lon.Value
	}
	if w.Main.Humidity.Set {
		h := int(math.Round(min(max(w.Main.Humidity.Value, 0), 100))) // a percentage
		out.Humidity = &h
	}
	if w.Wind != nil {
		out.WindSpeedMph = w.Wind.Speed.Ptr()
	}
	if len(w.Weather) > 0 && w.Weather[0] != nil {
		out.Conditions = string(w.Weather[0].Main)
		out.Description = string(w.Weather[0].Description)
	}
	return out, nil
}
