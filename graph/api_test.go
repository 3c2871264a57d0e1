package graph_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/config"
	_ "github.com/sallyhq/sally/ent/runtime" // privacy policies and defaults
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/graph/generated"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
	"github.com/sallyhq/sally/store"
)

// fixture is one test's API over a fresh database, with a tenant and one user of
// each role in it.
type fixture struct {
	api        *testserver.API
	store      *store.Store
	tenantID   string
	super      testserver.User
	admin      testserver.User
	dispatcher testserver.User
}

func setup(t *testing.T, s *store.Store) *fixture {
	t.Helper()
	api := testserver.New(t, s)
	tenantID, _ := api.SeedTenant(t, "Acme Freight")
	return &fixture{
		api:        api,
		store:      s,
		tenantID:   tenantID,
		super:      api.SeedUser(t, tenantID, auth.RoleSuperAdmin),
		admin:      api.SeedUser(t, tenantID, auth.RoleAdmin),
		dispatcher: api.SeedUser(t, tenantID, auth.RoleDispatcher),
	}
}

// do sends an operation as u (the zero User sends no token).
func (f *fixture) do(t *testing.T, u testserver.User, query string, vars map[string]any) testserver.Response {
	t.Helper()
	return f.api.Do(t, u.Token, query, vars)
}

// requireCode checks the first error's extensions.code; "" means no error at all.
func requireCode(t *testing.T, r testserver.Response, want string) {
	t.Helper()
	if want == "" {
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		require.Empty(t, r.Errors, "body: %s", r.Body)
		return
	}
	require.NotEmpty(t, r.Errors, "want %s, body: %s", want, r.Body)
	require.Equal(t, want, r.Code(), "body: %s", r.Body)
}

// servedSchema is the schema the handler serves.
func servedSchema() *ast.Schema {
	return generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{}}).Schema()
}

const loginMutation = `mutation($e: String!, $p: String!) {
  login(email: $e, password: $p) { token expiresAt user { id email role isActive tenant { id name } } }
}`

func TestLogin(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		inactive := f.api.SeedUser(t, f.tenantID, auth.RoleDispatcher)
		uid := uuid.MustParse(inactive.ID)
		require.NoError(t, s.Client.User.UpdateOneID(uid).SetIsActive(false).Exec(testserver.System()))

		wrongPassword := f.do(t, testserver.User{}, loginMutation, map[string]any{"e": f.dispatcher.Email, "p": "not the password!"})
		requireCode(t, wrongPassword, graph.CodeUnauthenticated)

		tests := []struct {
			name, email, password string
			wantErr               bool
		}{
			{"OK", f.dispatcher.Email, testserver.Password, false},
			{"OKEmailInAnyCase", strings.ToUpper(f.admin.Email), testserver.Password, false},
			{"ErrWrongPassword", f.admin.Email, testserver.Password + "x", true},
			{"ErrUnknownEmail", "nobody-" + testserver.RandomHex(4) + "@example.com", testserver.Password, true},
			{"ErrInactiveUser", inactive.Email, testserver.Password, true},
			{"ErrEmptyPassword", f.admin.Email, "", true},
			{"ErrEmptyEmail", "", testserver.Password, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := f.do(t, testserver.User{}, loginMutation, map[string]any{"e": tt.email, "p": tt.password})
				if tt.wantErr {
					// One answer for every failure: it must not tell which emails exist.
					require.Equal(t, wrongPassword.Errors, r.Errors, "body: %s", r.Body)
					require.JSONEq(t, `null`, string(r.Data))
					return
				}
				var out struct {
					Login struct {
						Token     string
						ExpiresAt time.Time
						User      struct {
							ID, Email, Role string
							IsActive        bool
							Tenant          struct{ ID, Name string }
						}
					}
				}
				r.Decode(t, &out)
				require.NotEmpty(t, out.Login.Token)
				require.WithinDuration(t, time.Now().Add(12*time.Hour), out.Login.ExpiresAt, 5*time.Minute)
				require.Equal(t, strings.ToLower(tt.email), out.Login.User.Email)
				require.True(t, out.Login.User.IsActive)
				require.Equal(t, f.tenantID, out.Login.User.Tenant.ID)
				require.Equal(t, "Acme Freight", out.Login.User.Tenant.Name)

				// The token works.
				var me struct{ Me struct{ ID, Email string } }
				f.api.Do(t, out.Login.Token, `{ me { id email } }`, nil).Decode(t, &me)
				require.Equal(t, out.Login.User.ID, me.Me.ID)
			})
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		// A second replica over the same database: the guesses are spread over both.
		replica := testserver.New(t, s)
		login := func(api *testserver.API, email, password string) testserver.Response {
			return api.Do(t, "", loginMutation, map[string]any{"e": email, "p": password})
		}
		wrong := login(f.api, f.dispatcher.Email, "wrong password 1")
		requireCode(t, wrong, graph.CodeUnauthenticated)
		for i := 2; i <= auth.DefaultMaxFailures; i++ {
			api := f.api
			if i%2 == 0 {
				api = replica
			}
			r := login(api, f.dispatcher.Email, fmt.Sprintf("wrong password %d", i))
			require.Equal(t, wrong.Errors, r.Errors, "attempt %d", i)
		}

		// The 11th attempt is refused even with the right password, with the same
		// answer, on either replica.
		for _, api := range []*testserver.API{f.api, replica} {
			r := login(api, f.dispatcher.Email, testserver.Password)
			require.Equal(t, wrong.Errors, r.Errors, "body: %s", r.Body)
		}
		r := login(replica, strings.ToUpper(f.dispatcher.Email), testserver.Password)
		require.Equal(t, wrong.Errors, r.Errors, "the throttle must not depend on the email's case")

		// Other emails are not affected.
		require.NotEmpty(t, f.api.Login(t, f.admin.Email, testserver.Password))
	})
}

// rootOperation is one root field of Query or Mutation as a runnable operation with
// placeholder arguments.
type rootOperation struct {
	name, query string
}

// rootOperations builds an operation for every Query and Mutation field of the served
// schema but login, so that a field added later is covered without editing this test.
func rootOperations(t *testing.T) []rootOperation {
	t.Helper()
	schema := servedSchema()
	var ops []rootOperation
	for _, root := range []struct {
		keyword string
		def     *ast.Definition
	}{{"query", schema.Query}, {"mutation", schema.Mutation}} {
		for _, fd := range root.def.Fields {
			// login and setPassword need no token (setPassword carries its own link).
			if fd.Name == "login" || fd.Name == "setPassword" || strings.HasPrefix(fd.Name, "__") {
				continue
			}
			var args []string
			for _, a := range fd.Arguments {
				if a.Type.NonNull && a.DefaultValue == nil {
					args = append(args, a.Name+": "+placeholder(t, schema, a.Type))
				}
			}
			call := fd.Name
			if len(args) > 0 {
				call += "(" + strings.Join(args, ", ") + ")"
			}
			if k := schema.Types[fd.Type.Name()].Kind; k == ast.Object || k == ast.Interface || k == ast.Union {
				call += " { __typename }"
			}
			ops = append(ops, rootOperation{name: fd.Name, query: root.keyword + " { " + call + " }"})
		}
	}
	require.Greater(t, len(ops), 20)
	return ops
}

