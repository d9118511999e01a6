package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/telemetry/metrics"
)

// scrape fetches /metrics through the handler and parses the exposition.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics status %d", rec.Code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, rec.Body.String())
	}
	return fams
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func newGuard(t *testing.T, m *metrics.Metrics, extra ...guard.Option) (*guard.Guard, http.Handler) {
	t.Helper()
	g, err := guard.New(append([]guard.Option{m.Option()}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveGuard(g)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /notes/{id}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "note") })
	mux.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "x", http.StatusInternalServerError) })
	return g, g.Handler(mux)
}

func serve(h http.Handler, method, target, body string) int {
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, target, strings.NewReader(body))
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestPrometheusExposition(t *testing.T) {
	t.Parallel()
	m, err := metrics.New(metrics.WithLabelLimit(50))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	deny := guard.StageFunc("block_brew", guard.PhaseInspect, func(r *guard.Request) guard.Decision {
		if r.Method == "BREW" {
			return guard.Deny(http.StatusForbidden, "brew_forbidden", "No brewing.")
		}
		return guard.Allow()
	})
	g, h := newGuard(t, m, guard.WithStage(deny))
	for i := range 5 {
		serve(h, "GET", fmt.Sprintf("/notes/%d", i), "")
	}
	serve(h, "POST", "/notes", `{"title":"hello"}`)
	serve(h, "GET", "/boom", "")
	serve(h, "BREW", "/notes/1", "")
	g.Publish(guard.Event{Kind: guard.KindLoginFailed})
	if err := g.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, m.Handler())

	dur := fams["http_server_request_duration_seconds"]
	if dur == nil || dur.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("no http_server_request_duration_seconds histogram; have %v", keys(fams))
	}
	wantBounds := []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, math.Inf(1)}
	found := map[string]uint64{}
	for _, mt := range dur.GetMetric() {
		l := labels(mt)
		for _, forbidden := range []string{"client_address", "server_address", "url_path", "net_peer_ip", "http_host"} {
			if _, ok := l[forbidden]; ok {
				t.Errorf("forbidden label %s present: %v", forbidden, l)
			}
		}
		key := l["http_request_method"] + " " + l["http_route"] + " " + l["http_response_status_code"] + " " + l["url_scheme"]
		found[key] = mt.GetHistogram().GetSampleCount()
		var bounds []float64
		for _, b := range mt.GetHistogram().GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
		}
		if fmt.Sprint(bounds) != fmt.Sprint(wantBounds) {
			t.Errorf("buckets %v, want %v", bounds, wantBounds)
		}
	}
	for key, n := range map[string]uint64{
		"GET /notes/{id} 200 http":  5,
		"POST /notes 201 http":      1,
		"GET /boom 500 http":        1,
		"_OTHER unmatched 403 http": 1, // ServeMux has no BREW route
	} {
		if found[key] != n {
			t.Errorf("series %q count %d, want %d (have %v)", key, found[key], n, found)
		}
	}
	for _, name := range []string{"http_server_request_body_size_bytes", "http_server_response_body_size_bytes"} {
		if fams[name] == nil {
			t.Errorf("missing %s", name)
		}
	}
	act := fams["http_server_active_requests"]
	if act == nil {
		t.Fatalf("missing http_server_active_requests; have %v", keys(fams))
	}
	for _, mt := range act.GetMetric() {
		if v := mt.GetGauge().GetValue(); v != 0 {
			t.Errorf("active requests %v after all finished: %v", v, labels(mt))
		}
	}
	assertCounter(t, fams, "guard_decisions_total", map[string]string{"guard_stage": "block_brew", "guard_reason": "brew_forbidden"}, 1)
	assertCounter(t, fams, "guard_security_events_total", map[string]string{"guard_event_kind": "login_failed"}, 1)
	if fams["guard_queue_dropped_total"] == nil || fams["guard_events_published_total"] == nil {
		t.Errorf("missing bus counters; have %v", keys(fams))
	}
}

func assertCounter(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string, v float64) {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Errorf("missing %s; have %v", name, keys(fams))
		return
	}
outer:
	for _, mt := range f.GetMetric() {
		l := labels(mt)
		for k, wv := range want {
			if l[k] != wv {
				continue outer
			}
		}
		if got := mt.GetCounter().GetValue(); got != v {
			t.Errorf("%s%v = %v, want %v", name, want, got, v)
		}
		return
	}
	t.Errorf("%s has no series with %v", name, want)
}

