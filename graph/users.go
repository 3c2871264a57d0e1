package graph

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/user"
	"github.com/sallyhq/sally/graph/model"
)

// loginFailed is the one answer to a wrong email, a wrong password, an inactive user
// and a throttled email alike, so that none of them reveals whether the email exists.
func loginFailed() *Error { return errUnauthenticated("invalid email or password") }

func (r *Resolver) login(ctx context.Context, email, password string) (*model.AuthPayload, error) {
	key := auth.NormalizeEmail(email)
	// delay slows the answer to a failed login by the email's failures so far.
	delay := func() {
		n, err := r.Throttle.Failures(ctx, key)
		if err != nil {
			r.logger().WarnContext(ctx, "login throttle unavailable", "err", err)
			n = auth.DefaultMaxFailures
		}
		r.sleep(ctx, auth.FailureDelay(n))
	}
	fail := func() (*model.AuthPayload, error) {
		if err := r.Throttle.Fail(ctx, key); err != nil {
			return nil, err
		}
		delay()
		return nil, loginFailed()
	}
	// A throttle that cannot be read refuses (INTERNAL): guessing must not get easier
	// when the database is in trouble.
	allowed, err := r.Throttle.Allowed(ctx, key)
	if err != nil {
		return nil, err
	}
	if !allowed {
		r.Hasher.DummyCheck()
		delay()
		return nil, loginFailed()
	}
	if key == "" || len(password) > auth.MaxPasswordBytes {
		r.Hasher.DummyCheck()
		return fail()
	}
	u, err := r.Store.Client.User.Query().Where(user.Email(key)).Only(system(ctx))
	if ent.IsNotFound(err) {
		r.Hasher.DummyCheck()
		return fail()
	}
	if err != nil {
		return nil, err
	}
	if u.PasswordHash == "" { // invited, no password yet
		r.Hasher.DummyCheck()
		return fail()
	}
	if !r.Hasher.Check(u.PasswordHash, password) || !u.IsActive {
		return fail()
	}
	if err := r.Throttle.Succeed(ctx, key); err != nil {
		return nil, err
	}
	if u, err = r.Store.Client.User.UpdateOne(u).SetLastLoginAt(r.now()).Save(system(ctx)); err != nil {
		return nil, err
	}
	v := auth.Viewer{UserID: u.ID.String(), TenantID: u.TenantID.String(), Email: u.Email, Role: auth.Role(u.Role),
		TokenGen: u.TokenGeneration}
	token, exp, err := r.Tokens.Issue(v)
	if err != nil {
		return nil, err
	}
	return &model.AuthPayload{Token: token, ExpiresAt: exp.UTC(), User: toUser(u)}, nil
}

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

func (r *Resolver) me(ctx context.Context) (*model.User, error) {
	u, err := r.viewerUser(ctx, "your account no longer exists: log in again")
	if err != nil {
		return nil, err
	}
	return toUser(u), nil
}

func (r *Resolver) tenants(ctx context.Context) ([]*model.Tenant, error) {
	if _, err := requireSuperAdmin(ctx); err != nil {
		return nil, err
	}
	ts, err := r.Store.Client.Tenant.Query().Order(ent.Asc("created_at"), ent.Asc("id")).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Tenant, len(ts))
	for i, t := range ts {
		out[i] = toTenant(t)
	}
	return out, nil
}

// tenantOf resolves User.tenant. The user was already visible to the caller, so its
// tenant is too (this is also how login shows the tenant before any token exists).
func (r *Resolver) tenantOf(ctx context.Context, tenantID string) (*model.Tenant, error) {
	id, err := parseID(tenantID, "tenant")
	if err != nil {
		return nil, err
	}
	t, err := r.Store.Client.Tenant.Get(system(ctx), id)
	if err != nil {
		return nil, err
	}
	return toTenant(t), nil
}

func (r *Resolver) users(ctx context.Context) ([]*model.User, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	us, err := r.Store.Client.User.Query().Order(ent.Asc(user.FieldCreatedAt), ent.Asc(user.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*model.User, len(us))
	for i, u := range us {
		out[i] = toUser(u)
	}
	return out, nil
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

func (r *Resolver) createUser(ctx context.Context, in model.CreateUserInput) (*model.User, error) {
	v, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if !in.Role.IsValid() {
		return nil, badInput("role must be SUPER_ADMIN, ADMIN or DISPATCHER")
	}
	if in.Role == model.RoleSuperAdmin && !v.IsSuperAdmin() {
		return nil, errForbidden()
	}
	email, hash, err := r.checkNewUser(ctx, in.Email, in.Password, "email", "password")
	if err != nil {
		return nil, err
	}
	u, err := r.Store.Client.User.Create().
		SetEmail(email).SetPasswordHash(hash).SetRole(user.Role(in.Role)).
		Save(ctx) // the privacy rule puts it in the viewer's tenant
	if ent.IsConstraintError(err) {
		return nil, Errorf(CodeConflict, "email %s is already taken", email)
	}
	if err != nil {
		return nil, err
	}
	return toUser(u), nil
}

// createTenant creates a tenant and its first ADMIN in one transaction: on any error
// neither is left behind.
func (r *Resolver) createTenant(ctx context.Context, in model.CreateTenantInput) (*model.Tenant, error) {
	if _, err := requireSuperAdmin(ctx); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxTenantName {
		return nil, badInput("name must be 1..%d characters", MaxTenantName)
	}
	email, hash, err := r.checkNewUser(ctx, in.AdminEmail, in.AdminPassword, "adminEmail", "adminPassword")
	if err != nil {
		return nil, err
	}
	sys := system(ctx)
	tx, err := r.Store.Client.Tx(sys)
	if err != nil {
		return nil, err
	}
	t, err := tx.Tenant.Create().SetName(name).Save(sys)
	if err == nil {
		_, err = tx.User.Create().SetTenantID(t.ID).SetEmail(email).SetPasswordHash(hash).
			SetRole(user.RoleADMIN).Save(sys)
	}
	if err != nil {
		_ = tx.Rollback()
		if ent.IsConstraintError(err) {
			return nil, Errorf(CodeConflict, "adminEmail %s is already taken", email)
		}
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return toTenant(t), nil
}
