package sandbox

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Samsara: GET /fleet/drivers and GET /fleet/hos/clocks, cursor-paginated.

const (
	samsaraMaxLimit = 512
	// firstDriverID is the id of driver 1; driver i is firstDriverID+i-1 for every key,
	// so that Truckbase loads of any key name drivers in the same id scheme.
	firstDriverID = 52001
	// Deactivated drivers have ids from here.
	firstDeactivatedID = 9_000_001
)

// Page kinds, so that one endpoint's cursor is not taken for another's.
const (
	pageDrivers uint64 = iota + 1
	pageDeactivated
	pageClocks
)

type idName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type pagination struct {
	EndCursor   string `json:"endCursor"`
	HasNextPage bool   `json:"hasNextPage"`
}

type listAnswer[T any] struct {
	Data       []T        `json:"data"`
	Pagination pagination `json:"pagination"`
}

type samsaraDriver struct {
	ID                     string            `json:"id"`
	Name                   string            `json:"name"`
	Username               string            `json:"username"`
	Phone                  string            `json:"phone"`
	LicenseState           string            `json:"licenseState"`
	Timezone               string            `json:"timezone"`
	DriverActivationStatus string            `json:"driverActivationStatus"`
	ExternalIDs            map[string]string `json:"externalIds"`
	StaticAssignedVehicle  *idName           `json:"staticAssignedVehicle,omitempty"`
	CreatedAtTime          string            `json:"createdAtTime"`
	UpdatedAtTime          string            `json:"updatedAtTime"`
}

type hosClock struct {
	Driver            idName        `json:"driver"`
	CurrentDutyStatus hosDutyStatus `json:"currentDutyStatus"`
	CurrentVehicle    *idName       `json:"currentVehicle,omitempty"`
	Clocks            *hosClocks    `json:"clocks,omitempty"`
	Violations        hosViolations `json:"violations"`
}

type hosDutyStatus struct {
	HosStatusType string `json:"hosStatusType"`
}

type hosClocks struct {
	Break struct {
		TimeUntilBreakDurationMs int64 `json:"timeUntilBreakDurationMs"`
	} `json:"break"`
	Drive struct {
		DriveRemainingDurationMs int64 `json:"driveRemainingDurationMs"`
	} `json:"drive"`
	Shift struct {
		ShiftRemainingDurationMs int64 `json:"shiftRemainingDurationMs"`
	} `json:"shift"`
	Cycle struct {
		CycleRemainingDurationMs int64  `json:"cycleRemainingDurationMs"`
		CycleStartedAtTime       string `json:"cycleStartedAtTime"`
		CycleTomorrowDurationMs  int64  `json:"cycleTomorrowDurationMs"`
	} `json:"cycle"`
}

type hosViolations struct {
	CycleViolationDurationMs        int64 `json:"cycleViolationDurationMs"`
	ShiftDrivingViolationDurationMs int64 `json:"shiftDrivingViolationDurationMs"`
}

