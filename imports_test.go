package sally_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/sallyhq/sally"

// rules reads the dependency map from doc.go: "folder: dep, dep — reason" lines.
func rules(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("doc.go")
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "// # Dependencies") {
			in = true
			continue
		}
		if !in || !strings.HasPrefix(line, "//\t") {
			continue
		}
		rule, _, _ := strings.Cut(strings.TrimPrefix(line, "//\t"), " — ")
		folder, deps, ok := strings.Cut(rule, ":")
		require.True(t, ok, "doc.go: a dependency line without a colon: %q", line)
		out[folder] = nil
		for d := range strings.SplitSeq(deps, ",") {
			if d = strings.TrimSpace(d); d != "" && d != "(none)" {
				out[folder] = append(out[folder], d)
			}
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, out, "doc.go has no dependency map")
	return out
}

// folderOf is the entry of the map a package belongs to: the longest folder named
// in the map that contains it.
func folderOf(rel string, m map[string][]string) string {
	best := ""
	for f := range m {
		if (rel == f || strings.HasPrefix(rel, f+"/")) && len(f) > len(best) {
			best = f
		}
	}
	return best
}

// TestImportsFollowTheMap fails when a package imports one of this module's
// packages that doc.go's dependency map does not allow.
func TestImportsFollowTheMap(t *testing.T) {
	t.Parallel()
	m := rules(t)
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "./...")
	out, err := cmd.Output()
	require.NoError(t, err)
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if rel == "" {
			continue // this package: doc.go and this test
		}
		from := folderOf(rel, m)
		require.NotEmpty(t, from, "package %s is in no folder of doc.go's dependency map", p.ImportPath)
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to := folderOf(strings.TrimPrefix(imp, module+"/"), m)
			if to == from || strings.HasPrefix(to, from+"/") {
				continue // its own folder and subfolders
			}
			require.True(t, slices.Contains(m[from], to),
				"%s imports %s: doc.go's dependency map does not allow %s → %s (add the arrow there, with its reason, or invert it)",
				p.ImportPath, imp, from, to)
		}
	}
}

// TestMapCoversEveryFolder fails when a top-level folder is missing from doc.go's
// dependency map (or the map names one that is gone).
func TestMapCoversEveryFolder(t *testing.T) {
	t.Parallel()
	m := rules(t)
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		covered := false
		for f := range m {
			covered = covered || f == e.Name() || strings.HasPrefix(f, e.Name()+"/")
		}
		require.True(t, covered, "folder %s/ is not in doc.go's dependency map", e.Name())
	}
	for f := range m {
		_, err := os.Stat(f)
		require.NoError(t, err, "doc.go's dependency map names %s, which does not exist", f)
	}
}
