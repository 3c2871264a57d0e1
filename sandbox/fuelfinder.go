package sandbox

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Fuel Finder: GET /stations?lat=&lon=&radius=&limit=.
//
// Stations are scattered over a grid of half-degree cells covering the continental
// US (two to six per cell, per key), so any point finds some nearby. Prices follow
// the state, the station and a slow market drift, and change once an hour at a
// per-station minute; updated_at says when.

const (
	stationCellDeg       = 0.5
	defaultStationRadius = 25.0
	maxStationRadius     = 250.0
	defaultStationLimit  = 10
	maxStationLimit      = 100
)

type station struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Brand        string   `json:"brand"`
	Address      string   `json:"address"`
	City         string   `json:"city"`
	State        string   `json:"state"`
	Zip          string   `json:"zip"`
	Lat          float64  `json:"lat"`
	Lon          float64  `json:"lon"`
	RegularPrice float64  `json:"regular_price"`
	DieselPrice  float64  `json:"diesel_price"`
	Distance     float64  `json:"distance"`
	Amenities    []string `json:"amenities"`
	UpdatedAt    string   `json:"updated_at"`
}

type brand struct {
	name, label string
	truckStop   bool
}

var brands = []brand{
	{"Love's", "Love's Travel Stop", true},
	{"Pilot", "Pilot Travel Center", true},
	{"Flying J", "Flying J Travel Center", true},
	{"TA", "TA Travel Center", true},
	{"Petro", "Petro Stopping Center", true},
	{"Shell", "Shell", false},
	{"Chevron", "Chevron", false},
	{"Circle K", "Circle K", false},
	{"Casey's", "Casey's", false},
	{"QuikTrip", "QuikTrip", false},
	{"Speedway", "Speedway", false},
	{"Maverik", "Maverik", false},
	{"Sinclair", "Sinclair", false},
}

var (
	truckStopAmenities = []string{"showers", "scales", "parking", "restaurant", "laundry", "wifi", "atm", "def", "tire_service"}
	retailAmenities    = []string{"atm", "restrooms", "def", "car_wash", "parking"}
)

// statePriceAdj shifts the regular price per state, roughly as taxes and supply do.
var statePriceAdj = map[string]float64{
	"CA": 1.25, "WA": 0.85, "OR": 0.6, "NV": 0.55, "AZ": 0.25, "IL": 0.3, "PA": 0.3,
	"NY": 0.25, "NJ": 0.1, "CT": 0.2, "MA": 0.2, "ME": 0.15, "MD": 0.15, "MI": 0.1,
	"ID": 0.2, "UT": 0.15, "CO": 0.0, "TX": -0.3, "OK": -0.35, "MS": -0.35, "LA": -0.3,
	"AL": -0.3, "AR": -0.3, "TN": -0.25, "MO": -0.3, "KS": -0.25, "SC": -0.25, "GA": -0.2,
	"NM": -0.1, "NE": -0.1, "IA": -0.15, "KY": -0.2, "OH": -0.05, "IN": 0.0, "FL": 0.0,
}

func (s *Sandbox) fuelStations(w http.ResponseWriter, r *http.Request, key string, now time.Time) {
	q := r.URL.Query()
	bad := func(msg string) { codedError(w, http.StatusBadRequest, msg) }
	if q.Get("lat") == "" || q.Get("lon") == "" {
		bad("lat and lon are required")
		return
	}
	lat, err := strconv.ParseFloat(q.Get("lat"), 64)
	if err != nil || lat < -90 || lat > 90 || math.IsNaN(lat) {
		bad(fmt.Sprintf("invalid lat %q: want a number between -90 and 90", q.Get("lat")))
		return
	}
	lon, err := strconv.ParseFloat(q.Get("lon"), 64)
	if err != nil || lon < -180 || lon > 180 || math.IsNaN(lon) {
		bad(fmt.Sprintf("invalid lon %q: want a number between -180 and 180", q.Get("lon")))
		return
	}
	radius := defaultStationRadius
	if v := q.Get("radius"); v != "" {
		radius, err = strconv.ParseFloat(v, 64)
		if err != nil || !(radius > 0 && radius <= maxStationRadius) {
			bad(fmt.Sprintf("invalid radius %q: want miles, more than 0 and at most %g", v, maxStationRadius))
			return
		}
	}
	limit := defaultStationLimit
	if v := q.Get("limit"); v != "" {
		limit, err = strconv.Atoi(v)
		if err != nil || limit < 1 || limit > maxStationLimit {
			bad(fmt.Sprintf("invalid limit %q: want an integer between 1 and %d", v, maxStationLimit))
			return
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Stations []station `json:"stations"`
	}{stationsNear(hashString(key), lat, lon, radius, limit, now.UnixMilli())})
}