func (s *Sandbox) samsaraDrivers(w http.ResponseWriter, r *http.Request, key string) {
	q := r.URL.Query()
	kind := pageDrivers
	switch strings.ToLower(q.Get("driverActivationStatus")) {
	case "", "active":
	case "deactivated":
		kind = pageDeactivated
	default:
		s.samsaraError(w, http.StatusBadRequest, "Invalid value for parameter 'driverActivationStatus': want active or deactivated")
		return
	}
	limit, offset, afterEmpty, ok := s.samsaraPageParams(w, q.Get("limit"), q.Get("after"), kind)
	if !ok {
		return
	}
	kh := hashString(key)
	drivers, _ := s.Fleet()
	total := drivers
	if kind == pageDeactivated {
		total = drivers / 25
	}
	lo, hi, pg := paginate(kh, kind, total, offset, afterEmpty, limit)
	out := listAnswer[samsaraDriver]{Data: make([]samsaraDriver, 0, hi-lo), Pagination: pg}
	for i := lo; i < hi; i++ {
		if kind == pageDeactivated {
			out.Data = append(out.Data, newProfile(kh, firstDeactivatedID+i, false).driver())
		} else {
			out.Data = append(out.Data, newProfile(kh, firstDriverID+i, true).driver())
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sandbox) samsaraClocks(w http.ResponseWriter, r *http.Request, key string, now time.Time) {
	q := r.URL.Query()
	limit, offset, afterEmpty, ok := s.samsaraPageParams(w, q.Get("limit"), q.Get("after"), pageClocks)
	if !ok {
		return
	}
	kh := hashString(key)
	fleet := s.FleetSettings()
	drivers := fleet.Drivers
	// The fleet, or the listed drivers that are in it, in fleet order.
	var ids []int
	if csv := q.Get("driverIds"); csv != "" {
		ids = []int{} // listed drivers only: none when none of them is in the fleet
		seen := map[int]bool{}
		for _, f := range strings.Split(csv, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < firstDriverID || n >= firstDriverID+drivers || seen[n] {
				continue // unknown ids are left out, as Samsara does
			}
			seen[n] = true
			ids = append(ids, n)
		}
		sortInts(ids)
	}
	total := drivers
	if ids != nil {
		total = len(ids)
	}
	lo, hi, pg := paginate(kh, pageClocks, total, offset, afterEmpty, limit)
	out := listAnswer[hosClock]{Data: make([]hosClock, 0, hi-lo), Pagination: pg}
	t := now.UnixMilli()
	for i := lo; i < hi; i++ {
		id := firstDriverID + i
		if ids != nil {
			id = ids[i]
		}
		out.Data = append(out.Data, newProfile(kh, id, true).clock(kh, t, fleet.gapOf(id-firstDriverID)))
	}
	writeJSON(w, http.StatusOK, out)
}

// samsaraPageParams parses limit and after, answering 400 when they are wrong.
func (s *Sandbox) samsaraPageParams(w http.ResponseWriter, limitS, after string, kind uint64) (limit, offset int, afterEmpty, ok bool) {
	limit = samsaraMaxLimit
	if limitS != "" {
		n, err := strconv.Atoi(limitS)
		if err != nil || n < 1 || n > samsaraMaxLimit {
			s.samsaraError(w, http.StatusBadRequest, fmt.Sprintf("Invalid value for parameter 'limit': %q is not an integer between 1 and %d", limitS, samsaraMaxLimit))
			return 0, 0, false, false
		}
		limit = n
	}
	if after != "" {
		var err error
		offset, afterEmpty, err = decodeCursor(after, kind)
		if err != nil {
			s.samsaraError(w, http.StatusBadRequest, "Invalid value for parameter 'after': "+err.Error())
			return 0, 0, false, false
		}
	}
	return limit, offset, afterEmpty, true
}

// paginate picks the slice [lo, hi) of a list of total items for a page, with
// Samsara's quirks: now and then (deterministically per key and position, the first
// page included) a page is EMPTY while hasNextPage is still true, and the last
// page's endCursor is "".
func paginate(keyHash, kind uint64, total, offset int, afterEmpty bool, limit int) (lo, hi int, pg pagination) {
	lo = min(offset, total)
	if !afterEmpty && lo < total && unit(seedOf(keyHash, domPage, kind, uint64(lo))) < 0.25 {
		return lo, lo, pagination{EndCursor: encodeCursor(lo, true, kind), HasNextPage: true}
	}
	hi = min(lo+limit, total)
	if hi < total {
		return lo, hi, pagination{EndCursor: encodeCursor(hi, false, kind), HasNextPage: true}
	}
	return lo, hi, pagination{EndCursor: "", HasNextPage: false}
}

// Cursors are opaque to clients: base64 of "v1.<kind>.<offset>.<empty page served>".
func encodeCursor(offset int, afterEmpty bool, kind uint64) string {
	e := 0
	if afterEmpty {
		e = 1
	}
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "v1.%d.%d.%d", kind, offset, e))
}

func decodeCursor(c string, kind uint64) (offset int, afterEmpty bool, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false, fmt.Errorf("malformed cursor %q", c)
	}
	var k uint64
	var e int
	if n, err := fmt.Sscanf(string(b), "v1.%d.%d.%d", &k, &offset, &e); err != nil || n != 3 || offset < 0 || e < 0 || e > 1 {
		return 0, false, fmt.Errorf("malformed cursor %q", c)
	}
	if k != kind {
		return 0, false, fmt.Errorf("cursor %q belongs to another list", c)
	}
	return offset, e == 1, nil
}

// profile is a driver's generated, unchanging details.
type profile struct {
	id      int
	active  bool
	first   string
	last    string
	home    city
	phone   string
	vehicle *idName
	payroll string
	created time.Time
	hos     hosDriver
}

