package vendors

import "time"

// Duty statuses, as the contract's DutyStatus enum spells them.
const (
	DutyOffDuty            = "OFF_DUTY"
	DutySleeperBerth       = "SLEEPER_BERTH"
	DutyDriving            = "DRIVING"
	DutyOnDuty             = "ON_DUTY"
	DutyYardMove           = "YARD_MOVE"
	DutyPersonalConveyance = "PERSONAL_CONVEYANCE"
	// DutyUnknown: the vendor reported no duty status (or one this adapter does not
	// know); HOS.Note says which.
	DutyUnknown = "UNKNOWN"
)

// Load statuses, as the contract's LoadStatus enum spells them.
const (
	LoadAssigned  = "ASSIGNED"
	LoadInTransit = "IN_TRANSIT"
	LoadDelivered = "DELIVERED"
	LoadCancelled = "CANCELLED"
)

// Driver is one driver as the ELD vendor lists it.
type Driver struct {
	ID         string // the vendor's driver id (Samsara's "id")
	Name       string
	ExternalID string // first value of externalIds, if any
	Active     bool
}

// HOS is one driver's hours-of-service clocks, mapped to the contract's HOSData.
// A nil clock or violation is one the vendor did not report: it is unknown, never 0.
type HOS struct {
	DriverID            string
	DriverName          string
	DutyStatus          string // one of the Duty* constants, DutyUnknown included
	HoursDriven         *float64
	DriveRemainingHours *float64
	ShiftRemainingHours *float64
	CycleRemainingHours *float64
	TimeUntilBreakHours *float64
	// CycleViolationHours and ShiftDrivingViolationHours are how long the driver has
	// been in violation, as the vendor reports it (0 = reported, none).
	CycleViolationHours        *float64
	ShiftDrivingViolationHours *float64
	// Note says why a value is missing or odd, e.g. "driver app disconnected" when the
	// status was "", "no clocks reported" when the item had no clocks; "" otherwise.
	Note string
}

// Location is a pickup or delivery point.
type Location struct {
	Address, City, State, Zip string
	Latitude, Longitude       *float64
}

// Load is one TMS load, mapped to the contract's Load.
type Load struct {
	ID                  string
	Pickup, Delivery    Location
	PickupAppointment   *time.Time
	DeliveryAppointment *time.Time
	DriverID            string
	Status              string // one of the Load* constants
	Miles               *float64
}

// FuelStation is one station near a point, mapped to the contract's FuelStation.
type FuelStation struct {
	ID            string
	Name, Brand   string
	Address, City string
	State, Zip    string
	Latitude      float64
	Longitude     float64
	RegularPrice  *float64
	DieselPrice   *float64
	DistanceMiles *float64
	Amenities     []string
	UpdatedAt     *time.Time
}

// Weather is the current weather at a point, imperial units.
type Weather struct {
	Latitude, Longitude float64
	TemperatureF        float64
	FeelsLikeF          *float64
	Humidity            *int
	WindSpeedMph        *float64
	Conditions          string
	Description         string
	ObservedAt          time.Time
	LocationName        string
}
