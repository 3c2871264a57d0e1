package web_test

import (
	"os"
	"regexp"
	"testing"
)

// TestStyleBlocksClose checks that every block of style.css is closed where it should
// be: a lost "}" (easy to drop when two changes to the stylesheet are merged) nests
// everything after it in the block before, e.g. a narrow-screen @media rule, and the
// page silently loses those styles on every other screen.
func TestStyleBlocksClose(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	css := regexp.MustCompile(`(?s)/\*.*?\*/|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`).ReplaceAllString(string(b), "")
	depth, line := 0, 1
	for _, c := range css {
		switch c {
		case '\n':
			line++
		case '{':
			depth++
			if depth > 2 {
				t.Fatalf("style.css: a block three deep near line %d (comments removed): a \"}\" is missing above", line)
			}
		case '}':
			depth--
			if depth < 0 {
				t.Fatalf("style.css: a \"}\" without its block near line %d (comments removed)", line)
			}
		}
	}
	if depth != 0 {
		t.Fatalf("style.css: %d block(s) never closed", depth)
	}
}
