package auth

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
)

// Limits of the contract's validation rules.
const (
	// MaxEmailLen is the longest address SMTP can carry (RFC 5321 path limit minus
	// the angle brackets).
	MaxEmailLen = 254
	// MinPasswordLen is the contract's "password at least 12 characters".
	MinPasswordLen = 12
	// MaxPasswordBytes bounds the work a login may ask of the server; any passphrase a
	// person types fits.
	MaxPasswordBytes = 1024
	// MinPasswordScore is the least zxcvbn score (0..4) a new password must reach: 3
	// is "safely unguessable" (about 10^8 guesses or more), which refuses common
	// passwords, keyboard walks, repeats and the user's own email or name.
	MinPasswordScore = 3
	// strengthPrefix is how many characters of a password the estimator reads: its
	// matching is superlinear in the length, and a longer tail only adds strength.
	strengthPrefix = 100
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

// ValidatePassword checks a new password: the rule of every place a password is set
// (createUser, createTenant, setPassword, changePassword, ADMIN_PASSWORD). At least
// MinPasswordLen characters (runes, so non-ASCII passphrases are counted fairly), at
// most MaxPasswordBytes bytes, valid UTF-8, and not guessable: the zxcvbn estimator
// (github.com/trustelem/zxcvbn, a port of Dropbox's) must score it at least
// MinPasswordScore, counting the user's own email, its parts and any other words
// given (names) as the first guesses. Errors never quote the password.
func ValidatePassword(pw string, userInputs ...string) error {
	if !utf8.ValidString(pw) {
		return fmt.Errorf("%w: must be valid UTF-8 text", ErrInvalidPassword)
	}
	if len(pw) > MaxPasswordBytes {
		return fmt.Errorf("%w: must be at most %d bytes", ErrInvalidPassword, MaxPasswordBytes)
	}
	if n := utf8.RuneCountInString(pw); n < MinPasswordLen {
		return fmt.Errorf("%w: must be at least %d characters", ErrInvalidPassword, MinPasswordLen)
	}
	prefix := pw
	if r := []rune(pw); len(r) > strengthPrefix {
		prefix = string(r[:strengthPrefix])
	}
	if zxcvbn.PasswordStrength(prefix, guessWords(userInputs)).Score < MinPasswordScore {
		return fmt.Errorf("%w: must not be easy to guess (a common password, a pattern, or your own email or name): "+
			"use a few unrelated words or a password manager", ErrInvalidPassword)
	}
	return nil
}

// guessWords expands the user's inputs into what a guesser would try: each as it is,
// lower-cased, and an email's local part, domain and the words in them.
func guessWords(inputs []string) []string {
	var out []string
	for _, in := range inputs {
		in = strings.ToLower(strings.TrimSpace(in))
		if in == "" {
			continue
		}
		out = append(out, in)
		out = append(out, strings.FieldsFunc(in, func(r rune) bool {
			return r == '@' || r == '.' || r == '-' || r == '_' || r == '+' || r == ' '
		})...)
		if local, domain, ok := strings.Cut(in, "@"); ok {
			out = append(out, local, domain)
		}
	}
	return out
}
