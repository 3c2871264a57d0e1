package truckbase

// Exported for the fuzz tests in package truckbase_test.
var (
	DecodeLoads = decodeLoads
	DecodeLoad  = decodeLoad
)
