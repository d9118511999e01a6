package guardfiber

import (
	"sync"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"

	"github.com/guardsdk/guard/internal/fiberroute"
)

// routes finds the route a request will run before any handler runs.
// Fiber matches routes in registration order as c.Next() walks the stack,
// and during middleware c.Route() is the middleware's own route, so the
// template cannot be read from the context. Instead the middleware keeps a
// table of the app's routes that are not middleware (App.GetRoutes(true)),
// per method in fiber's order, and reports the first one whose pattern
// matches: the route fiber will run unless a middleware answers first. No
// match (fiber's 404 and 405) is "", guard.RouteUnmatched. The table is
// rebuilt when App.HandlersCount changes, that is when routes are added.
type routes struct {
	mu    sync.Mutex
	table atomic.Pointer[routeTable]
}

type routeTable struct {
	app           *fiber.App
	handlers      uint32
	caseSensitive bool
	strict        bool
	cfg           []fiber.Config // for RoutePatternMatch
	byMethod      map[string][]tableEntry
}

type tableEntry struct {
	template string // the path the route was registered with
	m        fiberroute.Matcher
}

// route returns the template of the route c will run, or "".
func (rs *routes) route(c *fiber.Ctx) string {
	app := c.App()
	t := rs.table.Load()
	if t == nil || t.app != app || t.handlers != app.HandlersCount() {
		t = rs.build(app)
	}
	return t.lookup(c.Method(), c.Path())
}

func (rs *routes) build(app *fiber.App) *routeTable {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	n := app.HandlersCount()
	if t := rs.table.Load(); t != nil && t.app == app && t.handlers == n {
		return t
	}
	cfg := app.Config()
	t := &routeTable{
		app:           app,
		handlers:      n,
		caseSensitive: cfg.CaseSensitive,
		strict:        cfg.StrictRouting,
		cfg:           []fiber.Config{{CaseSensitive: cfg.CaseSensitive, StrictRouting: cfg.StrictRouting}},
		byMethod:      make(map[string][]tableEntry),
	}
	for _, r := range app.GetRoutes(true) {
		t.byMethod[r.Method] = append(t.byMethod[r.Method], tableEntry{
			template: r.Path,
			m:        fiberroute.Compile(r.Path, t.caseSensitive, t.strict),
		})
	}
	rs.table.Store(t)
	return t
}

func (t *routeTable) lookup(method, path string) string {
	d := fiberroute.DetectionPath(path, t.strict)
	for i := range t.byMethod[method] {
		e := &t.byMethod[method][i]
		if e.m.Kind == fiberroute.KindFallback {
			if fiber.RoutePatternMatch(d, e.template, t.cfg...) {
				return e.template
			}
		} else if e.m.Match(d, t.caseSensitive) {
			return e.template
		}
	}
	return ""
}
