package samsara

// Exported for the fuzz tests in package samsara_test.
var (
	DecodeClocksPage  = decodeClocksPage
	DecodeDriversPage = decodeDriversPage
)