// placeholder is a literal of the type: enough to pass validation, not to succeed.
func placeholder(t *testing.T, schema *ast.Schema, typ *ast.Type) string {
	t.Helper()
	if typ.Elem != nil {
		return "[" + placeholder(t, schema, typ.Elem) + "]"
	}
	def := schema.Types[typ.NamedType]
	require.NotNil(t, def, typ.NamedType)
	switch def.Kind {
	case ast.Enum:
		return def.EnumValues[0].Name
	case ast.InputObject:
		var fields []string
		for _, fd := range def.Fields {
			if fd.Type.NonNull && fd.DefaultValue == nil {
				fields = append(fields, fd.Name+": "+placeholder(t, schema, fd.Type))
			}
		}
		return "{" + strings.Join(fields, ", ") + "}"
	}
	switch def.Name {
	case "Int":
		return "1"
	case "Float":
		return "1.5"
	case "Boolean":
		return "true"
	case "Time":
		return `"2026-01-01T00:00:00Z"`
	default:
		return `"x"`
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		v := auth.Viewer{UserID: f.admin.ID, TenantID: f.tenantID, Email: f.admin.Email, Role: auth.RoleAdmin}
		expired, _, err := testserver.NewTokens(func() time.Time { return time.Now().Add(-13 * time.Hour) }).Issue(v)
		require.NoError(t, err)
		// Expired a few seconds ago: within the replicas' clock skew, but past the
		// expiresAt the login reported.
		justExpired, _, err := testserver.NewTokens(func() time.Time { return time.Now().Add(-config.DefaultTokenTTL - 3*time.Second) }).Issue(v)
		require.NoError(t, err)
		otherKey, _, err := auth.NewTokens([]byte("not-the-server-secret-0123456789abcdef"), time.Hour, nil).Issue(v)
		require.NoError(t, err)

		ops := rootOperations(t)
		tokens := []struct {
			name, token, message string
		}{
			{"ErrMissing", "", "authentication required"},
			{"ErrExpired", expired, "expired"},
			{"ErrJustExpired", justExpired, "expired"},
			{"ErrGarbage", "garbage.garbage.garbage", "invalid token"},
			{"ErrSignedWithOtherKey", otherKey, "invalid token"},
		}
		for _, tok := range tokens {
			t.Run(tok.name, func(t *testing.T) {
				for _, op := range ops {
					r := f.api.Do(t, tok.token, op.query, nil)
					requireCode(t, r, graph.CodeUnauthenticated)
					require.Contains(t, r.Message(), tok.message, op.query)
					require.Equal(t, []any{op.name}, r.Errors[0].Path, op.query)
					var data map[string]any
					require.NoError(t, json.Unmarshal(r.Data, &data))
					require.Nil(t, data[op.name], "%s: no data without a valid token", op.query)
				}
			})
		}
		t.Run("OKValidTokenPassesAuthentication", func(t *testing.T) {
			// The same operations with a valid token get past authentication (into
			// NOT_FOUND, BAD_USER_INPUT and the like), so the answers above are the token's.
			for _, op := range ops {
				r := f.api.Do(t, f.admin.Token, op.query, nil)
				require.NotEqual(t, graph.CodeUnauthenticated, r.Code(), "%s: %s", op.query, r.Body)
			}
		})
		t.Run("OKLoginNeedsNoToken", func(t *testing.T) {
			// A bad token does not stand in the way of logging in again.
			r := f.api.Do(t, expired, loginMutation, map[string]any{"e": f.admin.Email, "p": testserver.Password})
			requireCode(t, r, "")
		})
	})
}

// roleCase is an operation that some roles may run and others may not.
type roleCase struct {
	name string
	// op returns the query and variables, preparing what it needs (a fresh integration
	// to update or delete, a fresh email).
	op        func(t *testing.T, f *fixture) (string, map[string]any)
	forbidden []auth.Role
	// unchanged, if set, checks after a FORBIDDEN answer that nothing happened.
	unchanged func(t *testing.T, f *fixture, vars map[string]any)
}

