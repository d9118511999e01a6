package guardfiberv3_test

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

	"github.com/gofiber/fiber/v3"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/adapters/adaptertest"
	"github.com/guardsdk/guard/adapters/guardfiberv3"
)

// fiberPath translates the suite's "{name}" parameters to fiber's ":name".
func fiberPath(p string) string {
	return strings.NewReplacer("{", ":", "}", "").Replace(p)
}

func newApp(cfg ...fiber.Config) *fiber.App { return fiber.New(cfg...) }

func listen(t *testing.T, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true})
	}()
	t.Cleanup(func() {
		_ = app.ShutdownWithTimeout(5 * time.Second)
		<-done
	})
	return "http://" + ln.Addr().String()
}

func serveFiber(t *testing.T, g *guard.Guard, routes []adaptertest.Route) string {
	t.Helper()
	app := newApp()
	app.Use(guardfiberv3.New(g))
	for _, rt := range routes {
		h := rt.Handle
		app.Add([]string{rt.Method}, fiberPath(rt.Path), func(c fiber.Ctx) error {
			status, resp := h(c.Context(), c.Body())
			c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
			return c.Status(status).Send(resp)
		})
	}
	return listen(t, app)
}

func TestAdapterConformance(t *testing.T) {
	adaptertest.Run(t, adaptertest.Adapter{
		Serve:    serveFiber,
		Template: func(_, path string) string { return fiberPath(path) },
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

func newGuard(t testing.TB, opts ...guard.Option) (*guard.Guard, *sink) {
	t.Helper()
	s := &sink{ch: make(chan struct{}, 64)}
	g, err := guard.New(append([]guard.Option{guard.WithSink(s, guard.KindRequestDone)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	return g, s
}

func routeHandler(c fiber.Ctx) error {
	return c.SendString(guard.Route(c.Context()))
}

type routeCase struct {
	method, path string
	status       int
	route        string
}

func checkRoutes(t *testing.T, app *fiber.App, s *sink, cases []routeCase) {
	t.Helper()
	for _, tc := range cases {
		res, err := app.Test(httptest.NewRequest(tc.method, tc.path, nil), fiber.TestConfig{})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		ev := s.next(t)
		if res.StatusCode != tc.status || ev.Route != tc.route || ev.Status != tc.status {
			t.Errorf("%s %s: status %d (event %d), route %q; want %d, %q", tc.method, tc.path, res.StatusCode, ev.Status, ev.Route, tc.status, tc.route)
		}
		if tc.status == http.StatusOK && tc.method != http.MethodHead && string(b) != tc.route {
			t.Errorf("%s %s: handler saw route %q", tc.method, tc.path, b)
		}
	}
}

// TestRoutes checks the template guard sees against the route fiber runs,
// for the route forms the middleware compiles and those it leaves to
// fiber.RoutePatternMatch.
func TestRoutes(t *testing.T) {
	g, s := newGuard(t)
	app := newApp()
	app.Use(guardfiberv3.New(g))
	app.Use("/api", func(c fiber.Ctx) error { return c.Next() }) // middleware is never the template
	app.Get("/", routeHandler)
	app.Get("/notes/:id", routeHandler)
	app.Get("/notes/:id/edit", routeHandler)
	app.Get("/Users/:name", routeHandler)
	app.Post("/notes", routeHandler)
	app.Get("/files/*", routeHandler)
	app.Get("/opt/:a?", routeHandler)
	app.Get("/range/:from-:to", routeHandler)
	app.Get("/num/:n<int>", routeHandler)
	app.Get("/num/:s", routeHandler)
	api := app.Group("/api")
	api.Get("/items/:id", routeHandler)
	sub := newApp()
	sub.Get("/hello", routeHandler)
	app.Use("/sub", sub)
	app.All("/any", routeHandler)

	checkRoutes(t, app, s, []routeCase{
		{http.MethodGet, "/", http.StatusOK, "/"},
		{http.MethodGet, "/notes/1", http.StatusOK, "/notes/:id"},
		{http.MethodGet, "/NOTES/1/", http.StatusOK, "/notes/:id"}, // case-insensitive, trailing slash
		{http.MethodHead, "/notes/1", http.StatusOK, "/notes/:id"},
		{http.MethodGet, "/notes/1/edit", http.StatusOK, "/notes/:id/edit"},
		{http.MethodGet, "/notes/1/2", http.StatusNotFound, guard.RouteUnmatched},
		{http.MethodGet, "/notes/", http.StatusMethodNotAllowed, guard.RouteUnmatched}, // is POST /notes
		{http.MethodGet, "/users/ann", http.StatusOK, "/Users/:name"},
		{http.MethodPost, "/notes", http.StatusOK, "/notes"},
		{http.MethodPut, "/notes", http.StatusMethodNotAllowed, guard.RouteUnmatched},
		{http.MethodGet, "/files/a/b.txt", http.StatusOK, "/files/*"},
		{http.MethodGet, "/files", http.StatusOK, "/files/*"},
		{http.MethodGet, "/opt", http.StatusOK, "/opt/:a?"},
		{http.MethodGet, "/opt/x", http.StatusOK, "/opt/:a?"},
		{http.MethodGet, "/range/1-5", http.StatusOK, "/range/:from-:to"},
		{http.MethodGet, "/num/12", http.StatusOK, "/num/:n<int>"},
		{http.MethodGet, "/num/ab", http.StatusOK, "/num/:s"},
		{http.MethodGet, "/api/items/3", http.StatusOK, "/api/items/:id"},
		{http.MethodGet, "/api/nothing", http.StatusNotFound, guard.RouteUnmatched},
		{http.MethodGet, "/sub/hello", http.StatusOK, "/sub/hello"},
		{http.MethodDelete, "/any", http.StatusOK, "/any"},
		{http.MethodGet, "/nowhere", http.StatusNotFound, guard.RouteUnmatched},
	})

	// Routes added after the first request are picked up.
	app.Get("/late/:id", routeHandler)
	checkRoutes(t, app, s, []routeCase{{http.MethodGet, "/late/1", http.StatusOK, "/late/:id"}})
}

// TestStrictCaseSensitive checks the compiled matchers under the app's
// routing options.
func TestStrictCaseSensitive(t *testing.T) {
	g, s := newGuard(t)
	app := newApp(fiber.Config{StrictRouting: true, CaseSensitive: true})
	app.Use(guardfiberv3.New(g))
	app.Get("/Notes/:id", routeHandler)
	app.Get("/dir/", routeHandler)
	checkRoutes(t, app, s, []routeCase{
		{http.MethodGet, "/Notes/1", http.StatusOK, "/Notes/:id"},
		{http.MethodGet, "/notes/1", http.StatusNotFound, guard.RouteUnmatched},
		{http.MethodGet, "/Notes/1/", http.StatusNotFound, guard.RouteUnmatched},
		{http.MethodGet, "/dir/", http.StatusOK, "/dir/"},
		{http.MethodGet, "/dir", http.StatusNotFound, guard.RouteUnmatched},
	})
}

// TestHandlerError checks that a returned error is answered by the app's
// error handler once and that request_done carries its status.
func TestHandlerError(t *testing.T) {
	g, s := newGuard(t)
	calls := 0
	app := newApp(fiber.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
		calls++
		return fiber.DefaultErrorHandler(c, err)
	}})
	app.Use(guardfiberv3.New(g))
	app.Get("/teapot", func(fiber.Ctx) error { return fiber.NewError(http.StatusTeapot, "short and stout") })
	app.Get("/plain", func(fiber.Ctx) error { return errors.New("database down") })
	for _, tc := range []struct {
		path   string
		status int
	}{{"/teapot", http.StatusTeapot}, {"/plain", http.StatusInternalServerError}, {"/nowhere", http.StatusNotFound}} {
		calls = 0
		res, err := app.Test(httptest.NewRequest(http.MethodGet, tc.path, nil), fiber.TestConfig{})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		ev := s.next(t)
		if res.StatusCode != tc.status || ev.Status != tc.status || ev.BytesOut == 0 || calls != 1 {
			t.Errorf("%s: status %d, error handler calls %d, event %+v", tc.path, res.StatusCode, calls, ev)
		}
	}
}

// TestFromContext checks that handlers find guard's Request from c itself
// as well as from c.Context().
func TestFromContext(t *testing.T) {
	g, _ := newGuard(t)
	app := newApp()
	app.Use(guardfiberv3.New(g))
	app.Get("/notes/:id", func(c fiber.Ctx) error {
		return c.SendString(guard.Route(c) + " " + guard.CorrelationID(c))
	})
	req := httptest.NewRequest(http.MethodGet, "/notes/1", nil)
	req.Header.Set("X-Request-Id", "abc")
	res, err := app.Test(req, fiber.TestConfig{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if string(b) != "/notes/:id abc" {
		t.Fatalf("handler saw %q", b)
	}
}

// TestStreamBody checks the body reader when the app streams request
// bodies.
func TestStreamBody(t *testing.T) {
	g, _ := newGuard(t, guard.WithStage(bodyStage{}))
	app := newApp(fiber.Config{StreamRequestBody: true})
	app.Use(guardfiberv3.New(g))
	app.Post("/echo", func(c fiber.Ctx) error { return c.Send(c.Body()) })
	base := listen(t, app)
	for _, tc := range []struct {
		body   string
		status int
	}{{"hello", http.StatusOK}, {strings.Repeat("x", 64), http.StatusOK}, {strings.Repeat("x", 65), http.StatusRequestEntityTooLarge}} {
		res, err := http.Post(base+"/echo", "text/plain", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || (tc.status == http.StatusOK && string(b) != tc.body) {
			t.Errorf("body of %d bytes: status %d, echoed %d bytes", len(tc.body), res.StatusCode, len(b))
		}
	}
}

// bodyStage reads the body up to 64 bytes.
type bodyStage struct{}

func (bodyStage) Name() string { return "body" }

func (bodyStage) Check(r *guard.Request) guard.Decision {
	if r.Body == nil {
		return guard.Allow()
	}
	if _, err := r.Body.ReadBody(64); err != nil {
		return guard.Deny(http.StatusRequestEntityTooLarge, "body_too_large", "Too large.")
	}
	return guard.Allow()
}
