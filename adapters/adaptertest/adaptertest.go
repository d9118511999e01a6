// Package adaptertest is the conformance suite every guard adapter passes
// (net/http, gin, echo, fiber v2 and v3), modelled on testing/fstest.TestFS:
// one set of scenarios, driven through a real server on loopback for each
// framework.
//
// An adapter provides an Adapter: a function that serves a few routes
// through a Guard on a loopback listener, and the route template its
// framework reports for a path. The suite checks that the adapter builds
// the same Request view (route template, client address behind trusted and
// untrusted proxies, principal, correlation id), renders a stage's denial
// and a recovered panic as problem+json, lets stages set response headers
// and read the body without taking it from the handler, and publishes
// request_done events.
package adaptertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guardsdk/guard"
)

// Route is one route the adapter registers. Path uses "{name}" for a path
// parameter; adapters translate it to their syntax (":name" for gin, echo
// and fiber).
type Route struct {
	Method string
	Path   string
	// Handle is the handler's behaviour. ctx is the request context the
	// framework gives handlers (c.Request.Context() for gin,
	// c.Request().Context() for echo, c.UserContext() or c.Context() for
	// fiber); body is the request body the handler read. The adapter writes
	// status and the returned body (as application/json). Handle may panic.
	Handle func(ctx context.Context, body []byte) (status int, resp []byte)
}

// Adapter describes one adapter under test.
type Adapter struct {
	// Serve starts a server on 127.0.0.1 that serves routes through g's
	// middleware and returns its base URL ("http://127.0.0.1:port"). It
	// registers its own shutdown with t.Cleanup. Requests to paths no route
	// matches must still pass through the middleware.
	Serve func(t *testing.T, g *guard.Guard, routes []Route) string
	// Template returns the route template the framework reports for a
	// route registered with method and the suite's path syntax, e.g.
	// "/notes/:id" for gin and "/notes/{id}" for net/http.
	Template func(method, path string) string
}

// view is what the suite's handler reports of guard's view of a request.
type view struct {
	Route         string `json:"route"`
	ClientIP      string `json:"client_ip"`
	CorrelationID string `json:"correlation_id"`
	Principal     string `json:"principal"`
	Body          string `json:"body"`
	Value         string `json:"value"`
}

type ctxValueKey struct{}

func viewHandler(ctx context.Context, body []byte) (int, []byte) {
	v := view{
		Route:         guard.Route(ctx),
		ClientIP:      guard.ClientIP(ctx).String(),
		CorrelationID: guard.CorrelationID(ctx),
		Principal:     guard.Principal(ctx),
		Body:          string(body),
	}
	if s, ok := ctx.Value(ctxValueKey{}).(string); ok {
		v.Value = s
	}
	b, _ := json.Marshal(v)
	return http.StatusOK, b
}

func routes() []Route {
	return []Route{
		{Method: http.MethodGet, Path: "/notes/{id}", Handle: viewHandler},
		{Method: http.MethodPost, Path: "/notes", Handle: viewHandler},
		{Method: http.MethodGet, Path: "/panic", Handle: func(context.Context, []byte) (int, []byte) {
			panic("adaptertest: boom")
		}},
		{Method: http.MethodGet, Path: "/panic-error", Handle: func(context.Context, []byte) (int, []byte) {
			panic(fmt.Errorf("adaptertest: wrapped %w", io.ErrUnexpectedEOF))
		}},
	}
}

// recorder is a sink that keeps events.
type recorder struct {
	mu  sync.Mutex
	evs []guard.Event
	ch  chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 1024)} }

func (r *recorder) HandleEvent(ev guard.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

// wait returns the first event of kind k whose Route is route ("" any),
// waiting up to 5 s for the sink's goroutine to deliver it.
func (r *recorder) wait(t *testing.T, k guard.Kind, match func(guard.Event) bool) guard.Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		for _, ev := range r.evs {
			if ev.Kind == k && (match == nil || match(ev)) {
				r.mu.Unlock()
				return ev
			}
		}
		r.mu.Unlock()
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("no %v event arrived", k)
		}
	}
}

// denyStage denies requests carrying "X-Test-Deny: 1", sets a response
// header on every request, attaches a context value, and (for POST) reads
// the body up to 64 bytes.
type denyStage struct{}

func (denyStage) Name() string { return "adaptertest" }

