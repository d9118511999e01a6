package guardecho

import (
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// refreshEvery bounds how often a route set is rebuilt when a lookup
// suggests it is stale, so that a stream of unmatched requests cannot make
// every request pay for echo's Routes().
const refreshEvery = time.Second

// routeSets tells real route matches from the matches echo reports for
// routes registered with RouteNotFound (which Group.Use also registers).
// Echo's router reports such a route's path from c.Path() like any other,
// so the middleware keeps, per echo Router, the set of registered
// method+path pairs and the set of RouteNotFound paths, built from
// Router.Routes() on first use and rebuilt (at most once per refreshEvery)
// when a lookup finds a path it does not know or a RouteNotFound path.
type routeSets struct {
	mu   sync.Mutex // serialises rebuilds
	sets atomic.Pointer[map[*echo.Router]*routeSet]
}

type routeSet struct {
	built    time.Time
	methods  map[string]map[string]struct{} // path → methods registered
	notFound map[string]struct{}            // paths registered with RouteNotFound
}

// route returns the route template for c, or "" when no route matched.
func (rs *routeSets) route(c echo.Context) string {
	p := c.Path()
	if p == "" || c.Get(echo.ContextKeyHeaderAllow) != nil {
		// No match at all, or echo's 405 (and automatic OPTIONS) answer,
		// which reports the path of the route registered for other methods.
		return ""
	}
	if h := reflect.ValueOf(c.Handler()).Pointer(); h == reflect.ValueOf(echo.NotFoundHandler).Pointer() ||
		h == reflect.ValueOf(echo.MethodNotAllowedHandler).Pointer() {
		return ""
	}
	rt := router(c.Echo(), c.Request().Host)
	if rt == nil {
		return p
	}
	method := c.Request().Method
	s := rs.set(rt, false)
	v := s.lookup(p, method)
	if v != matched && time.Since(s.built) >= refreshEvery {
		s = rs.set(rt, true)
		v = s.lookup(p, method)
	}
	if v == notFound {
		return ""
	}
	// matched, or a path the set does not know (registered with
	// Router.Add, which Routes does not list): trust the router.
	return p
}

const (
	unknown = iota
	matched
	notFound
)

func (s *routeSet) lookup(path, method string) int {
	if _, ok := s.methods[path][method]; ok {
		return matched
	}
	if _, ok := s.notFound[path]; ok {
		return notFound
	}
	return unknown
}

// router mirrors echo's choice of router for a request's host.
func router(e *echo.Echo, host string) *echo.Router {
	if e == nil {
		return nil
	}
	if rts := e.Routers(); len(rts) > 0 {
		if rt, ok := rts[host]; ok {
			return rt
		}
	}
	return e.Router()
}

// set returns rt's route set, building it when there is none or when
// refresh is set and the current one is older than refreshEvery.
func (rs *routeSets) set(rt *echo.Router, refresh bool) *routeSet {
	if m := rs.sets.Load(); m != nil {
		if s, ok := (*m)[rt]; ok && (!refresh || time.Since(s.built) < refreshEvery) {
			return s
		}
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	old := rs.sets.Load()
	if old != nil {
		if s, ok := (*old)[rt]; ok && (!refresh || time.Since(s.built) < refreshEvery) {
			return s // another request rebuilt it meanwhile
		}
	}
	s := &routeSet{
		built:    time.Now(),
		methods:  make(map[string]map[string]struct{}),
		notFound: make(map[string]struct{}),
	}
	for _, r := range rt.Routes() {
		if r.Method == echo.RouteNotFound {
			s.notFound[r.Path] = struct{}{}
			continue
		}
		ms := s.methods[r.Path]
		if ms == nil {
			ms = make(map[string]struct{})
			s.methods[r.Path] = ms
		}
		ms[r.Method] = struct{}{}
	}
	m := make(map[*echo.Router]*routeSet)
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	m[rt] = s
	rs.sets.Store(&m)
	return s
}
