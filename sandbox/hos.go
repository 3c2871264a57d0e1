package sandbox

// Hours of service. Each driver works a weekly schedule generated from the key and
// the driver: a weekly phase, four to six workdays starting near the same hour, each
// a pre-trip inspection, driving blocks with stops and breaks, a post-trip
// inspection, then ten or more hours off (in the sleeper for long-haul drivers), and
// a 34-hour-plus restart at the end of the week. The clocks at an instant are
// computed by stepping the US property-carrier rules (49 CFR 395.3, as vendors.md
// states them) from the start of the driver's current week, where the previous
// week's restart has just put every clock at its maximum. A driver costs a few dozen
// steps, so a thousand drivers take well under a millisecond each call.

// Times and durations in Unix milliseconds.
const (
	minuteMs = int64(60_000)
	hourMs   = 60 * minuteMs
	dayMs    = 24 * hourMs

	maxDriveMs = 11 * hourMs // 39,600,000
	maxShiftMs = 14 * hourMs // 50,400,000
	maxBreakMs = 8 * hourMs  // 28,800,000
	maxCycleMs = 70 * hourMs // 252,000,000

	breakResetMs = 30 * minuteMs
	shiftResetMs = 10 * hourMs
	cycleResetMs = 34 * hourMs

	hosWeekMs      = 7 * dayMs
	maxDayJitterMs = 30 * minuteMs
	// A workday (pre-trip to post-trip) never runs longer than this, so that with the
	// start-time jitter there are always at least 10 hours off before the next one.
	maxWorkdayMs = dayMs - shiftResetMs - maxDayJitterMs
)

// dutyStatus is a Samsara hosStatusType.
type dutyStatus uint8

const (
	offDuty dutyStatus = iota
	sleeperBed
	driving
	onDuty
	yardMove
	personalConveyance
)

var dutyStatusNames = [...]string{"offDuty", "sleeperBed", "driving", "onDuty", "yardMove", "personalConveyance"}

func (d dutyStatus) String() string { return dutyStatusNames[d] }

// hosState is a driver's clocks (remaining milliseconds) and what the rules need to
// remember to move them.
type hosState struct {
	drive, shift, brk, cycle int64
	windowOpen               bool  // the 14-hour window started (first on-duty after a reset)
	offRun                   int64 // continuous off-duty/sleeper time
	restRun                  int64 // continuous non-driving time
	shiftViolation           int64 // driving beyond the 11- or 14-hour limit, this shift
	cycleViolation           int64 // driving beyond the 70-hour limit, this cycle
	cycleStart               int64 // when the last 34-hour restart completed
	status                   dutyStatus
	weeklyRestart            bool // off for the rest of the week
}

func freshHOS(cycleStart int64) hosState {
	return hosState{
		drive: maxDriveMs, shift: maxShiftMs, brk: maxBreakMs, cycle: maxCycleMs,
		offRun: cycleResetMs, restRun: cycleResetMs, cycleStart: cycleStart,
	}
}

// step applies d milliseconds in status st, starting at time at.
func (s *hosState) step(st dutyStatus, d, at int64) {
	s.status = st
	if d <= 0 {
		return
	}
	switch st {
	case driving:
		s.windowOpen = true
		s.shiftViolation += max(over(s.drive, d), over(s.shift, d))
		s.cycleViolation += over(s.cycle, d)
		s.drive = sub(s.drive, d)
		s.shift = sub(s.shift, d)
		s.brk = sub(s.brk, d)
		s.cycle = sub(s.cycle, d)
		s.offRun, s.restRun = 0, 0
	case onDuty, yardMove:
		s.windowOpen = true
		s.shift = sub(s.shift, d)
		s.cycle = sub(s.cycle, d)
		s.offRun = 0
		s.restRun += d
		if s.restRun >= breakResetMs {
			s.brk = maxBreakMs
		}
	default: // off duty, sleeper berth, personal conveyance
		if s.windowOpen {
			s.shift = sub(s.shift, d) // off-duty time does not pause the window
		}
		before := s.offRun
		s.offRun += d
		s.restRun += d
		if s.restRun >= breakResetMs {
			s.brk = maxBreakMs
		}
		if s.offRun >= shiftResetMs {
			s.drive, s.shift, s.brk = maxDriveMs, maxShiftMs, maxBreakMs
			s.windowOpen = false
			s.shiftViolation = 0
		}
		if s.offRun >= cycleResetMs {
			s.cycle = maxCycleMs
			s.cycleViolation = 0
			if before < cycleResetMs {
				s.cycleStart = at + cycleResetMs - before
			}
		}
	}
}

