package auth

import (
	"encoding/json"
	"fmt"
)

// Credentials are a vendor integration's secrets, stored only sealed.
type Credentials struct {
	APIKey    string `json:"apiKey"`
	APISecret string `json:"apiSecret,omitempty"`
}

// SealCredentials encrypts credentials for the integrations table.
func (s *Sealer) SealCredentials(c Credentials) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("seal credentials: %w", err)
	}
	return s.Seal(b)
}

// OpenCredentials decrypts what SealCredentials stored.
func (s *Sealer) OpenCredentials(sealed string) (Credentials, error) {
	b, err := s.Open(sealed)
	if err != nil {
		return Credentials{}, err
	}
	var c Credentials
	if err := json.Unmarshal(b, &c); err != nil {
		return Credentials{}, fmt.Errorf("open credentials: stored value is not credentials")
	}
	return c, nil
}
