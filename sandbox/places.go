package sandbox

import (
	"math"
	"time"
)

// city is a real place in the continental US, used for load stops, station towns,
// driver home terminals and weather place names. Coordinates are approximate.
type city struct {
	name, state, zip string
	lat, lon         float64
	tz               string // IANA zone, as Samsara reports a driver's timezone
	owID             int    // OpenWeather-style city id
}

var cities = []city{
	{"Amarillo", "TX", "79107", 35.2220, -101.8313, "America/Chicago", 5516233},
	{"Dallas", "TX", "75208", 32.7767, -96.7970, "America/Chicago", 4684888},
	{"Houston", "TX", "77002", 29.7604, -95.3698, "America/Chicago", 4699066},
	{"San Antonio", "TX", "78205", 29.4241, -98.4936, "America/Chicago", 4726206},
	{"El Paso", "TX", "79901", 31.7619, -106.4850, "America/Denver", 5520993},
	{"Laredo", "TX", "78040", 27.5306, -99.4803, "America/Chicago", 4705349},
	{"Lubbock", "TX", "79401", 33.5779, -101.8552, "America/Chicago", 5525577},
	{"Oklahoma City", "OK", "73102", 35.4676, -97.5164, "America/Chicago", 4544349},
	{"Tulsa", "OK", "74103", 36.1540, -95.9928, "America/Chicago", 4553433},
	{"Albuquerque", "NM", "87102", 35.0844, -106.6504, "America/Denver", 5454711},
	{"Phoenix", "AZ", "85004", 33.4484, -112.0740, "America/Phoenix", 5308655},
	{"Tucson", "AZ", "85701", 32.2226, -110.9747, "America/Phoenix", 5318313},
	{"Flagstaff", "AZ", "86001", 35.1983, -111.6513, "America/Phoenix", 5294810},
	{"Las Vegas", "NV", "89101", 36.1699, -115.1398, "America/Los_Angeles", 5506956},
	{"Reno", "NV", "89501", 39.5296, -119.8138, "America/Los_Angeles", 5511077},
	{"Los Angeles", "CA", "90012", 34.0522, -118.2437, "America/Los_Angeles", 5368361},
	{"San Bernardino", "CA", "92401", 34.1083, -117.2898, "America/Los_Angeles", 5391710},
	{"Bakersfield", "CA", "93301", 35.3733, -119.0187, "America/Los_Angeles", 5325738},
	{"Fresno", "CA", "93721", 36.7378, -119.7871, "America/Los_Angeles", 5350937},
	{"Sacramento", "CA", "95814", 38.5816, -121.4944, "America/Los_Angeles", 5389489},
	{"Oakland", "CA", "94607", 37.8044, -122.2712, "America/Los_Angeles", 5378538},
	{"San Diego", "CA", "92101", 32.7157, -117.1611, "America/Los_Angeles", 5391811},
	{"Portland", "OR", "97204", 45.5152, -122.6784, "America/Los_Angeles", 5746545},
	{"Seattle", "WA", "98104", 47.6062, -122.3321, "America/Los_Angeles", 5809844},
	{"Spokane", "WA", "99201", 47.6588, -117.4260, "America/Los_Angeles", 5811696},
	{"Boise", "ID", "83702", 43.6150, -116.2023, "America/Boise", 5586437},
	{"Salt Lake City", "UT", "84101", 40.7608, -111.8910, "America/Denver", 5780993},
	{"Denver", "CO", "80202", 39.7392, -104.9903, "America/Denver", 5419384},
	{"Cheyenne", "WY", "82001", 41.1400, -104.8202, "America/Denver", 5821086},
	{"Billings", "MT", "59101", 45.7833, -108.5007, "America/Denver", 5640350},
	{"Rapid City", "SD", "57701", 44.0805, -103.2310, "America/Denver", 5768233},
	{"Sioux Falls", "SD", "57104", 43.5446, -96.7311, "America/Chicago", 5231851},
	{"Fargo", "ND", "58102", 46.8772, -96.7898, "America/Chicago", 5059163},
	{"Omaha", "NE", "68102", 41.2565, -95.9345, "America/Chicago", 5074472},
	{"North Platte", "NE", "69101", 41.1239, -100.7654, "America/Chicago", 5697939},
	{"Wichita", "KS", "67202", 37.6872, -97.3301, "America/Chicago", 4281730},
	{"Kansas City", "MO", "64105", 39.0997, -94.5786, "America/Chicago", 4393217},
	{"St. Louis", "MO", "63101", 38.6270, -90.1994, "America/Chicago", 4407066},
	{"Springfield", "MO", "65806", 37.2090, -93.2923, "America/Chicago", 4409896},
	{"Des Moines", "IA", "50309", 41.5868, -93.6250, "America/Chicago", 4853828},
	{"Minneapolis", "MN", "55401", 44.9778, -93.2650, "America/Chicago", 5037649},
	{"Milwaukee", "WI", "53202", 43.0389, -87.9065, "America/Chicago", 5263045},
	{"Chicago", "IL", "60607", 41.8781, -87.6298, "America/Chicago", 4887398},
	{"Joliet", "IL", "60432", 41.5250, -88.0817, "America/Chicago", 4898015},
	{"Indianapolis", "IN", "46204", 39.7684, -86.1581, "America/Indiana/Indianapolis", 4259418},
	{"Detroit", "MI", "48226", 42.3314, -83.0458, "America/Detroit", 4990729},
	{"Grand Rapids", "MI", "49503", 42.9634, -85.6681, "America/Detroit", 4994358},
	{"Columbus", "OH", "43215", 39.9612, -82.9988, "America/New_York", 4509177},
	{"Cleveland", "OH", "44113", 41.4993, -81.6944, "America/New_York", 5150529},
	{"Cincinnati", "OH", "45202", 39.1031, -84.5120, "America/New_York", 4508722},
	{"Louisville", "KY", "40202", 38.2527, -85.7585, "America/Kentucky/Louisville", 4299276},
	{"Nashville", "TN", "37203", 36.1627, -86.7816, "America/Chicago", 4644585},
	{"Memphis", "TN", "38103", 35.1495, -90.0490, "America/Chicago", 4641239},
	{"Knoxville", "TN", "37902", 35.9606, -83.9207, "America/New_York", 4634946},
	{"Little Rock", "AR", "72201", 34.7465, -92.2896, "America/Chicago", 4119403},
	{"Jackson", "MS", "39201", 32.2988, -90.1848, "America/Chicago", 4431410},
	{"New Orleans", "LA", "70112", 29.9511, -90.0715, "America/Chicago", 4335045},
	{"Shreveport", "LA", "71101", 32.5252, -93.7502, "America/Chicago", 4341513},
	{"Birmingham", "AL", "35203", 33.5186, -86.8104, "America/Chicago", 4049979},
	{"Mobile", "AL", "36602", 30.6954, -88.0399, "America/Chicago", 4076598},
	{"Atlanta", "GA", "30303", 33.7490, -84.3880, "America/New_York", 4180439},
	{"Savannah", "GA", "31401", 32.0809, -81.0912, "America/New_York", 4221552},
	{"Jacksonville", "FL", "32202", 30.3322, -81.6557, "America/New_York", 4160021},
	{"Orlando", "FL", "32801", 28.5383, -81.3792, "America/New_York", 4167147},
	{"Miami", "FL", "33130", 25.7617, -80.1918, "America/New_York", 4164138},
	{"Tampa", "FL", "33602", 27.9506, -82.4572, "America/New_York", 4174757},
	{"Charlotte", "NC", "28202", 35.2271, -80.8431, "America/New_York", 4460243},
	{"Raleigh", "NC", "27601", 35.7796, -78.6382, "America/New_York", 4487042},
	{"Columbia", "SC", "29201", 34.0007, -81.0348, "America/New_York", 4575352},
	{"Richmond", "VA", "23219", 37.5407, -77.4360, "America/New_York", 4781708},
	{"Roanoke", "VA", "24011", 37.2710, -79.9414, "America/New_York", 4782167},
	{"Baltimore", "MD", "21202", 39.2904, -76.6122, "America/New_York", 4347778},
	{"Harrisburg", "PA", "17101", 40.2732, -76.8867, "America/New_York", 5192726},
	{"Pittsburgh", "PA", "15222", 40.4406, -79.9959, "America/New_York", 5206379},
	{"Philadelphia", "PA", "19107", 39.9526, -75.1652, "America/New_York", 4560349},
	{"Newark", "NJ", "07102", 40.7357, -74.1724, "America/New_York", 5101798},
	{"Albany", "NY", "12207", 42.6526, -73.7562, "America/New_York", 5106834},
	{"Buffalo", "NY", "14202", 42.8864, -78.8784, "America/New_York", 5110629},
	{"Hartford", "CT", "06103", 41.7658, -72.6734, "America/New_York", 4835797},
	{"Boston", "MA", "02210", 42.3601, -71.0589, "America/New_York", 4930956},
	{"Portland", "ME", "04101", 43.6591, -70.2568, "America/New_York", 4975802},
}

