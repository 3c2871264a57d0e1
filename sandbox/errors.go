package sandbox

import (
	"net/http"
	"strconv"
)

// samsaraError answers with Samsara's {"message","requestId"} body; like the real
// API, some gateway errors (502, 504 and every other 503) come back as plain text.
func (s *Sandbox) samsaraError(w http.ResponseWriter, status int, msg string) {
	if msg == "" {
		msg = samsaraMessages[status]
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	plain := status == http.StatusBadGateway || status == http.StatusGatewayTimeout ||
		status == http.StatusServiceUnavailable && s.samsara503.Add(1)%2 == 0
	if plain {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(samsaraPlain[status]))
		return
	}
	id := s.requestID()
	w.Header().Set("X-Request-Id", id)
	writeJSON(w, status, struct {
		Message   string `json:"message"`
		RequestID string `json:"requestId"`
	}{msg, id})
}

var samsaraMessages = map[int]string{
	http.StatusBadRequest:          "Bad Request",
	http.StatusUnauthorized:        "Unauthorized: the API token is missing, invalid or revoked.",
	http.StatusForbidden:           "Forbidden: the API token does not have the scope this endpoint requires.",
	http.StatusNotFound:            "Not Found",
	http.StatusTooManyRequests:     "Too Many Requests: rate limit exceeded.",
	http.StatusInternalServerError: "Internal Server Error",
	http.StatusServiceUnavailable:  "Service Unavailable",
}

var samsaraPlain = map[int]string{
	http.StatusBadGateway:         "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
	http.StatusServiceUnavailable: "Service Unavailable",
	http.StatusGatewayTimeout:     "upstream request timeout",
}

// codedError answers with the {"error":{"code","message"}} body Truckbase and Fuel
// Finder share.
func codedError(w http.ResponseWriter, status int, msg string) {
	code := "invalid_request"
	switch {
	case status == http.StatusUnauthorized:
		code = "unauthorized"
	case status == http.StatusForbidden:
		code = "forbidden"
	case status == http.StatusNotFound:
		code = "not_found"
	case status == http.StatusTooManyRequests:
		code = "rate_limited"
	case status >= 500:
		code = "internal"
	}
	if msg == "" {
		msg = codedMessages[code]
	}
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	writeJSON(w, status, struct {
		Error body `json:"error"`
	}{body{code, msg}})
}

var codedMessages = map[string]string{
	"invalid_request": "The request is invalid.",
	"unauthorized":    "Invalid or missing API key.",
	"forbidden":       "This API key may not access this resource.",
	"not_found":       "Not found.",
	"rate_limited":    "Rate limit exceeded. Retry later.",
	"internal":        "Internal server error. Retry later.",
}

// openWeatherError answers with OpenWeather's {"cod","message"}: cod is a number for
// 401, 429 and 5xx and a string for 400, 404 and other 4xx, as the real API does.
func openWeatherError(w http.ResponseWriter, status int, msg string) {
	if msg == "" {
		msg = openWeatherMessages[status]
	}
	if msg == "" {
		msg = "Internal error"
	}
	var cod any = status
	if status >= 400 && status < 500 && status != http.StatusUnauthorized && status != http.StatusTooManyRequests {
		cod = strconv.Itoa(status)
	}
	writeJSON(w, status, struct {
		Cod     any    `json:"cod"`
		Message string `json:"message"`
	}{cod, msg})
}

var openWeatherMessages = map[int]string{
	http.StatusBadRequest:      "Nothing to geocode",
	http.StatusUnauthorized:    "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info.",
	http.StatusNotFound:        "Internal error",
	http.StatusTooManyRequests: "Your account is temporary blocked due to exceeding of requests limitation of your subscription type.",
}

// controlError is the control API's error body.
type controlError struct {
	Error string `json:"error"`
}
