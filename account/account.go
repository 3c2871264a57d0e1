// Package account holds the one-time set-password links of team accounts
// (invitations and password resets) and the token generations that end a user's
// sessions, for the API (graph) and the operator's recovery command (server
// reset-admin) alike.
//
// A link's token is two random halves of at least 128 bits each: a selector, found by
// index through its SHA-256 (user.link_lookup), and a verifier, whose SHA-256
// (user.link_hash) is compared in constant time. Neither half is stored in clear. A
// user has at most one live link: a newer one replaces it; using it clears it in the
// same conditional UPDATE that sets the password, so of two concurrent uses exactly
// one wins.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/user"
)

// LinkTTL is how long a set-password link works (the contract's 72 hours).
const LinkTTL = 72 * time.Hour

// LinkPath is what follows PUBLIC_URL in a link; the token comes after it.
const LinkPath = "/#/set-password/"

// halfLen is the length of each half of a token: rand.Text's 26 base32 characters,
// 130 random bits.
const halfLen = 26

// ErrBadLink is the one answer to a used, expired, replaced or unknown token.
var ErrBadLink = errors.New("this link is invalid, has expired or was already used: ask an admin for a new one")

// Link is a freshly issued set-password link.
type Link struct {
	Token     string
	ExpiresAt time.Time
}

// URL is the link's address under publicURL (PUBLIC_URL).
func (l Link) URL(publicURL string) string {
	return strings.TrimRight(publicURL, "/") + LinkPath + l.Token
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// split returns the stored forms of a token's halves; ok is false for anything that
// cannot be a token.
func split(token string) (lookup, hash string, ok bool) {
	token = strings.TrimSpace(token)
	if len(token) != 2*halfLen {
		return "", "", false
	}
	return digest(token[:halfLen]), digest(token[halfLen:]), true
}

// Issue gives the user a new link, replacing any older unused one. c may be a
// transaction's client; ctx must allow the write (the tenant's admin or a system
// context).
func Issue(ctx context.Context, c *ent.Client, userID uuid.UUID, now time.Time) (Link, error) {
	l := Link{Token: rand.Text() + rand.Text(), ExpiresAt: now.UTC().Add(LinkTTL).Truncate(time.Microsecond)}
	lookup, hash, _ := split(l.Token)
	err := c.User.UpdateOneID(userID).SetLinkLookup(lookup).SetLinkHash(hash).SetLinkExpiresAt(l.ExpiresAt).Exec(ctx)
	if err != nil {
		return Link{}, err
	}
	return l, nil
}

// Find returns the user whose live link token is, or ErrBadLink. ctx must see every
// tenant (a system context): the token is all the caller has.
func Find(ctx context.Context, c *ent.Client, token string, now time.Time) (*ent.User, error) {
	lookup, hash, ok := split(token)
	if !ok {
		return nil, ErrBadLink
	}
	u, err := c.User.Query().Where(user.LinkLookup(lookup)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrBadLink
	}
	if err != nil {
		return nil, err
	}
	if u.LinkHash == nil || subtle.ConstantTimeCompare([]byte(*u.LinkHash), []byte(hash)) != 1 ||
		u.LinkExpiresAt == nil || !now.Before(*u.LinkExpiresAt) || !u.IsActive {
		return nil, ErrBadLink
	}
	return u, nil
}

// Use sets the password of the link's user (found by Find) and uses the link up, in
// one conditional UPDATE: of two concurrent uses exactly one succeeds, the other gets
// ErrBadLink. It raises the user's token generation (ending every other token) and
// records the sign-in; the new generation is returned for the token to issue.
func Use(ctx context.Context, c *ent.Client, u *ent.User, token, passwordHash string, now time.Time) (int64, error) {
	lookup, hash, ok := split(token)
	if !ok {
		return 0, ErrBadLink
	}
	n, err := c.User.Update().
		Where(user.ID(u.ID), user.LinkLookup(lookup), user.LinkHash(hash), user.LinkExpiresAtGT(now),
			user.IsActive(true), user.TokenGeneration(u.TokenGeneration)).
		SetPasswordHash(passwordHash).ClearLinkLookup().ClearLinkHash().ClearLinkExpiresAt().
		AddTokenGeneration(1).SetLastLoginAt(now.UTC()).Save(ctx)
	if err != nil {
		return 0, err
	}
	if n != 1 {
		return 0, ErrBadLink
	}
	return u.TokenGeneration + 1, nil
}

// EndSessions raises the user's token generation: every token issued before stops
// working (on this server at once when it forgets the user, on others within the
// viewer check's TTL). It returns the new generation.
func EndSessions(ctx context.Context, c *ent.Client, userID uuid.UUID) (int64, error) {
	u, err := c.User.UpdateOneID(userID).AddTokenGeneration(1).Save(ctx)
	if err != nil {
		return 0, err
	}
	return u.TokenGeneration, nil
}
