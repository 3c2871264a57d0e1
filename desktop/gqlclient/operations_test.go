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

// contract is the repository's copy of the public API the desktop is written against.
const contract = "../../graph/contract/schema.graphql"

// TestOperationsMatchContract validates every operation in operations/*.graphql
// against the contract, so a change of either fails here rather than at run time.
func TestOperationsMatchContract(t *testing.T) {
	t.Parallel()
	sdl, err := os.ReadFile(contract)
	require.NoError(t, err)
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: contract, Input: string(sdl)})
	require.Nil(t, gerr, "contract: %v", gerr)

	files, err := filepath.Glob("operations/*.graphql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var all bytes.Buffer
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		all.Write(b)
		all.WriteString("\n")
	}
	// One document: fragments are shared between files, as genqlient shares them.
	doc, errs := gqlparser.LoadQueryWithRules(schema, all.String(), nil) // nil: the default rules
	require.Empty(t, errs, "operations do not match the contract: %v", errs)

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
	}, got)
}

// TestGeneratedIsUpToDate regenerates the client in memory: generated.go must be what
// `go generate ./desktop/gqlclient` writes from the operations and the contract.
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