func (denyStage) Check(r *guard.Request) guard.Decision {
	r.Response.Set("X-Test-Stage", "seen")
	r.SetValue(ctxValueKey{}, "from-stage")
	if r.Header.Get("X-Test-Deny") == "1" {
		return guard.Deny(http.StatusForbidden, "test_denied", "Denied by the test stage.")
	}
	if r.Method == http.MethodPost && r.Body != nil {
		b, err := r.Body.ReadBody(64)
		if err == guard.ErrBodyTooLarge {
			return guard.Deny(http.StatusRequestEntityTooLarge, "body_too_large", "The request body is too large.")
		}
		if err != nil {
			return guard.Deny(http.StatusBadRequest, "bad_body", "The request body could not be read.")
		}
		if bytes.Contains(b, []byte("forbidden-word")) {
			return guard.Deny(http.StatusBadRequest, "bad_body", "The request body was refused.")
		}
	}
	return guard.Allow()
}

func newGuard(t *testing.T, rec *recorder, opts ...guard.Option) *guard.Guard {
	t.Helper()
	base := []guard.Option{
		guard.WithStage(denyStage{}),
		guard.WithSink(rec),
		guard.WithPrincipal(func(r *guard.Request) string {
			// A stand-in for verifying a session: the test's "session"
			// header is trusted only because the test sets it.
			return r.Header.Get("X-Test-Session")
		}),
	}
	g, err := guard.New(append(base, opts...)...)
	if err != nil {
		t.Fatalf("guard.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.Close(ctx)
	})
	return g
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url string, body string, hdr map[string]string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

func decodeView(t *testing.T, r response) view {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	var v view
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("handler body %q: %v", r.body, err)
	}
	return v
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func checkProblem(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != guard.ContentTypeProblem {
		t.Fatalf("Content-Type %q, want %q", ct, guard.ContentTypeProblem)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("problem response without nosniff")
	}
	var p problem
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem body %q: %v", r.body, err)
	}
	if p.Status != status || p.Code != code || p.Type != "about:blank" || p.Title != http.StatusText(status) {
		t.Fatalf("problem %+v, want status %d code %q", p, status, code)
	}
}

// Run runs the conformance suite against a.
func Run(t *testing.T, a Adapter) {
	t.Run("RouteTemplate", func(t *testing.T) { testRouteTemplate(t, a) })
	t.Run("ClientIP", func(t *testing.T) { testClientIP(t, a) })
	t.Run("Correlation", func(t *testing.T) { testCorrelation(t, a) })
	t.Run("Principal", func(t *testing.T) { testPrincipal(t, a) })
	t.Run("Deny", func(t *testing.T) { testDeny(t, a) })
	t.Run("Body", func(t *testing.T) { testBody(t, a) })
	t.Run("Panic", func(t *testing.T) { testPanic(t, a) })
	t.Run("RequestDone", func(t *testing.T) { testRequestDone(t, a) })
}

func testRouteTemplate(t *testing.T, a Adapter) {
	rec := newRecorder()
	g := newGuard(t, rec)
	base := a.Serve(t, g, routes())
	want := a.Template(http.MethodGet, "/notes/{id}")
	for _, id := range []string{"1", "42", "..%2f..%2fetc%2fpasswd", "%3Cscript%3E"} {
		v := decodeView(t, do(t, http.MethodGet, base+"/notes/"+id, "", nil))
		if v.Route != want {
			t.Fatalf("route for /notes/%s = %q, want template %q", id, v.Route, want)
		}
		if v.Value != "from-stage" {
			t.Fatalf("value set by a stage not in the handler's context: %q", v.Value)
		}
	}
	r := do(t, http.MethodGet, base+"/no/such/path/"+fmt.Sprint(time.Now().UnixNano()), "", nil)
	if r.status != http.StatusNotFound {
		t.Fatalf("unmatched path: status %d", r.status)
	}
	ev := rec.wait(t, guard.KindRequestDone, func(ev guard.Event) bool { return ev.Status == http.StatusNotFound })
	if ev.Route != guard.RouteUnmatched {
		t.Fatalf("unmatched request has route %q, want %q", ev.Route, guard.RouteUnmatched)
	}
}