func TestRoles(t *testing.T) {
	t.Parallel()
	var (
		dispatcher = []auth.Role{auth.RoleDispatcher}
		admins     = []auth.Role{auth.RoleDispatcher, auth.RoleAdmin}
	)
	fixed := func(q string) func(*testing.T, *fixture) (string, map[string]any) {
		return func(*testing.T, *fixture) (string, map[string]any) { return q, nil }
	}
	newIntegration := func(q string) func(*testing.T, *fixture) (string, map[string]any) {
		return func(t *testing.T, f *fixture) (string, map[string]any) {
			return q, map[string]any{"id": f.api.CreateIntegration(t, f.admin.Token, nil)}
		}
	}
	newUser := func(role string) func(*testing.T, *fixture) (string, map[string]any) {
		return func(t *testing.T, f *fixture) (string, map[string]any) {
			return `mutation($in: CreateUserInput!) { createUser(input: $in) { id role } }`, map[string]any{"in": map[string]any{
				"email": "new-" + testserver.RandomHex(6) + "@example.com", "password": testserver.Password, "role": role,
			}}
		}
	}
	noUser := func(t *testing.T, f *fixture, vars map[string]any) {
		email := vars["in"].(map[string]any)["email"]
		require.Zero(t, testdb.Count(t, f.store, "SELECT count(*) FROM users WHERE email = ?", email))
	}
	integrationKept := func(t *testing.T, f *fixture, vars map[string]any) {
		var out struct{ Integration struct{ DisplayName string } }
		f.do(t, f.admin, `query($id: ID!) { integration(id: $id) { displayName } }`, vars).Decode(t, &out)
		require.True(t, strings.HasPrefix(out.Integration.DisplayName, "Samsara ELD"), out.Integration.DisplayName)
	}
	tests := []roleCase{
		{name: "me", op: fixed(`{ me { id } }`)},
		{name: "integrations", op: fixed(`{ integrations { id } }`)},
		{name: "integration", op: newIntegration(`query($id: ID!) { integration(id: $id) { id history { id } stats { totalSyncs } } }`)},
		{name: "syncHistory", op: newIntegration(`query($id: ID!) { syncHistory(integrationId: $id) { id } }`)},
		{name: "syncStats", op: newIntegration(`query($id: ID!) { syncStats(integrationId: $id) { totalSyncs } }`)},
		{name: "users", op: fixed(`{ users { id } }`), forbidden: dispatcher},
		{name: "alerts", op: fixed(`{ alerts { id } }`), forbidden: dispatcher},
		{name: "tenants", op: fixed(`{ tenants { id } }`), forbidden: admins},
		{name: "createUserDispatcher", op: newUser("DISPATCHER"), forbidden: dispatcher, unchanged: noUser},
		{name: "createUserAdmin", op: newUser("ADMIN"), forbidden: dispatcher, unchanged: noUser},
		{name: "createUserSuperAdmin", op: newUser("SUPER_ADMIN"), forbidden: admins, unchanged: noUser},
		{
			name: "createIntegration",
			op: func(*testing.T, *fixture) (string, map[string]any) {
				in := testserver.DefaultIntegration()
				in["displayName"] = "created-" + testserver.RandomHex(4)
				return `mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { id } }`, map[string]any{"in": in}
			},
			forbidden: dispatcher,
			unchanged: func(t *testing.T, f *fixture, vars map[string]any) {
				name := vars["in"].(map[string]any)["displayName"]
				require.Zero(t, testdb.Count(t, f.store, "SELECT count(*) FROM integrations WHERE display_name = ?", name))
			},
		},
		{
			name: "updateIntegration",
			op: func(t *testing.T, f *fixture) (string, map[string]any) {
				return `mutation($id: ID!, $name: String!) { updateIntegration(id: $id, input: {displayName: $name}) { id displayName } }`,
					map[string]any{"id": f.api.CreateIntegration(t, f.admin.Token, nil), "name": "Renamed " + testserver.RandomHex(3)}
			},
			forbidden: dispatcher,
			unchanged: integrationKept,
		},
		{
			name:      "deleteIntegration",
			op:        newIntegration(`mutation($id: ID!) { deleteIntegration(id: $id) }`),
			forbidden: dispatcher,
			unchanged: integrationKept,
		},
		{
			name: "createTenant",
			op: func(*testing.T, *fixture) (string, map[string]any) {
				return `mutation($in: CreateTenantInput!) { createTenant(input: $in) { id name } }`, map[string]any{"in": map[string]any{
					"name": "Tenant " + testserver.RandomHex(4), "adminEmail": "boss-" + testserver.RandomHex(6) + "@example.com",
					"adminPassword": testserver.Password,
				}}
			},
			forbidden: admins,
			unchanged: func(t *testing.T, f *fixture, vars map[string]any) {
				name := vars["in"].(map[string]any)["name"]
				require.Zero(t, testdb.Count(t, f.store, "SELECT count(*) FROM tenants WHERE name = ?", name))
			},
		},
	}
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		users := map[auth.Role]testserver.User{
			auth.RoleSuperAdmin: f.super, auth.RoleAdmin: f.admin, auth.RoleDispatcher: f.dispatcher,
		}
		for _, tt := range tests {
			for _, role := range auth.Roles() {
				want, verdict := "", "OK"
				if slices.Contains(tt.forbidden, role) {
					want, verdict = graph.CodeForbidden, "ErrForbidden"
				}
				t.Run(tt.name+"/"+string(role)+"/"+verdict, func(t *testing.T) {
					q, vars := tt.op(t, f)
					r := f.do(t, users[role], q, vars)
					requireCode(t, r, want)
					if want != "" && tt.unchanged != nil {
						tt.unchanged(t, f, vars)
					}
				})
			}
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		// Tenant A (the fixture's) has an integration with history and a user of its own.
		mine := f.api.CreateIntegration(t, f.admin.Token, map[string]any{"displayName": "A's Samsara"})
		f.api.SeedSyncLogs(t, mine,
			testserver.SyncLog{StartedAt: time.Now().Add(-time.Hour), Duration: time.Second},
			testserver.SyncLog{Status: "FAILED", StartedAt: time.Now().Add(-30 * time.Minute), Duration: time.Second, Error: "boom"})
		// Tenant B has its own admin and integration.
		tenantB, adminB := f.api.SeedTenant(t, "Beta Logistics")
		superB := f.api.SeedUser(t, tenantB, auth.RoleSuperAdmin)
		dispatcherB := f.api.SeedUser(t, tenantB, auth.RoleDispatcher)
		theirs := f.api.CreateIntegration(t, adminB, map[string]any{"displayName": "B's Samsara"})

		ops := []struct{ name, query string }{
			{"integration", `query($id: ID!) { integration(id: $id) { id displayName } }`},
			{"integrationHistory", `query($id: ID!) { integration(id: $id) { id history { id } } }`},
			{"syncHistory", `query($id: ID!) { syncHistory(integrationId: $id) { id } }`},
			{"syncHistoryFiltered", `query($id: ID!) { syncHistory(integrationId: $id, status: FAILED) { id } }`},
			{"syncStats", `query($id: ID!) { syncStats(integrationId: $id) { totalSyncs } }`},
			{"updateIntegration", `mutation($id: ID!) { updateIntegration(id: $id, input: {displayName: "hijacked", enabled: false}) { id } }`},
			{"deleteIntegration", `mutation($id: ID!) { deleteIntegration(id: $id) }`},
		}
		intruders := []struct {
			name   string
			user   testserver.User
			target string
		}{
			{"AdminOfB", testserver.User{Token: adminB}, mine},
			{"SuperAdminOfB", superB, mine},
			{"DispatcherOfB", dispatcherB, mine},
			{"SuperAdminOfA", f.super, theirs}, // a SUPER_ADMIN acts in its own tenant only
		}
		for _, in := range intruders {
			for _, op := range ops {
				if in.user.Role == auth.RoleDispatcher && strings.Contains(op.query, "mutation") {
					continue // FORBIDDEN before any lookup (TestRoles)
				}
				t.Run(in.name+"/"+op.name+"/ErrNotFound", func(t *testing.T) {
					r := f.do(t, in.user, op.query, map[string]any{"id": in.target})
					requireCode(t, r, graph.CodeNotFound)
					// Exactly as for an integration that does not exist.
					missing := f.do(t, in.user, op.query, map[string]any{"id": uuid.NewString()})
					require.Equal(t, missing.Errors, r.Errors)
					require.JSONEq(t, string(missing.Data), string(r.Data))
				})
			}
		}

		t.Run("ListsShowOwnTenantOnly", func(t *testing.T) {
			type lists struct {
				Integrations []struct{ ID string }
				Users        []struct{ ID, Email, TenantID string }
			}
			const q = `{ integrations { id } users { id email tenantId } }`
			var b lists
			f.api.Do(t, adminB, q, nil).Decode(t, &b)
			require.Len(t, b.Integrations, 1)
			require.Equal(t, theirs, b.Integrations[0].ID)
			require.Len(t, b.Users, 3) // B's admin, super admin and dispatcher
			for _, u := range b.Users {
				require.Equal(t, tenantB, u.TenantID)
				require.NotEqual(t, f.admin.Email, u.Email)
			}
			var a lists
			f.do(t, f.super, q, nil).Decode(t, &a)
			require.Len(t, a.Integrations, 1)
			require.Equal(t, mine, a.Integrations[0].ID)
			for _, u := range a.Users {
				require.Equal(t, f.tenantID, u.TenantID)
			}
		})

		t.Run("TenantsListedForSuperAdminOnly", func(t *testing.T) {
			var out struct{ Tenants []struct{ ID string } }
			f.do(t, f.super, `{ tenants { id } }`, nil).Decode(t, &out)
			require.Len(t, out.Tenants, 2)
			requireCode(t, f.api.Do(t, adminB, `{ tenants { id } }`, nil), graph.CodeForbidden)
		})

		t.Run("NothingChanged", func(t *testing.T) {
			var out struct {
				Integration struct {
					DisplayName string
					Enabled     bool
					History     []struct{ ID string }
				}
			}
			f.do(t, f.admin, `query($id: ID!) { integration(id: $id) { displayName enabled history { id } } }`,
				map[string]any{"id": mine}).Decode(t, &out)
			require.Equal(t, "A's Samsara", out.Integration.DisplayName)
			require.True(t, out.Integration.Enabled)
			require.Len(t, out.Integration.History, 2)
			require.Equal(t, 2, testdb.Count(t, s, "SELECT count(*) FROM sync_logs WHERE integration_id = ?", mine))
		})
	})
}

