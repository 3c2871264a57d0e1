package graph_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/account"
	"github.com/sallyhq/sally/alert"
	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	entalert "github.com/sallyhq/sally/ent/alert"
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/graph/transport"
	"github.com/sallyhq/sally/internal/testclock"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
	"github.com/sallyhq/sally/internal/testsmtp"
	"github.com/sallyhq/sally/internal/wsclient"
	"github.com/sallyhq/sally/mail"
	"github.com/sallyhq/sally/store"
)

const (
	inviteOp = `mutation($e: String!, $r: Role!) { inviteUser(email: $e, role: $r) {
		url expiresAt emailed user { id email role isActive invitationPending lastLoginAt } } }`
	resetOp       = `mutation($id: ID!) { resetUserPassword(id: $id) { url expiresAt emailed user { id invitationPending } } }`
	setPasswordOp = `mutation($t: String!, $p: String!) { setPassword(token: $t, newPassword: $p) {
		token user { id email invitationPending lastLoginAt } } }`
	changePasswordOp = `mutation($c: String!, $p: String!) { changePassword(currentPassword: $c, newPassword: $p) { token } }`
	updateUserOp     = `mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { id role isActive } }`
	deleteUserOp     = `mutation($id: ID!) { deleteUser(id: $id) }`
	meOp             = `{ me { id email } }`

	newPassword = "lantern orchard seventeen"
)

type invitation struct {
	URL       string
	ExpiresAt time.Time
	Emailed   bool
	User      struct {
		ID, Email, Role   string
		IsActive          bool
		InvitationPending bool
		LastLoginAt       *time.Time
	}
}

func invite(t *testing.T, api *testserver.API, token, email, role string) invitation {
	t.Helper()
	var out struct{ InviteUser invitation }
	api.Do(t, token, inviteOp, map[string]any{"e": email, "r": role}).Decode(t, &out)
	return out.InviteUser
}

func resetLink(t *testing.T, api *testserver.API, token, id string) invitation {
	t.Helper()
	var out struct{ ResetUserPassword invitation }
	api.Do(t, token, resetOp, map[string]any{"id": id}).Decode(t, &out)
	return out.ResetUserPassword
}

// linkToken is the token of a set-password URL.
func linkToken(t *testing.T, url string) string {
	t.Helper()
	i := strings.Index(url, account.LinkPath)
	require.GreaterOrEqual(t, i, 0, "url %q", url)
	return url[i+len(account.LinkPath):]
}

func setPassword(api *testserver.API, t *testing.T, token, pw string) testserver.Response {
	t.Helper()
	return api.Do(t, "", setPasswordOp, map[string]any{"t": token, "p": pw})
}

func tokenOf(t *testing.T, r testserver.Response, field string) string {
	t.Helper()
	var out map[string]struct{ Token string }
	r.Decode(t, &out)
	require.NotEmpty(t, out[field].Token)
	return out[field].Token
}