func testClientIP(t *testing.T, a Adapter) {
	t.Run("trusted", func(t *testing.T) {
		g := newGuard(t, newRecorder(), guard.WithTrustedProxies("127.0.0.0/8", "::1/128", "10.0.0.0/8"))
		base := a.Serve(t, g, routes())
		cases := map[string]string{
			"198.51.100.7":                      "198.51.100.7",
			"6.6.6.6, 198.51.100.7":             "198.51.100.7",
			"6.6.6.6, 198.51.100.7, 10.0.0.3":   "198.51.100.7",
			"::ffff:198.51.100.9":               "198.51.100.9",
			"6.6.6.6, garbage, 10.0.0.3":        "10.0.0.3",
			"[2001:db8::5]:1234":                "2001:db8::5",
			"6.6.6.6,198.51.100.7 ,  10.0.0.3 ": "198.51.100.7",
		}
		for xff, want := range cases {
			v := decodeView(t, do(t, http.MethodGet, base+"/notes/1", "", map[string]string{"X-Forwarded-For": xff}))
			if v.ClientIP != want {
				t.Errorf("XFF %q via trusted proxy: client %q, want %q", xff, v.ClientIP, want)
			}
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		g := newGuard(t, newRecorder(), guard.WithTrustedProxies("10.0.0.0/8"))
		base := a.Serve(t, g, routes())
		for _, h := range []map[string]string{
			{"X-Forwarded-For": "198.51.100.7"},
			{"X-Real-Ip": "198.51.100.7"},
			{"Forwarded": "for=198.51.100.7"},
			nil,
		} {
			v := decodeView(t, do(t, http.MethodGet, base+"/notes/1", "", h))
			if v.ClientIP != "127.0.0.1" {
				t.Errorf("spoofed %v from an untrusted peer: client %q, want 127.0.0.1", h, v.ClientIP)
			}
		}
	})
}

func testCorrelation(t *testing.T, a Adapter) {
	g := newGuard(t, newRecorder())
	base := a.Serve(t, g, routes())

	r := do(t, http.MethodGet, base+"/notes/1", "", map[string]string{"X-Request-Id": "abc-123"})
	v := decodeView(t, r)
	if v.CorrelationID != "abc-123" || r.header.Get("X-Request-Id") != "abc-123" {
		t.Fatalf("valid inbound id: handler %q, echoed %q", v.CorrelationID, r.header.Get("X-Request-Id"))
	}
	for _, bad := range []string{"bad id with spaces", strings.Repeat("x", 129), "<script>alert(1)</script>"} {
		r = do(t, http.MethodGet, base+"/notes/1", "", map[string]string{"X-Request-Id": bad})
		v = decodeView(t, r)
		if v.CorrelationID == bad || !guard.ValidRequestID(v.CorrelationID) || len(v.CorrelationID) != 32 {
			t.Fatalf("invalid inbound id %q: got %q", bad, v.CorrelationID)
		}
		if r.header.Get("X-Request-Id") != v.CorrelationID {
			t.Fatalf("echoed %q, handler saw %q", r.header.Get("X-Request-Id"), v.CorrelationID)
		}
	}
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	v = decodeView(t, do(t, http.MethodGet, base+"/notes/1", "", map[string]string{"Traceparent": tp}))
	if v.CorrelationID != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("traceparent not honoured: %q", v.CorrelationID)
	}
	v = decodeView(t, do(t, http.MethodGet, base+"/notes/1", "", map[string]string{"Traceparent": "ff" + tp[2:]}))
	if v.CorrelationID == "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("version ff traceparent honoured")
	}
	a1 := decodeView(t, do(t, http.MethodGet, base+"/notes/1", "", nil)).CorrelationID
	a2 := decodeView(t, do(t, http.MethodGet, base+"/notes/1", "", nil)).CorrelationID
	if a1 == a2 || a1 == "" {
		t.Fatalf("generated ids %q and %q", a1, a2)
	}
}

func testPrincipal(t *testing.T, a Adapter) {
	g := newGuard(t, newRecorder())
	base := a.Serve(t, g, routes())
	if v := decodeView(t, do(t, http.MethodGet, base+"/notes/1", "", map[string]string{"X-Test-Session": "user-7"})); v.Principal != "user-7" {
		t.Fatalf("principal %q", v.Principal)
	}
	if v := decodeView(t, do(t, http.MethodGet, base+"/notes/1", "", map[string]string{"X-User-Id": "admin"})); v.Principal != "" {
		t.Fatalf("principal taken from a client header: %q", v.Principal)
	}
}

