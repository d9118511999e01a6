package limiter_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/limiter"
)

type sink chan guard.Event

func (s sink) HandleEvent(ev guard.Event) { s <- ev }

func (s sink) next(t *testing.T) guard.Event {
	t.Helper()
	select {
	case ev := <-s:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return guard.Event{}
	}
}

type server struct {
	g     *guard.Guard
	h     http.Handler
	clock *clock
	ev    sink
}

// quickstartRules are the limits of the quickstart.
func quickstartRules() []limiter.Rule {
	return []limiter.Rule{
		{Name: "login", Method: "POST", Route: "/api/v1/auth/login", Key: limiter.ByIP(), Limits: []limiter.Limit{limiter.Per(5, 5*time.Minute)}},
		{Name: "register", Method: "POST", Route: "/api/v1/auth/register", Key: limiter.ByIP(), Limits: []limiter.Limit{limiter.PerHour(3)}},
		{Name: "default", Key: limiter.ByPrincipalOrIP(), Limits: []limiter.Limit{limiter.PerHour(1000)}},
	}
}

func newServer(t *testing.T, settings ...limiter.Setting) *server {
	t.Helper()
	s := &server{clock: newClock(), ev: make(sink, 1024)}
	g, err := guard.New(
		limiter.Option(settings...),
		guard.WithClock(s.clock.Now),
		guard.WithSink(s.ev, guard.KindRateLimited, guard.KindBackendDegraded),
		guard.WithPrincipal(func(r *guard.Request) string { return r.Header.Get("X-Test-User") }),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
	mux.HandleFunc("POST /api/v1/auth/login", ok)
	mux.HandleFunc("POST /api/v1/auth/register", ok)
	mux.HandleFunc("GET /api/v1/notes/{id}", ok)
	s.g, s.h = g, g.Handler(mux)
	return s
}

func (s *server) do(method, path, ip string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = ip + ":40000"
	if strings.Contains(ip, ":") {
		req.RemoteAddr = "[" + ip + "]:40000"
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, req)
	return w
}

func TestStageQuickstartLimits(t *testing.T) {
	t.Parallel()
	s := newServer(t, limiter.WithRules(quickstartRules()...))
	for i := 0; i < 5; i++ {
		w := s.do("POST", "/api/v1/auth/login", "203.0.113.7")
		if w.Code != http.StatusNoContent {
			t.Fatalf("login %d: %d", i, w.Code)
		}
		if got := w.Header().Get("X-RateLimit-Remaining"); got != strconv.Itoa(4-i) {
			t.Fatalf("login %d: remaining %q", i, got)
		}
	}
	w := s.do("POST", "/api/v1/auth/login", "203.0.113.7")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("sixth login: %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != guard.ContentTypeProblem {
		t.Fatalf("content type %q", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["code"] != "rate_limited" || body["status"] != 429.0 {
		t.Fatalf("body %s (%v)", w.Body, err)
	}
	h := w.Header()
	if h.Get("X-RateLimit-Limit") != "5" || h.Get("X-RateLimit-Remaining") != "0" ||
		h.Get("Retry-After") != "60" || h.Get("X-RateLimit-Reset") != "60" {
		t.Fatalf("headers %v", h)
	}
	ev := s.ev.next(t)
	if ev.Kind != guard.KindRateLimited || ev.Status != 429 || ev.Route != "/api/v1/auth/login" || ev.ClientIP.String() != "203.0.113.7" {
		t.Fatalf("event %+v", ev)
	}
	if len(ev.Attrs) < 2 || ev.Attrs[0] != (guard.Attr{Key: "rule", Value: "login"}) {
		t.Fatalf("event attrs %+v", ev.Attrs)
	}
	// Another client is unaffected; the denied one recovers after 60s.
	if w := s.do("POST", "/api/v1/auth/login", "198.51.100.1"); w.Code != http.StatusNoContent {
		t.Fatalf("other client: %d", w.Code)
	}
	s.clock.Advance(60 * time.Second)
	if w := s.do("POST", "/api/v1/auth/login", "203.0.113.7"); w.Code != http.StatusNoContent {
		t.Fatalf("after Retry-After: %d", w.Code)
	}
	// Register: 3 per hour.
	for i := 0; i < 3; i++ {
		if w := s.do("POST", "/api/v1/auth/register", "203.0.113.9"); w.Code != http.StatusNoContent {
			t.Fatalf("register %d: %d", i, w.Code)
		}
	}
	if w := s.do("POST", "/api/v1/auth/register", "203.0.113.9"); w.Code != 429 || w.Header().Get("Retry-After") != "1200" {
		t.Fatalf("fourth register: %d %v", w.Code, w.Header())
	}
	// The default: 1000 per hour per user; a user's budget follows them
	// across addresses, anonymous requests are per address.
	w = s.do("GET", "/api/v1/notes/1", "192.0.2.1", "X-Test-User", "alice")
	if w.Header().Get("X-RateLimit-Limit") != "1000" || w.Header().Get("X-RateLimit-Remaining") != "999" {
		t.Fatalf("default limit headers: %v", w.Header())
	}
	w = s.do("GET", "/api/v1/notes/1", "192.0.2.2", "X-Test-User", "alice")
	if w.Header().Get("X-RateLimit-Remaining") != "998" {
		t.Fatalf("alice from another address: %v", w.Header())
	}
	w = s.do("GET", "/api/v1/notes/1", "192.0.2.2")
	if w.Header().Get("X-RateLimit-Remaining") != "999" {
		t.Fatalf("anonymous: %v", w.Header())
	}
}

func TestStageAllOrNothingAcrossRules(t *testing.T) {
	t.Parallel()
	// login (5) and the global default (7) apply together: when login
	// denies, the default is not charged.
	s := newServer(t, limiter.WithRules(
		limiter.Rule{Name: "login", Method: "POST", Route: "/api/v1/auth/login", Limits: []limiter.Limit{limiter.Per(5, time.Hour)}},
		limiter.Rule{Name: "default", Limits: []limiter.Limit{limiter.Per(7, time.Hour)}},
	))
	for i := 0; i < 10; i++ {
		s.do("POST", "/api/v1/auth/login", "203.0.113.7")
	}
	w := s.do("GET", "/api/v1/notes/1", "203.0.113.7")
	if w.Code != http.StatusNoContent || w.Header().Get("X-RateLimit-Remaining") != "1" {
		t.Fatalf("default budget after denied logins: %d %v", w.Code, w.Header())
	}
}

func TestStageIPv6Grouping(t *testing.T) {
	t.Parallel()
	s := newServer(t, limiter.WithRules(limiter.Rule{Name: "r", Limits: []limiter.Limit{limiter.Per(2, time.Hour)}}))
	s.do("GET", "/api/v1/notes/1", "2001:db8:1:2::1")
	s.do("GET", "/api/v1/notes/1", "2001:db8:1:2:ffff::9")
	if w := s.do("GET", "/api/v1/notes/1", "2001:db8:1:2:abcd::"); w.Code != 429 {
		t.Fatalf("third address of one /64: %d", w.Code)
	}
	if w := s.do("GET", "/api/v1/notes/1", "2001:db8:1:3::1"); w.Code != http.StatusNoContent {
		t.Fatalf("next /64: %d", w.Code)
	}
}

func TestStageKeys(t *testing.T) {
	t.Parallel()
	s := newServer(t, limiter.WithRules(
		limiter.Rule{Name: "apikey", Key: limiter.ByAPIKey("X-Api-Key"), Limits: []limiter.Limit{limiter.Per(1, time.Hour)}},
		limiter.Rule{Name: "user", Key: limiter.ByPrincipal(), Limits: []limiter.Limit{limiter.Per(2, time.Hour)}},
		limiter.Rule{Name: "endpoint", Route: "/api/v1/notes/{id}", Key: limiter.Composite(limiter.ByPrincipal(), limiter.ByEndpoint()), Limits: []limiter.Limit{limiter.Per(3, time.Hour)}},
	))
	// Requests without an API key or user skip those rules.
	for i := 0; i < 5; i++ {
		if w := s.do("POST", "/api/v1/auth/login", "192.0.2.1"); w.Code != http.StatusNoContent || w.Header().Get("X-RateLimit-Limit") != "" {
			t.Fatalf("anonymous %d: %d %v", i, w.Code, w.Header())
		}
	}
	if w := s.do("GET", "/", "192.0.2.1", "X-Api-Key", "secret-1"); w.Code == 429 {
		t.Fatal("first API key request denied")
	}
	if w := s.do("GET", "/", "192.0.2.9", "X-Api-Key", "secret-1"); w.Code != 429 {
		t.Fatalf("second request with the same API key: %d", w.Code)
	}
	if w := s.do("GET", "/", "192.0.2.9", "X-Api-Key", "secret-2"); w.Code == 429 {
		t.Fatal("another API key denied")
	}
	// A user with braces in the id works and is limited.
	for i := 0; i < 2; i++ {
		if w := s.do("GET", "/x", "192.0.2.1", "X-Test-User", "{evil}|#"); w.Code == 429 {
			t.Fatalf("user request %d denied", i)
		}
	}
	if w := s.do("GET", "/x", "192.0.2.1", "X-Test-User", "{evil}|#"); w.Code != 429 {
		t.Fatal("third user request admitted")
	}
}

func TestStageDraftHeadersAndEpoch(t *testing.T) {
	t.Parallel()
	s := newServer(t, limiter.WithHeaders(limiter.HeadersDraft|limiter.HeadersXRateLimit|limiter.HeadersResetEpoch), limiter.WithRules(
		limiter.Rule{Name: "burst", Limits: []limiter.Limit{limiter.PerSecond(10).WithBurst(20).Named("s"), limiter.PerDay(1000).Using(limiter.FixedWindow).Named("d")}},
	))
	w := s.do("GET", "/api/v1/notes/1", "192.0.2.1")
	h := w.Header()
	if got := h.Get("RateLimit-Policy"); got != `"burst.s";q=20;w=2, "burst.d";q=1000;w=86400` {
		t.Fatalf("RateLimit-Policy %q", got)
	}
	if got := h.Get("RateLimit"); got != `"burst.s";r=19;t=1` {
		t.Fatalf("RateLimit %q", got)
	}
	if got, want := h.Get("X-RateLimit-Reset"), strconv.FormatInt(s.clock.Now().Unix()+1, 10); got != want {
		t.Fatalf("epoch reset %q, want %q", got, want)
	}
	for i := 0; i < 19; i++ {
		s.do("GET", "/api/v1/notes/1", "192.0.2.1")
	}
	w = s.do("GET", "/api/v1/notes/1", "192.0.2.1")
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" || w.Header().Get("RateLimit") != `"burst.s";r=0;t=1` {
		t.Fatalf("denied: %d %v", w.Code, w.Header())
	}
}

// TestStageHeaderValuesOverflow: header values share one buffer per
// response; a rule name too long for it moves the last value to the heap
// and leaves the values written before it intact.
func TestStageHeaderValuesOverflow(t *testing.T) {
	t.Parallel()
	name := strings.Repeat("n", 64) // the longest rule and limit names: a 107-byte policy id
	s := newServer(t, limiter.WithHeaders(limiter.HeadersDraft|limiter.HeadersXRateLimit), limiter.WithRules(
		limiter.Rule{Name: name, Limits: []limiter.Limit{limiter.PerMinute(1).Named(strings.Repeat("m", 40))}},
	))
	s.do("GET", "/api/v1/notes/1", "192.0.2.1")
	w := s.do("GET", "/api/v1/notes/1", "192.0.2.1")
	h := w.Header()
	id, _, ok := strings.Cut(h.Get("RateLimit-Policy"), ";q=")
	if w.Code != 429 || !ok || !strings.Contains(id, name) {
		t.Fatalf("%d, RateLimit-Policy %q", w.Code, h.Get("RateLimit-Policy"))
	}
	want := map[string]string{
		"Retry-After":           "60",
		"X-RateLimit-Limit":     "1",
		"X-RateLimit-Remaining": "0",
		"X-RateLimit-Reset":     "60",
		"RateLimit":             id + ";r=0;t=60",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
}

func TestStageShadowRule(t *testing.T) {
	t.Parallel()
	s := newServer(t, limiter.WithRules(limiter.Rule{Name: "trial", Shadow: true, Limits: []limiter.Limit{limiter.Per(1, time.Hour)}}))
	for i := 0; i < 3; i++ {
		if w := s.do("GET", "/", "192.0.2.1"); w.Code == 429 || w.Header().Get("X-RateLimit-Limit") != "" {
			t.Fatalf("shadow request %d: %d %v", i, w.Code, w.Header())
		}
	}
	ev := s.ev.next(t)
	if ev.Kind != guard.KindRateLimited || ev.Status != 0 || ev.Attrs[len(ev.Attrs)-1] != (guard.Attr{Key: "shadow", Value: "true"}) {
		t.Fatalf("shadow event %+v", ev)
	}
}

func TestStageFailClosed(t *testing.T) {
	t.Parallel()
	f := newFlaky(t)
	f.fail.Store(true)
	s := newServer(t, limiter.WithBackend(f), limiter.WithFailurePolicy(limiter.FailClosed),
		limiter.WithRules(limiter.Rule{Name: "r", Limits: []limiter.Limit{limiter.PerSecond(10)}}))
	w := s.do("GET", "/", "192.0.2.1")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), limiter.ReasonUnavailable) {
		t.Fatalf("fail closed: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if ev := s.ev.next(t); ev.Kind != guard.KindBackendDegraded {
		t.Fatalf("event %+v", ev)
	}
}

func TestStageFailOpen(t *testing.T) {
	t.Parallel()
	f := newFlaky(t)
	f.fail.Store(true)
	s := newServer(t, limiter.WithBackend(f), limiter.WithFailurePolicy(limiter.FailOpen),
		limiter.WithRules(limiter.Rule{Name: "r", Limits: []limiter.Limit{limiter.Per(1, time.Hour)}}))
	for i := 0; i < 3; i++ {
		w := s.do("GET", "/", "192.0.2.1")
		if w.Code == 429 || w.Code == 503 || w.Header().Get("X-RateLimit-Remaining") != "" {
			t.Fatalf("fail open request %d: %d %v", i, w.Code, w.Header())
		}
	}
}

func TestStageRuntimeRules(t *testing.T) {
	t.Parallel()
	l := mustNew(t)
	st := limiter.Stage(l, limiter.Rule{Name: "r", Limits: []limiter.Limit{limiter.Per(1, time.Hour).Using(limiter.FixedWindow)}})
	g, err := guard.New(guard.WithStage(st))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	do := func() int {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		h.ServeHTTP(w, req)
		return w.Code
	}
	if do() != 200 || do() != 429 {
		t.Fatal("limit of 1 not applied")
	}
	if err := st.SetRules(limiter.Rule{Name: "r", Limits: []limiter.Limit{limiter.Per(3, time.Hour).Using(limiter.FixedWindow)}}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{200, 200, 429} {
		if got := do(); got != want {
			t.Fatalf("request %d under the new limit of 3 (1 used): %d, want %d", i, got, want)
		}
	}
	if err := st.SetRules(limiter.Rule{Name: "r"}); err == nil {
		t.Fatal("rule without limits accepted")
	}
}

func TestStageInvalidRules(t *testing.T) {
	t.Parallel()
	lim := []limiter.Limit{limiter.PerSecond(1)}
	for name, rules := range map[string][]limiter.Rule{
		"no name":    {{Limits: lim}},
		"dup":        {{Name: "a", Limits: lim}, {Name: "a", Limits: lim}},
		"no limits":  {{Name: "a"}},
		"cost":       {{Name: "a", Limits: lim, Cost: 2}},
		"method":     {{Name: "a", Limits: lim, Method: "GE T"}},
		"too many":   {{Name: "a", Limits: []limiter.Limit{limiter.PerSecond(1).Named("1"), limiter.PerSecond(1).Named("2"), limiter.PerSecond(1).Named("3"), limiter.PerSecond(1).Named("4"), limiter.PerSecond(1).Named("5")}}, {Name: "b", Limits: []limiter.Limit{limiter.PerSecond(1).Named("1"), limiter.PerSecond(1).Named("2"), limiter.PerSecond(1).Named("3"), limiter.PerSecond(1).Named("4")}}},
		"bad limit":  {{Name: "a", Limits: []limiter.Limit{limiter.PerSecond(0)}}},
		"bad name 2": {{Name: "a b", Limits: lim}},
	} {
		if _, err := guard.New(limiter.Option(limiter.WithRules(rules...))); err == nil || !strings.Contains(err.Error(), "limiter: ") {
			t.Errorf("%s: guard.New: %v", name, err)
		}
	}
	if _, err := guard.New(limiter.Option(limiter.WithTimeout(-1))); err == nil {
		t.Error("bad setting accepted")
	}
	if _, err := guard.New(guard.WithStage(limiter.Stage(nil))); err == nil {
		t.Error("nil limiter accepted")
	}
}
