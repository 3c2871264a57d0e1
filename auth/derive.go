package auth

import (
	"crypto/hmac"
	"crypto/sha256"
)

// DeriveKey returns a 32-byte key for one purpose (e.g. "sync-log cursor"), derived
// from the token secret with HMAC-SHA256: every replica derives the same key, and
// what is signed with it can never pass for a token or for another purpose's value.
func (t *Tokens) DeriveKey(purpose string) []byte {
	m := hmac.New(sha256.New, t.secret)
	m.Write([]byte("sally derived key\x00" + purpose))
	return m.Sum(nil)
}
