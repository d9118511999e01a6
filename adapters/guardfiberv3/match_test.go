package guardfiberv3

import (
	"bytes"
	"os"
	"testing"

	"github.com/gofiber/fiber/v3"
)

var matchPatterns = []string{
	"/", "/*", "/notes", "/notes/", "/Notes/:id", "/notes/:id/edit", "/:a/:b",
	"/a/:x/b", "/files/*", "/opt/:a?", "/v1.0/:id", "/a-b/:id_2",
}

var matchPaths = []string{
	"/", "/notes", "/notes/", "/NOTES", "/notes/1", "/notes/1/", "/Notes/1/edit",
	"/notes/1/edit/", "/notes//edit", "/notes/1/2", "/a/x/b", "/a/x/bc", "/a//b",
	"/x/y", "/x/y/z", "/files/a", "/v1.0/7", "/V1.0/7", "/a-b/1", "//", "/é/1",
}

// TestMatcherAgreesWithFiber checks every compiled matcher against fiber's
// own RoutePatternMatch under each routing option.
func TestMatcherAgreesWithFiber(t *testing.T) {
	for _, cs := range []bool{false, true} {
		for _, strict := range []bool{false, true} {
			cfg := fiber.Config{CaseSensitive: cs, StrictRouting: strict}
			for _, pat := range matchPatterns {
				m := compileMatcher(pat, cs, strict)
				if m.kind == kindFallback {
					continue
				}
				for _, p := range matchPaths {
					d := detectionPath(p, strict)
					if d == "" {
						continue // RoutePatternMatch reads "" as "/"; fiber's router does not
					}
					if got, want := m.match(d, cs), fiber.RoutePatternMatch(d, pat, cfg); got != want {
						t.Errorf("case %v strict %v: %q ~ %q = %v, fiber says %v", cs, strict, p, pat, got, want)
					}
				}
			}
		}
	}
}

func TestCompileMatcher(t *testing.T) {
	for pat, want := range map[string]matchKind{
		"/":               kindExact,
		"/*":              kindStar,
		"/notes":          kindExact,
		"/notes/:id":      kindSegments,
		"/:a/:b":          kindSegments,
		"/opt/:a?":        kindFallback,
		"/r/:from-:to":    kindFallback,
		"/n/:n<int>":      kindFallback,
		"/files/*":        kindFallback,
		"/c++":            kindFallback,
		`/esc\:aped`:      kindFallback,
		"/name.:ext":      kindFallback,
		"/notes/:id/edit": kindSegments,
	} {
		if got := compileMatcher(pat, false, false).kind; got != want {
			t.Errorf("%q compiled to kind %d, want %d", pat, got, want)
		}
	}
}

// FuzzMatcher compares the compiled matchers with fiber on arbitrary
// paths.
func FuzzMatcher(f *testing.F) {
	for _, p := range matchPaths {
		f.Add(p, false, false)
	}
	f.Fuzz(func(t *testing.T, p string, cs, strict bool) {
		if p == "" || p[0] != '/' {
			return
		}
		d := detectionPath(p, strict)
		if d == "" {
			return
		}
		cfg := fiber.Config{CaseSensitive: cs, StrictRouting: strict}
		for _, pat := range matchPatterns {
			m := compileMatcher(pat, cs, strict)
			if m.kind == kindFallback {
				continue
			}
			if got, want := m.match(d, cs), fiber.RoutePatternMatch(d, pat, cfg); got != want {
				t.Errorf("case %v strict %v: %q ~ %q = %v, fiber says %v", cs, strict, p, pat, got, want)
			}
		}
	})
}

// TestMatchFileInSync checks that match.go is the same as guardfiber's,
// but for the package clause.
func TestMatchFileInSync(t *testing.T) {
	v2, err := os.ReadFile("../guardfiber/match.go")
	if err != nil {
		t.Skipf("guardfiber not alongside: %v", err)
	}
	v3, err := os.ReadFile("match.go")
	if err != nil {
		t.Fatal(err)
	}
	v2 = bytes.Replace(v2, []byte("package guardfiber\n"), []byte("package guardfiberv3\n"), 1)
	if !bytes.Equal(v2, v3) {
		t.Fatal("match.go differs from ../guardfiber/match.go; keep them identical")
	}
}