// An invitation creates a user without a password whose link sets one, signs in,
// and works once; a bad password leaves the link usable.
func TestInvitationLink(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		inv := invite(t, f.api, f.admin.Token, "  New.Dispatcher@Example.com ", "DISPATCHER")
		require.True(t, strings.HasPrefix(inv.URL, f.api.Server.URL+"/#/set-password/"), inv.URL)
		tok := linkToken(t, inv.URL)
		require.GreaterOrEqual(t, len(tok), 52, "two halves of at least 128 bits")
		require.False(t, inv.Emailed, "no SMTP configured")
		require.Equal(t, "new.dispatcher@example.com", inv.User.Email)
		require.True(t, inv.User.InvitationPending)
		require.True(t, inv.User.IsActive)
		require.Nil(t, inv.User.LastLoginAt)
		require.WithinDuration(t, time.Now().Add(72*time.Hour), inv.ExpiresAt, time.Minute)

		// Nothing of the token is stored in clear.
		u, err := s.Client.User.Get(testserver.System(), uuid.MustParse(inv.User.ID))
		require.NoError(t, err)
		require.Empty(t, u.PasswordHash)
		require.NotContains(t, *u.LinkLookup+*u.LinkHash, tok[:26])
		require.NotContains(t, *u.LinkLookup+*u.LinkHash, tok[26:])

		// No password yet: no login matches.
		r := f.api.Do(t, "", `mutation { login(email: "new.dispatcher@example.com", password: "") { token } }`, nil)
		requireCode(t, r, graph.CodeUnauthenticated)

		// The password rule; the link survives a refused password.
		for _, weak := range []string{"short", "password1234", "new.dispatcher@example.com", "dispatcher2026", strings.Repeat("x", auth.MaxPasswordBytes+1)} {
			r := setPassword(f.api, t, tok, weak)
			requireCode(t, r, graph.CodeBadUserInput)
			require.Contains(t, r.Message(), "newPassword")
		}
		r = setPassword(f.api, t, tok, newPassword)
		requireCode(t, r, "")
		var out struct {
			SetPassword struct {
				Token string
				User  struct {
					ID                string
					InvitationPending bool
					LastLoginAt       *time.Time
				}
			}
		}
		r.Decode(t, &out)
		require.Equal(t, inv.User.ID, out.SetPassword.User.ID)
		require.False(t, out.SetPassword.User.InvitationPending)
		require.NotNil(t, out.SetPassword.User.LastLoginAt, "setPassword counts as a sign-in")
		requireCode(t, f.api.Do(t, out.SetPassword.Token, meOp, nil), "")
		requireCode(t, f.api.Do(t, out.SetPassword.Token, `{ integrations { id } }`, nil), "")

		// Once: a used link answers exactly as an unknown one.
		used := setPassword(f.api, t, tok, "another fine passphrase")
		unknown := setPassword(f.api, t, strings.Repeat("A", 52), "another fine passphrase")
		garbage := setPassword(f.api, t, "x", "another fine passphrase")
		for _, r := range []testserver.Response{used, unknown, garbage} {
			requireCode(t, r, graph.CodeBadUserInput)
			require.Equal(t, account.ErrBadLink.Error(), r.Message())
		}
		require.NotEmpty(t, f.api.Login(t, "new.dispatcher@example.com", newPassword))

		// lastLoginAt on login; invitationPending in the team list.
		var users struct {
			Users []struct {
				Email             string
				InvitationPending bool
				LastLoginAt       *time.Time
			}
		}
		invite(t, f.api, f.admin.Token, "pending@example.com", "ADMIN")
		f.do(t, f.admin, `{ users { email invitationPending lastLoginAt } }`, nil).Decode(t, &users)
		seen := map[string]bool{}
		for _, u := range users.Users {
			seen[u.Email] = true
			switch u.Email {
			case "pending@example.com":
				require.True(t, u.InvitationPending)
				require.Nil(t, u.LastLoginAt)
			case "new.dispatcher@example.com":
				require.False(t, u.InvitationPending)
				require.NotNil(t, u.LastLoginAt)
			}
		}
		require.True(t, seen["pending@example.com"] && seen["new.dispatcher@example.com"])
	})
}

// Two setPassword calls with one token at once: exactly one wins.
func TestSetPasswordConcurrentUse(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		for round := range 5 {
			inv := invite(t, f.api, f.admin.Token, "race"+string(rune('a'+round))+"@example.com", "DISPATCHER")
			tok := linkToken(t, inv.URL)
			var wg sync.WaitGroup
			results := make([]testserver.Response, 2)
			start := make(chan struct{})
			for i := range results {
				wg.Go(func() {
					<-start
					results[i] = setPassword(f.api, t, tok, []string{"first racer passphrase", "second racer passphrase"}[i])
				})
			}
			close(start)
			wg.Wait()
			won := 0
			for _, r := range results {
				if r.Code() == "" {
					won++
				} else {
					requireCode(t, r, graph.CodeBadUserInput)
					require.Equal(t, account.ErrBadLink.Error(), r.Message())
				}
			}
			require.Equal(t, 1, won, "exactly one wins: %s / %s", results[0].Body, results[1].Body)
		}
	})
}

