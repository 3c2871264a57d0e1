package auth_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
)

func TestValidateEmail(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{name: "OK", in: "alice@example.com", want: "alice@example.com"},
		{name: "LowerCased", in: "Alice@Example.COM", want: "alice@example.com"},
		{name: "Trimmed", in: "  alice@example.com\n", want: "alice@example.com"},
		{name: "NoDotInDomain", in: "admin@localhost", want: "admin@localhost"},
		{name: "PlusTag", in: "alice+ops@example.com", want: "alice+ops@example.com"},
		{name: "MaxLength", in: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com", want: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com"},
		{name: "ErrEmpty", in: "", wantErr: true},
		{name: "ErrBlank", in: "   ", wantErr: true},
		{name: "ErrNoAt", in: "alice.example.com", wantErr: true},
		{name: "ErrNoDomain", in: "alice@", wantErr: true},
		{name: "ErrNoLocal", in: "@example.com", wantErr: true},
		{name: "ErrDisplayName", in: "Alice <alice@example.com>", wantErr: true},
		{name: "ErrAngleBrackets", in: "<alice@example.com>", wantErr: true},
		{name: "ErrComment", in: "alice@example.com (Alice)", wantErr: true},
		{name: "ErrTwoAddresses", in: "a@example.com, b@example.com", wantErr: true},
		{name: "ErrSpace", in: "al ice@example.com", wantErr: true},
		{name: "ErrTooLong", in: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := auth.ValidateEmail(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, auth.ErrInvalidEmail)
				require.Empty(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestValidatePassword(t *testing.T) {
	t.Parallel()

	long := strings.Repeat("gorilla kettle umbra ", 60)[:auth.MaxPasswordBytes]
	tests := []struct {
		name    string
		pw      string
		inputs  []string
		wantErr string
	}{
		{name: "OK", pw: "violet ferry number"},
		{name: "Longest", pw: long},
		{name: "TwelveRunes", pw: "äöüßçñåøéþðæ"}, // 24 bytes, 12 characters
		{name: "ErrEmpty", pw: "", wantErr: "at least 12 characters"},
		{name: "ErrElevenChars", pw: "kx9#mq2!zpw", wantErr: "at least 12 characters"},
		{name: "ErrElevenRunes", pw: "äöüßäöüßäöü", wantErr: "at least 12 characters"},
		{name: "ErrTooLong", pw: long + "x", wantErr: "at most 1024 bytes"},
		{name: "ErrInvalidUTF8", pw: "password1234\xff", wantErr: "UTF-8"},
		{name: "ErrCommon", pw: "password1234", wantErr: "must not be easy to guess"},
		{name: "ErrKeyboard", pw: "qwertyuiopas", wantErr: "must not be easy to guess"},
		{name: "ErrRepeat", pw: strings.Repeat("a", 40), wantErr: "must not be easy to guess"},
		{name: "ErrOwnEmail", pw: "dispatcher@example.com", inputs: []string{"dispatcher@example.com"}, wantErr: "must not be easy to guess"},
		{name: "ErrOwnEmailPlus", pw: "Dispatcher2026!", inputs: []string{"dispatcher@example.com"}, wantErr: "must not be easy to guess"},
		{name: "OtherEmailOK", pw: "marmalade dispatcher", inputs: []string{"ops@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := auth.ValidatePassword(tt.pw, tt.inputs...)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, auth.ErrInvalidPassword)
			require.ErrorContains(t, err, tt.wantErr)
			if tt.pw != "" {
				require.NotContains(t, err.Error(), tt.pw)
			}
		})
	}
}

func TestParseRole(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in      string
		want    auth.Role
		wantErr bool
	}{
		{in: "SUPER_ADMIN", want: auth.RoleSuperAdmin},
		{in: "ADMIN", want: auth.RoleAdmin},
		{in: "DISPATCHER", want: auth.RoleDispatcher},
		{in: "dispatcher", want: auth.RoleDispatcher},
		{in: " Admin ", want: auth.RoleAdmin},
		{in: "", wantErr: true},
		{in: "ROOT", wantErr: true},
		{in: "SUPERADMIN", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := auth.ParseRole(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, auth.ErrInvalidRole)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.True(t, got.Valid())
		})
	}
	require.Equal(t, []auth.Role{auth.RoleSuperAdmin, auth.RoleAdmin, auth.RoleDispatcher}, auth.Roles())
}
