package model_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImports keeps the desktop a client like any other: it speaks GraphQL over the
// network and never links the server's packages.
func TestImports(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "github.com/sallyhq/sally/desktop/...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	const mod = "github.com/sallyhq/sally/"
	allowed := []string{mod + "desktop"}
	for _, pkg := range strings.Fields(string(out)) {
		if !strings.HasPrefix(pkg, mod) {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || pkg == a || strings.HasPrefix(pkg, a+"/")
		}
		require.True(t, ok, "the desktop depends on %s; it may only use its own packages and talk to the server over GraphQL", pkg)
	}
}
