package guardfiberv3

import (
	"testing"

	"github.com/gofiber/fiber/v3"

	"github.com/guardsdk/guard/internal/fiberroute"
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
				m := fiberroute.Compile(pat, cs, strict)
				if m.Kind == fiberroute.KindFallback {
					continue
				}
				for _, p := range matchPaths {
					d := fiberroute.DetectionPath(p, strict)
					if d == "" {
						continue // RoutePatternMatch reads "" as "/"; fiber's router does not
					}
					if got, want := m.Match(d, cs), fiber.RoutePatternMatch(d, pat, cfg); got != want {
						t.Errorf("case %v strict %v: %q ~ %q = %v, fiber says %v", cs, strict, p, pat, got, want)
					}
				}
			}
		}
	}
}

func TestCompileMatcher(t *testing.T) {
	for pat, want := range map[string]fiberroute.Kind{
		"/":               fiberroute.KindExact,
		"/*":              fiberroute.KindStar,
		"/notes":          fiberroute.KindExact,
		"/notes/:id":      fiberroute.KindSegments,
		"/:a/:b":          fiberroute.KindSegments,
		"/opt/:a?":        fiberroute.KindFallback,
		"/r/:from-:to":    fiberroute.KindFallback,
		"/n/:n<int>":      fiberroute.KindFallback,
		"/files/*":        fiberroute.KindFallback,
		"/c++":            fiberroute.KindFallback,
		`/esc\:aped`:      fiberroute.KindFallback,
		"/name.:ext":      fiberroute.KindFallback,
		"/notes/:id/edit": fiberroute.KindSegments,
	} {
		if got := fiberroute.Compile(pat, false, false).Kind; got != want {
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
		d := fiberroute.DetectionPath(p, strict)
		if d == "" {
			return
		}
		cfg := fiber.Config{CaseSensitive: cs, StrictRouting: strict}
		for _, pat := range matchPatterns {
			m := fiberroute.Compile(pat, cs, strict)
			if m.Kind == fiberroute.KindFallback {
				continue
			}
			if got, want := m.Match(d, cs), fiber.RoutePatternMatch(d, pat, cfg); got != want {
				t.Errorf("case %v strict %v: %q ~ %q = %v, fiber says %v", cs, strict, p, pat, got, want)
			}
		}
	})
}