func sub(x, d int64) int64  { return max(x-d, 0) }
func over(x, d int64) int64 { return max(d-x, 0) }

// cycleTomorrow is the cycle time the driver will have at this time tomorrow
// without working more: all of it when the weekly restart under way completes by
// then. (No on-duty time drops out of the 8-day window before then: all of a
// cycle's on-duty time falls within one week of the schedule.)
func (s *hosState) cycleTomorrow() int64 {
	if s.weeklyRestart && s.offRun+dayMs >= cycleResetMs {
		return maxCycleMs
	}
	return s.cycle
}

// walker steps a hosState along emitted segments up to a target time.
type walker struct {
	target int64
	cur    int64
	st     hosState
	done   bool
}

// emit steps the state through status st until time end (or the target, if sooner).
// A nil walker only plans (used to find where the previous week ended).
func (w *walker) emit(st dutyStatus, end int64) {
	if w == nil || w.done || end <= w.cur {
		return
	}
	if end > w.target {
		w.st.step(st, w.target-w.cur, w.cur)
		w.cur, w.done = w.target, true
		return
	}
	w.st.step(st, end-w.cur, w.cur)
	w.cur = end
}

// hosDriver is what the schedule of one driver of one key derives from.
type hosDriver struct {
	seed     uint64
	phase    int64 // where the driver's weeks start, in [0, 1 week)
	longHaul bool  // rests in the sleeper berth between workdays
}

func newHOSDriver(keyHash uint64, idx int) hosDriver {
	seed := seedOf(keyHash, domDriver, uint64(idx))
	r := newRNG(seedOf(seed, domPeriod))
	return hosDriver{
		seed:     seed,
		phase:    int64(r.intn(int(hosWeekMs/minuteMs))) * minuteMs,
		longHaul: r.float() < 0.6,
	}
}

// week returns the start of the driver's week containing t and its index.
func (d hosDriver) week(t int64) (index, start int64) {
	index = floorDiv(t-d.phase, hosWeekMs)
	return index, d.phase + index*hosWeekMs
}

// workdays is how many days the driver works in week p (4 to 6).
func (d hosDriver) workdays(p int64) int {
	x := unit(seedOf(d.seed, domPeriod, uint64(p)))
	switch {
	case x < 0.25:
		return 4
	case x < 0.93:
		return 5
	default:
		return 6 // tight week: the 70-hour limit bites
	}
}

// dayStart is when workday i of the week starting at ws begins.
func (d hosDriver) dayStart(p int64, ws int64, i int) int64 {
	j := unit(seedOf(d.seed, domDay, uint64(p), uint64(i), 1))
	return ws + int64(i)*dayMs + int64(j*float64(maxDayJitterMs/minuteMs))*minuteMs
}

// clocksAt computes the driver's HOS state at time t (Unix ms).
func (d hosDriver) clocksAt(t int64) hosState {
	p, ws := d.week(t)
	// Where last week's final workday ended: the restart that followed it reset
	// every clock, and completed 34 hours later.
	lastDay := d.workdays(p-1) - 1
	prevWS := ws - hosWeekMs
	prevEnd := d.planDay(p-1, lastDay, d.dayStart(p-1, prevWS, lastDay), nil)

	w := &walker{target: t, cur: ws, st: freshHOS(prevEnd + cycleResetMs)}
	w.st.offRun = ws - prevEnd
	w.st.restRun = w.st.offRun
	n := d.workdays(p)
	for i := 0; i < n && !w.done; i++ {
		start := d.dayStart(p, ws, i)
		d.rest(p, i, w, start)
		d.planDay(p, i, start, w)
	}
	if !w.done {
		w.emit(offDuty, w.target) // the weekly restart
		w.st.weeklyRestart = true
	}
	return w.st
}

