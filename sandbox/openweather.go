package sandbox

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// OpenWeather: GET /weather?lat=&lon=&units=&appid=.
//
// The weather is the same for every key (it is the world's, not the tenant's): a
// climate by latitude and season, a daily cycle by local solar time, and weather
// systems from smooth noise over space and time. Values are computed at the start
// of a 10-minute bucket, so the same place gives the same answer within a bucket.

const weatherBucketSec = 600

type owWeather struct {
	Coord struct {
		Lon float64 `json:"lon"`
		Lat float64 `json:"lat"`
	} `json:"coord"`
	Weather []owCondition `json:"weather"`
	Main    struct {
		Temp      float64 `json:"temp"`
		FeelsLike float64 `json:"feels_like"`
		TempMin   float64 `json:"temp_min"`
		TempMax   float64 `json:"temp_max"`
		Pressure  int     `json:"pressure"`
		Humidity  int     `json:"humidity"`
	} `json:"main"`
	Visibility int `json:"visibility"`
	Wind       struct {
		Speed float64  `json:"speed"`
		Deg   int      `json:"deg"`
		Gust  *float64 `json:"gust,omitempty"`
	} `json:"wind"`
	Rain   *owPrecip `json:"rain,omitempty"`
	Snow   *owPrecip `json:"snow,omitempty"`
	Clouds struct {
		All int `json:"all"`
	} `json:"clouds"`
	Dt  int64 `json:"dt"`
	Sys struct {
		Country string `json:"country"`
		Sunrise int64  `json:"sunrise"`
		Sunset  int64  `json:"sunset"`
	} `json:"sys"`
	Timezone int    `json:"timezone"`
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Cod      int    `json:"cod"`
}

type owCondition struct {
	ID          int    `json:"id"`
	Main        string `json:"main"`
	Description string `json:"description"`
	Icon        string `json:"icon"`
}

type owPrecip struct {
	OneHour float64 `json:"1h"`
}

func (s *Sandbox) openWeather(w http.ResponseWriter, r *http.Request, now time.Time) {
	q := r.URL.Query()
	if q.Get("lat") == "" || q.Get("lon") == "" {
		openWeatherError(w, http.StatusBadRequest, "Nothing to geocode")
		return
	}
	lat, err := strconv.ParseFloat(q.Get("lat"), 64)
	if err != nil || math.IsNaN(lat) || lat < -90 || lat > 90 {
		openWeatherError(w, http.StatusBadRequest, "wrong latitude")
		return
	}
	lon, err := strconv.ParseFloat(q.Get("lon"), 64)
	if err != nil || math.IsNaN(lon) || lon < -180 || lon > 180 {
		openWeatherError(w, http.StatusBadRequest, "wrong longitude")
		return
	}
	writeJSON(w, http.StatusOK, weatherAt(lat, lon, strings.ToLower(q.Get("units")), now))
}

