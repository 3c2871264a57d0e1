package auth_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/sallyhq/sally/auth"
)

// fast is the cheapest bcrypt cost, so tests run in milliseconds.
var fast = auth.Hasher{Cost: bcrypt.MinCost}

func TestHasher(t *testing.T) {
	t.Parallel()

	long := strings.Repeat("x", 100)
	tests := []struct {
		name  string
		pw    string
		other string // must not verify
	}{
		{name: "Simple", pw: "correct horse battery staple", other: "Correct horse battery staple"},
		{name: "Unicode", pw: "pässwörd-мир-密码", other: "passwort-мир-密码"},
		{name: "LongerThan72Bytes", pw: long + "A", other: long + "B"}, // plain bcrypt would ignore the tail
		{name: "Empty", pw: "", other: " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hash, err := fast.Hash(tt.pw)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(hash, "$2"), "a bcrypt hash")
			if tt.pw != "" {
				require.NotContains(t, hash, tt.pw)
			}
			require.True(t, fast.Check(hash, tt.pw))
			require.False(t, fast.Check(hash, tt.other))

			again, err := fast.Hash(tt.pw)
			require.NoError(t, err)
			require.NotEqual(t, hash, again, "salted")
			require.True(t, fast.Check(again, tt.pw))
		})
	}
}

func TestHasherMalformedHash(t *testing.T) {
	t.Parallel()
	require.False(t, fast.Check("", "anything"))
	require.False(t, fast.Check("not-a-bcrypt-hash", "anything"))
}

func TestHasherCost(t *testing.T) {
	t.Parallel()

	hash, err := fast.Hash("a password of some length")
	require.NoError(t, err)
	cost, err := bcrypt.Cost([]byte(hash))
	require.NoError(t, err)
	require.Equal(t, bcrypt.MinCost, cost)
	require.False(t, fast.NeedsRehash(hash))
	require.True(t, auth.Hasher{Cost: bcrypt.MinCost + 1}.NeedsRehash(hash))
	require.True(t, fast.NeedsRehash("garbage"))

	require.Equal(t, 12, auth.DefaultHasher.Cost)
	_, err = auth.Hasher{Cost: bcrypt.MaxCost + 1}.Hash("x")
	require.Error(t, err)
}

func TestDummyCheck(t *testing.T) {
	t.Parallel()
	fast.DummyCheck() // computes the cached hash
	fast.DummyCheck() // reuses it
	auth.Hasher{Cost: bcrypt.MaxCost + 1}.DummyCheck()
}