// scalarFields selects every field of the type that needs no arguments and is a
// scalar or enum: all a client can read of it directly.
func scalarFields(t *testing.T, typeName string) string {
	t.Helper()
	schema := servedSchema()
	def := schema.Types[typeName]
	require.NotNil(t, def)
	var names []string
	for _, fd := range def.Fields {
		k := schema.Types[fd.Type.Name()].Kind
		if (k == ast.Scalar || k == ast.Enum) && !strings.HasPrefix(fd.Name, "__") {
			names = append(names, fd.Name)
		}
	}
	return strings.Join(names, " ")
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		const (
			apiKey    = "sk_live_7hQ2pX9rV4mZt3f9a"
			apiSecret = "shh-very-secret-value-42"
			newKey    = "sk_live_rotated_key_77c1"
		)
		all := scalarFields(t, "Integration")
		require.Contains(t, all, "credentialsHint")
		var responses [][]byte

		r := f.do(t, f.admin, `mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { `+all+` } }`,
			map[string]any{"in": map[string]any{
				"integrationType": "HOS_ELD", "vendor": "SAMSARA_ELD", "displayName": "Samsara",
				"credentials": map[string]any{"apiKey": apiKey, "apiSecret": apiSecret},
			}})
		var created struct {
			CreateIntegration struct{ ID, CredentialsHint string }
		}
		r.Decode(t, &created)
		responses = append(responses, r.Body)
		id := created.CreateIntegration.ID
		require.Equal(t, "••••3f9a", created.CreateIntegration.CredentialsHint)

		t.Run("StoredSealed", func(t *testing.T) {
			stored := testdb.String(t, s, "SELECT credentials FROM integrations WHERE id = ?", id)
			require.NotEqual(t, apiKey, stored)
			require.NotContains(t, stored, apiKey)
			require.NotContains(t, stored, apiSecret)
			// It is the key, sealed with the server's key.
			creds, err := testserver.NewSealer(t).OpenCredentials(stored)
			require.NoError(t, err)
			require.Equal(t, auth.Credentials{APIKey: apiKey, APISecret: apiSecret}, creds)
		})

		t.Run("NeverReturned", func(t *testing.T) {
			for _, u := range []testserver.User{f.admin, f.dispatcher, f.super} {
				r := f.do(t, u, `query($id: ID!) { integration(id: $id) { `+all+` } integrations { `+all+` } }`,
					map[string]any{"id": id})
				requireCode(t, r, "")
				responses = append(responses, r.Body)
			}
			r := f.do(t, f.admin, `mutation($id: ID!, $k: String!) { updateIntegration(id: $id, input: {credentials: {apiKey: $k}}) { `+all+` } }`,
				map[string]any{"id": id, "k": newKey})
			var updated struct {
				UpdateIntegration struct{ CredentialsHint string }
			}
			r.Decode(t, &updated)
			require.Equal(t, "••••77c1", updated.UpdateIntegration.CredentialsHint)
			responses = append(responses, r.Body)
			// No field of the served schema is called anything like credentials but the hint.
			for _, name := range strings.Fields(all) {
				if strings.Contains(strings.ToLower(name), "credential") || strings.Contains(strings.ToLower(name), "key") {
					require.Equal(t, "credentialsHint", name)
				}
			}
			for _, body := range responses {
				for _, secret := range []string{apiKey, apiSecret, newKey, "v1:"} {
					require.NotContains(t, string(body), secret)
				}
			}
			stored := testdb.String(t, s, "SELECT credentials FROM integrations WHERE id = ?", id)
			creds, err := testserver.NewSealer(t).OpenCredentials(stored)
			require.NoError(t, err)
			require.Equal(t, newKey, creds.APIKey)
		})
	})
}

// syncLogJSON is a SyncLog as the API returns it.
type syncLogJSON struct {
	ID            string
	Status        string
	StartedAt     time.Time
	CompletedAt   *time.Time
	DurationMs    *int
	Error         *string
	IntegrationID string
}

func ids(logs []syncLogJSON) []string {
	out := make([]string, len(logs))
	for i, l := range logs {
		out[i] = l.ID
	}
	return out
}

func TestSyncHistory(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		id := f.api.CreateIntegration(t, f.admin.Token, nil)
		other := f.api.CreateIntegration(t, f.admin.Token, nil)
		empty := f.api.CreateIntegration(t, f.admin.Token, nil)

		// 120 logs with distinct start times, seeded in random order.
		base := time.Date(2026, 3, 1, 8, 0, 0, 123456000, time.UTC)
		const n = 120
		seeds := make([]testserver.SyncLog, n)
		for i, k := range rand.Perm(n) {
			l := testserver.SyncLog{StartedAt: base.Add(time.Duration(k) * time.Minute), Duration: time.Duration(k+1) * time.Second}
			switch {
			case k == n-1: // the newest is still running (one at a time per integration)
				l.Status, l.Duration = "RUNNING", 0
			case k%3 == 0:
				l.Status, l.Error = "FAILED", fmt.Sprintf("failure %d", k)
			}
			seeds[i] = l
		}
		seeded := f.api.SeedSyncLogs(t, id, seeds...)
		f.api.SeedSyncLogs(t, other, testserver.SyncLog{StartedAt: base.Add(time.Hour)})

		// Newest first.
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return seeds[b].StartedAt.Compare(seeds[a].StartedAt) })
		want := make([]string, n)
		var wantFailed []string
		for i, k := range order {
			want[i] = seeded[k]
			if seeds[k].Status == "FAILED" {
				wantFailed = append(wantFailed, seeded[k])
			}
		}

		const fields = `id status startedAt completedAt durationMs error integrationId`
		page := func(t *testing.T, vars map[string]any) []syncLogJSON {
			t.Helper()
			vars["id"] = id
			var out struct{ SyncHistory []syncLogJSON }
			f.do(t, f.dispatcher, `query($id: ID!, $limit: Int, $offset: Int, $status: SyncStatus) {
				syncHistory(integrationId: $id, limit: $limit, offset: $offset, status: $status) { `+fields+` } }`, vars).Decode(t, &out)
			return out.SyncHistory
		}

		tests := []struct {
			name string
			vars map[string]any
			want []string
		}{
			{"DefaultLimit50", map[string]any{}, want[:50]},
			{"FirstPage", map[string]any{"limit": 50, "offset": 0}, want[:50]},
			{"SecondPage", map[string]any{"limit": 50, "offset": 50}, want[50:100]},
			{"LastPartialPage", map[string]any{"limit": 50, "offset": 100}, want[100:]},
			{"PastTheEnd", map[string]any{"limit": 50, "offset": 120}, []string{}},
			{"LimitOne", map[string]any{"limit": 1, "offset": 7}, want[7:8]},
			{"Limit500", map[string]any{"limit": 500}, want},
			{"StatusFailed", map[string]any{"status": "FAILED", "limit": 500}, wantFailed},
			{"StatusFailedPaged", map[string]any{"status": "FAILED", "limit": 10, "offset": 5}, wantFailed[5:15]},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				require.Equal(t, tt.want, ids(page(t, tt.vars)))
			})
		}

		t.Run("PagesCoverAllOnce", func(t *testing.T) {
			var got []string
			for off := 0; off < n; off += 7 {
				got = append(got, ids(page(t, map[string]any{"limit": 7, "offset": off}))...)
			}
			require.Equal(t, want, got)
		})

		t.Run("Fields", func(t *testing.T) {
			byID := map[string]testserver.SyncLog{}
			for i, sid := range seeded {
				byID[sid] = seeds[i]
			}
			for _, l := range page(t, map[string]any{"limit": 500}) {
				seed := byID[l.ID]
				require.Equal(t, id, l.IntegrationID)
				require.True(t, seed.StartedAt.Equal(l.StartedAt), "startedAt %s, want %s", l.StartedAt, seed.StartedAt)
				require.Equal(t, time.UTC, l.StartedAt.Location())
				require.Equal(t, cmp.Or(seed.Status, "SUCCESS"), l.Status)
				switch seed.Status {
				case "RUNNING":
					require.Equal(t, "RUNNING", l.Status)
					require.Nil(t, l.CompletedAt)
					require.Nil(t, l.DurationMs)
				default:
					require.Equal(t, seed.Duration.Milliseconds(), int64(*l.DurationMs))
					require.True(t, seed.StartedAt.Add(seed.Duration).Equal(*l.CompletedAt))
				}
				if seed.Status == "FAILED" {
					require.Equal(t, seed.Error, *l.Error)
				} else {
					require.Nil(t, l.Error)
				}
			}
		})

		t.Run("IntegrationHistoryField", func(t *testing.T) {
			var out struct {
				Integration struct{ History []syncLogJSON }
			}
			f.do(t, f.dispatcher, `query($id: ID!) { integration(id: $id) { history(limit: 20, offset: 40) { id } } }`,
				map[string]any{"id": id}).Decode(t, &out)
			require.Equal(t, want[40:60], ids(out.Integration.History))
		})

		t.Run("EmptyHistory", func(t *testing.T) {
			var out struct{ SyncHistory []syncLogJSON }
			f.do(t, f.dispatcher, `query($id: ID!) { syncHistory(integrationId: $id) { id } }`,
				map[string]any{"id": empty}).Decode(t, &out)
			require.NotNil(t, out.SyncHistory)
			require.Empty(t, out.SyncHistory)
		})
	})
}