// site is where a station is, before its details are worked out.
type site struct {
	ci, cj, i int
	lat, lon  float64
	dist      float64
}

func stationsNear(keyHash uint64, lat, lon, radius float64, limit int, t int64) []station {
	dLat := radius / 69.0
	dLon := radius / (69.17 * math.Max(math.Cos(lat*math.Pi/180), 0.05))
	var found []site
	for ci := cellIndex(lat - dLat); ci <= cellIndex(lat+dLat); ci++ {
		for cj := cellIndex(lon - dLon); cj <= cellIndex(lon+dLon); cj++ {
			clat, clon := (float64(ci)+0.5)*stationCellDeg, (float64(cj)+0.5)*stationCellDeg
			if clat < usMinLat || clat > usMaxLat || clon < usMinLon || clon > usMaxLon {
				continue
			}
			r := newRNG(seedOf(keyHash, domStationCell, uint64(ci), uint64(cj)))
			n := 2 + r.intn(5)
			for i := range n {
				st := site{ci: ci, cj: cj, i: i,
					lat: round((float64(ci)+r.float())*stationCellDeg, 4),
					lon: round((float64(cj)+r.float())*stationCellDeg, 4)}
				st.dist = haversineMiles(lat, lon, st.lat, st.lon)
				if st.dist <= radius {
					found = append(found, st)
				}
			}
		}
	}
	slices.SortFunc(found, func(a, b site) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(a.ci, b.ci), cmp.Compare(a.cj, b.cj), cmp.Compare(a.i, b.i))
	})
	found = found[:min(limit, len(found))]
	out := make([]station, 0, len(found))
	for _, st := range found {
		out = append(out, st.station(keyHash, t))
	}
	return out
}

func cellIndex(deg float64) int { return int(math.Floor(deg / stationCellDeg)) }

// station works out a site's details and its prices at t.
func (st site) station(keyHash uint64, t int64) station {
	seed := seedOf(keyHash, domStationCell, uint64(st.ci), uint64(st.cj), uint64(st.i))
	r := newRNG(seed)
	c := nearestCity(st.lat, st.lon)
	b := brands[r.intn(len(brands))]
	num := 1 + r.intn(1200)
	var address string
	var amenities []string
	if b.truckStop {
		address = interstates[r.intn(len(interstates))] + " Exit " + strconv.Itoa(1+r.intn(400))
		amenities = pickAmenities(r, truckStopAmenities, 0.7)
	} else {
		address = strconv.Itoa(100+r.intn(9800)) + " " + streets[r.intn(len(streets))]
		amenities = pickAmenities(r, retailAmenities, 0.35)
	}
	zip := c.zip[:3] + fmt.Sprintf("%02d", r.intn(100))
	stationAdj := r.between(-0.15, 0.15)
	dieselSpread := r.between(0.55, 0.85)
	changeMinute := int64(r.intn(60)) * minuteMs

	// Prices change once an hour, at the station's own minute.
	bucket := floorDiv(t-changeMinute, hourMs)
	updated := changeMinute + bucket*hourMs
	market := (smooth(seedOf(keyHash, domStationPrice), float64(bucket)/72) - 0.5) * 0.3
	local := (smooth(seedOf(seed, domStationPrice), float64(bucket)/30) - 0.5) * 0.24
	regular := 3.05 + statePriceAdj[c.state] + stationAdj + market + local
	diesel := regular + dieselSpread + (smooth(seedOf(seed, domStationPrice, 1), float64(bucket)/40)-0.5)*0.1

	return station{
		ID:           "FF-" + strconv.Itoa(10000+((st.ci+180)*720+(st.cj+360))*8+st.i),
		Name:         b.label + " #" + strconv.Itoa(num),
		Brand:        b.name,
		Address:      address,
		City:         c.name,
		State:        c.state,
		Zip:          zip,
		Lat:          st.lat,
		Lon:          st.lon,
		RegularPrice: pumpPrice(regular),
		DieselPrice:  pumpPrice(diesel),
		Distance:     round(st.dist, 1),
		Amenities:    amenities,
		UpdatedAt:    formatTime(time.UnixMilli(updated)),
	}
}

// pumpPrice rounds to the US pump convention: dollars, cents and nine tenths.
func pumpPrice(p float64) float64 { return round(math.Floor(p*100)/100+0.009, 3) }

func pickAmenities(r *rng, from []string, p float64) []string {
	out := []string{}
	for _, a := range from {
		if r.float() < p {
			out = append(out, a)
		}
	}
	return out
}