var streets = []string{
	"Industrial Blvd", "W Commerce St", "Distribution Dr", "Logistics Pkwy", "E Main St",
	"Freight Ln", "Warehouse Rd", "N Loop 289", "Airport Rd", "Commerce Center Dr",
	"Port Rd", "Rail Yard Rd", "S Frontage Rd", "Trade Center Blvd", "Enterprise Ave",
	"Interstate Dr", "Market St", "Cold Storage Way", "Depot St", "Harbor Blvd",
}

var interstates = []string{
	"I-10", "I-20", "I-40", "I-70", "I-80", "I-90", "I-35", "I-25", "I-5", "I-95",
	"I-75", "I-65", "I-55", "I-15", "I-44", "I-81", "US-287", "US-83",
}

// The continental US, roughly; stations and loads stay inside it.
const (
	usMinLat, usMaxLat = 24.5, 49.4
	usMinLon, usMaxLon = -124.8, -66.9
)

const earthRadiusMiles = 3958.8

// haversineMiles is the great-circle distance in miles.
func haversineMiles(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusMiles * math.Asin(math.Min(1, math.Sqrt(a)))
}

// roadMiles estimates driving miles from the straight line.
func roadMiles(a, b city) float64 {
	return haversineMiles(a.lat, a.lon, b.lat, b.lon) * 1.17
}

