package graph

import (
	"context"
	"errors"
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

// targetUser is a user of the admin's tenant (NOT_FOUND for any other), and whether
// the admin may manage it at all (an ADMIN does not manage a SUPER_ADMIN).
func (r *Resolver) targetUser(ctx context.Context, v *auth.Viewer, id string) (*ent.User, error) {
	uid, err := parseID(id, "user")
	if err != nil {
		return nil, err
	}
	u, err := r.Store.Client.User.Get(ctx, uid) // the privacy rule confines it to the tenant
	if ent.IsNotFound(err) {
		return nil, errNotFound("user")
	}
	if err != nil {
		return nil, err
	}
	if u.Role == user.RoleSUPER_ADMIN && !v.IsSuperAdmin() {
		return nil, errForbidden()
	}
	return u, nil
}

func (r *Resolver) updateUser(ctx context.Context, id string, in model.UpdateUserInput) (*model.User, error) {
	v, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	u, err := r.targetUser(ctx, v, id)
	if err != nil {
		return nil, err
	}
	self := u.ID.String() == v.UserID
	upd := r.Store.Client.User.UpdateOne(u)
	if in.Role != nil {
		if !in.Role.IsValid() {
			return nil, badInput("role must be SUPER_ADMIN, ADMIN or DISPATCHER")
		}
		if *in.Role == model.RoleSuperAdmin && !v.IsSuperAdmin() {
			return nil, errForbidden()
		}
		if self && rank(auth.Role(*in.Role)) < rank(auth.Role(u.Role)) {
			return nil, badInput("you cannot demote yourself: another admin can")
		}
		upd.SetRole(user.Role(*in.Role))
	}
	ended := false
	if in.IsActive != nil {
		if self && !*in.IsActive {
			return nil, badInput("you cannot deactivate yourself: another admin can")
		}
		if u.IsActive && !*in.IsActive {
			// Its tokens end now, and stay ended if the user is reactivated; so does
			// an unused set-password link.
			upd.AddTokenGeneration(1).ClearLinkLookup().ClearLinkHash().ClearLinkExpiresAt()
			ended = true
		}
		upd.SetIsActive(*in.IsActive)
	}
	u, err = upd.Save(ctx)
	if err != nil {
		return nil, err
	}
	r.revoke(u.ID.String(), ended || in.Role != nil)
	return toUser(u), nil
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

func (r *Resolver) deleteUser(ctx context.Context, id string) (bool, error) {
	v, err := requireAdmin(ctx)
	if err != nil {
		return false, err
	}
	u, err := r.targetUser(ctx, v, id)
	if err != nil {
		return false, err
	}
	if u.ID.String() == v.UserID {
		return false, badInput("you cannot delete yourself: another admin can")
	}
	if err := r.Store.Client.User.DeleteOne(u).Exec(ctx); err != nil {
		if ent.IsNotFound(err) {
			return false, errNotFound("user")
		}
		return false, err
	}
	r.revoke(u.ID.String(), true)
	return true, nil
}

func (r *Resolver) inviteUser(ctx context.Context, email string, role model.Role) (*model.Invitation, error) {
	v, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if !role.IsValid() {
		return nil, badInput("role must be SUPER_ADMIN, ADMIN or DISPATCHER")
	}
	if role == model.RoleSuperAdmin && !v.IsSuperAdmin() {
		return nil, errForbidden()
	}
	norm, err := auth.ValidateEmail(email)
	if err != nil {
		return nil, badInput("email: %s", err.Error())
	}
	taken, err := r.Store.Client.User.Query().Where(user.Email(norm)).Exist(system(ctx))
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, Errorf(CodeConflict, "email %s is already taken", norm)
	}
	var (
		u    *ent.User
		link account.Link
	)
	emailed, err := r.withLink(ctx, v, alert.KindInvitation, func(tx *ent.Tx) (uuid.UUID, error) {
		var err error
		u, err = tx.User.Create().SetEmail(norm).SetRole(user.Role(role)).Save(ctx)
		if ent.IsConstraintError(err) {
			return uuid.Nil, Errorf(CodeConflict, "email %s is already taken", norm)
		}
		if err != nil {
			return uuid.Nil, err
		}
		return u.ID, nil
	}, &link, &u)
	if err != nil {
		return nil, err
	}
	return &model.Invitation{User: toUser(u), URL: link.URL(r.PublicURL), ExpiresAt: link.ExpiresAt.UTC(), Emailed: emailed}, nil
}

func (r *Resolver) resetUserPassword(ctx context.Context, id string) (*model.Invitation, error) {
	v, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	u, err := r.targetUser(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if !u.IsActive {
		return nil, badInput("%s is deactivated: reactivate the user first", u.Email)
	}
	kind := alert.KindPasswordReset
	if u.PasswordHash == "" {
		kind = alert.KindInvitation // still pending: the new link is a new invitation
	}
	var link account.Link
	emailed, err := r.withLink(ctx, v, kind, func(*ent.Tx) (uuid.UUID, error) { return u.ID, nil }, &link, &u)
	if err != nil {
		return nil, err
	}
	return &model.Invitation{User: toUser(u), URL: link.URL(r.PublicURL), ExpiresAt: link.ExpiresAt.UTC(), Emailed: emailed}, nil
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

// setPassword uses a link: the one message for every bad link, the password rule,
// then the conditional update that lets exactly one of concurrent uses through.
func (r *Resolver) setPassword(ctx context.Context, token, newPassword string) (*model.AuthPayload, error) {
	sys := system(ctx)
	now := r.now()
	u, err := account.Find(sys, r.Store.Client, token, now)
	if errors.Is(err, account.ErrBadLink) {
		return nil, badLink()
	}
	if err != nil {
		return nil, err
	}
	if err := checkPassword(newPassword, u.Email); err != nil {
		return nil, err // the link stays usable: the person tries another password
	}
	hash, err := r.Hasher.Hash(newPassword)
	if err != nil {
		return nil, err
	}
	gen, err := account.Use(sys, r.Store.Client, u, token, hash, now)
	if errors.Is(err, account.ErrBadLink) {
		return nil, badLink()
	}
	if err != nil {
		return nil, err
	}
	r.revoke(u.ID.String(), true)
	return r.signIn(ctx, u.ID, gen)
}

func (r *Resolver) changePassword(ctx context.Context, current, newPassword string) (*model.AuthPayload, error) {
	u, err := r.viewerUser(ctx, "your account is disabled or no longer exists: log in again")
	if err != nil {
		return nil, err
	}
	if len(current) > auth.MaxPasswordBytes || u.PasswordHash == "" || !r.Hasher.Check(u.PasswordHash, current) {
		return nil, badInput("currentPassword is wrong")
	}
	if err := checkPassword(newPassword, u.Email); err != nil {
		return nil, err
	}
	hash, err := r.Hasher.Hash(newPassword)
	if err != nil {
		return nil, err
	}
	// Conditional on the generation read above: a concurrent change of the same
	// password (or a deactivation) wins, and this one is refused.
	n, err := r.Store.Client.User.Update().
		Where(user.ID(u.ID), user.TokenGeneration(u.TokenGeneration), user.IsActive(true)).
		SetPasswordHash(hash).AddTokenGeneration(1).Save(ctx)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, Errorf(CodeConflict, "your account changed meanwhile: log in again and retry")
	}
	r.revoke(u.ID.String(), true)
	return r.signIn(ctx, u.ID, u.TokenGeneration+1)
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
