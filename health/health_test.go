package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/health"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type response struct {
	code int
	body map[string]any
}

func get(t *testing.T, h http.Handler, path string) response {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("%s: body %q: %v", path, w.Body.String(), err)
	}
	return response{w.Code, m}
}

// events collects dependency_changed events.
type events struct {
	mu  sync.Mutex
	evs []guard.Event
}

func (e *events) HandleEvent(ev guard.Event) { e.mu.Lock(); e.evs = append(e.evs, ev); e.mu.Unlock() }

func TestEndpoints(t *testing.T) {
	t.Parallel()
	var dbDown atomic.Bool
	var calls atomic.Int64
	clk := &clock{t: time.Unix(1000, 0)}
	evs := &events{}
	g, err := guard.New(guard.WithSink(evs, guard.KindDependencyChanged))
	if err != nil {
		t.Fatal(err)
	}
	h, err := health.New(g,
		health.WithClock(clk.now),
		health.WithStoreCheck(),
		health.WithCheck("db", func(ctx context.Context) error {
			calls.Add(1)
			if dbDown.Load() {
				return errors.New("dial tcp 10.0.0.5:5432: connection refused")
			}
			return nil
		}),
		health.WithCheck("search", func(ctx context.Context) error { return errors.New("search cluster red") }, health.Critical(false)),
		health.WithDetail(func(r *http.Request) bool { return r.Header.Get("X-Admin") == "yes" }),
	)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := g.Handler(mux)

	if r := get(t, srv, "/health/ready"); r.code != 200 || r.body["status"] != "up" {
		t.Errorf("ready %+v", r)
	}
	get(t, srv, "/health/ready")
	if calls.Load() != 1 {
		t.Errorf("cached: db checked %d times within the TTL", calls.Load())
	}
	if r := get(t, srv, "/health/dependencies"); r.code != 200 || strings.Contains(toJSON(r.body), "latency_ms") {
		t.Errorf("dependencies without detail %+v", r)
	}

	dbDown.Store(true)
	clk.advance(health.DefaultCacheTTL)
	if r := get(t, srv, "/health/live"); r.code != 200 {
		t.Errorf("live %+v", r)
	}
	if r := get(t, srv, "/health/ready"); r.code != 503 || r.body["status"] != "down" {
		t.Errorf("ready with db down %+v", r)
	}
	if r := get(t, srv, "/health"); r.code != 503 || r.body["status"] != "down" {
		t.Errorf("summary %+v", r)
	}
	r := get(t, srv, "/health/dependencies")
	if r.code != 503 || strings.Contains(toJSON(r.body), "10.0.0.5") {
		t.Errorf("dependencies leak detail without authorization: %+v", r)
	}
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/health/dependencies", nil)
	req.Header.Set("X-Admin", "yes")
	srv.ServeHTTP(w, req)
	if !strings.Contains(w.Body.String(), "connection refused") || !strings.Contains(w.Body.String(), "search cluster red") || !strings.Contains(w.Body.String(), "latency_ms") {
		t.Errorf("authorized dependencies without detail: %s", w.Body.String())
	}

	dbDown.Store(false)
	clk.advance(health.DefaultCacheTTL)
	if r := get(t, srv, "/health/ready"); r.code != 200 {
		t.Errorf("ready after recovery %+v", r)
	}

	if err := g.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Closing: ready fails first, live stays up.
	if r := get(t, srv, "/health/ready"); r.code != 503 || r.body["status"] != "closing" {
		t.Errorf("ready while closing %+v", r)
	}
	if r := get(t, srv, "/health/live"); r.code != 200 {
		t.Errorf("live while closing %+v", r)
	}

	evs.mu.Lock()
	defer evs.mu.Unlock()
	var got []string
	for _, ev := range evs.evs {
		got = append(got, ev.Attrs[0].Value+":"+ev.Reason)
	}
	// search is down from the first run; db goes down, then up.
	if strings.Join(got, ",") != "search:down,db:down,db:up" {
		t.Errorf("dependency events %v", got)
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestCheckTimeout(t *testing.T) {
	t.Parallel()
	g, _ := guard.New()
	defer g.Close(context.Background())
	block := make(chan struct{})
	defer close(block)
	h, err := health.New(g,
		health.WithCheck("honours ctx", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, health.CheckTimeout(20*time.Millisecond)),
		health.WithCheck("ignores ctx", func(ctx context.Context) error { <-block; return nil }, health.CheckTimeout(20*time.Millisecond)),
	)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := h.Results(context.Background())
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("checks took %v", el)
	}
	for _, r := range res {
		if r.Status != health.StatusDown || !strings.Contains(r.Error, "timed out") {
			t.Errorf("%s: %+v", r.Name, r)
		}
	}
}

func TestDrain(t *testing.T) {
	t.Parallel()
	g, _ := guard.New()
	defer g.Close(context.Background())
	h, _ := health.New(g)
	h.Drain()
	if err := h.Ready(context.Background()); !errors.Is(err, health.ErrClosing) {
		t.Errorf("Ready after Drain: %v", err)
	}
}

func TestHTTPCheck(t *testing.T) {
	t.Parallel()
	var status atomic.Int64
	status.Store(200)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(int(status.Load())) }))
	defer up.Close()
	g, _ := guard.New()
	defer g.Close(context.Background())
	h, err := health.New(g, health.WithHTTPCheck("payments", up.URL+"/healthz"), health.WithCacheTTL(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Ready(context.Background()); err != nil {
		t.Errorf("up: %v", err)
	}
	status.Store(500)
	if err := h.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("500: %v", err)
	}
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	g, _ := guard.New()
	defer g.Close(context.Background())
	fn := func(context.Context) error { return nil }
	for name, opt := range map[string]health.Option{
		"WithCheck":     health.WithCheck("", fn),
		"WithSQLCheck":  health.WithSQLCheck("db", nil),
		"WithHTTPCheck": health.WithHTTPCheck("x", "file:///etc/passwd"),
		"WithCacheTTL":  health.WithCacheTTL(-1),
		"WithDetail":    health.WithDetail(nil),
		"WithClock":     health.WithClock(nil),
	} {
		if _, err := health.New(g, opt); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := health.New(g, health.WithCheck("a", fn), health.WithCheck("a", fn)); err == nil {
		t.Error("duplicate check accepted")
	}
	if _, err := health.New(g, health.WithCheck("a", fn, health.CheckTimeout(0))); err == nil {
		t.Error("zero timeout accepted")
	}
}