func testDeny(t *testing.T, a Adapter) {
	rec := newRecorder()
	g := newGuard(t, rec)
	calls := make(chan struct{}, 16)
	rs := []Route{{Method: http.MethodGet, Path: "/notes/{id}", Handle: func(ctx context.Context, b []byte) (int, []byte) {
		calls <- struct{}{}
		return viewHandler(ctx, b)
	}}}
	base := a.Serve(t, g, rs)
	evil := "%3Cscript%3Ealert(1)%3C%2Fscript%3E"
	r := do(t, http.MethodGet, base+"/notes/"+evil+"?q=%27+OR+1%3D1--", "", map[string]string{
		"X-Test-Deny": "1", "X-Request-Id": "deny-1", "User-Agent": "<img src=x>",
	})
	checkProblem(t, r, http.StatusForbidden, "test_denied")
	for _, s := range []string{"script", "OR 1=1", "img", "notes", "deny-1"} {
		if bytes.Contains(r.body, []byte(s)) {
			t.Fatalf("problem body echoes request data %q: %s", s, r.body)
		}
	}
	if r.header.Get("X-Test-Stage") != "seen" || r.header.Get("X-Request-Id") != "deny-1" {
		t.Fatalf("headers set by stages before the denial are lost: %v", r.header)
	}
	select {
	case <-calls:
		t.Fatalf("handler ran for a denied request")
	default:
	}
	ev := rec.wait(t, guard.KindDenied, nil)
	if ev.Stage != "adaptertest" || ev.Reason != "test_denied" || ev.Status != http.StatusForbidden || ev.CorrelationID != "deny-1" {
		t.Fatalf("denied event %+v", ev)
	}
	r = do(t, http.MethodGet, base+"/notes/1", "", nil)
	if r.status != http.StatusOK || r.header.Get("X-Test-Stage") != "seen" {
		t.Fatalf("allowed request: status %d, stage header %q", r.status, r.header.Get("X-Test-Stage"))
	}
}

func testBody(t *testing.T, a Adapter) {
	g := newGuard(t, newRecorder())
	base := a.Serve(t, g, routes())
	v := decodeView(t, do(t, http.MethodPost, base+"/notes", `{"text":"hello"}`, map[string]string{"Content-Type": "application/json"}))
	if v.Body != `{"text":"hello"}` {
		t.Fatalf("handler read %q after a stage read the body", v.Body)
	}
	checkProblem(t, do(t, http.MethodPost, base+"/notes", `{"text":"forbidden-word"}`, nil), http.StatusBadRequest, "bad_body")
	checkProblem(t, do(t, http.MethodPost, base+"/notes", strings.Repeat("a", 65), nil), http.StatusRequestEntityTooLarge, "body_too_large")
	exact := strings.Repeat("b", 64)
	if v := decodeView(t, do(t, http.MethodPost, base+"/notes", exact, nil)); v.Body != exact {
		t.Fatalf("body at the limit: handler read %d bytes", len(v.Body))
	}
}

func testPanic(t *testing.T, a Adapter) {
	rec := newRecorder()
	g := newGuard(t, rec)
	base := a.Serve(t, g, routes())
	for _, p := range []string{"/panic", "/panic-error"} {
		r := do(t, http.MethodGet, base+p, "", map[string]string{"X-Request-Id": "panic-1"})
		checkProblem(t, r, http.StatusInternalServerError, guard.ReasonPanic)
		if bytes.Contains(r.body, []byte("boom")) || bytes.Contains(r.body, []byte("goroutine")) {
			t.Fatalf("panic details leaked to the client: %s", r.body)
		}
	}
	ev := rec.wait(t, guard.KindPanic, nil)
	if ev.Err == nil || !strings.Contains(ev.Err.Error(), "adaptertest: boom") || ev.CorrelationID != "panic-1" {
		t.Fatalf("panic event %+v", ev)
	}
	rec.wait(t, guard.KindPanic, func(ev guard.Event) bool { return ev.Err != nil && strings.Contains(ev.Err.Error(), "wrapped") })
	// The server survived.
	decodeView(t, do(t, http.MethodGet, base+"/notes/1", "", nil))
}

func testRequestDone(t *testing.T, a Adapter) {
	rec := newRecorder()
	g := newGuard(t, rec)
	base := a.Serve(t, g, routes())
	do(t, http.MethodGet, base+"/notes/5", "", map[string]string{"X-Request-Id": "done-1", "X-Test-Session": "u1"})
	ev := rec.wait(t, guard.KindRequestDone, func(ev guard.Event) bool { return ev.CorrelationID == "done-1" })
	want := a.Template(http.MethodGet, "/notes/{id}")
	if ev.Method != http.MethodGet || ev.Route != want || ev.Status != http.StatusOK || ev.Principal != "u1" || ev.BytesOut <= 0 || ev.ClientIP.String() != "127.0.0.1" || ev.Time.IsZero() {
		t.Fatalf("request_done event %+v", ev)
	}
}