// weatherAt models the current weather at a place. Units are OpenWeather's:
// "imperial" (°F, mph), "metric" (°C, m/s), anything else "standard" (K, m/s).
func weatherAt(lat, lon float64, units string, now time.Time) owWeather {
	dt := floorDiv(now.Unix(), weatherBucketSec) * weatherBucketSec
	at := time.Unix(dt, 0).UTC()
	hours := float64(dt) / 3600

	// Weather systems: noise over about 3° of space and 18 hours of time.
	noise := func(layer uint64, scaleDeg, scaleHours float64) float64 {
		return smooth3(seedOf(domWeather, layer), lat/scaleDeg, lon/scaleDeg, hours/scaleHours)
	}
	doy := float64(at.YearDay())
	solarHour := math.Mod(float64(at.Hour())+float64(at.Minute())/60+lon/15+48, 24)

	annual := 25 - 0.85*(lat-25)
	season := (6 + 0.55*math.Max(lat-25, 0)) * math.Cos(2*math.Pi*(doy-200)/365)
	cloudsN := noise(1, 3, 18)
	clouds := int(math.Round(clamp((cloudsN-0.25)*180, 0, 100)))
	diurnal := (6 - 3*float64(clouds)/100) * math.Cos(2*math.Pi*(solarHour-15)/24)
	tempC := annual + season + diurnal + (noise(2, 4, 30)-0.5)*16

	humidity := int(math.Round(clamp(30+0.55*float64(clouds)+(noise(3, 2, 12)-0.5)*30, 12, 100)))
	windMS := clamp(1+noise(4, 3, 10)*11, 0, 25)
	windDeg := int(noise(5, 6, 24)*720) % 360
	pressure := int(math.Round(1032 - 0.25*float64(clouds) + (noise(6, 5, 36)-0.5)*14))

	precipN := noise(7, 1.5, 6)
	var precipMM float64
	if clouds >= 75 && precipN > 0.55 {
		precipMM = round((precipN-0.55)*18, 2)
	}
	cond := condition(tempC, clouds, precipMM, humidity, windMS)
	visibility := 10000
	switch {
	case cond.Main == "Snow":
		visibility = int(clamp(5000-precipMM*900, 400, 9000))
	case cond.Main == "Rain" || cond.Main == "Thunderstorm" || cond.Main == "Drizzle":
		visibility = int(clamp(9000-precipMM*700, 1500, 10000))
	case cond.Main == "Fog":
		visibility = 200 + int(noise(8, 1, 3)*600)
	case cond.Main == "Mist":
		visibility = 1500 + int(noise(8, 1, 3)*2500)
	}

	sunrise, sunset := sunTimes(lat, lon, at)
	day := dt >= sunrise && dt < sunset
	if day {
		cond.Icon += "d"
	} else {
		cond.Icon += "n"
	}

	c := nearestCity(lat, lon)
	var out owWeather
	out.Coord.Lon, out.Coord.Lat = round(lon, 4), round(lat, 4)
	out.Weather = []owCondition{cond}
	spread := 0.5 + noise(9, 1, 6)*2
	out.Main.Temp = temperature(tempC, units)
	out.Main.FeelsLike = temperature(feelsLike(tempC, windMS, humidity), units)
	out.Main.TempMin = temperature(tempC-spread, units)
	out.Main.TempMax = temperature(tempC+spread*0.8, units)
	out.Main.Pressure = pressure
	out.Main.Humidity = humidity
	out.Visibility = visibility
	out.Wind.Speed = speed(windMS, units)
	out.Wind.Deg = windDeg
	if windMS > 6 {
		g := speed(windMS*(1.3+noise(10, 1, 2)*0.4), units)
		out.Wind.Gust = &g
	}
	if precipMM > 0 {
		if cond.Main == "Snow" {
			out.Snow = &owPrecip{OneHour: precipMM}
		} else {
			out.Rain = &owPrecip{OneHour: precipMM}
		}
	}
	out.Clouds.All = clouds
	out.Dt = dt
	out.Sys.Country = "US"
	out.Sys.Sunrise, out.Sys.Sunset = sunrise, sunset
	out.Timezone = usUTCOffset(lat, lon, at)
	out.ID = c.owID
	out.Name = c.name
	out.Cod = 200
	return out
}

