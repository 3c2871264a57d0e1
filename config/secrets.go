package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SecretsFile is the file under DataDir where the embedded default keeps the secrets it
// generated, so that tokens and sealed vendor credentials survive a restart.
const SecretsFile = "secrets.json"

// secretsFile is the on-disk form. Each value means exactly what the environment
// variable of the same name means (JWT_SECRET: the text itself is the HMAC key;
// CREDENTIALS_KEY: 32 bytes in base64), so an operator can move them into the
// environment by copy and paste.
type secretsFile struct {
	JWTSecret      string `json:"JWT_SECRET,omitempty"`
	CredentialsKey string `json:"CREDENTIALS_KEY,omitempty"`
}

// EnsureSecrets fills in the secrets the environment did not set. On PostgreSQL it
// only checks that both are present (Load already demands them). On SQLite it creates
// DataDir (mode 0700) if needed, reads <DataDir>/secrets.json (mode 0600), generates
// whatever is still missing and stores it there, so later starts reuse the same values.
// Values from the environment win and are never written to disk. An existing file is
// never overwritten with new values: a lost CREDENTIALS_KEY makes every stored vendor
// credential unreadable, so a damaged file is an error, not a reason to regenerate.
func (c *Config) EnsureSecrets() error {
	if c.JWTSecret != nil && c.CredentialsKey != nil {
		return nil
	}
	if c.Driver == DriverPostgres {
		return errors.New("config: JWT_SECRET and CREDENTIALS_KEY are required when DATABASE_URL points at PostgreSQL")
	}
	if c.DataDir == "" {
		return errors.New("config: DATA_DIR is empty; cannot keep generated secrets")
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("config: create DATA_DIR: %w", err)
	}
	path := filepath.Join(c.DataDir, SecretsFile)

	stored, err := readSecrets(path)
	if err != nil {
		return err
	}
	changed := false
	if c.JWTSecret == nil {
		if stored.JWTSecret == "" {
			stored.JWTSecret = randomBase64()
			changed = true
		}
		c.JWTSecret = []byte(stored.JWTSecret)
	}
	if c.CredentialsKey == nil {
		if stored.CredentialsKey == "" {
			stored.CredentialsKey = randomBase64()
			changed = true
		}
		key, err := base64.StdEncoding.DecodeString(stored.CredentialsKey)
		if err != nil || len(key) != CredentialsKeyLen {
			return fmt.Errorf("config: %s: CREDENTIALS_KEY is not %d bytes in base64", path, CredentialsKeyLen)
		}
		c.CredentialsKey = key
	}
	if changed {
		if err := writeSecrets(path, stored); err != nil {
			return err
		}
	}
	return nil
}

// readSecrets loads path; a missing file is an empty one. A file readable by others is
// tightened to 0600 rather than refused, so an upgrade or a careless copy heals itself.
func readSecrets(path string) (secretsFile, error) {
	var s secretsFile
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("config: read %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return s, fmt.Errorf("config: restrict %s to mode 0600: %w", path, err)
		}
	}
	if err := json.Unmarshal(b, &s); err != nil {
		// The decoder's message may quote the file; say only where and what.
		return s, fmt.Errorf("config: %s is not valid JSON; fix it, or remove it to generate new secrets (vendor credentials stored with the old key become unreadable)", path)
	}
	if s.JWTSecret != "" && len(s.JWTSecret) < MinJWTSecretLen {
		return s, fmt.Errorf("config: %s: JWT_SECRET is shorter than %d bytes", path, MinJWTSecretLen)
	}
	return s, nil
}

// writeSecrets replaces path atomically (temp file in the same directory, then
// rename), so a crash never leaves half a key behind.
func writeSecrets(path string, s secretsFile) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("config: encode secrets: %w", err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".secrets-*.tmp") // CreateTemp uses mode 0600
	if err != nil {
		return fmt.Errorf("config: write secrets: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("config: write secrets: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("config: write secrets: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("config: write secrets: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("config: write secrets: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("config: write secrets: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // persist the rename; best effort
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// randomBase64 is 32 bytes from crypto/rand in standard base64 (44 characters): a
// valid CREDENTIALS_KEY, and a JWT_SECRET of more than MinJWTSecretLen bytes.
func randomBase64() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	return base64.StdEncoding.EncodeToString(b)
}
