package refserver

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// badUTF8 finds the first string of a JSON document (json.Valid has passed)
// that is not valid UTF-8, raw or through a lone surrogate escape
// ("\ud800"), which encoding/json would silently turn into U+FFFD. It
// returns the string's location (body.meta.user; for a member name, the
// object's) and what it is ("the value", "a member name").
func badUTF8(data []byte) (location, what string, bad bool) {
	if utf8.Valid(data) && !bytes.Contains(data, []byte(`\u`)) {
		return "", "", false // the common case: nothing to decode
	}
	type level struct {
		array bool
		index int
		key   string
	}
	var stack []level
	path := func(extra string) string {
		var b strings.Builder
		b.WriteString("body")
		for _, l := range stack {
			b.WriteByte('.')
			if l.array {
				b.WriteString(strconv.Itoa(l.index))
			} else {
				b.WriteString(l.key)
			}
		}
		if extra != "" {
			b.WriteString("." + extra)
		}
		return b.String()
	}
	expectKey := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '{':
			stack = append(stack, level{})
			expectKey = true
		case '[':
			stack = append(stack, level{array: true})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if top := len(stack) - 1; top >= 0 {
				if stack[top].array {
					stack[top].index++
				} else {
					expectKey = true
				}
			}
		case '"':
			end, s, ok := scanJSONString(data, i)
			if expectKey {
				expectKey = false
				if !ok {
					stack = stack[:len(stack)-1] // the object's location, not a member's
					return path(""), "a member name", true
				}
				stack[len(stack)-1].key = s
			} else if !ok {
				return path(""), "the value", true
			}
			i = end
		}
	}
	return "", "", false
}

// scanJSONString reads the string starting at data[start] (a quote) and
// returns the index of its closing quote, its text (when valid) and
// whether it is valid UTF-8 with no lone surrogate.
func scanJSONString(data []byte, start int) (end int, text string, ok bool) {
	var b strings.Builder
	ok = true
	for i := start + 1; i < len(data); {
		c := data[i]
		switch {
		case c == '"':
			return i, b.String(), ok
		case c == '\\':
			if i+1 >= len(data) {
				return len(data) - 1, "", false
			}
			if data[i+1] != 'u' {
				b.WriteByte(data[i+1]) // enough to name a member; its escapes are rare
				i += 2
				continue
			}
			r, n := surrogateAware(data[i:])
			if r < 0 {
				ok = false
			} else {
				b.WriteRune(r)
			}
			i += n
		default:
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				ok = false
			} else {
				b.Write(data[i : i+n])
			}
			i += n
		}
	}
	return len(data) - 1, "", false
}

// surrogateAware decodes a \uXXXX escape at p (with a following low
// surrogate's escape for a high one): the rune and the bytes it took, or
// -1 for a lone surrogate.
func surrogateAware(p []byte) (rune, int) {
	hex := func(q []byte) rune {
		if len(q) < 6 || q[0] != '\\' || q[1] != 'u' {
			return -1
		}
		v, err := strconv.ParseUint(string(q[2:6]), 16, 16)
		if err != nil {
			return -1
		}
		return rune(v)
	}
	r := hex(p)
	switch {
	case r < 0:
		return -1, 2
	case r >= 0xDC00 && r <= 0xDFFF: // a low surrogate first
		return -1, 6
	case r >= 0xD800 && r <= 0xDBFF:
		lo := hex(p[6:])
		if lo < 0xDC00 || lo > 0xDFFF {
			return -1, 6
		}
		return (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000, 12
	}
	return r, 6
}