// Links end after 72 hours; a newer link replaces an older one; a reset link leaves
// the old password working until it is used.
func TestLinkExpiryAndReplacement(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		clock := testclock.New(time.Now())
		api := testserver.New(t, s, testserver.WithDeps(func(d *graph.Deps) { d.Now = clock.Now }))
		tenantID, adminToken := api.SeedTenant(t, "Acme Freight")

		inv := invite(t, api, adminToken, "late@example.com", "DISPATCHER")
		clock.Add(account.LinkTTL + time.Second)
		r := setPassword(api, t, linkToken(t, inv.URL), newPassword)
		requireCode(t, r, graph.CodeBadUserInput)
		require.Equal(t, account.ErrBadLink.Error(), r.Message())
		// A new invitation link works (just before it expires).
		inv2 := resetLink(t, api, adminToken, inv.User.ID)
		require.True(t, inv2.User.InvitationPending)
		clock.Add(account.LinkTTL - time.Second)
		requireCode(t, setPassword(api, t, linkToken(t, inv2.URL), newPassword), "")

		// Reset: the newest link replaces the older; the old password works meanwhile.
		u := api.SeedUser(t, tenantID, auth.RoleDispatcher)
		first := resetLink(t, api, adminToken, u.ID)
		second := resetLink(t, api, adminToken, u.ID)
		require.NotEmpty(t, api.Login(t, u.Email, testserver.Password))
		requireCode(t, api.Do(t, u.Token, meOp, nil), "") // issuing a link ends nothing
		r = setPassword(api, t, linkToken(t, first.URL), newPassword)
		require.Equal(t, account.ErrBadLink.Error(), r.Message())
		requireCode(t, setPassword(api, t, linkToken(t, second.URL), newPassword), "")
		r = api.Do(t, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
			map[string]any{"e": u.Email, "p": testserver.Password})
		requireCode(t, r, graph.CodeUnauthenticated)
		require.NotEmpty(t, api.Login(t, u.Email, newPassword))

		// Deactivation ends an unused link for good (reactivation does not revive it).
		pending := resetLink(t, api, adminToken, u.ID)
		for _, active := range []bool{false, true} {
			requireCode(t, api.Do(t, adminToken, updateUserOp, map[string]any{"id": u.ID, "in": map[string]any{"isActive": active}}), "")
		}
		r = setPassword(api, t, linkToken(t, pending.URL), "yet another passphrase")
		require.Equal(t, account.ErrBadLink.Error(), r.Message())
	})
}

