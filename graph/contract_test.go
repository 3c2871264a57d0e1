package graph_test

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// contractPath is the repository's copy of the public contract.
const contractPath = "contract/schema.graphql"

func loadSchema(t *testing.T, name, sdl string) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: name, Input: sdl})
	require.NoError(t, err)
	return s
}

func loadContract(t *testing.T) (*ast.Schema, string) {
	t.Helper()
	b, err := os.ReadFile(contractPath)
	require.NoError(t, err)
	return loadSchema(t, contractPath, string(b)), string(b)
}

// TestContract fails when the served schema lacks, renames or retypes anything the
// contract defines. Additions are allowed, except new required arguments or input
// fields, which would break existing clients just the same.
func TestContract(t *testing.T) {
	t.Parallel()
	contract, _ := loadContract(t)
	problems := compareSchemas(contract, servedSchema())
	require.Empty(t, problems, "the served schema breaks the contract:\n%s", strings.Join(problems, "\n"))
}

// TestContractCheck shows that compareSchemas notices each kind of breaking change.
func TestContractCheck(t *testing.T) {
	t.Parallel()
	contract, sdl := loadContract(t)
	require.Empty(t, compareSchemas(contract, contract))

	tests := []struct {
		name, old, new, want string
	}{
		{"RenamedType", "ConnectionTestResult", "ConnectionCheck", "type ConnectionTestResult is missing"},
		{"RemovedField", "  enabled: Boolean!\n", "", "Integration.enabled is missing"},
		{"RenamedField", "  totalSyncs: Int!", "  total: Int!", "SyncStats.totalSyncs is missing"},
		{"ChangedFieldType", "  successRate: Float!", "  successRate: Float", "SyncStats.successRate: type Float!, served Float"},
		{"RemovedArgument", "syncStats(integrationId: ID!, since: Time)", "syncStats(integrationId: ID!)", "Query.syncStats(since:) is missing"},
		{"ChangedArgumentType", "integration(id: ID!): Integration", "integration(id: String!): Integration", "Query.integration(id:): type ID!, served String!"},
		{"ChangedDefault", "syncHistory(integrationId: ID!, limit: Int = 50", "syncHistory(integrationId: ID!, limit: Int = 20", "Query.syncHistory(limit:): default 50, served 20"},
		{"AddedRequiredArgument", "  me: User!", "  me(tenant: ID!): User!", "Query.me(tenant:) is new and required"},
		{"RemovedEnumValue", "  HALF_OPEN\n", "", "enum CircuitState: value HALF_OPEN is missing"},
		{"RemovedInputField", "  alertWindowMinutes: Int = 60\n", "", "CreateIntegrationInput.alertWindowMinutes is missing"},
		{"AddedRequiredInputField", "input CredentialsInput {\n", "input CredentialsInput {\n  region: String!\n", "CredentialsInput.region is new and required"},
		{"ChangedKind", "input CredentialsInput {", "type CredentialsInput {", "CredentialsInput: kind INPUT_OBJECT, served OBJECT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, sdl, tt.old)
			changed := strings.Replace(sdl, tt.old, tt.new, 1)
			switch tt.name {
			case "RenamedType": // every use too, or the schema does not load
				changed = strings.ReplaceAll(sdl, tt.old, tt.new)
			case "ChangedKind": // an object cannot type an input field
				changed = strings.ReplaceAll(changed, "credentials: CredentialsInput", "credentials: String")
			}
			served := loadSchema(t, "changed.graphql", changed)
			require.Contains(t, compareSchemas(contract, served), tt.want)
		})
	}
}

