package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/bcrypt"
)

// DefaultCost is the bcrypt cost of stored passwords: about a quarter of a second on a
// current server core, slow enough to make offline guessing expensive.
const DefaultCost = 12

// Hasher hashes and checks passwords with bcrypt at a chosen cost. Production uses
// DefaultHasher; tests use Hasher{Cost: bcrypt.MinCost} to stay fast.
//
// bcrypt reads only the first 72 bytes of its input, so a long passphrase would be
// silently truncated (and x/crypto refuses it outright). Every password is therefore
// pre-hashed: bcrypt sees base64(SHA-256(password)), 44 bytes, so every byte of a
// password up to MaxPasswordBytes bytes counts. The stored value is an ordinary
// bcrypt string ($2a$…), but it verifies only through this Hasher.
type Hasher struct {
	// Cost is the bcrypt cost (bcrypt.MinCost..bcrypt.MaxCost); 0 means DefaultCost.
	Cost int
}

// DefaultHasher is the Hasher the service uses.
var DefaultHasher = Hasher{Cost: DefaultCost}

func (h Hasher) cost() int {
	if h.Cost == 0 {
		return DefaultCost
	}
	return h.Cost
}

// hashSlots bounds the bcrypt computations running at once in the process to the
// CPUs it may use: a flood of logins queues here instead of taking every core from
// the requests that need none (bcrypt is a quarter of a second of one core each).
// It is process-wide because the CPUs are.
var hashSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

// hashing counts the bcrypt computations running now; peakHashing the most at once.
var hashing, peakHashing atomic.Int64

// slot runs fn in one of hashSlots.
func slot(fn func()) {
	hashSlots <- struct{}{}
	n := hashing.Add(1)
	for p := peakHashing.Load(); n > p && !peakHashing.CompareAndSwap(p, n); p = peakHashing.Load() {
	}
	defer func() {
		hashing.Add(-1)
		<-hashSlots
	}()
	fn()
}

// MaxConcurrentHashes is how many password hashes may run at once (GOMAXPROCS).
func MaxConcurrentHashes() int { return cap(hashSlots) }

// PeakConcurrentHashes is the most password hashes that ran at once so far.
func PeakConcurrentHashes() int { return int(peakHashing.Load()) }

// prehash maps any password to 44 bytes of printable text for bcrypt.
func prehash(pw string) []byte {
	sum := sha256.Sum256([]byte(pw))
	out := make([]byte, base64.StdEncoding.EncodedLen(len(sum)))
	base64.StdEncoding.Encode(out, sum[:])
	return out
}

// Hash returns the bcrypt hash to store for pw. It does not judge pw: call
// ValidatePassword first.
func (h Hasher) Hash(pw string) (string, error) {
	var (
		b   []byte
		err error
	)
	slot(func() { b, err = bcrypt.GenerateFromPassword(prehash(pw), h.cost()) })
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(b), nil
}

// Check reports whether pw matches hash, in time that does not depend on where they
// differ. A malformed hash never matches.
func (h Hasher) Check(hash, pw string) bool {
	var err error
	slot(func() { err = bcrypt.CompareHashAndPassword([]byte(hash), prehash(pw)) })
	return err == nil
}

// dummyHashes caches, per cost, the hash DummyCheck compares against.
var dummyHashes sync.Map // int → []byte

// DummyCheck spends the time of a failed Check without any user, so that a login with
// an unknown email takes as long as one with a wrong password and timing does not
// tell which emails exist. The first call per cost also computes one hash.
func (h Hasher) DummyCheck() {
	c := h.cost()
	v, ok := dummyHashes.Load(c)
	if !ok {
		var (
			b   []byte
			err error
		)
		slot(func() { b, err = bcrypt.GenerateFromPassword(prehash("sally dummy password"), c) })
		if err != nil {
			// Only a cost outside bcrypt's range gets here; Hash fails the same way.
			return
		}
		v, _ = dummyHashes.LoadOrStore(c, b)
	}
	slot(func() { _ = bcrypt.CompareHashAndPassword(v.([]byte), prehash("not the dummy password")) })
}

// NeedsRehash reports whether hash was made at another cost than h's, so a login can
// upgrade it after a successful Check.
func (h Hasher) NeedsRehash(hash string) bool {
	c, err := bcrypt.Cost([]byte(hash))
	return err != nil || c != h.cost()
}

// HashPassword hashes pw with DefaultHasher.
func HashPassword(pw string) (string, error) { return DefaultHasher.Hash(pw) }

// CheckPassword checks pw against hash with DefaultHasher.
func CheckPassword(hash, pw string) bool { return DefaultHasher.Check(hash, pw) }

// DummyCheck spends the time of a failed CheckPassword; see Hasher.DummyCheck.
func DummyCheck() { DefaultHasher.DummyCheck() }