// Roles and tenants: nobody deactivates, demotes or deletes themselves; dispatchers
// manage nobody; another tenant's users are NOT_FOUND; an ADMIN does not touch a
// SUPER_ADMIN; every place a password is set has the same rule.
func TestAccountRules(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		other := f.api.SeedUser(t, f.tenantID, auth.RoleDispatcher)
		_, tokenB := f.api.SeedTenant(t, "Other Carrier")
		adminB := testserver.User{Token: tokenB}
		pending := invite(t, f.api, f.admin.Token, "pending@example.com", "DISPATCHER")
		f2 := func(b bool) *bool { return &b }
		role := func(r string) *string { return &r }

		cases := []struct {
			name  string
			as    testserver.User
			query string
			vars  map[string]any
			code  string
		}{
			{"ErrSelfDeactivate", f.admin, updateUserOp, map[string]any{"id": f.admin.ID, "in": map[string]any{"isActive": f2(false)}}, graph.CodeBadUserInput},
			{"ErrSelfDemote", f.admin, updateUserOp, map[string]any{"id": f.admin.ID, "in": map[string]any{"role": role("DISPATCHER")}}, graph.CodeBadUserInput},
			{"ErrSuperSelfDemote", f.super, updateUserOp, map[string]any{"id": f.super.ID, "in": map[string]any{"role": role("ADMIN")}}, graph.CodeBadUserInput},
			{"ErrSelfDelete", f.admin, deleteUserOp, map[string]any{"id": f.admin.ID}, graph.CodeBadUserInput},
			{"ErrDispatcherUpdate", f.dispatcher, updateUserOp, map[string]any{"id": other.ID, "in": map[string]any{"isActive": f2(false)}}, graph.CodeForbidden},
			{"ErrDispatcherDelete", f.dispatcher, deleteUserOp, map[string]any{"id": other.ID}, graph.CodeForbidden},
			{"ErrDispatcherInvite", f.dispatcher, inviteOp, map[string]any{"e": "x@example.com", "r": "DISPATCHER"}, graph.CodeForbidden},
			{"ErrDispatcherReset", f.dispatcher, resetOp, map[string]any{"id": other.ID}, graph.CodeForbidden},
			{"ErrOtherTenantUpdate", adminB, updateUserOp, map[string]any{"id": other.ID, "in": map[string]any{"isActive": f2(false)}}, graph.CodeNotFound},
			{"ErrOtherTenantDelete", adminB, deleteUserOp, map[string]any{"id": other.ID}, graph.CodeNotFound},
			{"ErrOtherTenantReset", adminB, resetOp, map[string]any{"id": other.ID}, graph.CodeNotFound},
			{"ErrUnknownID", f.admin, deleteUserOp, map[string]any{"id": uuid.NewString()}, graph.CodeNotFound},
			{"ErrBadID", f.admin, deleteUserOp, map[string]any{"id": "nope"}, graph.CodeNotFound},
			{"ErrAdminMakesSuper", f.admin, updateUserOp, map[string]any{"id": other.ID, "in": map[string]any{"role": role("SUPER_ADMIN")}}, graph.CodeForbidden},
			{"ErrAdminInvitesSuper", f.admin, inviteOp, map[string]any{"e": "s@example.com", "r": "SUPER_ADMIN"}, graph.CodeForbidden},
			{"ErrAdminDeactivatesSuper", f.admin, updateUserOp, map[string]any{"id": f.super.ID, "in": map[string]any{"isActive": f2(false)}}, graph.CodeForbidden},
			{"ErrAdminDeletesSuper", f.admin, deleteUserOp, map[string]any{"id": f.super.ID}, graph.CodeForbidden},
			{"ErrInviteTakenEmail", f.admin, inviteOp, map[string]any{"e": strings.ToUpper(other.Email), "r": "DISPATCHER"}, graph.CodeConflict},
			{"ErrInviteBadEmail", f.admin, inviteOp, map[string]any{"e": "not an email", "r": "DISPATCHER"}, graph.CodeBadUserInput},
			{"ErrCreateUserWeakPassword", f.admin, `mutation { createUser(input: {email: "w@example.com", password: "password1234", role: DISPATCHER}) { id } }`, nil, graph.CodeBadUserInput},
			{"ErrCreateUserOwnEmail", f.admin, `mutation { createUser(input: {email: "w@example.com", password: "w@example.com!", role: DISPATCHER}) { id } }`, nil, graph.CodeBadUserInput},
			{"ErrCreateTenantWeak", f.super, `mutation { createTenant(input: {name: "T", adminEmail: "t@example.com", adminPassword: "qwertyuiopas"}) { id } }`, nil, graph.CodeBadUserInput},
			{"ErrChangeWrongCurrent", f.dispatcher, changePasswordOp, map[string]any{"c": "not my password!", "p": newPassword}, graph.CodeBadUserInput},
			{"ErrChangeWeak", f.dispatcher, changePasswordOp, map[string]any{"c": testserver.Password, "p": "password1234"}, graph.CodeBadUserInput},
			{"ErrChangeNoToken", testserver.User{}, changePasswordOp, map[string]any{"c": testserver.Password, "p": newPassword}, graph.CodeUnauthenticated},
			{"OKAdminDemotesOther", f.admin, updateUserOp, map[string]any{"id": pending.User.ID, "in": map[string]any{"role": role("DISPATCHER")}}, ""},
			{"OKSelfNoop", f.admin, updateUserOp, map[string]any{"id": f.admin.ID, "in": map[string]any{"isActive": f2(true), "role": role("ADMIN")}}, ""},
			{"OKSuperPromotes", f.super, updateUserOp, map[string]any{"id": other.ID, "in": map[string]any{"role": role("ADMIN")}}, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := f.do(t, c.as, c.query, c.vars)
				requireCode(t, r, c.code)
			})
		}
		// Nothing of tenant A changed by tenant B's attempts.
		requireCode(t, f.api.Do(t, other.Token, meOp, nil), "")
	})
}

