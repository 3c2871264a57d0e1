package graph_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent/user"
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
	"github.com/sallyhq/sally/store"
)

// A token outlives changes to its user: deactivation, deletion and a new role must
// take effect on the next request (here with no cache), not when the token expires.
func TestTokenFollowsItsUser(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		api := testserver.New(t, s, testserver.WithDeps(func(d *graph.Deps) { d.ViewerTTL = -1 }))
		tenantID, _ := api.SeedTenant(t, "Acme Freight")
		const usersQuery = `{ users { email } }`

		t.Run("ErrDeactivated", func(t *testing.T) {
			u := api.SeedUser(t, tenantID, auth.RoleAdmin)
			requireCode(t, api.Do(t, u.Token, usersQuery, nil), "")
			api.Store.Client.User.UpdateOneID(uuid.MustParse(u.ID)).SetIsActive(false).ExecX(testserver.System())
			r := api.Do(t, u.Token, usersQuery, nil)
			requireCode(t, r, graph.CodeUnauthenticated)
			require.Contains(t, r.Message(), "disabled")
		})
		t.Run("ErrDeleted", func(t *testing.T) {
			u := api.SeedUser(t, tenantID, auth.RoleDispatcher)
			api.Store.Client.User.DeleteOneID(uuid.MustParse(u.ID)).ExecX(testserver.System())
			requireCode(t, api.Do(t, u.Token, `{ integrations { id } }`, nil), graph.CodeUnauthenticated)
		})
		t.Run("RoleChangeApplies", func(t *testing.T) {
			u := api.SeedUser(t, tenantID, auth.RoleAdmin)
			requireCode(t, api.Do(t, u.Token, usersQuery, nil), "")
			api.Store.Client.User.UpdateOneID(uuid.MustParse(u.ID)).SetRole(user.RoleDISPATCHER).ExecX(testserver.System())
			requireCode(t, api.Do(t, u.Token, usersQuery, nil), graph.CodeForbidden)
		})
	})
}

// A body that is not a GraphQL request is the client's mistake, not ours.
func TestMalformedBody(t *testing.T) {
	t.Parallel()
	api := testserver.New(t, testdb.Open(t, "sqlite"))
	for _, body := range []string{`notjson`, `{"query": 5}`, `[]`} {
		r := api.Post(t, "", []byte(body))
		requireCode(t, r, graph.CodeBadUserInput)
	}
}
