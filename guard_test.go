package guard_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/store"
	"github.com/guardsdk/guard/store/memory"
)

func TestNewValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  guard.Option
		want string // the option name and bad value must appear
	}{
		{"bad cidr", guard.WithTrustedProxies("10.0.0.0/33"), `WithTrustedProxies`},
		{"garbage proxy", guard.WithTrustedProxies("proxy.example"), `proxy.example`},
		{"bad proxy header", guard.WithProxyHeaders("X-Client-IP"), `WithProxyHeaders: unsupported header "X-Client-IP"`},
		{"no proxy header", guard.WithProxyHeaders(), `WithProxyHeaders`},
		{"queue zero", guard.WithEventQueue(0), `WithEventQueue: 0`},
		{"queue huge", guard.WithEventQueue(1 << 30), `WithEventQueue: 1073741824`},
		{"nil store", guard.WithStore(nil), `WithStore: nil store`},
		{"nil principal", guard.WithPrincipal(nil), `WithPrincipal`},
		{"nil stage", guard.WithStage(nil), `WithStage`},
		{"unnamed stage", guard.WithStage(guard.StageFunc("", guard.PhaseApp, nil)), `empty name`},
		{"nil sink", guard.WithSink(nil), `WithSink`},
		{"bad request id header", guard.WithRequestIDHeader("X Request"), `WithRequestIDHeader: invalid header name "X Request"`},
		{"bad startup timeout", guard.WithStartupCheck(true, 0), `WithStartupCheck`},
		{"nil clock", guard.WithClock(nil), `WithClock`},
		{"nil option", nil, `nil option`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := guard.New(tt.opt)
			if err == nil {
				_ = g.Close(context.Background())
				t.Fatalf("New accepted %s", tt.name)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "guard: ") {
				t.Fatalf("error %q does not name %q", err, tt.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	g, err := guard.New()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	if got := strings.Join(g.Stages(), ","); got != "correlate" {
		t.Fatalf("default stages %q", got)
	}
	if _, ok := g.Store().(*memory.Store); !ok {
		t.Fatalf("default store %T", g.Store())
	}
}

// downStore is a store whose backend never answers.
type downStore struct{ store.Store }

func (downStore) Ping(ctx context.Context) error {
	<-ctx.Done()
	return errors.Join(store.ErrUnavailable, ctx.Err())
}

func TestStartupCheckUnreachableStore(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, err := guard.New(guard.WithStore(downStore{}), guard.WithStartupCheck(true, 50*time.Millisecond))
	if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "WithStore") {
		t.Fatalf("New with a dead store: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("New hung for %v", time.Since(start))
	}
	g, err := guard.New(guard.WithStore(downStore{}), guard.WithStartupCheck(false, 0))
	if err != nil {
		t.Fatalf("startup check off: %v", err)
	}
	_ = g.Close(context.Background())
}

func TestStageOrder(t *testing.T) {
	t.Parallel()
	var order []string
	mk := func(name string, p guard.Phase) guard.Option {
		return guard.WithStage(guard.StageFunc(name, p, func(*guard.Request) guard.Decision {
			order = append(order, name)
			return guard.Allow()
		}))
	}
	g, err := guard.New(mk("app", guard.PhaseApp), mk("inspect", guard.PhaseInspect), mk("csrf", guard.PhaseCSRF), mk("rl", guard.PhaseRateLimit), mk("hdr", guard.PhaseHeaders), mk("app2", guard.PhaseApp))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	want := "correlate,hdr,csrf,rl,inspect,app,app2"
	if got := strings.Join(g.Stages(), ","); got != want {
		t.Fatalf("stages %q, want %q", got, want)
	}
	rec := httptest.NewRecorder()
	g.Handler(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := strings.Join(order, ","); got != "hdr,csrf,rl,inspect,app,app2" {
		t.Fatalf("ran %q", got)
	}
}

func TestFirstDenialStops(t *testing.T) {
	t.Parallel()
	var later atomic.Bool
	g, err := guard.New(
		guard.WithStage(guard.StageFunc("deny", guard.PhaseCSRF, func(*guard.Request) guard.Decision {
			return guard.Deny(http.StatusTooManyRequests, "slow_down", "Slow down.")
		})),
		guard.WithStage(guard.StageFunc("later", guard.PhaseInspect, func(*guard.Request) guard.Decision {
			later.Store(true)
			return guard.Allow()
		})),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	rec := httptest.NewRecorder()
	g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler ran") })).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 429 || later.Load() {
		t.Fatalf("status %d, later stage ran: %v", rec.Code, later.Load())
	}
	want := `{"type":"about:blank","title":"Too Many Requests","status":429,"code":"slow_down","detail":"Slow down."}` + "\n"
	if rec.Body.String() != want {
		t.Fatalf("body %q", rec.Body.String())
	}
}

func TestRouteTemplateSurvivesCopies(t *testing.T) {
	t.Parallel()
	g, err := guard.New()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	mux := http.NewServeMux()
	var got string
	mux.HandleFunc("GET /users/{id}/notes/{n}", func(w http.ResponseWriter, r *http.Request) {
		got = guard.Route(r.Context())
		if r.PathValue("id") != "7" {
			t.Errorf("path value lost: %q", r.PathValue("id"))
		}
	})
	// A middleware between the guard and the mux copies the request, as
	// logging and auth middleware do.
	copier := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			type k struct{}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), k{}, 1)))
		})
	}
	// The copier sits outside the guard, which is handed the mux: the
	// pattern is resolved before any stage runs.
	h := copier(g.Handler(mux))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/7/notes/9", nil))
	if got != "/users/{id}/notes/{n}" {
		t.Fatalf("route %q", got)
	}
	// The guard inside the mux, per route, behind a copier: the pattern
	// comes from r.Pattern, set by the mux.
	mux2 := http.NewServeMux()
	mux2.Handle("GET /a/{x}", g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = guard.Route(r.Context())
	})))
	copier(mux2).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/a/1", nil))
	if got != "/a/{x}" {
		t.Fatalf("per-route guard: route %q", got)
	}
}