// condition picks OpenWeather's condition code, group, description and icon
// number (the d/n suffix is added by the caller).
func condition(tempC float64, clouds int, precipMM float64, humidity int, windMS float64) owCondition {
	switch {
	case precipMM > 0 && tempC <= 0.5:
		switch {
		case precipMM < 1:
			return owCondition{600, "Snow", "light snow", "13"}
		case precipMM < 3:
			return owCondition{601, "Snow", "snow", "13"}
		default:
			return owCondition{602, "Snow", "heavy snow", "13"}
		}
	case precipMM > 0 && tempC < 2.5:
		return owCondition{616, "Snow", "rain and snow", "13"}
	case precipMM > 3.5 && tempC > 20:
		return owCondition{201, "Thunderstorm", "thunderstorm with rain", "11"}
	case precipMM > 0 && precipMM < 0.3:
		return owCondition{300, "Drizzle", "light intensity drizzle", "09"}
	case precipMM > 0 && precipMM < 1.5:
		return owCondition{500, "Rain", "light rain", "10"}
	case precipMM > 0 && precipMM < 4:
		return owCondition{501, "Rain", "moderate rain", "10"}
	case precipMM > 0:
		return owCondition{502, "Rain", "heavy intensity rain", "10"}
	case humidity >= 97 && windMS < 3:
		return owCondition{741, "Fog", "fog", "50"}
	case humidity >= 92 && windMS < 4:
		return owCondition{701, "Mist", "mist", "50"}
	case clouds < 11:
		return owCondition{800, "Clear", "clear sky", "01"}
	case clouds < 25:
		return owCondition{801, "Clouds", "few clouds", "02"}
	case clouds < 51:
		return owCondition{802, "Clouds", "scattered clouds", "03"}
	case clouds < 85:
		return owCondition{803, "Clouds", "broken clouds", "04"}
	default:
		return owCondition{804, "Clouds", "overcast clouds", "04"}
	}
}

// feelsLike is the NWS wind chill below 10 °C and the heat index above 27 °C.
func feelsLike(tempC, windMS float64, humidity int) float64 {
	kmh := windMS * 3.6
	switch {
	case tempC <= 10 && kmh > 4.8:
		v := math.Pow(kmh, 0.16)
		return 13.12 + 0.6215*tempC - 11.37*v + 0.3965*tempC*v
	case tempC >= 27:
		f := tempC*9/5 + 32
		h := float64(humidity)
		hi := -42.379 + 2.04901523*f + 10.14333127*h - 0.22475541*f*h - 0.00683783*f*f -
			0.05481717*h*h + 0.00122874*f*f*h + 0.00085282*f*h*h - 0.00000199*f*f*h*h
		return (math.Max(hi, f) - 32) * 5 / 9
	}
	return tempC
}

func temperature(c float64, units string) float64 {
	switch units {
	case "imperial":
		return round(c*9/5+32, 2)
	case "metric":
		return round(c, 2)
	}
	return round(c+273.15, 2)
}

func speed(ms float64, units string) float64 {
	if units == "imperial" {
		return round(ms*2.236936, 2)
	}
	return round(ms, 2)
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// sunTimes returns the Unix seconds of sunrise and sunset on the local calendar
// day containing t, from NOAA's approximate solar equations.
func sunTimes(lat, lon float64, t time.Time) (sunrise, sunset int64) {
	local := t.Add(time.Duration(usUTCOffset(lat, lon, t)) * time.Second)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	g := 2 * math.Pi / 365 * float64(local.YearDay()-1)
	eqTime := 229.18 * (0.000075 + 0.001868*math.Cos(g) - 0.032077*math.Sin(g) -
		0.014615*math.Cos(2*g) - 0.040849*math.Sin(2*g))
	decl := 0.006918 - 0.399912*math.Cos(g) + 0.070257*math.Sin(g) - 0.006758*math.Cos(2*g) +
		0.000907*math.Sin(2*g) - 0.002697*math.Cos(3*g) + 0.00148*math.Sin(3*g)
	latR := lat * math.Pi / 180
	cosHA := math.Cos(90.833*math.Pi/180)/(math.Cos(latR)*math.Cos(decl)) - math.Tan(latR)*math.Tan(decl)
	ha := math.Acos(clamp(cosHA, -1, 1)) * 180 / math.Pi
	riseMin := 720 - 4*(lon+ha) - eqTime
	setMin := 720 - 4*(lon-ha) - eqTime
	base := midnight.Unix()
	return base + int64(riseMin*60), base + int64(setMin*60)
}