// Sessions end: a password change or a used reset link ends the user's other
// tokens, deactivation and deletion end all of them — at once on the server that made
// the change, within the viewer check on another (here a second API over the same
// database with its own clock), and open subscription sockets are closed with 4403.
func TestSessionsEnd(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		clock := testclock.New(time.Now())
		replica := testserver.New(t, s, testserver.WithDeps(func(d *graph.Deps) { d.Now = clock.Now }))

		t.Run("ChangePassword", func(t *testing.T) {
			u := f.api.SeedUser(t, f.tenantID, auth.RoleDispatcher)
			other := f.api.Login(t, u.Email, testserver.Password)
			requireCode(t, replica.Do(t, other, meOp, nil), "") // the replica has the user cached now
			_, sub := subscribe(t, f.api, other, nil, f.api.Bus.Subscribers()+1)
			fresh := tokenOf(t, f.api.Do(t, u.Token, changePasswordOp, map[string]any{"c": testserver.Password, "p": newPassword}), "changePassword")
			requireCode(t, f.api.Do(t, fresh, meOp, nil), "")
			for _, old := range []string{u.Token, other} {
				r := f.api.Do(t, old, meOp, nil)
				requireCode(t, r, graph.CodeUnauthenticated)
				require.Contains(t, r.Message(), "password was changed")
			}
			requireClosed(t, sub)
			// Another replica: within its viewer check (DefaultViewerTTL, at most 15 s).
			clock.Add(graph.DefaultViewerTTL + time.Millisecond)
			requireCode(t, replica.Do(t, other, meOp, nil), graph.CodeUnauthenticated)
			requireCode(t, replica.Do(t, fresh, meOp, nil), "")
			require.LessOrEqual(t, graph.DefaultViewerTTL+graph.SubscriptionCheckEvery, 15*time.Second)
		})
		t.Run("UsedResetLink", func(t *testing.T) {
			u := f.api.SeedUser(t, f.tenantID, auth.RoleDispatcher)
			link := resetLink(t, f.api, f.admin.Token, u.ID)
			requireCode(t, f.api.Do(t, u.Token, meOp, nil), "")
			fresh := tokenOf(t, setPassword(f.api, t, linkToken(t, link.URL), newPassword), "setPassword")
			requireCode(t, f.api.Do(t, u.Token, meOp, nil), graph.CodeUnauthenticated)
			requireCode(t, f.api.Do(t, fresh, meOp, nil), "")
		})
		t.Run("Deactivation", func(t *testing.T) {
			u := f.api.SeedUser(t, f.tenantID, auth.RoleDispatcher)
			requireCode(t, replica.Do(t, u.Token, meOp, nil), "")
			_, sub := subscribe(t, f.api, u.Token, nil, f.api.Bus.Subscribers()+1)
			_, subReplica := subscribe(t, replica, u.Token, nil, replica.Bus.Subscribers()+1)
			requireCode(t, f.do(t, f.admin, updateUserOp, map[string]any{"id": u.ID, "in": map[string]any{"isActive": false}}), "")
			requireCode(t, f.api.Do(t, u.Token, meOp, nil), graph.CodeUnauthenticated)
			requireClosed(t, sub)
			clock.Add(graph.DefaultViewerTTL + time.Millisecond)
			requireCode(t, replica.Do(t, u.Token, meOp, nil), graph.CodeUnauthenticated)
			requireClosed(t, subReplica) // by the replica's next subscription check
			// Reactivation does not bring old tokens back.
			requireCode(t, f.do(t, f.admin, updateUserOp, map[string]any{"id": u.ID, "in": map[string]any{"isActive": true}}), "")
			requireCode(t, f.api.Do(t, u.Token, meOp, nil), graph.CodeUnauthenticated)
			require.NotEmpty(t, f.api.Login(t, u.Email, testserver.Password))
		})
		t.Run("Deletion", func(t *testing.T) {
			u := f.api.SeedUser(t, f.tenantID, auth.RoleDispatcher)
			_, sub := subscribe(t, f.api, u.Token, nil, f.api.Bus.Subscribers()+1)
			requireCode(t, f.do(t, f.admin, deleteUserOp, map[string]any{"id": u.ID}), "")
			requireCode(t, f.api.Do(t, u.Token, meOp, nil), graph.CodeUnauthenticated)
			requireClosed(t, sub)
			requireCode(t, f.do(t, f.admin, deleteUserOp, map[string]any{"id": u.ID}), graph.CodeNotFound)
			// A new socket with the token is refused at connection_init.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := wsclient.Dial(ctx, f.api.URL, wsclient.Options{Token: u.Token})
			require.Error(t, err)
			require.Equal(t, transport.CloseForbidden, wsclient.CloseStatus(err), "err: %v", err)
		})
	})
}

// requireClosed waits for the subscription's socket to be closed with 4403.
func requireClosed(t *testing.T, sub *wsclient.Subscription) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			require.Equal(t, transport.CloseForbidden, wsclient.CloseStatus(err), "err: %v", err)
			return
		}
		require.NotEqual(t, "next", m.Type, "no event after the session ended: %s", m.Payload)
	}
}