func TestSyncStats(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		id := f.api.CreateIntegration(t, f.admin.Token, nil)
		now := time.Now().UTC().Truncate(time.Second)
		since := now.Add(-24 * time.Hour)

		// Within the last day: 20 finished syncs lasting 10, 20, … 200 ms, every fourth
		// one failed, plus one still running (excluded).
		var seeds []testserver.SyncLog
		var lastOK, lastFailed time.Time
		for i := 1; i <= 20; i++ {
			l := testserver.SyncLog{StartedAt: now.Add(-time.Duration(21-i) * time.Minute), Duration: time.Duration(i*10) * time.Millisecond}
			if i%4 == 0 {
				l.Status, l.Error = "FAILED", "vendor unavailable"
				lastFailed = l.StartedAt.Add(l.Duration)
			} else {
				lastOK = l.StartedAt.Add(l.Duration)
			}
			seeds = append(seeds, l)
		}
		seeds = append(seeds, testserver.SyncLog{Status: "RUNNING", StartedAt: now.Add(-time.Second)})
		// Ten days ago: 5 successful syncs of 10 s, outside `since`.
		for i := range 5 {
			seeds = append(seeds, testserver.SyncLog{StartedAt: now.Add(-240*time.Hour + time.Duration(i)*time.Minute), Duration: 10 * time.Second})
		}
		f.api.SeedSyncLogs(t, id, seeds...)
		onlyRunning := f.api.CreateIntegration(t, f.admin.Token, nil)
		f.api.SeedSyncLogs(t, onlyRunning, testserver.SyncLog{Status: "RUNNING", StartedAt: now})
		none := f.api.CreateIntegration(t, f.admin.Token, nil)

		type stats struct {
			TotalSyncs, SuccessfulSyncs, FailedSyncs int
			SuccessRate                              float64
			AverageDurationMs, P95DurationMs         *float64
			LastSuccessAt, LastFailureAt             *time.Time
		}
		ptr := func(v float64) *float64 { return &v }
		tests := []struct {
			name  string
			id    string
			since *time.Time
			want  stats
		}{
			{
				// n = 25: durations 10…200 and 5 × 10000; p95 is the 24th smallest.
				name: "All", id: id,
				want: stats{TotalSyncs: 25, SuccessfulSyncs: 20, FailedSyncs: 5, SuccessRate: 80,
					AverageDurationMs: ptr((2100 + 50000) / 25.0), P95DurationMs: ptr(10000),
					LastSuccessAt: &lastOK, LastFailureAt: &lastFailed},
			},
			{
				// n = 20: durations 10…200; p95 is the ceil(19)th = 19th smallest.
				name: "Since", id: id, since: &since,
				want: stats{TotalSyncs: 20, SuccessfulSyncs: 15, FailedSyncs: 5, SuccessRate: 75,
					AverageDurationMs: ptr(105), P95DurationMs: ptr(190),
					LastSuccessAt: &lastOK, LastFailureAt: &lastFailed},
			},
			{
				name: "SinceNow", id: id, since: ptrTime(now.Add(time.Hour)),
				want: stats{},
			},
			{name: "OnlyRunning", id: onlyRunning, want: stats{}},
			{name: "NoSyncs", id: none, want: stats{}},
		}
		const fields = `totalSyncs successfulSyncs failedSyncs successRate averageDurationMs p95DurationMs lastSuccessAt lastFailureAt`
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				vars := map[string]any{"id": tt.id}
				if tt.since != nil {
					vars["since"] = tt.since.Format(time.RFC3339Nano)
				}
				var out struct {
					SyncStats   stats
					Integration struct{ Stats stats }
				}
				f.do(t, f.dispatcher, `query($id: ID!, $since: Time) {
					syncStats(integrationId: $id, since: $since) { `+fields+` }
					integration(id: $id) { stats(since: $since) { `+fields+` } } }`, vars).Decode(t, &out)
				for _, got := range []stats{out.SyncStats, out.Integration.Stats} {
					require.Equal(t, tt.want.TotalSyncs, got.TotalSyncs)
					require.Equal(t, tt.want.SuccessfulSyncs, got.SuccessfulSyncs)
					require.Equal(t, tt.want.FailedSyncs, got.FailedSyncs)
					require.InDelta(t, tt.want.SuccessRate, got.SuccessRate, 1e-9)
					requireFloat(t, tt.want.AverageDurationMs, got.AverageDurationMs)
					requireFloat(t, tt.want.P95DurationMs, got.P95DurationMs)
					requireTime(t, tt.want.LastSuccessAt, got.LastSuccessAt)
					requireTime(t, tt.want.LastFailureAt, got.LastFailureAt)
				}
			})
		}
	})
}

func ptrTime(t time.Time) *time.Time { return &t }

func requireFloat(t *testing.T, want, got *float64) {
	t.Helper()
	if want == nil {
		require.Nil(t, got)
		return
	}
	require.NotNil(t, got)
	require.InDelta(t, *want, *got, 1e-6)
}

func requireTime(t *testing.T, want, got *time.Time) {
	t.Helper()
	if want == nil {
		require.Nil(t, got)
		return
	}
	require.NotNil(t, got)
	require.True(t, want.Equal(*got), "got %s, want %s", got, want)
	require.Equal(t, time.UTC, got.Location())
}