// compareSchemas lists what of contract is missing or different in served.
func compareSchemas(contract, served *ast.Schema) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	for _, root := range []struct {
		name      string
		want, got *ast.Definition
	}{{"query", contract.Query, served.Query}, {"mutation", contract.Mutation, served.Mutation}, {"subscription", contract.Subscription, served.Subscription}} {
		switch {
		case root.want == nil:
		case root.got == nil:
			add("schema: no %s type", root.name)
		case root.want.Name != root.got.Name:
			add("schema: %s type %s, served %s", root.name, root.want.Name, root.got.Name)
		}
	}

	for _, name := range slices.Sorted(maps.Keys(contract.Types)) {
		want := contract.Types[name]
		if want.BuiltIn {
			continue
		}
		got := served.Types[name]
		if got == nil {
			add("%s %s is missing", kindWord[want.Kind], name)
			continue
		}
		if got.Kind != want.Kind {
			add("%s: kind %s, served %s", name, want.Kind, got.Kind)
			continue
		}
		switch want.Kind {
		case ast.Object, ast.Interface:
			for _, i := range want.Interfaces {
				if !slices.Contains(got.Interfaces, i) {
					add("%s no longer implements %s", name, i)
				}
			}
			for _, wf := range want.Fields {
				if strings.HasPrefix(wf.Name, "__") {
					continue
				}
				gf := got.Fields.ForName(wf.Name)
				if gf == nil {
					add("%s.%s is missing", name, wf.Name)
					continue
				}
				if w, g := wf.Type.String(), gf.Type.String(); w != g {
					add("%s.%s: type %s, served %s", name, wf.Name, w, g)
				}
				for _, wa := range wf.Arguments {
					ga := gf.Arguments.ForName(wa.Name)
					if ga == nil {
						add("%s.%s(%s:) is missing", name, wf.Name, wa.Name)
						continue
					}
					where := fmt.Sprintf("%s.%s(%s:)", name, wf.Name, wa.Name)
					compareValue(add, where, wa.Type, ga.Type, wa.DefaultValue, ga.DefaultValue)
				}
				for _, ga := range gf.Arguments {
					if wf.Arguments.ForName(ga.Name) == nil && ga.Type.NonNull && ga.DefaultValue == nil {
						add("%s.%s(%s:) is new and required", name, wf.Name, ga.Name)
					}
				}
			}
		case ast.InputObject:
			for _, wf := range want.Fields {
				gf := got.Fields.ForName(wf.Name)
				if gf == nil {
					add("%s.%s is missing", name, wf.Name)
					continue
				}
				compareValue(add, name+"."+wf.Name, wf.Type, gf.Type, wf.DefaultValue, gf.DefaultValue)
			}
			for _, gf := range got.Fields {
				if want.Fields.ForName(gf.Name) == nil && gf.Type.NonNull && gf.DefaultValue == nil {
					add("%s.%s is new and required", name, gf.Name)
				}
			}
		case ast.Enum:
			for _, v := range want.EnumValues {
				if got.EnumValues.ForName(v.Name) == nil {
					add("enum %s: value %s is missing", name, v.Name)
				}
			}
		case ast.Union:
			for _, member := range want.Types {
				if !slices.Contains(got.Types, member) {
					add("union %s: member %s is missing", name, member)
				}
			}
		}
	}

	for _, name := range slices.Sorted(maps.Keys(contract.Directives)) {
		if d := contract.Directives[name]; !d.Position.Src.BuiltIn && served.Directives[name] == nil {
			add("directive @%s is missing", name)
		}
	}
	return problems
}

// kindWord is how SDL spells each kind of definition.
var kindWord = map[ast.DefinitionKind]string{
	ast.Scalar: "scalar", ast.Object: "type", ast.Interface: "interface", ast.Union: "union",
	ast.Enum: "enum", ast.InputObject: "input",
}

// compareValue compares the type and default of an argument or input field.
func compareValue(add func(string, ...any), where string, wantType, gotType *ast.Type, wantDefault, gotDefault *ast.Value) {
	if w, g := wantType.String(), gotType.String(); w != g {
		add("%s: type %s, served %s", where, w, g)
	}
	if w, g := valueString(wantDefault), valueString(gotDefault); w != g {
		add("%s: default %s, served %s", where, w, g)
	}
}

func valueString(v *ast.Value) string {
	if v == nil {
		return "(none)"
	}
	return v.String()
}