func TestUnmatchedRouteIsConstant(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	routes := map[string]int{}
	g, err := guard.New(guard.WithStage(guard.StageFunc("spy", guard.PhaseApp, func(r *guard.Request) guard.Decision {
		mu.Lock()
		routes[r.Route]++
		mu.Unlock()
		return guard.Allow()
	})))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(http.ResponseWriter, *http.Request) {})
	h := g.Handler(mux)
	for _, p := range []string{"/x", "/../../etc/passwd", "/%2e%2e/", "/ok/extra", "/OK"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/ok", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/ok", nil))
	if len(routes) != 2 || routes["/ok"] != 1 || routes[guard.RouteUnmatched] != 6 {
		t.Fatalf("routes seen %v", routes)
	}
}

func TestRecoverAfterResponseStarted(t *testing.T) {
	t.Parallel()
	g, err := guard.New()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	srv := httptest.NewServer(g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		_, _ = w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		panic("late")
	})))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	if err == nil {
		t.Fatalf("a response that panicked midway looked complete")
	}
}

func TestErrAbortHandlerRepanics(t *testing.T) {
	t.Parallel()
	g, err := guard.New()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler re-panicked", p)
		}
	}()
	g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestRecoverOff(t *testing.T) {
	t.Parallel()
	g, err := guard.New(guard.WithRecover(false))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	defer func() {
		if p := recover(); p != "raw" {
			t.Fatalf("recovered %v", p)
		}
	}()
	g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("raw") })).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

// blockingSink blocks until released, to fill its queue.
type blockingSink struct {
	release chan struct{}
	n       atomic.Int64
}

func (s *blockingSink) HandleEvent(guard.Event) {
	<-s.release
	s.n.Add(1)
}

func TestBusBoundedAndCloseDrains(t *testing.T) {
	t.Parallel()
	s := &blockingSink{release: make(chan struct{})}
	g, err := guard.New(guard.WithSink(s, guard.KindRequestDone), guard.WithEventQueue(8))
	if err != nil {
		t.Fatal(err)
	}
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	done := make(chan struct{})
	go func() {
		for i := 0; i < 100; i++ {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		}
		close(done)
	}()
	select {
	case <-done: // publishing never blocked, though the sink is stuck
	case <-time.After(10 * time.Second):
		t.Fatal("requests blocked on a stuck sink")
	}
	st := g.BusStats()
	// One event may be held by the sink, 8 queued; the rest dropped.
	if st.Published < 8 || st.Published > 9 || st.Dropped != 100-st.Published {
		t.Fatalf("stats %+v", st)
	}
	// Close with an expired deadline reports what is not drained.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close with a stuck sink: %v", err)
	}
	// Idempotent: the second call returns the first result.
	if err2 := g.Close(context.Background()); !errors.Is(err2, context.Canceled) {
		t.Fatalf("second Close: %v", err2)
	}
	close(s.release)
}

func TestCloseDeliversQueued(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	g, err := guard.New(guard.WithSink(guard.SinkFunc(func(ev guard.Event) {
		time.Sleep(time.Millisecond) // a sink doing I/O
		n.Add(1)
	}), guard.KindRequestDone))
	if err != nil {
		t.Fatal(err)
	}
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for i := 0; i < 50; i++ {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}
	if err := g.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 50 {
		t.Fatalf("delivered %d of 50 queued events", n.Load())
	}
	// After Close, requests still work; their events are dropped, counted.
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if g.BusStats().Dropped != 1 || !g.Closing() {
		t.Fatalf("after close: %+v", g.BusStats())
	}
}