// nearestCity is the list's city closest to a point.
func nearestCity(lat, lon float64) city {
	best, bestD := cities[0], math.Inf(1)
	for _, c := range cities {
		// An equirectangular estimate is enough to rank.
		dx := (c.lon - lon) * math.Cos(lat*math.Pi/180)
		dy := c.lat - lat
		if d := dx*dx + dy*dy; d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// usUTCOffset approximates the UTC offset in seconds of a US location at t: the zone
// by longitude (Arizona keeps standard time) and US daylight saving rules.
func usUTCOffset(lat, lon float64, t time.Time) int {
	std := -5
	switch {
	case lon < -114.5 && lat > 35 || lon < -117:
		std = -8
	case lon < -102:
		std = -7
	case lon < -86.5:
		std = -6
	}
	arizona := std == -7 && lat < 37 && lon > -114.8 && lon < -109.05
	off := std * 3600
	if !arizona && usDST(t) {
		off += 3600
	}
	return off
}

// usDST reports whether t falls between the second Sunday in March and the first
// Sunday in November (at 07:00 UTC, close enough for a fake).
func usDST(t time.Time) bool {
	y := t.Year()
	start := nthSunday(y, time.March, 2).Add(7 * time.Hour)
	end := nthSunday(y, time.November, 1).Add(6 * time.Hour)
	return !t.Before(start) && t.Before(end)
}

func nthSunday(y int, m time.Month, n int) time.Time {
	d := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	for d.Weekday() != time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return d.AddDate(0, 0, 7*(n-1))
}
