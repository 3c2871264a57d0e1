package auth_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
)

func newSealer(t *testing.T, fill byte) *auth.Sealer {
	t.Helper()
	s, err := auth.NewSealer(bytes.Repeat([]byte{fill}, 32))
	require.NoError(t, err)
	return s
}

func TestSealerRoundTrip(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		plaintext []byte
	}{
		{name: "APIKey", plaintext: []byte("samsara_api_3f9a8b7c6d5e4f3a2b1c")},
		{name: "JSON", plaintext: []byte(`{"apiKey":"k","accountId":"42"}`)},
		{name: "Empty", plaintext: []byte{}},
		{name: "Large", plaintext: bytes.Repeat([]byte("k"), 4096)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSealer(t, 1)
			a, err := s.Seal(tt.plaintext)
			require.NoError(t, err)
			b, err := s.Seal(tt.plaintext)
			require.NoError(t, err)

			require.True(t, strings.HasPrefix(a, "v1:"))
			require.NotEqual(t, a, b, "a fresh nonce each time")
			if len(tt.plaintext) > 0 {
				require.NotContains(t, a, string(tt.plaintext))
			}
			raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "v1:"))
			require.NoError(t, err)
			require.Len(t, raw, 12+len(tt.plaintext)+16, "nonce || ciphertext || tag")

			for _, sealed := range []string{a, b} {
				got, err := s.Open(sealed)
				require.NoError(t, err)
				require.Equal(t, tt.plaintext, got)
			}
		})
	}
}

func TestSealerOpenRejects(t *testing.T) {
	t.Parallel()

	s := newSealer(t, 1)
	sealed, err := s.Seal([]byte("the-secret-api-key"))
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	require.NoError(t, err)
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return "v1:" + base64.StdEncoding.EncodeToString(b)
	}

	tests := []struct {
		name   string
		sealed string
		opener *auth.Sealer
	}{
		{name: "WrongKey", sealed: sealed, opener: newSealer(t, 2)},
		{name: "TamperedNonce", sealed: flip(0), opener: s},
		{name: "TamperedCiphertext", sealed: flip(14), opener: s},
		{name: "TamperedTag", sealed: flip(len(raw) - 1), opener: s},
		{name: "Truncated", sealed: sealed[:len(sealed)-8], opener: s},
		{name: "NoPrefix", sealed: strings.TrimPrefix(sealed, "v1:"), opener: s},
		{name: "OtherVersion", sealed: "v2:" + strings.TrimPrefix(sealed, "v1:"), opener: s},
		{name: "NotBase64", sealed: "v1:%%%", opener: s},
		{name: "TooShort", sealed: "v1:" + base64.StdEncoding.EncodeToString(make([]byte, 27)), opener: s},
		{name: "Empty", sealed: "", opener: s},
		{name: "Plaintext", sealed: "the-secret-api-key", opener: s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.opener.Open(tt.sealed)
			require.ErrorIs(t, err, auth.ErrUnsealable)
			require.Nil(t, got)
			require.NotContains(t, err.Error(), "the-secret-api-key")
		})
	}
}

func TestNewSealerKeyLength(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		_, err := auth.NewSealer(make([]byte, n))
		require.Error(t, err, "%d bytes", n)
	}
}

func TestHint(t *testing.T) {
	t.Parallel()

	tests := []struct {
		key  string
		want string
	}{
		{key: "", want: "••••"},
		{key: "abc", want: "••••"},
		{key: "abcdefg", want: "••••"},
		{key: "abcdefgh", want: "••••efgh"},
		{key: "sk_live_0123456789abcdef3f9a", want: "••••3f9a"},
		{key: "ключ-секрет-1234", want: "••••1234"},
		{key: "ключключ", want: "••••ключ"},
		{key: "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", want: "••••"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			got := auth.Hint(tt.key)
			require.Equal(t, tt.want, got)
		})
	}
}
