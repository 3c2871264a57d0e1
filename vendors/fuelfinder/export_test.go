package fuelfinder

// Exported for the fuzz tests in package fuelfinder_test.
var DecodeStations = decodeStations