func TestValidation(t *testing.T) {
	t.Parallel()
	const (
		create  = `mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { id } }`
		update  = `mutation($id: ID!, $in: UpdateIntegrationInput!) { updateIntegration(id: $id, input: $in) { id } }`
		history = `query($id: ID!, $limit: Int, $offset: Int) { syncHistory(integrationId: $id, limit: $limit, offset: $offset) { id } }`
		nested  = `query($id: ID!, $limit: Int, $offset: Int) { integration(id: $id) { history(limit: $limit, offset: $offset) { id } } }`
		alerts  = `query($limit: Int, $offset: Int) { alerts(limit: $limit, offset: $offset) { id } }`
		user    = `mutation($in: CreateUserInput!) { createUser(input: $in) { id } }`
		tenant  = `mutation($in: CreateTenantInput!) { createTenant(input: $in) { id } }`
	)
	withInput := func(over map[string]any) map[string]any {
		in := testserver.DefaultIntegration()
		in["displayName"] = "Samsara ELD " + testserver.RandomHex(3) // names are unique per tenant
		for k, v := range over {
			in[k] = v
		}
		return map[string]any{"in": in}
	}
	key := func(n int) map[string]any { return map[string]any{"apiKey": strings.Repeat("k", n)} }
	newUser := func(email, password string) map[string]any {
		return map[string]any{"in": map[string]any{"email": email, "password": password, "role": "DISPATCHER"}}
	}
	newTenant := func(name, email, password string) map[string]any {
		return map[string]any{"in": map[string]any{"name": name, "adminEmail": email, "adminPassword": password}}
	}
	fresh := func() string { return "v-" + testserver.RandomHex(6) + "@example.com" }
	tests := []struct {
		name  string
		query string
		vars  map[string]any // "$ID" stands for an existing integration
		want  string
	}{
		{"createIntegration/ErrDisplayNameEmpty", create, withInput(map[string]any{"displayName": ""}), graph.CodeBadUserInput},
		{"createIntegration/ErrDisplayName101", create, withInput(map[string]any{"displayName": strings.Repeat("a", 101)}), graph.CodeBadUserInput},
		{"createIntegration/OKDisplayName100", create, withInput(map[string]any{"displayName": strings.Repeat("é", 100)}), ""},
		{"createIntegration/ErrInterval59", create, withInput(map[string]any{"syncIntervalSeconds": 59}), graph.CodeBadUserInput},
		{"createIntegration/ErrInterval86401", create, withInput(map[string]any{"syncIntervalSeconds": 86401}), graph.CodeBadUserInput},
		{"createIntegration/OKInterval60", create, withInput(map[string]any{"syncIntervalSeconds": 60}), ""},
		{"createIntegration/OKInterval86400", create, withInput(map[string]any{"syncIntervalSeconds": 86400}), ""},
		{"createIntegration/ErrThreshold0", create, withInput(map[string]any{"alertFailureThreshold": 0}), graph.CodeBadUserInput},
		{"createIntegration/ErrThreshold101", create, withInput(map[string]any{"alertFailureThreshold": 101}), graph.CodeBadUserInput},
		{"createIntegration/OKThreshold1", create, withInput(map[string]any{"alertFailureThreshold": 1}), ""},
		{"createIntegration/OKThreshold100", create, withInput(map[string]any{"alertFailureThreshold": 100}), ""},
		{"createIntegration/ErrWindow4", create, withInput(map[string]any{"alertWindowMinutes": 4}), graph.CodeBadUserInput},
		{"createIntegration/ErrWindow1441", create, withInput(map[string]any{"alertWindowMinutes": 1441}), graph.CodeBadUserInput},
		{"createIntegration/OKWindow5", create, withInput(map[string]any{"alertWindowMinutes": 5}), ""},
		{"createIntegration/OKWindow1440", create, withInput(map[string]any{"alertWindowMinutes": 1440}), ""},
		{"createIntegration/ErrAPIKeyEmpty", create, withInput(map[string]any{"credentials": key(0)}), graph.CodeBadUserInput},
		{"createIntegration/ErrAPIKey4097Bytes", create, withInput(map[string]any{"credentials": key(4097)}), graph.CodeBadUserInput},
		{"createIntegration/OKAPIKey4096Bytes", create, withInput(map[string]any{"credentials": key(4096)}), ""},
		{"createIntegration/ErrVendorDoesNotServeType", create, withInput(map[string]any{"vendor": "FUELFINDER"}), graph.CodeBadUserInput},
		{"createIntegration/ErrUnknownVendor", create, withInput(map[string]any{"vendor": "ACME"}), graph.CodeBadUserInput},
		{"createIntegration/ErrMissingCredentials", create, withInput(map[string]any{"credentials": nil}), graph.CodeBadUserInput},
		{"createIntegration/ErrWrongType", create, withInput(map[string]any{"syncIntervalSeconds": "often"}), graph.CodeBadUserInput},
		{"createIntegration/OKEveryVendor", create, withInput(map[string]any{"integrationType": "WEATHER", "vendor": "OPENWEATHER"}), ""},

		{"updateIntegration/ErrDisplayNameEmpty", update, map[string]any{"in": map[string]any{"displayName": ""}}, graph.CodeBadUserInput},
		{"updateIntegration/ErrDisplayName101", update, map[string]any{"in": map[string]any{"displayName": strings.Repeat("a", 101)}}, graph.CodeBadUserInput},
		{"updateIntegration/OKDisplayName100", update, map[string]any{"in": map[string]any{"displayName": strings.Repeat("a", 100)}}, ""},
		{"updateIntegration/ErrInterval59", update, map[string]any{"in": map[string]any{"syncIntervalSeconds": 59}}, graph.CodeBadUserInput},
		{"updateIntegration/ErrInterval86401", update, map[string]any{"in": map[string]any{"syncIntervalSeconds": 86401}}, graph.CodeBadUserInput},
		{"updateIntegration/ErrThreshold0", update, map[string]any{"in": map[string]any{"alertFailureThreshold": 0}}, graph.CodeBadUserInput},
		{"updateIntegration/ErrThreshold101", update, map[string]any{"in": map[string]any{"alertFailureThreshold": 101}}, graph.CodeBadUserInput},
		{"updateIntegration/ErrWindow4", update, map[string]any{"in": map[string]any{"alertWindowMinutes": 4}}, graph.CodeBadUserInput},
		{"updateIntegration/ErrWindow1441", update, map[string]any{"in": map[string]any{"alertWindowMinutes": 1441}}, graph.CodeBadUserInput},
		{"updateIntegration/ErrAPIKeyEmpty", update, map[string]any{"in": map[string]any{"credentials": key(0)}}, graph.CodeBadUserInput},
		{"updateIntegration/ErrAPIKey4097Bytes", update, map[string]any{"in": map[string]any{"credentials": key(4097)}}, graph.CodeBadUserInput},
		{"updateIntegration/OKBounds", update, map[string]any{"in": map[string]any{
			"syncIntervalSeconds": 86400, "alertFailureThreshold": 100, "alertWindowMinutes": 1440, "credentials": key(4096),
		}}, ""},

		{"syncHistory/ErrLimit0", history, map[string]any{"limit": 0}, graph.CodeBadUserInput},
		{"syncHistory/ErrLimit501", history, map[string]any{"limit": 501}, graph.CodeBadUserInput},
		{"syncHistory/ErrLimitNegative", history, map[string]any{"limit": -1}, graph.CodeBadUserInput},
		{"syncHistory/ErrOffsetNegative", history, map[string]any{"offset": -1}, graph.CodeBadUserInput},
		{"syncHistory/OKLimit1", history, map[string]any{"limit": 1}, ""},
		{"syncHistory/OKLimit500", history, map[string]any{"limit": 500}, ""},
		{"integrationHistory/ErrLimit0", nested, map[string]any{"limit": 0}, graph.CodeBadUserInput},
		{"integrationHistory/ErrLimit501", nested, map[string]any{"limit": 501}, graph.CodeBadUserInput},
		{"integrationHistory/ErrOffsetNegative", nested, map[string]any{"offset": -1}, graph.CodeBadUserInput},
		{"alerts/ErrLimit0", alerts, map[string]any{"limit": 0}, graph.CodeBadUserInput},
		{"alerts/ErrLimit501", alerts, map[string]any{"limit": 501}, graph.CodeBadUserInput},
		{"alerts/ErrLimitNegative", alerts, map[string]any{"limit": -1}, graph.CodeBadUserInput},
		{"alerts/ErrOffsetNegative", alerts, map[string]any{"offset": -1}, graph.CodeBadUserInput},
		{"alerts/OKLimit500", alerts, map[string]any{"limit": 500}, ""},

		{"createUser/ErrEmailInvalid", user, newUser("not-an-email", testserver.Password), graph.CodeBadUserInput},
		{"createUser/ErrEmailWithName", user, newUser("Al <al@example.com>", testserver.Password), graph.CodeBadUserInput},
		{"createUser/ErrEmailEmpty", user, newUser("", testserver.Password), graph.CodeBadUserInput},
		{"createUser/ErrPassword11", user, newUser(fresh(), "elevenchars"), graph.CodeBadUserInput},
		{"createUser/OKPassword12", user, newUser(fresh(), "twelve chars"), ""},
		{"createUser/ErrUnknownRole", user, map[string]any{"in": map[string]any{"email": fresh(), "password": testserver.Password, "role": "OWNER"}}, graph.CodeBadUserInput},
		{"createTenant/ErrEmailInvalid", tenant, newTenant("T1", "nope", testserver.Password), graph.CodeBadUserInput},
		{"createTenant/ErrPassword11", tenant, newTenant("T2", fresh(), "elevenchars"), graph.CodeBadUserInput},
		{"createTenant/ErrNameEmpty", tenant, newTenant("", fresh(), testserver.Password), graph.CodeBadUserInput},
		{"createTenant/OK", tenant, newTenant("T3", fresh(), "twelve chars"), ""},

		{"ErrUnknownField", `{ integrations { id secret } }`, nil, graph.CodeBadUserInput},
		{"ErrSyntax", `{ integrations { id `, nil, graph.CodeBadUserInput},
		{"ErrMissingVariable", history, map[string]any{}, graph.CodeBadUserInput},
		// Values that do not convert to the argument's scalar or enum.
		{"syncStats/ErrSinceNotATime", `query($id: ID!) { syncStats(integrationId: $id, since: "yesterday") { totalSyncs } }`, nil, graph.CodeBadUserInput},
		{"syncStats/ErrSinceVariable", `query($id: ID!, $s: Time) { syncStats(integrationId: $id, since: $s) { totalSyncs } }`, map[string]any{"s": "2026-13-45"}, graph.CodeBadUserInput},
		{"stats/ErrSinceNumber", `query($id: ID!) { integration(id: $id) { stats(since: 12345) { totalSyncs } } }`, nil, graph.CodeBadUserInput},
		{"syncHistory/ErrStatusVariable", `query($id: ID!, $s: SyncStatus) { syncHistory(integrationId: $id, status: $s) { id } }`, map[string]any{"s": "DONE"}, graph.CodeBadUserInput},
	}
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		id := f.api.CreateIntegration(t, f.admin.Token, nil)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				vars := map[string]any{}
				for k, v := range tt.vars {
					vars[k] = v
				}
				if _, ok := tt.vars["id"]; !ok && strings.Contains(tt.query, "$id") && tt.name != "ErrMissingVariable" {
					vars["id"] = id
				}
				counts := func() [3]int {
					return [3]int{
						testdb.Count(t, s, "SELECT count(*) FROM integrations"),
						testdb.Count(t, s, "SELECT count(*) FROM users"),
						testdb.Count(t, s, "SELECT count(*) FROM tenants"),
					}
				}
				before := counts()
				r := f.do(t, f.super, tt.query, vars)
				requireCode(t, r, tt.want)
				if tt.want != "" {
					require.NotEmpty(t, r.Message())
					require.Equal(t, before, counts(), "a refused request changes nothing")
				}
			})
		}
		t.Run("MessageSaysWhichAndWhy", func(t *testing.T) {
			r := f.do(t, f.admin, create, withInput(map[string]any{"syncIntervalSeconds": 59}))
			require.Contains(t, r.Message(), "syncIntervalSeconds")
			require.Contains(t, r.Message(), "60")
			r = f.do(t, f.admin, history, map[string]any{"id": id, "limit": 501})
			require.Contains(t, r.Message(), "limit")
			r = f.do(t, f.admin, `query($id: ID!) { syncStats(integrationId: $id, since: "yesterday") { totalSyncs } }`, map[string]any{"id": id})
			require.Contains(t, r.Message(), "RFC 3339")
		})
	})
}