// Deleting a user keeps the syncs the user triggered and everything else of the tenant.
func TestDeleteUserKeepsSyncs(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		u := f.api.SeedUser(t, f.tenantID, auth.RoleDispatcher)
		id := f.api.CreateIntegration(t, f.admin.Token, nil)
		logID := syncNow(t, f.api, u.Token, id)
		requireCode(t, f.do(t, f.admin, deleteUserOp, map[string]any{"id": u.ID}), "")
		var out struct{ SyncHistory []struct{ ID string } }
		f.do(t, f.admin, `query($id: ID!) { syncHistory(integrationId: $id) { id } }`, map[string]any{"id": id}).Decode(t, &out)
		require.Len(t, out.SyncHistory, 1)
		require.Equal(t, logID, out.SyncHistory[0].ID)
	})
}

// A real SMTP server receives the invitation: who invited whom to which tenant, in a
// text and an escaped HTML part, with a link that works once. The outbox keeps no
// usable copy of the link afterwards, and the alerts list does not show it.
func TestInvitationEmail(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		smtpd := testsmtp.New(t, testsmtp.Options{})
		sender, err := mail.New(mail.Options{Host: smtpd.Host(), Port: smtpd.Port(), TLS: mail.TLSNone, From: "sally@example.com"})
		require.NoError(t, err)
		sealer := testserver.NewSealer(t)
		worker := alert.NewWorker(alert.WorkerOptions{
			Client: s.Client, PollEvery: time.Hour, Open: sealer.Open,
			Sender: alert.SenderFunc(func(ctx context.Context, m alert.Message) error { return sender.Send(ctx, mail.Message(m)) }),
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); worker.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })

		api := testserver.New(t, s, testserver.WithDeps(func(d *graph.Deps) { d.MailKick = worker.Kick }))
		tenant, err := s.Client.Tenant.Create().SetName("Acme <Freight> & Sons").Save(testserver.System())
		require.NoError(t, err)
		admin := api.SeedUser(t, tenant.ID.String(), auth.RoleAdmin)

		inv := invite(t, api, admin.Token, "driver.ops@example.com", "DISPATCHER")
		require.True(t, inv.Emailed)
		msgs := smtpd.Wait(t, 1, 30*time.Second)
		require.Equal(t, []string{"driver.ops@example.com"}, msgs[0].To)
		p := testsmtp.Parse(t, msgs[0])
		require.Contains(t, p.Subject, "set your password")
		require.Contains(t, p.Text, inv.URL)
		require.Contains(t, p.Text, admin.Email+" invited you to Acme <Freight> & Sons")
		require.Contains(t, p.HTML, "Acme &lt;Freight&gt; &amp; Sons")
		require.NotContains(t, p.HTML, "<Freight>")
		require.Contains(t, p.HTML, `href="`+inv.URL+`"`)
		link := regexp.MustCompile(`https?://\S+/#/set-password/\S+`).FindString(p.Text)
		require.Equal(t, inv.URL, link)

		tok := linkToken(t, link)
		requireCode(t, setPassword(api, t, tok, newPassword), "")
		r := setPassword(api, t, tok, newPassword)
		require.Equal(t, account.ErrBadLink.Error(), r.Message())

		// Sent once; once recorded SENT, the outbox row keeps no link.
		var rows []*ent.Alert
		require.Eventually(t, func() bool {
			rows, err = s.Client.Alert.Query().Where(entalert.KindEQ(alert.KindInvitation)).All(testserver.System())
			return err == nil && len(rows) == 1 && rows[0].Status == entalert.StatusSENT
		}, 30*time.Second, 10*time.Millisecond, "rows %v, err %v", rows, err)
		require.Empty(t, rows[0].Details.SealedLink)
		require.Len(t, smtpd.Messages(), 1)
		var alerts struct{ Alerts []struct{ ID string } }
		api.Do(t, admin.Token, `{ alerts { id } }`, nil).Decode(t, &alerts)
		require.Empty(t, alerts.Alerts, "account emails are not alerts")

		// A reset link is emailed the same way, and says so.
		reset := resetLink(t, api, admin.Token, inv.User.ID)
		require.True(t, reset.Emailed)
		msgs = smtpd.Wait(t, 2, 30*time.Second)
		p = testsmtp.Parse(t, msgs[1])
		require.Equal(t, []string{"driver.ops@example.com"}, msgs[1].To)
		require.Contains(t, p.Subject, "set a new password")
		require.Contains(t, p.Text, reset.URL)
		require.Contains(t, p.Text, "your current password keeps working")
		require.NotEqual(t, msgs[0].Data, msgs[1].Data)
	})
}
