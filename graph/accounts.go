package graph

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/account"
	"github.com/sallyhq/sally/alert"
	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/user"
	"github.com/sallyhq/sally/graph/model"
)

// Team accounts: invitations and reset links (package account), password changes,
// roles, deactivation and deletion. Nobody deactivates, demotes or deletes themselves,
// so a tenant always keeps the admin who is acting; only a SUPER_ADMIN gives or takes
// the SUPER_ADMIN role.

// badLink is setPassword's one message for a used, expired, replaced or unknown link.
func badLink() *Error { return badInput("%s", account.ErrBadLink.Error()) }

// checkPassword applies the password rule of every place a password is set; the
// message names the argument ("newPassword must be at least 12 characters").
func checkPassword(pw string, inputs ...string) error {
	if err := auth.ValidatePassword(pw, inputs...); err != nil {
		return badInput("%s", passwordMessage("newPassword", err))
	}
	return nil
}

// passwordMessage is a password rule's error said of the argument name.
func passwordMessage(arg string, err error) string {
	return arg + " " + strings.TrimPrefix(err.Error(), auth.ErrInvalidPassword.Error()+": ")
}

// targetUser checks that the caller is an admin and returns it with a user of its
// tenant (NOT_FOUND for any other) that it may manage (an ADMIN does not manage a
// SUPER_ADMIN).
func (r *Resolver) targetUser(ctx context.Context, id string) (*auth.Viewer, *ent.User, error) {
	v, err := requireAdmin(ctx)
	if err != nil {
		return nil, nil, err
	}
	uid, err := parseID(id, "user")
	if err != nil {
		return nil, nil, err
	}
	u, err := r.Store.Client.User.Get(ctx, uid) // the privacy rule confines it to the tenant
	if ent.IsNotFound(err) {
		return nil, nil, errNotFound("user")
	}
	if err != nil {
		return nil, nil, err
	}
	if u.Role == user.RoleSUPER_ADMIN && !v.IsSuperAdmin() {
		return nil, nil, errForbidden()
	}
	return v, u, nil
}

// rank orders roles by power, for "demotes".
func rank(role auth.Role) int {
	switch role {
	case auth.RoleSuperAdmin:
		return 2
	case auth.RoleAdmin:
		return 1
	}
	return 0
}

// withLink runs, in one transaction, prepare (which returns the user), a new link
// for that user replacing older ones, and the email in the outbox when SMTP is
// configured; emailed says whether the email was queued. *u is reloaded.
func (r *Resolver) withLink(ctx context.Context, v *auth.Viewer, kind string, prepare func(*ent.Tx) (uuid.UUID, error), link *account.Link, u **ent.User) (emailed bool, err error) {
	tx, err := r.Store.Client.Tx(ctx)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	id, err := prepare(tx)
	if err != nil {
		return false, err
	}
	now := r.now()
	if *link, err = account.Issue(ctx, tx.Client(), id, now); err != nil {
		return false, err
	}
	if *u, err = tx.User.Get(ctx, id); err != nil {
		return false, err
	}
	if r.MailKick != nil {
		t, err := tx.Tenant.Get(ctx, (*u).TenantID)
		if err != nil {
			return false, err
		}
		sealed, err := r.Sealer.Seal([]byte(link.URL(r.PublicURL)))
		if err != nil {
			return false, err
		}
		err = alert.QueueAccountEmail(ctx, tx.Client(), alert.AccountEmail{
			Kind: kind, TenantID: t.ID, TenantName: t.Name, To: (*u).Email, RequestedBy: v.Email,
			SealedLink: sealed, ExpiresAt: link.ExpiresAt, Now: now,
		})
		if err != nil {
			return false, err
		}
	}
	if err = tx.Commit(); err != nil {
		return false, err
	}
	if r.MailKick != nil {
		r.MailKick()
		return true, nil
	}
	return false, nil
}

// signIn issues a token of generation gen for the user.
func (r *Resolver) signIn(ctx context.Context, id uuid.UUID, gen int64) (*model.AuthPayload, error) {
	u, err := r.Store.Client.User.Get(system(ctx), id)
	if err != nil {
		return nil, err
	}
	v := auth.Viewer{UserID: u.ID.String(), TenantID: u.TenantID.String(), Email: u.Email, Role: auth.Role(u.Role), TokenGen: gen}
	token, exp, err := r.Tokens.Issue(v)
	if err != nil {
		return nil, err
	}
	return &model.AuthPayload{Token: token, ExpiresAt: exp.UTC(), User: toUser(u)}, nil
}

// loginFailed is the one answer to a wrong email, a wrong password, an inactive user
// and a throttled email alike, so that none of them reveals whether the email exists.
func loginFailed() *Error { return errUnauthenticated("invalid email or password") }

// viewerUser reads the signed-in user's own row; a user that is gone answers
// UNAUTHENTICATED with the message gone.
func (r *Resolver) viewerUser(ctx context.Context, gone string) (*ent.User, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	id, err := uuid.Parse(v.UserID)
	if err != nil {
		return nil, errUnauthenticated("invalid token: log in again")
	}
	u, err := r.Store.Client.User.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, errUnauthenticated(gone)
	}
	return u, err
}

// checkNewUser validates an email and password for a new account and makes sure the
// email is free in every tenant.
func (r *Resolver) checkNewUser(ctx context.Context, email, password, field, passwordField string) (string, string, error) {
	norm, err := auth.ValidateEmail(email)
	if err != nil {
		return "", "", badInput("%s: %s", field, err.Error())
	}
	if err := auth.ValidatePassword(password, norm); err != nil {
		return "", "", badInput("%s", passwordMessage(passwordField, err))
	}
	taken, err := r.Store.Client.User.Query().Where(user.Email(norm)).Exist(system(ctx))
	if err != nil {
		return "", "", err
	}
	if taken {
		return "", "", Errorf(CodeConflict, "%s %s is already taken", field, norm)
	}
	hash, err := r.Hasher.Hash(password)
	if err != nil {
		return "", "", err
	}
	return norm, hash, nil
}
