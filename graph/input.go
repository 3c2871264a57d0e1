package graph

import (
	"context"

	"sort"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// multilineArguments are the free-text arguments in which tab and newline are text;
// in every other string (names, emails, keys, ids, passwords) they are refused too.
var multilineArguments = map[string]bool{"reason": true}

// checkArguments refuses a root field whose arguments hold a string with a NUL or
// another control character (tab and newline are allowed in free text), before
// anything runs: such strings are never meant, break PostgreSQL's text type (NUL) and
// forge log lines. The error names the argument, e.g. "input.displayName".
func checkArguments(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc := graphql.GetRootFieldContext(ctx)
	oc := graphql.GetOperationContext(ctx)
	if fc == nil || oc == nil || len(fc.Field.Arguments) == 0 {
		return next(ctx)
	}
	if name := badString(fc.Field.ArgumentMap(oc.Variables), ""); name != "" {
		e := badInput("%s must not contain control characters", name)
		graphql.AddError(ctx, &gqlerror.Error{Err: e, Message: e.Message, Path: ast.Path{ast.PathName(fc.Field.Alias)}})
		return graphql.Null
	}
	return next(ctx)
}

// badString returns the name of the first string in v (an argument's raw value: a
// string, a list or an input object) with a control character it must not hold, ""
// when there is none.
func badString(v any, name string) string {
	switch v := v.(type) {
	case string:
		if hasControl(v, multilineArguments[lastName(name)]) {
			return name
		}
	case []any:
		for i, e := range v {
			if n := badString(e, name+"["+strconv.Itoa(i)+"]"); n != "" {
				return n
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys) // the same argument is named every time
		for _, k := range keys {
			n := k
			if name != "" {
				n = name + "." + k
			}
			if n := badString(v[k], n); n != "" {
				return n
			}
		}
	}
	return ""
}

func lastName(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '.' {
			return name[i+1:]
		}
	}
	return name
}

// hasControl tells whether s holds a C0 or C1 control character or DEL; tab and
// newline are allowed when multiline.
func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			if !multiline {
				return true
			}
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
			return true
		}
	}
	return false
}
