package openweather

// Exported for the fuzz tests in package openweather_test.
var DecodeWeather = decodeWeather