func keys(m map[string]*dto.MetricFamily) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A scanner probing random paths must not create series: unmatched
// requests share the route "unmatched".
func TestRandomPathFloodCreatesNoSeries(t *testing.T) {
	t.Parallel()
	m, err := metrics.New()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	g, h := newGuard(t, m)
	serve(h, "GET", "/notes/1", "")
	for i := range 500 {
		serve(h, "GET", fmt.Sprintf("/wp-admin/%d/%x.php", i, i*7919), "")
	}
	g.Close(context.Background())
	fams := scrape(t, m.Handler())
	routes := map[string]bool{}
	for _, mt := range fams["http_server_request_duration_seconds"].GetMetric() {
		routes[labels(mt)["http_route"]] = true
	}
	if len(routes) != 2 || !routes["/notes/{id}"] || !routes[guard.RouteUnmatched] {
		t.Errorf("routes %v, want /notes/{id} and %s only", routes, guard.RouteUnmatched)
	}
}

// A framework handing raw paths as routes is capped at the label limit.
func TestLabelLimitOverflow(t *testing.T) {
	t.Parallel()
	m, err := metrics.New(metrics.WithLabelLimit(3))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	for i := range 20 {
		m.HandleEvent(guard.Event{Kind: guard.KindRequestDone, Method: "GET", Scheme: "https", Route: fmt.Sprintf("/raw/%d", i), Status: 200, Duration: time.Millisecond})
	}
	routes := map[string]uint64{}
	for _, mt := range scrape(t, m.Handler())["http_server_request_duration_seconds"].GetMetric() {
		routes[labels(mt)["http_route"]] += mt.GetHistogram().GetSampleCount()
	}
	if len(routes) != 4 || routes[metrics.Overflow] != 17 {
		t.Errorf("routes %v, want 3 admitted and 17 in %s", routes, metrics.Overflow)
	}
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	m, err := metrics.New()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	ctx := context.Background()
	_ = m.TrackQuery(ctx, "postgresql", "SELECT", "notes", func(context.Context) error { return nil })
	m.ObserveQuery(ctx, "postgresql", "INSERT", "notes", 3*time.Millisecond, context.DeadlineExceeded)
	m.Cache(ctx, "notes", true)
	m.Cache(ctx, "notes", false)
	m.Cache(ctx, "notes", false)

	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	defer upstream.Close()
	client := &http.Client{Transport: m.Transport(nil)}
	resp, err := client.Get(upstream.URL + "/x?secret=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, err = (&http.Client{Transport: m.Transport(nil)}).Get("http://127.0.0.1:1/")
	if err == nil {
		t.Fatal("expected a connection error")
	}

	fams := scrape(t, m.Handler())
	db := fams["db_client_operation_duration_seconds"]
	if db == nil || len(db.GetMetric()) != 2 {
		t.Fatalf("db series: %v", db)
	}
	assertCounter(t, fams, "cache_requests_total", map[string]string{"cache_name": "notes", "cache_result": "miss"}, 2)
	cl := fams["http_client_request_duration_seconds"]
	if cl == nil || len(cl.GetMetric()) != 2 {
		t.Fatalf("client series: %v", cl)
	}
	for _, mt := range cl.GetMetric() {
		l := labels(mt)
		if l["server_address"] != "127.0.0.1" {
			t.Errorf("client labels %v", l)
		}
		if l["http_response_status_code"] == "" && l["error_type"] == "" {
			t.Errorf("client series without status or error: %v", l)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]metrics.Option{
		"WithLabelLimit":       metrics.WithLabelLimit(0),
		"WithMeterProvider":    metrics.WithMeterProvider(nil),
		"WithRegistry":         metrics.WithRegistry(nil),
		"WithCardinalityLimit": metrics.WithCardinalityLimit(-1),
		"WithResource":         metrics.WithResource(nil),
	} {
		_, err := metrics.New(opt)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err %v, want one naming the option", name, err)
		}
	}
	if err := (&metrics.Metrics{}).ObserveDropped("", nil); err == nil {
		t.Error("ObserveDropped accepted an empty name")
	}
	_ = errors.New
}