func TestPanickingSinkIsContained(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	g, err := guard.New(guard.WithSink(guard.SinkFunc(func(guard.Event) {
		if n.Add(1) == 1 {
			panic("sink bug")
		}
	})))
	if err != nil {
		t.Fatal(err)
	}
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if err := g.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 {
		t.Fatalf("sink saw %d events", n.Load())
	}
}

func TestRegisterKind(t *testing.T) {
	k, err := guard.RegisterKind("guard_test_custom")
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := guard.RegisterKind("guard_test_custom")
	if k != k2 || k.String() != "guard_test_custom" || guard.KindRateLimited.String() != "rate_limited" {
		t.Fatalf("kinds %v %v %v", k, k2, guard.KindRateLimited)
	}
	if _, err := guard.RegisterKind(""); err == nil {
		t.Fatal("empty kind accepted")
	}
}

func TestSchemeFromTrustedProxy(t *testing.T) {
	t.Parallel()
	g, err := guard.New(guard.WithTrustedProxies("192.0.2.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	var scheme string
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq, _ := guard.FromContext(r.Context())
		scheme = rq.Scheme
	}))
	req := httptest.NewRequest("GET", "/", nil) // RemoteAddr 192.0.2.1:1234
	req.Header.Set("X-Forwarded-Proto", "https")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if scheme != "https" {
		t.Fatalf("scheme from trusted proxy %q", scheme)
	}
	req.RemoteAddr = "203.0.113.5:1"
	h.ServeHTTP(httptest.NewRecorder(), req)
	if scheme != "http" {
		t.Fatalf("scheme from untrusted peer %q", scheme)
	}
}

func TestRawPathAsSent(t *testing.T) {
	t.Parallel()
	var got string
	g, err := guard.New(guard.WithStage(guard.StageFunc("spy", guard.PhaseApp, func(r *guard.Request) guard.Decision {
		got = r.Path
		return guard.Allow()
	})))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for target, want := range map[string]string{
		"/a%2Fb?x=1":           "/a%2Fb",
		"/notes/%2e%2e/%2e%2e": "/notes/%2e%2e/%2e%2e",
		"/plain":               "/plain",
		"/%41?":                "/%41",
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", target, nil))
		if got != want {
			t.Errorf("%s: Path %q, want %q", target, got, want)
		}
	}
	// A request built by hand, with no RequestURI, falls back to the URL.
	req := httptest.NewRequest("GET", "/x%20y", nil)
	req.RequestURI = ""
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got != "/x%20y" {
		t.Errorf("no RequestURI: Path %q", got)
	}
}

// TestBusQueueGrowsWithBacklog checks that a sink's queue costs memory
// for the events waiting, not for its capacity: a Guard whose queue may
// hold MaxEventQueue events (about 256 MB of events) starts with almost
// nothing allocated.
func TestBusQueueGrowsWithBacklog(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g, err := guard.New(guard.WithSink(guard.SinkFunc(func(guard.Event) {})), guard.WithEventQueue(guard.MaxEventQueue))
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("New with a %d-event queue allocated %d bytes", guard.MaxEventQueue, grew)
	}
	if err := g.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestBusDeliversInOrder publishes from many goroutines, each numbering
// its events, and checks that a sink sees every goroutine's events in
// its order, none lost, while the sink is slower than the publishers.
func TestBusDeliversInOrder(t *testing.T) {
	t.Parallel()
	const publishers, each = 8, 2000
	last := make([]int, publishers)
	for i := range last {
		last[i] = -1
	}
	var bad atomic.Int64
	var n atomic.Int64
	g, err := guard.New(guard.WithSink(guard.SinkFunc(func(ev guard.Event) {
		p, seq := int(ev.Status), int(ev.BytesOut)
		if seq != last[p]+1 {
			bad.Add(1)
		}
		last[p] = seq
		n.Add(1)
		if seq%500 == 0 {
			time.Sleep(time.Millisecond) // let a backlog build
		}
	}), guard.KindDependencyChanged), guard.WithEventQueue(publishers*each))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for seq := range each {
				g.Publish(guard.Event{Kind: guard.KindDependencyChanged, Status: p, BytesOut: int64(seq)})
			}
		})
	}
	wg.Wait()
	if err := g.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n.Load() != publishers*each || bad.Load() != 0 || g.BusStats().Dropped != 0 {
		t.Fatalf("delivered %d of %d, %d out of order, stats %+v", n.Load(), publishers*each, bad.Load(), g.BusStats())
	}
}
