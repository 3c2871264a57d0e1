package gqlclient_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/Khan/genqlient/generate"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// contract is the repository's copy of the public API the desktop is written against;
// additions is the server's additions to it, which only the operations of
// additionsOps may use (the desktop works without them).
const (
	contract     = "../../graph/contract/schema.graphql"
	additions    = "../../graph/extensions.graphqls"
	additionsOps = "operations/additions.graphql"
)

// TestOperationsMatchContract validates every operation in operations/*.graphql
// against the contract (those of additionsOps against the contract and its
// additions), so a change of either fails here rather than at run time.
func TestOperationsMatchContract(t *testing.T) {
	t.Parallel()
	var sources []*ast.Source
	for _, f := range []string{contract, additions} {
		sdl, err := os.ReadFile(f)
		require.NoError(t, err)
		sources = append(sources, &ast.Source{Name: f, Input: string(sdl)})
	}
	schema, gerr := gqlparser.LoadSchema(sources[0])
	require.Nil(t, gerr, "contract: %v", gerr)
	extended, gerr := gqlparser.LoadSchema(sources...)
	require.Nil(t, gerr, "contract and additions: %v", gerr)

	files, err := filepath.Glob("operations/*.graphql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var all, own bytes.Buffer
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		all.Write(b)
		all.WriteString("\n")
		if filepath.ToSlash(f) != additionsOps {
			own.Write(b)
			own.WriteString("\n")
		}
	}
	// One document: fragments are shared between files, as genqlient shares them.
	_, errs := gqlparser.LoadQueryWithRules(schema, own.String(), nil) // nil: the default rules
	require.Empty(t, errs, "operations do not match the contract: %v", errs)
	doc, errs := gqlparser.LoadQueryWithRules(extended, all.String(), nil)
	require.Empty(t, errs, "operations do not match the contract and its additions: %v", errs)

	got := map[string]ast.Operation{}
	for _, op := range doc.Operations {
		got[op.Name] = op.Operation
	}
	require.Equal(t, map[string]ast.Operation{
		"Login":           ast.Mutation,
		"Me":              ast.Query,
		"Integrations":    ast.Query,
		"Integration":     ast.Query,
		"SyncHistory":     ast.Query,
		"TestIntegration": ast.Mutation,
		"SyncIntegration": ast.Mutation,
		"SyncLogDetail":   ast.Query,
		"SyncEvents":      ast.Subscription,
		// The fleet views (fleet.graphql).
		"Drivers":                ast.Query,
		"Loads":                  ast.Query,
		"FuelNear":               ast.Query,
		"WeatherAt":              ast.Query,
		"OverrideDriverHOS":      ast.Mutation,
		"ClearDriverHOSOverride": ast.Mutation,
		// Additions (additions.graphql).
		"Vendors":    ast.Query,
		"DriverPage": ast.Query,
	}, got)
}

// TestGeneratedIsUpToDate regenerates the client in memory: generated.go must be what
// `go generate ./desktop/gqlclient` writes from the operations and the contract (and
// its additions).
func TestGeneratedIsUpToDate(t *testing.T) {
	t.Parallel()
	cfg, err := generate.ReadAndValidateConfig("genqlient.yaml")
	require.NoError(t, err)
	out, err := generate.Generate(cfg)
	require.NoError(t, err)
	gen, ok := out[cfg.Generated]
	require.True(t, ok, "genqlient wrote %v, not %s", keys(out), cfg.Generated)
	have, err := os.ReadFile("generated.go")
	require.NoError(t, err)
	require.True(t, bytes.Equal(gen, have), "generated.go is out of date: run go generate ./desktop/gqlclient")
}

func keys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
