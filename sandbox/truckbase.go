package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Truckbase: GET /loads[?status=…] and GET /loads/{id}.
//
// A key's loads come from load slots. Slot j carries one load after another: each is
// assigned from the moment the previous one is delivered until its pickup time, then
// in transit until its delivery time, when the next load of the slot is assigned.
// So there are always as many active loads as slots, statuses move with the clock,
// and every slot's previous load is still listed as delivered (or cancelled).

const loadTimeStep = 15 * minuteMs

type tbStop struct {
	Address string  `json:"address"`
	City    string  `json:"city"`
	State   string  `json:"state"`
	Zip     string  `json:"zip"`
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
}

type tbLoad struct {
	ID           string  `json:"id"`
	Pickup       tbStop  `json:"pickup"`
	Delivery     tbStop  `json:"delivery"`
	PickupTime   string  `json:"pickupTime"`
	DeliveryTime string  `json:"deliveryTime"`
	DriverID     string  `json:"driverId"`
	Status       string  `json:"status"`
	Miles        float64 `json:"miles"`
}

func (s *Sandbox) truckbaseLoads(w http.ResponseWriter, r *http.Request, key string, now time.Time) {
	want := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("status")))
	match := map[string]func(string) bool{
		"":           func(string) bool { return true },
		"all":        func(string) bool { return true },
		"active":     func(st string) bool { return st == "assigned" || st == "in_transit" },
		"assigned":   func(st string) bool { return st == "assigned" },
		"in_transit": func(st string) bool { return st == "in_transit" },
		"delivered":  func(st string) bool { return st == "delivered" },
		"cancelled":  func(st string) bool { return st == "cancelled" },
	}[want]
	if match == nil {
		codedError(w, http.StatusBadRequest, fmt.Sprintf("invalid status %q: want active, assigned, in_transit, delivered, cancelled or all", want))
		return
	}
	kh := hashString(key)
	drivers, slots := s.Fleet()
	t := now.UnixMilli()
	loads := make([]tbLoad, 0, slots)
	for j := 0; j < slots; j++ {
		sl := newLoadSlot(kh, j)
		k := sl.current(t)
		for _, kk := range []int64{k - 1, k} {
			if kk < 0 {
				continue
			}
			if l := sl.load(kh, kk, drivers, t); match(l.Status) {
				loads = append(loads, l)
			}
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Loads []tbLoad `json:"loads"`
	}{loads})
}

func (s *Sandbox) truckbaseLoad(w http.ResponseWriter, key, id string, now time.Time) {
	drivers, slots := s.Fleet()
	j, k, ok := parseLoadID(id)
	t := now.UnixMilli()
	if ok && j < slots {
		kh := hashString(key)
		sl := newLoadSlot(kh, j)
		if k <= sl.current(t) {
			writeJSON(w, http.StatusOK, sl.load(kh, k, drivers, t))
			return
		}
	}
	codedError(w, http.StatusNotFound, fmt.Sprintf("load %q not found", id))
}

// Load ids read "TB-<slot>-<sequence>", e.g. "TB-003-024511".
func loadID(slot int, k int64) string { return fmt.Sprintf("TB-%03d-%06d", slot+1, k) }

func parseLoadID(id string) (slot int, k int64, ok bool) {
	rest, found := strings.CutPrefix(id, "TB-")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rest, "-")
	if !found {
		return 0, 0, false
	}
	j, err1 := strconv.Atoi(a)
	n, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || j < 1 || n < 0 {
		return 0, 0, false
	}
	return j - 1, n, true
}

// loadSlot is one lane of consecutive loads.
type loadSlot struct {
	index  int
	seed   uint64
	period int64 // each load of the slot lasts this long, assignment to delivery
	phase  int64
}

func newLoadSlot(keyHash uint64, j int) loadSlot {
	seed := seedOf(keyHash, domLoadSlot, uint64(j))
	r := newRNG(seed)
	period := r.steps(14*hourMs, 56*hourMs, loadTimeStep)
	return loadSlot{index: j, seed: seed, period: period, phase: r.steps(0, period-loadTimeStep, loadTimeStep)}
}

// current is the sequence number of the slot's active load at t.
func (sl loadSlot) current(t int64) int64 { return floorDiv(t-sl.phase, sl.period) }

// load builds load k of the slot as it stands at t.
func (sl loadSlot) load(keyHash uint64, k int64, drivers int, t int64) tbLoad {
	r := newRNG(seedOf(sl.seed, domLoad, uint64(k)))
	start := sl.phase + k*sl.period
	assigned := r.steps(2*hourMs, min(8*hourMs, sl.period-6*hourMs), loadTimeStep)
	pickupAt, deliveryAt := start+assigned, start+sl.period
	transitHours := float64(deliveryAt-pickupAt) / float64(hourMs)
	// Trucks average 35-48 mph door to door, rests included.
	targetMiles := transitHours * r.between(35, 48)

	from := cities[r.intn(len(cities))]
	to := pickDestination(r, from, targetMiles)
	pickup, delivery := stopAt(r, from), stopAt(r, to)
	cancelled := r.float() < 0.05 // a load that ended up cancelled rather than delivered
	status := "assigned"
	switch {
	case t >= deliveryAt && cancelled:
		status = "cancelled"
	case t >= deliveryAt:
		status = "delivered"
	case t >= pickupAt:
		status = "in_transit"
	}
	driverID := ""
	if drivers > 0 {
		off := int(keyHash % uint64(drivers))
		driverID = strconv.Itoa(firstDriverID + (sl.index+off)%drivers)
	}
	return tbLoad{
		ID:           loadID(sl.index, k),
		Pickup:       pickup,
		Delivery:     delivery,
		PickupTime:   formatTime(time.UnixMilli(pickupAt)),
		DeliveryTime: formatTime(time.UnixMilli(deliveryAt)),
		DriverID:     driverID,
		Status:       status,
		Miles:        round(roadMiles(from, to), 1),
	}
}

// pickDestination picks, among the three cities whose road distance from 'from' is
// closest to the target, one at random.
func pickDestination(r *rng, from city, target float64) city {
	var best [3]city
	var bestD [3]float64
	n := 0
	for _, c := range cities {
		if c.name == from.name && c.state == from.state {
			continue
		}
		d := roadMiles(from, c) - target
		if d < 0 {
			d = -d
		}
		i := n
		if n < len(best) {
			n++
		} else if d >= bestD[len(best)-1] {
			continue
		} else {
			i = len(best) - 1
		}
		for ; i > 0 && bestD[i-1] > d; i-- {
			best[i], bestD[i] = best[i-1], bestD[i-1]
		}
		best[i], bestD[i] = c, d
	}
	return best[r.intn(n)]
}

// stopAt makes a street address near a city's center.
func stopAt(r *rng, c city) tbStop {
	return tbStop{
		Address: strconv.Itoa(100+r.intn(9800)) + " " + streets[r.intn(len(streets))],
		City:    c.name,
		State:   c.state,
		Zip:     c.zip,
		Lat:     round(c.lat+r.between(-0.05, 0.05), 4),
		Lon:     round(c.lon+r.between(-0.06, 0.06), 4),
	}
}
