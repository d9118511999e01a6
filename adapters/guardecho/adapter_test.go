package guardecho_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/adapters/adaptertest"
	"github.com/guardsdk/guard/adapters/guardecho"
)

// echoPath translates the suite's "{name}" parameters to echo's ":name".
func echoPath(p string) string {
	return strings.NewReplacer("{", ":", "}", "").Replace(p)
}

func newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	return e
}

func serveEcho(t *testing.T, g *guard.Guard, routes []adaptertest.Route) string {
	t.Helper()
	e := newEcho()
	e.Use(guardecho.New(g))
	for _, rt := range routes {
		h := rt.Handle
		e.Add(rt.Method, echoPath(rt.Path), func(c echo.Context) error {
			body, _ := io.ReadAll(c.Request().Body)
			status, resp := h(c.Request().Context(), body)
			return c.Blob(status, echo.MIMEApplicationJSON, resp)
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

func TestAdapterConformance(t *testing.T) {
	adaptertest.Run(t, adaptertest.Adapter{
		Serve:    serveEcho,
		Template: func(_, path string) string { return echoPath(path) },
	})
}

// sink records request_done events.
type sink struct {
	mu  sync.Mutex
	evs []guard.Event
	ch  chan struct{}
}

func (s *sink) HandleEvent(ev guard.Event) {
	s.mu.Lock()
	s.evs = append(s.evs, ev)
	s.mu.Unlock()
	s.ch <- struct{}{}
}

func (s *sink) next(t *testing.T) guard.Event {
	t.Helper()
	select {
	case <-s.ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := s.evs[0]
	s.evs = s.evs[1:]
	return ev
}

func newGuard(t *testing.T) (*guard.Guard, *sink) {
	t.Helper()
	s := &sink{ch: make(chan struct{}, 64)}
	g, err := guard.New(guard.WithSink(s, guard.KindRequestDone))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	return g, s
}

// TestRoutes checks the template guard sees for echo's ways of matching,
// and not matching, a request.
func TestRoutes(t *testing.T) {
	g, s := newGuard(t)
	e := newEcho()
	e.Use(guardecho.New(g))
	ok := func(c echo.Context) error { return c.String(http.StatusOK, guard.Route(c.Request().Context())) }
	e.GET("/notes/:id", ok)
	e.GET("/files/*", ok)
	e.GET("/static/ok", ok)
	e.RouteNotFound("/static/*", func(c echo.Context) error { return c.NoContent(http.StatusTeapot) })
	api := e.Group("/api", func(next echo.HandlerFunc) echo.HandlerFunc { return next })
	api.GET("/items/:id", ok)
	e.Add(http.MethodGet, "/late", ok) // registered after the middleware

	for _, tc := range []struct {
		method, path string
		status       int
		route        string
	}{
		{http.MethodGet, "/notes/1", http.StatusOK, "/notes/:id"},
		{http.MethodGet, "/files/a/b.txt", http.StatusOK, "/files/*"},
		{http.MethodGet, "/api/items/7", http.StatusOK, "/api/items/:id"},
		{http.MethodGet, "/late", http.StatusOK, "/late"},
		{http.MethodGet, "/nowhere", http.StatusNotFound, guard.RouteUnmatched},
		{http.MethodPost, "/late", http.StatusMethodNotAllowed, guard.RouteUnmatched},
		{http.MethodOptions, "/late", http.StatusNoContent, guard.RouteUnmatched},
		{http.MethodGet, "/notes/1/2", http.StatusOK, "/notes/:id"}, // echo: a last param takes the rest
		{http.MethodGet, "/static/ok", http.StatusOK, "/static/ok"},
		{http.MethodGet, "/static/missing", http.StatusTeapot, guard.RouteUnmatched}, // RouteNotFound
		{http.MethodPost, "/static/ok", http.StatusTeapot, guard.RouteUnmatched},     // RouteNotFound before 405
		{http.MethodGet, "/api/nothing", http.StatusNotFound, guard.RouteUnmatched},  // Group.Use's RouteNotFound
		{http.MethodPost, "/api/items/7", http.StatusNotFound, guard.RouteUnmatched},
	} {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		ev := s.next(t)
		if w.Code != tc.status || ev.Route != tc.route || ev.Status != tc.status {
			t.Errorf("%s %s: status %d (event %d), route %q; want %d, %q", tc.method, tc.path, w.Code, ev.Status, ev.Route, tc.status, tc.route)
		}
		if tc.status == http.StatusOK && w.Body.String() != tc.route {
			t.Errorf("%s %s: handler saw route %q", tc.method, tc.path, w.Body.String())
		}
	}
}

// TestHandlerError checks that a returned error is answered by the echo
// error handler once and that request_done carries its status.
func TestHandlerError(t *testing.T) {
	g, s := newGuard(t)
	e := newEcho()
	calls := 0
	def := e.DefaultHTTPErrorHandler
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		calls++
		def(err, c)
	}
	var seen error
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { seen = next(c); return seen }
	})
	e.Use(guardecho.New(g))
	e.GET("/teapot", func(echo.Context) error { return echo.NewHTTPError(http.StatusTeapot, "short and stout") })
	e.GET("/plain", func(echo.Context) error { return errors.New("database down") })

	for _, tc := range []struct {
		path   string
		status int
	}{{"/teapot", http.StatusTeapot}, {"/plain", http.StatusInternalServerError}} {
		calls = 0
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tc.path, nil))
		ev := s.next(t)
		if w.Code != tc.status || ev.Status != tc.status || ev.BytesOut == 0 {
			t.Errorf("%s: status %d, event %+v", tc.path, w.Code, ev)
		}
		if seen == nil {
			t.Errorf("%s: outer middleware did not see the error", tc.path)
		}
		if strings.Count(w.Body.String(), "message") != 1 {
			t.Errorf("%s: body %q", tc.path, w.Body.String())
		}
		if calls != 2 { // once by guardecho, once by echo, which ignores it
			t.Errorf("%s: error handler called %d times", tc.path, calls)
		}
	}
}

// TestPanicAfterWrite checks that a panic after the response was committed
// aborts the connection instead of appending a problem body.
func TestPanicAfterWrite(t *testing.T) {
	g, _ := newGuard(t)
	e := newEcho()
	e.Use(guardecho.New(g))
	e.GET("/half", func(c echo.Context) error {
		_ = c.String(http.StatusOK, "partial")
		c.Response().Flush()
		panic("after write")
	})
	srv := httptest.NewUnstartedServer(e)
	srv.Config.ErrorLog = quietLog()
	srv.Start()
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + "/half")
	if err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	if err == nil {
		t.Fatalf("response completed after a panic mid-response")
	}
}
