package auth

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Limits of the contract's validation rules.
const (
	// MaxEmailLen is the longest address SMTP can carry (RFC 5321 path limit minus
	// the angle brackets).
	MaxEmailLen = 254
	// MinPasswordLen is the contract's "password at least 12 characters".
	MinPasswordLen = 12
	// MaxPasswordLen bounds the work a login may ask of the server; any passphrase a
	// person types fits.
	MaxPasswordLen = 256
)

// Validation errors; their messages are meant for BAD_USER_INPUT as they are.
var (
	ErrInvalidEmail    = errors.New("invalid email")
	ErrInvalidPassword = errors.New("invalid password")
)

// NormalizeEmail is the form an email is stored and compared in: trimmed and
// lower-cased, so that an email is the same regardless of case.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateEmail checks that s (surrounding spaces ignored) is a bare email address —
// no display name, no angle brackets, no comments — of at most MaxEmailLen bytes, and
// returns it lower-cased, the form stored and compared everywhere so that an email is
// unique regardless of case. A domain without a dot (admin@localhost) is accepted.
func ValidateEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fmt.Errorf("%w: must not be empty", ErrInvalidEmail)
	case len(s) > MaxEmailLen:
		return "", fmt.Errorf("%w: must be at most %d characters", ErrInvalidEmail, MaxEmailLen)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", fmt.Errorf("%w: %q is not an address such as name@example.com", ErrInvalidEmail, truncate(s, 64))
	}
	return NormalizeEmail(s), nil
}

// ValidatePassword checks a new password against the contract: at least
// MinPasswordLen characters (runes, so non-ASCII passphrases are counted fairly), at
// most MaxPasswordLen, valid UTF-8. Errors never quote the password.
func ValidatePassword(pw string) error {
	if !utf8.ValidString(pw) {
		return fmt.Errorf("%w: must be valid UTF-8 text", ErrInvalidPassword)
	}
	switch n := utf8.RuneCountInString(pw); {
	case n < MinPasswordLen:
		return fmt.Errorf("%w: must be at least %d characters", ErrInvalidPassword, MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Errorf("%w: must be at most %d characters", ErrInvalidPassword, MaxPasswordLen)
	}
	return nil
}