// rest emits the time off before workday i: at home before the first day of the
// week, else in the sleeper or off duty, with an occasional personal-conveyance
// drive in the middle.
func (d hosDriver) rest(p int64, i int, w *walker, until int64) {
	if w.done || until <= w.cur {
		return
	}
	st := offDuty
	if i > 0 && d.longHaul {
		st = sleeperBed
	}
	r := newRNG(seedOf(d.seed, domDay, uint64(p), uint64(i), 2))
	if gap := until - w.cur; gap > 2*hourMs && r.float() < 0.25 {
		pcStart := w.cur + gap/3 + int64(r.intn(60))*minuteMs
		pcEnd := pcStart + r.steps(10*minuteMs, 25*minuteMs, minuteMs)
		w.emit(st, pcStart)
		w.emit(personalConveyance, pcEnd)
	}
	w.emit(st, until)
}

// planDay lays out workday i of week p starting at start, emitting its segments to
// w, and returns when the day ends. The plan depends only on the seed, so planning
// without a walker gives the same end.
func (d hosDriver) planDay(p int64, i int, start int64, w *walker) int64 {
	r := newRNG(seedOf(d.seed, domDay, uint64(p), uint64(i), 3))
	shiftTarget := r.steps(9*hourMs, 12*hourMs+45*minuteMs, 15*minuteMs)
	driveTarget := min(r.steps(6*hourMs, 11*hourMs, 15*minuteMs), shiftTarget-90*minuteMs)
	if d.workdays(p) == 6 {
		// A six-day week of long days runs into the 70-hour limit on the last day.
		shiftTarget = r.steps(12*hourMs, 12*hourMs+45*minuteMs, 15*minuteMs)
		driveTarget = r.steps(10*hourMs, 11*hourMs, 15*minuteMs)
	}
	// Now and then a driver runs over: after the planned driving, one more drive
	// past the 11-hour limit.
	var overrun int64
	if r.float() < 0.03 {
		overrun = r.steps(15*minuteMs, 45*minuteMs, 5*minuteMs)
	}
	limit := start + shiftTarget
	cur := start
	em := func(st dutyStatus, dur int64) {
		if dur > 0 {
			cur += dur
			w.emit(st, cur)
		}
	}
	const postTrip = 20 * minuteMs

	em(onDuty, r.steps(15*minuteMs, 30*minuteMs, 5*minuteMs)) // pre-trip inspection
	if r.float() < 0.3 {
		em(yardMove, r.steps(5*minuteMs, 15*minuteMs, minuteMs))
	}
	var driven, sinceBreak int64
	for driven < driveTarget {
		block := r.steps(90*minuteMs, 4*hourMs+30*minuteMs, 5*minuteMs)
		block = min(block, driveTarget-driven, maxBreakMs-sinceBreak, limit-postTrip-cur)
		if block <= 0 {
			break
		}
		em(driving, block)
		driven += block
		sinceBreak += block
		if driven >= driveTarget {
			break
		}
		// A stop: a short one on duty (fuel, paperwork), or a break of 30 minutes
		// or more, off duty or on duty (loading, a meal at the dock).
		stop, st := r.steps(10*minuteMs, 25*minuteMs, minuteMs), onDuty
		if sinceBreak >= 6*hourMs || r.float() < 0.4 {
			stop = r.steps(30*minuteMs, 75*minuteMs, 5*minuteMs)
			if r.float() < 0.5 {
				st = offDuty
			}
		}
		if cur+stop+postTrip+15*minuteMs > limit {
			break
		}
		em(st, stop)
		if stop >= breakResetMs {
			sinceBreak = 0
		}
	}
	if overrun > 0 {
		em(driving, min(max(maxDriveMs-driven, 0)+overrun, start+maxWorkdayMs-postTrip-cur))
	}
	em(onDuty, min(r.steps(10*minuteMs, postTrip, minuteMs), start+maxWorkdayMs-cur))
	return cur
}

// disconnected reports whether the driver's app is offline at t (Samsara then
// reports hosStatusType ""): about one driver in ten has a flaky phone, offline
// about half of the hours.
func (d hosDriver) disconnected(t int64) bool {
	if unit(seedOf(d.seed, domDisconnect)) >= 0.1 {
		return false
	}
	return unit(seedOf(d.seed, domDisconnect, uint64(floorDiv(t, hourMs)))) < 0.5
}