func TestEmailConflict(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		_, adminB := f.api.SeedTenant(t, "Beta Logistics")
		const createUser = `mutation($in: CreateUserInput!) { createUser(input: $in) { id email } }`
		const createTenant = `mutation($in: CreateTenantInput!) { createTenant(input: $in) { id name } }`
		countAll := func() (tenants, users int) {
			return testdb.Count(t, s, "SELECT count(*) FROM tenants"), testdb.Count(t, s, "SELECT count(*) FROM users")
		}

		tests := []struct {
			name, email string
		}{
			{"ErrTakenInOtherTenant", f.dispatcher.Email},
			{"ErrTakenInOtherCase", strings.ToUpper(f.dispatcher.Email)},
			{"ErrTakenWithSpaces", "  " + f.dispatcher.Email + " "},
		}
		for _, tt := range tests {
			t.Run("createUser/"+tt.name, func(t *testing.T) {
				tenants, users := countAll()
				r := f.api.Do(t, adminB, createUser, map[string]any{"in": map[string]any{
					"email": tt.email, "password": testserver.Password, "role": "DISPATCHER"}})
				requireCode(t, r, graph.CodeConflict)
				gotTenants, gotUsers := countAll()
				require.Equal(t, [2]int{tenants, users}, [2]int{gotTenants, gotUsers})
			})
			t.Run("createTenant/"+tt.name, func(t *testing.T) {
				tenants, users := countAll()
				r := f.do(t, f.super, createTenant, map[string]any{"in": map[string]any{
					"name": "Gamma " + tt.name, "adminEmail": tt.email, "adminPassword": testserver.Password}})
				requireCode(t, r, graph.CodeConflict)
				// Atomic: no tenant without its admin is left behind.
				gotTenants, gotUsers := countAll()
				require.Equal(t, [2]int{tenants, users}, [2]int{gotTenants, gotUsers})
				require.Zero(t, testdb.Count(t, s, "SELECT count(*) FROM tenants WHERE name = ?", "Gamma "+tt.name))
			})
		}

		t.Run("createTenant/OK", func(t *testing.T) {
			tenants, users := countAll()
			email := "founder-" + testserver.RandomHex(4) + "@example.com"
			var out struct{ CreateTenant struct{ ID, Name string } }
			f.do(t, f.super, createTenant, map[string]any{"in": map[string]any{
				"name": "  Delta Haulage ", "adminEmail": email, "adminPassword": testserver.Password}}).Decode(t, &out)
			require.Equal(t, "Delta Haulage", out.CreateTenant.Name)
			gotTenants, gotUsers := countAll()
			require.Equal(t, [2]int{tenants + 1, users + 1}, [2]int{gotTenants, gotUsers})

			token := f.api.Login(t, email, testserver.Password)
			var me struct {
				Me struct {
					Role   string
					Tenant struct{ ID string }
				}
			}
			f.api.Do(t, token, `{ me { role tenant { id } } }`, nil).Decode(t, &me)
			require.Equal(t, "ADMIN", me.Me.Role)
			require.Equal(t, out.CreateTenant.ID, me.Me.Tenant.ID)
		})

		t.Run("createTenant/ErrConcurrentSameEmail", func(t *testing.T) {
			// Racing requests may all pass the up-front check; the unique index decides,
			// and the losers' transactions leave no tenant behind.
			tenants, users := countAll()
			email := "race-" + testserver.RandomHex(4) + "@example.com"
			const racers = 4
			codes := make([]string, racers)
			var wg sync.WaitGroup
			for i := range racers {
				wg.Go(func() {
					r := f.do(t, f.super, createTenant, map[string]any{"in": map[string]any{
						"name": fmt.Sprintf("Race %d", i), "adminEmail": email, "adminPassword": testserver.Password}})
					codes[i] = r.Code()
				})
			}
			wg.Wait()
			slices.Sort(codes)
			require.Equal(t, []string{"", graph.CodeConflict, graph.CodeConflict, graph.CodeConflict}, codes)
			gotTenants, gotUsers := countAll()
			require.Equal(t, [2]int{tenants + 1, users + 1}, [2]int{gotTenants, gotUsers})
		})
	})
}

