package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// sealPrefix versions the sealed format, so a later key rotation or algorithm can be
// told apart from "v1" values in the same column.
const sealPrefix = "v1:"

// ErrUnsealable is returned by Open for anything it cannot decrypt: a malformed value,
// a tampered one, or one sealed with another key. It deliberately says no more.
var ErrUnsealable = errors.New("sealed value cannot be opened: malformed, tampered with or sealed with another key")

// Sealer encrypts vendor credentials at rest with AES-256-GCM under CREDENTIALS_KEY, so
// a database dump alone reveals no vendor API key. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte key (config.CredentialsKey).
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("new sealer: want a 32-byte key, got %d bytes", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext under a fresh random 12-byte nonce and returns
// "v1:" + base64(nonce || ciphertext+tag), text that fits any string column. Sealing the
// same plaintext twice gives different values.
func (s *Sealer) Seal(plaintext []byte) (string, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, plaintext, []byte(sealPrefix))
	return sealPrefix + base64.StdEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal. Any failure is ErrUnsealable.
func (s *Sealer) Open(sealed string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return nil, ErrUnsealable
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return nil, ErrUnsealable
	}
	nonce, ct := raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():]
	pt, err := s.aead.Open(nil, nonce, ct, []byte(sealPrefix))
	if err != nil {
		return nil, ErrUnsealable
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

// hintMask stands for the hidden part of a credential.
const hintMask = "••••"

// Hint is the credentialsHint the API shows for an API key: "••••" and the key's last
// four characters, enough to tell keys apart and never enough to help guess one. Keys
// shorter than 8 characters show only "••••", since four would be half the secret.
func Hint(apiKey string) string {
	if !utf8.ValidString(apiKey) {
		return hintMask
	}
	r := []rune(apiKey)
	if len(r) < 8 {
		return hintMask
	}
	return hintMask + string(r[len(r)-4:])
}
