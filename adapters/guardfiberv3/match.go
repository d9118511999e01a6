package guardfiberv3

// This file is kept identical, but for the package clause, in guardfiber
// and guardfiberv3 (a test in guardfiberv3 checks it): fiber v2 and v3
// share their routing rules, and neither exports a way to ask which route
// a request will match before its handlers run.

import "strings"

// matcher decides whether a request path matches one registered fiber
// route, following fiber's router: the route's path is lowercased unless
// the app is case sensitive and loses its trailing slashes unless routing
// is strict, and a request's detection path is the request path treated
// the same way. The common forms (static paths, "/*", and whole-segment
// ":name" parameters) are compiled here and match without allocating;
// any other form (optional, greedy and constrained parameters, several
// parameters in one segment, escapes) is handed to fiber's own
// RoutePatternMatch, exact but slower.
type matcher struct {
	kind  matchKind
	exact string    // kindExact: the prettified path
	segs  []segment // kindSegments: the path's segments after the first "/"
}

type matchKind uint8

const (
	kindFallback matchKind = iota // fiber.RoutePatternMatch decides
	kindExact
	kindStar
	kindSegments
)

type segment struct {
	lit   string // lowercased unless case sensitive
	param bool
}

// compileMatcher compiles the registered route path raw.
func compileMatcher(raw string, caseSensitive, strict bool) matcher {
	if raw == "" {
		raw = "/"
	}
	if raw[0] != '/' {
		raw = "/" + raw
	}
	pretty := raw
	if !caseSensitive {
		pretty = lowerASCII(pretty)
	}
	if !strict && len(pretty) > 1 {
		pretty = strings.TrimRight(pretty, "/")
	}
	switch {
	case pretty == "/*":
		return matcher{kind: kindStar}
	case pretty == "" || strings.IndexByte(pretty, '\\') >= 0:
		return matcher{}
	case !strings.ContainsAny(pretty, ":+*"):
		return matcher{kind: kindExact, exact: pretty}
	}
	parts := strings.Split(pretty[1:], "/")
	segs := make([]segment, len(parts))
	for i, p := range parts {
		switch {
		case p == "":
			return matcher{}
		case p[0] == ':':
			if !isParamName(p[1:]) {
				return matcher{}
			}
			segs[i].param = true
		case strings.ContainsAny(p, ":+*"):
			return matcher{}
		default:
			segs[i].lit = p
		}
	}
	return matcher{kind: kindSegments, segs: segs}
}

// isParamName reports whether s is a plain parameter name: fiber ends a
// name at any of "?:\\/-." and reads "<" as the start of a constraint, so
// names of letters, digits and "_" are the ones that need no further
// parsing.
func isParamName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// match reports whether the detection path d matches; it reports false
// for kindFallback, which the caller decides.
func (m *matcher) match(d string, caseSensitive bool) bool {
	switch m.kind {
	case kindStar:
		return true
	case kindExact:
		return equal(d, m.exact, caseSensitive)
	case kindSegments:
		if d == "" || d[0] != '/' {
			return false
		}
		rest := d[1:]
		for i := range m.segs {
			part := rest
			j := strings.IndexByte(rest, '/')
			if j >= 0 {
				part, rest = rest[:j], rest[j+1:]
			}
			last := i == len(m.segs)-1
			if (j >= 0) == last {
				return false // more segments than the route, or fewer
			}
			if m.segs[i].param {
				if part == "" {
					return false
				}
			} else if !equal(part, m.segs[i].lit, caseSensitive) {
				return false
			}
		}
		return true
	}
	return false
}

// detectionPath is the path fiber matches routes against: without its
// trailing slashes unless routing is strict. (Case is handled by equal.)
func detectionPath(path string, strict bool) string {
	if !strict && len(path) > 1 && path[len(path)-1] == '/' {
		return strings.TrimRight(path, "/")
	}
	return path
}

// equal compares a request's s with a route's lowered lit, folding ASCII
// case unless caseSensitive, as fiber lowercases only ASCII.
func equal(s, lit string, caseSensitive bool) bool {
	if caseSensitive || len(s) != len(lit) {
		return s == lit
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lit[i] {
			return false
		}
	}
	return true
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
