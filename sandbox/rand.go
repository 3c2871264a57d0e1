package sandbox

import "math"

// The sandbox never uses a global random source: every value is derived from a hash
// of the API key, a domain constant saying what the value is for, and the indexes of
// the thing being generated (driver, day, station, time bucket). The same inputs give
// the same fleet on every call, in every process.

// Domains keep the streams for different purposes independent of each other.
const (
	domDriver uint64 = iota + 1
	domPeriod
	domDay
	domDisconnect
	domLoadSlot
	domLoad
	domStationCell
	domStationPrice
	domWeather
	domRequestID
	domPage
)

// hashString is FNV-1a, 64 bits: a stable hash of an API key.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// splitmix64's finalizer: a cheap, well-mixed bijection of 64-bit values.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// seedOf folds values into a seed, order-sensitively.
func seedOf(h uint64, vs ...uint64) uint64 {
	for _, v := range vs {
		h = mix64(h ^ (v + 0x9E3779B97F4A7C15))
	}
	return h
}

// rng is splitmix64: small, fast and good enough for fake data.
type rng struct{ s uint64 }

func newRNG(seed uint64) *rng { return &rng{s: seed} }

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	return mix64(r.s)
}

// float returns a value in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// intn returns a value in [0, n); n must be positive.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// between returns a value in [lo, hi).
func (r *rng) between(lo, hi float64) float64 { return lo + (hi-lo)*r.float() }

// steps returns lo + k*step for a random k with the result in [lo, hi].
func (r *rng) steps(lo, hi, step int64) int64 {
	return lo + int64(r.intn(int((hi-lo)/step)+1))*step
}

// unit maps a seed to [0, 1).
func unit(seed uint64) float64 { return float64(mix64(seed)>>11) / (1 << 53) }

// smooth is 1-D value noise in [0, 1): lattice values at integer x, smoothly
// interpolated, so it drifts instead of jumping.
func smooth(seed uint64, x float64) float64 {
	x0 := math.Floor(x)
	f := x - x0
	f = f * f * (3 - 2*f)
	a := unit(seedOf(seed, uint64(int64(x0))))
	b := unit(seedOf(seed, uint64(int64(x0)+1)))
	return a + (b-a)*f
}

// smooth3 is 3-D value noise in [0, 1) (space and time for the weather).
func smooth3(seed uint64, x, y, z float64) float64 {
	x0, y0, z0 := math.Floor(x), math.Floor(y), math.Floor(z)
	fx, fy, fz := fade(x-x0), fade(y-y0), fade(z-z0)
	ix, iy, iz := int64(x0), int64(y0), int64(z0)
	v := func(dx, dy, dz int64) float64 {
		return unit(seedOf(seed, uint64(ix+dx), uint64(iy+dy), uint64(iz+dz)))
	}
	lerp := func(a, b, t float64) float64 { return a + (b-a)*t }
	x00 := lerp(v(0, 0, 0), v(1, 0, 0), fx)
	x10 := lerp(v(0, 1, 0), v(1, 1, 0), fx)
	x01 := lerp(v(0, 0, 1), v(1, 0, 1), fx)
	x11 := lerp(v(0, 1, 1), v(1, 1, 1), fx)
	return lerp(lerp(x00, x10, fy), lerp(x01, x11, fy), fz)
}

func fade(t float64) float64 { return t * t * (3 - 2*t) }

// floorDiv divides rounding toward negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// round rounds x to n decimals.
func round(x float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(x*p) / p
}