func newProfile(keyHash uint64, id int, active bool) profile {
	r := newRNG(seedOf(keyHash, domDriver, uint64(id), 7))
	p := profile{
		id:     id,
		active: active,
		first:  firstNames[r.intn(len(firstNames))],
		last:   lastNames[r.intn(len(lastNames))],
		home:   cities[r.intn(len(cities))],
	}
	p.phone = fmt.Sprintf("+1%03d%03d%04d", 201+r.intn(780), 200+r.intn(800), r.intn(10000))
	if r.float() < 0.9 {
		unit := 100 + r.intn(900)
		p.vehicle = &idName{
			ID:   strconv.FormatUint(281474976710656+uint64(r.intn(1e10)), 10),
			Name: "Truck " + strconv.Itoa(unit),
		}
	}
	p.payroll = fmt.Sprintf("P-%05d", r.intn(100000))
	base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	p.created = base.Add(time.Duration(r.intn(900*24*60)) * time.Minute)
	p.hos = newHOSDriver(keyHash, id)
	return p
}

func (p profile) name() string { return p.first + " " + p.last }

func (p profile) driver() samsaraDriver {
	status := "active"
	if !p.active {
		status = "deactivated"
	}
	updated := p.created.Add(time.Duration(mix64(uint64(p.id))%(200*24)) * time.Hour)
	return samsaraDriver{
		ID:                     strconv.Itoa(p.id),
		Name:                   p.name(),
		Username:               strings.ToLower(p.first[:1]+strings.ReplaceAll(p.last, " ", "")) + strconv.Itoa(p.id%1000),
		Phone:                  p.phone,
		LicenseState:           p.home.state,
		Timezone:               p.home.tz,
		DriverActivationStatus: status,
		ExternalIDs:            map[string]string{"payrollId": p.payroll},
		StaticAssignedVehicle:  p.vehicle,
		CreatedAtTime:          formatTime(p.created),
		UpdatedAtTime:          formatTime(updated),
	}
}

// clock is the driver's clocks item at t, with the gap the fleet settings give it.
func (p profile) clock(keyHash uint64, t int64, g gap) hosClock {
	st := p.hos.clocksAt(t)
	c := hosClock{
		Driver:            idName{ID: strconv.Itoa(p.id), Name: p.name()},
		CurrentDutyStatus: hosDutyStatus{HosStatusType: st.status.String()},
		CurrentVehicle:    p.vehicle,
		Clocks:            new(hosClocks),
	}
	if p.hos.disconnected(t) || g == gapDisconnected {
		c.CurrentDutyStatus.HosStatusType = ""
	}
	c.Clocks.Break.TimeUntilBreakDurationMs = st.brk
	c.Clocks.Drive.DriveRemainingDurationMs = st.drive
	c.Clocks.Shift.ShiftRemainingDurationMs = st.shift
	c.Clocks.Cycle.CycleRemainingDurationMs = st.cycle
	c.Clocks.Cycle.CycleStartedAtTime = formatTime(time.UnixMilli(st.cycleStart))
	c.Clocks.Cycle.CycleTomorrowDurationMs = st.cycleTomorrow()
	c.Violations.CycleViolationDurationMs = st.cycleViolation
	c.Violations.ShiftDrivingViolationDurationMs = st.shiftViolation
	switch g {
	case gapWithoutClocks:
		c.Clocks = nil
	case gapInViolation:
		c.Violations = hosViolations{CycleViolationDurationMs: hourMs, ShiftDrivingViolationDurationMs: hourMs}
	}
	return c
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func sortInts(a []int) {
	// Insertion sort: driverIds lists are short.
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

var firstNames = []string{
	"Maria", "James", "Robert", "Linda", "Michael", "Patricia", "David", "Jennifer", "Carlos",
	"Jose", "Luis", "Ana", "William", "Elizabeth", "Richard", "Barbara", "Joseph", "Susan",
	"Thomas", "Jessica", "Charles", "Sarah", "Daniel", "Karen", "Matthew", "Nancy", "Anthony",
	"Lisa", "Mark", "Betty", "Donald", "Sandra", "Steven", "Ashley", "Paul", "Kimberly",
	"Andrew", "Donna", "Joshua", "Emily", "Kenneth", "Michelle", "Kevin", "Carol", "Brian",
	"Amanda", "George", "Melissa", "Timothy", "Deborah", "Ronald", "Stephanie", "Jason",
	"Rebecca", "Edward", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia", "Jacob", "Dorothy",
	"Gary", "Amy", "Nicholas", "Kathleen", "Eric", "Angela", "Jonathan", "Shirley", "Tyrone",
	"Darnell", "Keisha", "Andre", "Jamal", "Wei", "Hung", "Priya", "Raj", "Olga", "Dmitri",
	"Miguel", "Juan", "Rosa", "Guadalupe", "Francisco", "Alejandro", "Sofia", "Diego",
}

var lastNames = []string{
	"Lopez", "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
	"Rodriguez", "Martinez", "Hernandez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
	"Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
	"Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
	"Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
	"Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
	"Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
	"Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
	"Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
	"Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
	"Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster",
}
