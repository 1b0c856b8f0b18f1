package main

import (
	"fmt"
	"reflect"
	"strings"
)

// match reports how actual fails expect (README "Observations": expect is a
// subset of the normalized observation). Objects match recursively on the
// members expect names; a list must match in full, element by element,
// unless expect is {"$len": N} (the length alone) or {"$contains": [...]}
// (each expected element matches some element, in any order). A null in
// expect matches an absent member. An empty result means it matches.
func match(expect, actual any, path string) []string {
	if m, ok := expect.(map[string]any); ok && len(m) == 1 {
		if n, ok := m["$len"]; ok {
			l, isList := actual.([]any)
			switch {
			case !isList:
				return []string{fmt.Sprintf("%s: want a list of %v, got %s", path, n, short(actual))}
			case float64(len(l)) != n:
				return []string{fmt.Sprintf("%s: want %v items, got %d", path, n, len(l))}
			}
			return nil
		}
		if want, ok := m["$contains"]; ok {
			return matchContains(want, actual, path)
		}
	}
	switch e := expect.(type) {
	case map[string]any:
		a, ok := actual.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %s", path, short(actual))}
		}
		var out []string
		for _, k := range sortedKeys(e) {
			sub := join(path, k)
			av, present := a[k]
			if e[k] == nil {
				if present && av != nil {
					out = append(out, fmt.Sprintf("%s: want it absent, got %s", sub, short(av)))
				}
				continue
			}
			if !present {
				out = append(out, fmt.Sprintf("%s: want %s, got nothing", sub, short(e[k])))
				continue
			}
			out = append(out, match(e[k], av, sub)...)
		}
		return out
	case []any:
		a, ok := actual.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want a list, got %s", path, short(actual))}
		}
		if len(a) != len(e) {
			return []string{fmt.Sprintf("%s: want %d items %s, got %d %s", path, len(e), short(e), len(a), short(a))}
		}
		var out []string
		for i := range e {
			out = append(out, match(e[i], a[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	if !reflect.DeepEqual(expect, actual) {
		return []string{fmt.Sprintf("%s: want %s, got %s", path, short(expect), short(actual))}
	}
	return nil
}

func matchContains(want, actual any, path string) []string {
	w, ok := want.([]any)
	if !ok {
		return []string{fmt.Sprintf("%s: $contains needs a list", path)}
	}
	a, ok := actual.([]any)
	if !ok {
		return []string{fmt.Sprintf("%s: want a list, got %s", path, short(actual))}
	}
	var out []string
	for i, e := range w {
		found := false
		for _, x := range a {
			if len(match(e, x, "")) == 0 {
				found = true
				break
			}
		}
		if !found {
			out = append(out, fmt.Sprintf("%s: no item matches $contains[%d] %s", path, i, short(e)))
		}
	}
	return out
}

// diff lists where two JSON values differ, one line per difference, each
// naming the path and both values (labelled la and lb).
func diff(a, b any, path, la, lb string) []string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			break
		}
		var out []string
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		for _, k := range sortedKeys(keys) {
			av, aok := x[k]
			bv, bok := y[k]
			sub := join(path, k)
			switch {
			case !aok:
				out = append(out, fmt.Sprintf("%s: %s has nothing, %s has %s", sub, la, lb, short(bv)))
			case !bok:
				out = append(out, fmt.Sprintf("%s: %s has %s, %s has nothing", sub, la, short(av), lb))
			default:
				out = append(out, diff(av, bv, sub, la, lb)...)
			}
		}
		return out
	case []any:
		y, ok := b.([]any)
		if !ok {
			break
		}
		var out []string
		if len(x) != len(y) {
			out = append(out, fmt.Sprintf("%s: %s has %d items, %s has %d", orRoot(path), la, len(x), lb, len(y)))
		}
		for i := range min(len(x), len(y)) {
			out = append(out, diff(x[i], y[i], fmt.Sprintf("%s[%d]", path, i), la, lb)...)
		}
		for i := len(y); i < len(x); i++ {
			out = append(out, fmt.Sprintf("%s[%d]: only %s has %s", path, i, la, short(x[i])))
		}
		for i := len(x); i < len(y); i++ {
			out = append(out, fmt.Sprintf("%s[%d]: only %s has %s", path, i, lb, short(y[i])))
		}
		return out
	}
	if reflect.DeepEqual(a, b) {
		return nil
	}
	return []string{fmt.Sprintf("%s: %s has %s, %s has %s", orRoot(path), la, short(a), lb, short(b))}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "(the whole value)"
	}
	return path
}

// short renders a JSON value on one line, cut to a readable length.
func short(v any) string {
	s := canonical(v)
	const max = 160
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// indent prefixes each line.
func indent(lines []string, prefix string) string {
	return prefix + strings.Join(lines, "\n"+prefix)
}