func TestDeleteIntegration(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		doomed := f.api.CreateIntegration(t, f.admin.Token, nil)
		kept := f.api.CreateIntegration(t, f.admin.Token, nil)
		logs := make([]testserver.SyncLog, 30)
		for i := range logs {
			logs[i] = testserver.SyncLog{StartedAt: time.Now().Add(-time.Duration(i) * time.Minute), Duration: time.Second}
		}
		f.api.SeedSyncLogs(t, doomed, logs...)
		f.api.SeedSyncLogs(t, kept, logs[:10]...)
		const del = `mutation($id: ID!) { deleteIntegration(id: $id) }`

		var out struct{ DeleteIntegration bool }
		f.do(t, f.admin, del, map[string]any{"id": doomed}).Decode(t, &out)
		require.True(t, out.DeleteIntegration)

		require.Zero(t, testdb.Count(t, s, "SELECT count(*) FROM integrations WHERE id = ?", doomed))
		require.Zero(t, testdb.Count(t, s, "SELECT count(*) FROM sync_logs WHERE integration_id = ?", doomed), "orphaned sync logs")
		require.Zero(t, testdb.Count(t, s, "SELECT count(*) FROM sync_logs l WHERE NOT EXISTS (SELECT 1 FROM integrations i WHERE i.id = l.integration_id)"))
		require.Equal(t, 10, testdb.Count(t, s, "SELECT count(*) FROM sync_logs WHERE integration_id = ?", kept))

		for _, q := range []string{del, `query($id: ID!) { integration(id: $id) { id } }`, `query($id: ID!) { syncHistory(integrationId: $id) { id } }`} {
			requireCode(t, f.do(t, f.admin, q, map[string]any{"id": doomed}), graph.CodeNotFound)
		}
		requireCode(t, f.do(t, f.admin, del, map[string]any{"id": "not-a-uuid"}), graph.CodeNotFound)
	})
}

func TestRequestLimits(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		f.api.CreateIntegration(t, f.admin.Token, nil)
		// nest is an integrations query nested depth levels deep, through history and
		// integration fields in turn.
		nest := func(depth int) string {
			wrappers := make([]string, depth-2)
			for i := range wrappers {
				wrappers[i] = "history(limit: 1)"
				if i%2 == 1 {
					wrappers[i] = "integration"
				}
			}
			q := "id"
			for _, w := range slices.Backward(wrappers) {
				q = w + " { " + q + " }"
			}
			return "{ integrations { " + q + " } }"
		}
		tests := []struct {
			name, query, want string
		}{
			{"OKDepth10", nest(graph.MaxDepth), ""},
			{"ErrDepth11", nest(graph.MaxDepth + 1), graph.CodeBadUserInput},
			{"ErrDepthThroughFragments", `{ integrations { ...A } }
				fragment A on Integration { history(limit: 1) { ...B } }
				fragment B on SyncLog { integration { history(limit: 1) { integration { history(limit: 1) { integration { history(limit: 1) { integration { history(limit: 1) { id } } } } } } } } }`,
				graph.CodeBadUserInput},
			{"ErrFragmentCycle", `{ integrations { ...A } } fragment A on Integration { history { integration { ...A } } }`, graph.CodeBadUserInput},
			{"ErrTooComplex", `{ integrations { history(limit: 500) { integration { history(limit: 500) { integration { history(limit: 500) { id } } } } } } }`, graph.CodeBadUserInput},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := f.do(t, f.admin, tt.query, nil)
				requireCode(t, r, tt.want)
				if tt.want != "" {
					require.JSONEq(t, `null`, cmp.Or(string(r.Data), "null"), "refused before running")
				}
			})
		}

		// body wraps a createUser mutation in enough spaces to make the body size bytes.
		body := func(t *testing.T, email string, size int) []byte {
			t.Helper()
			q := fmt.Sprintf(`mutation { createUser(input: {email: %q, password: %q, role: DISPATCHER}) { id } }`, email, testserver.Password)
			b, err := json.Marshal(map[string]any{"query": q})
			require.NoError(t, err)
			pad := size - len(b)
			require.Positive(t, pad)
			b, err = json.Marshal(map[string]any{"query": q + strings.Repeat(" ", pad)})
			require.NoError(t, err)
			require.Len(t, b, size)
			return b
		}
		t.Run("OKBodyOf1MiB", func(t *testing.T) {
			email := "fits-" + testserver.RandomHex(4) + "@example.com"
			r := f.api.Post(t, f.admin.Token, body(t, email, graph.MaxBodyBytes))
			requireCode(t, r, "")
			require.Equal(t, 1, testdb.Count(t, s, "SELECT count(*) FROM users WHERE email = ?", email))
		})
		t.Run("ErrBodyOver1MiB", func(t *testing.T) {
			email := "huge-" + testserver.RandomHex(4) + "@example.com"
			r := f.api.Post(t, f.admin.Token, body(t, email, graph.MaxBodyBytes+1))
			require.Equal(t, http.StatusRequestEntityTooLarge, r.Status, "body: %s", r.Body)
			require.Equal(t, graph.CodeBadUserInput, r.Code())
			require.Contains(t, r.Message(), "larger than")
			require.Zero(t, testdb.Count(t, s, "SELECT count(*) FROM users WHERE email = ?", email))
		})
	})
}

// TestCodedErrorMessages: errors coded by other packages (the sync engine's) keep
// their own words, without gqlgen's "input:line:col: path" prefix.
func TestCodedErrorMessages(t *testing.T) {
	t.Parallel()
	f := setup(t, testdb.Open(t, testdb.SQLite))
	f.api.CreateIntegration(t, f.admin.Token, nil) // a HOS integration: the lookup reaches the engine
	r := f.do(t, f.dispatcher, `{ driverHOS(driverId: "nope") { driverId } }`, nil)
	requireCode(t, r, graph.CodeNotFound)
	require.True(t, strings.HasPrefix(r.Message(), "no HOS data for driver nope"), "message: %q", r.Message())
}
