package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/guardsdk/guard/store"
)

// scrape GETs /metrics and parses it.
func scrape(t *testing.T, c *client) map[string]*dto.MetricFamily {
	t.Helper()
	r := c.must(c.do("GET", "/metrics", nil), http.StatusOK)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, r.body)
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

// requestCount is the request-duration histogram's count for route.
func requestCount(fams map[string]*dto.MetricFamily, route string) uint64 {
	var n uint64
	for _, m := range fams["http_server_request_duration_seconds"].GetMetric() {
		if labels(m)["http_route"] == route {
			n += m.GetHistogram().GetSampleCount()
		}
	}
	return n
}

// scrapeUntil scrapes until ok holds: durations reach the metrics through
// guard's asynchronous event queue.
func scrapeUntil(t *testing.T, c *client, what string, ok func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams := scrape(t, c)
		if ok(fams) {
			return fams
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics: %s not seen within 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	srv, _ := serveApp(t, appConfig{Store: memStore(t)}, false)
	c := newClient(t, srv)
	c.signup("mallory", password)
	n := c.createNote("metered", "")
	const gets = 3
	for range gets {
		c.must(c.do("GET", "/api/v1/notes/"+n.ID, nil), 200)
	}
	c.do("GET", "/api/v1/notes/AAAAAAAAAAAAAAAA", nil).problem(t, 404, "not_found")
	c.do("GET", "/no/such/path", nil).problem(t, 404, "not_found")

	fams := scrapeUntil(t, c, "the note requests", func(f map[string]*dto.MetricFamily) bool {
		return requestCount(f, "/api/v1/notes/{id}") == gets+1 && requestCount(f, "unmatched") == 1
	})
	checkHeaders(t, "GET /metrics", c.must(c.do("GET", "/metrics", nil), 200).header, false, "Vary")

	dur := fams["http_server_request_duration_seconds"]
	if dur.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("http_server_request_duration_seconds is a %v", dur.GetType())
	}
	want := map[string]string{"http_request_method": "GET", "url_scheme": "http", "http_route": "/api/v1/notes/{id}"}
	var statuses []string
	for _, m := range dur.GetMetric() {
		l := labels(m)
		for _, v := range l {
			if strings.Contains(v, n.ID) || strings.Contains(v, "AAAA") || strings.Contains(v, "/no/such") || strings.Contains(v, "127.0.0.1") {
				t.Errorf("label value %q: a raw path or a client address", v)
			}
		}
		if l["http_route"] != want["http_route"] {
			continue
		}
		for k, v := range want {
			if l[k] != v {
				t.Errorf("%s = %q, want %q (labels %v)", k, l[k], v, l)
			}
		}
		statuses = append(statuses, l["http_response_status_code"])
	}
	slices.Sort(statuses)
	if !slices.Equal(statuses, []string{"200", "404"}) {
		t.Errorf("status codes of the note route %v, want 200 and 404", statuses)
	}
	for _, name := range []string{"http_server_active_requests", "http_server_response_body_size_bytes", "guard_events_published_total"} {
		if fams[name] == nil {
			t.Errorf("no %s", name)
		}
	}

	// A scanner probing random paths adds no series: they all count
	// under the one unmatched route.
	series := func(f map[string]*dto.MetricFamily) int {
		n := 0
		for _, fam := range f {
			n += len(fam.GetMetric())
		}
		return n
	}
	before := scrape(t, c)
	const probes = 50
	for range probes {
		c.do("GET", "/"+rand.Text()+"/"+rand.Text(), nil).problem(t, 404, "not_found")
	}
	after := scrapeUntil(t, c, "the probes", func(f map[string]*dto.MetricFamily) bool {
		return requestCount(f, "unmatched") == 1+probes
	})
	if b, a := series(before), series(after); a != b {
		t.Errorf("%d series before %d random paths, %d after", b, probes, a)
	}
}

// flakyStore fails Ping, naming an internal address, while down is set.
type flakyStore struct {
	store.Store
	down atomic.Bool
}

var errPingDown = errors.New("dial tcp 10.9.8.7:6379: connect: connection refused")

func (s *flakyStore) Ping(ctx context.Context) error {
	if s.down.Load() {
		return errPingDown
	}
	return s.Store.Ping(ctx)
}

type healthBody struct {
	Status string `json:"status"`
	Checks []struct {
		Name      string   `json:"name"`
		Status    string   `json:"status"`
		Critical  bool     `json:"critical"`
		LatencyMS *float64 `json:"latency_ms"`
		Error     string   `json:"error"`
	} `json:"checks"`
}

func (c *client) health(path string, status int, hdr ...string) healthBody {
	c.t.Helper()
	r := c.must(c.do("GET", path, nil, hdr...), status)
	var b healthBody
	r.json(c.t, &b)
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		c.t.Errorf("GET %s: Cache-Control %q", path, cc)
	}
	return b
}

func TestHealth(t *testing.T) {
	t.Parallel()
	srv, a := serveApp(t, appConfig{Store: memStore(t)}, false)
	c := newClient(t, srv)
	if b := c.health("/health/live", 200); b.Status != "up" {
		t.Errorf("live: %+v", b)
	}
	if b := c.health("/health/ready", 200); b.Status != "up" || len(b.Checks) != 1 || b.Checks[0].Name != "store" || b.Checks[0].Status != "up" {
		t.Errorf("ready: %+v", b)
	}
	if b := c.health("/health", 200); b.Status != "up" {
		t.Errorf("summary: %+v", b)
	}

	// SIGTERM: main drains first. Readiness fails, everything else still
	// answers.
	a.Drain()
	if b := c.health("/health/ready", 503); b.Status != "closing" {
		t.Errorf("ready while draining: %+v", b)
	}
	if b := c.health("/health", 503); b.Status != "closing" {
		t.Errorf("summary while draining: %+v", b)
	}
	c.health("/health/live", 200)
	c.must(c.do("GET", "/", nil), 200)

	// Without Drain, Close alone turns readiness.
	srv2, a2 := serveApp(t, appConfig{Store: memStore(t)}, false)
	c2 := newClient(t, srv2)
	c2.health("/health/ready", 200)
	if err := a2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b := c2.health("/health/ready", 503); b.Status != "closing" {
		t.Errorf("ready after Close: %+v", b)
	}
	c2.health("/health/live", 200)
}

// TestHealthDetail: the error text and latency of /health/dependencies
// only for local callers; a trusted proxy's X-Forwarded-For stands for a
// remote one.
func TestHealthDetail(t *testing.T) {
	t.Parallel()
	st := &flakyStore{Store: memStore(t)}
	var logs syncBuffer
	srv, a := serveApp(t, appConfig{Store: st, TrustedProxies: []string{"127.0.0.1", "::1"}, Logger: newLogger(&logs)}, false)
	c := newClient(t, srv)
	remote := []string{"X-Forwarded-For", "203.0.113.7"}

	local := c.health("/health/dependencies", 200)
	if len(local.Checks) != 1 || local.Checks[0].LatencyMS == nil || local.Checks[0].Error != "" {
		t.Errorf("local, store up: %+v, want the latency", local)
	}
	if b := c.health("/health/dependencies", 200, remote...); len(b.Checks) != 1 || b.Checks[0].LatencyMS != nil {
		t.Errorf("remote, store up: %+v, want no latency", b)
	}

	st.down.Store(true)
	time.Sleep(1100 * time.Millisecond) // the results are cached for a second
	if b := c.health("/health/live", 200); b.Status != "up" {
		t.Errorf("live with the store down: %+v", b) // never checks dependencies
	}
	r := c.must(c.do("GET", "/health/dependencies", nil, remote...), 503)
	var b healthBody
	r.json(t, &b)
	if b.Status != "down" || len(b.Checks) != 1 || b.Checks[0].Status != "down" || b.Checks[0].Error != "" || b.Checks[0].LatencyMS != nil || strings.Contains(string(r.body), "10.9.8.7") {
		t.Errorf("remote, store down: %s, want the status without detail", r.body)
	}
	if b := c.health("/health/ready", 503, remote...); b.Status != "down" || b.Checks[0].Error != "" {
		t.Errorf("ready, store down: %+v", b)
	}
	if b := c.health("/health/dependencies", 503); b.Checks[0].Error == "" || !strings.Contains(b.Checks[0].Error, "10.9.8.7") {
		t.Errorf("local, store down: %+v, want the error", b)
	}

	// The change is a logged event.
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(logLines(t, logs.String()), func(l map[string]any) bool {
		return l["msg"] == "guard event" && l["kind"] == "dependency_changed" && l["reason"] == "down" && l["check"] == "store"
	}) {
		t.Errorf("no dependency_changed line in\n%s", logs.String())
	}
}

// logLines parses JSON lines, failing on any other line.
func logLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestRequestLogs(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	srv, a := serveApp(t, appConfig{Store: memStore(t), Logger: newLogger(&logs)}, false)
	c := newClient(t, srv)

	type sent struct{ route, id, principal string }
	var reqs []sent
	do := func(method, path, route, principal string, body any, hdr ...string) response {
		r := c.do(method, path, body, hdr...)
		reqs = append(reqs, sent{route, r.header.Get("X-Request-Id"), principal})
		return r
	}
	creds := map[string]string{"username": "olivia", "password": password}
	do("POST", "/api/v1/auth/register", "/api/v1/auth/register", "", creds)
	var tok struct{ Token string }
	do("POST", "/api/v1/auth/login", "/api/v1/auth/login", "olivia", creds).json(t, &tok) // login names the user
	c.token = tok.Token
	do("POST", "/api/v1/notes", "/api/v1/notes", "olivia", map[string]string{"title": "t", "body": "password=" + password})
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	do("GET", "/api/v1/search?q=t&token="+tok.Token, "/api/v1/search", "olivia", nil, "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	do("GET", "/nope/"+tok.Token, "unmatched", "olivia", nil)
	c.token = "not-a-session-" + tok.Token[:10]
	do("GET", "/api/v1/notes", "/api/v1/notes", "", nil)

	// Close drains the log queue.
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, secret := range []string{tok.Token, password, tok.Token[:10]} {
		if strings.Contains(out, secret) {
			t.Errorf("a log line holds the secret %q:\n%s", secret, out)
		}
	}
	var lines []map[string]any
	for _, l := range logLines(t, out) {
		if l["msg"] == "request" {
			lines = append(lines, l)
		}
	}
	if len(lines) != len(reqs) {
		t.Fatalf("%d request lines for %d requests:\n%s", len(lines), len(reqs), out)
	}
	for _, want := range reqs {
		i := slices.IndexFunc(lines, func(l map[string]any) bool { return l["correlation_id"] == want.id })
		if want.id == "" || i < 0 {
			t.Errorf("no line with correlation_id %q (%s)", want.id, want.route)
			continue
		}
		l := lines[i]
		if l["route"] != want.route || l["status"] == nil || l["method"] == nil || l["duration"] == nil || l["client_ip"] != "127.0.0.1" || l["level"] == nil || l["ts"] == nil {
			t.Errorf("line %v, want route %s, status, method, duration, client_ip, level, ts", l, want.route)
		}
		if p, _ := l["principal"].(string); p != want.principal {
			t.Errorf("%s: principal %q, want %q", want.route, p, want.principal)
		}
		if want.route == "/api/v1/search" && l["trace_id"] != traceID {
			t.Errorf("search: trace_id %v, want the traceparent's %s", l["trace_id"], traceID)
		}
	}
}

// fakeSentry stands in for Sentry's ingest: it keeps what it receives.
type fakeSentry struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []ingested
}

type ingested struct {
	path   string
	header http.Header
	body   []byte
}

func newFakeSentry(t *testing.T) *fakeSentry {
	f := &fakeSentry{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, ingested{r.URL.Path, r.Header.Clone(), b})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"ok"}`)
	}))
	t.Cleanup(f.Close)
	return f
}

// dsn is a DSN of project 42 on the fake ingest.
func (f *fakeSentry) dsn() string {
	return "http://publickey@" + strings.TrimPrefix(f.URL, "http://") + "/42"
}

func (f *fakeSentry) received() []ingested {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// events returns the payloads of the event items of the envelopes received.
func (f *fakeSentry) events(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range f.received() {
		lines := strings.Split(string(r.body), "\n")
		for i := 1; i+1 < len(lines); i += 2 {
			var item struct{ Type string }
			if err := json.Unmarshal([]byte(lines[i]), &item); err != nil {
				t.Fatalf("envelope item header %q: %v", lines[i], err)
			}
			if item.Type != "event" {
				continue
			}
			var ev map[string]any
			if err := json.Unmarshal([]byte(lines[i+1]), &ev); err != nil {
				t.Fatalf("event %q: %v", lines[i+1], err)
			}
			out = append(out, ev)
		}
	}
	return out
}

// panicStore panics when a handler reads a note index while armed: a
// handler panic after the principal is known.
type panicStore struct {
	store.Store
	armed atomic.Bool
}

func (s *panicStore) Get(ctx context.Context, key string) ([]byte, error) {
	if s.armed.Load() && strings.HasPrefix(key, indexKeyPrefix) {
		panic("note index exploded")
	}
	return s.Store.Get(ctx, key)
}

func TestSentry(t *testing.T) {
	t.Parallel()
	ingest := newFakeSentry(t)
	st := &panicStore{Store: memStore(t)}
	srv, a := serveApp(t, appConfig{Store: st, SentryDSN: ingest.dsn()}, false)
	c := newClient(t, srv)
	c.signup("peggy", password)
	st.armed.Store(true)
	r := c.do("GET", "/api/v1/notes", nil)
	r.problem(t, 500, "internal_error")
	st.armed.Store(false)
	c.must(c.do("GET", "/api/v1/notes", nil), 200)

	// Close flushes Sentry.
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs := ingest.events(t)
	if len(evs) != 1 {
		t.Fatalf("%d events at the ingest, want the panic's only (its 500 is not reported twice): %v", len(evs), evs)
	}
	ev := evs[0]
	user, _ := ev["user"].(map[string]any)
	tags, _ := ev["tags"].(map[string]any)
	if ev["level"] != "fatal" || user["id"] != "peggy" || ev["transaction"] != "GET /api/v1/notes" ||
		ev["environment"] != "quickstart" || tags["correlation_id"] != r.header.Get("X-Request-Id") {
		t.Errorf("event %v: want level fatal, user id peggy, the route as transaction, environment quickstart, the correlation id", ev)
	}
	for _, in := range ingest.received() {
		if in.path != "/api/42/envelope/" || in.header.Get("Authorization") != "" || in.header.Get("Cookie") != "" {
			t.Errorf("ingest request to %s with headers %v", in.path, in.header)
		}
		body := strings.ToLower(string(in.body))
		for _, s := range []string{strings.ToLower(c.token), "authorization", "bearer", strings.ToLower(password)} {
			if strings.Contains(body, s) {
				t.Errorf("envelope holds %q:\n%s", s, in.body)
			}
		}
	}
}

func TestSentryTunnel(t *testing.T) {
	t.Parallel()
	ingest := newFakeSentry(t)
	srv, _ := serveApp(t, appConfig{Store: memStore(t), SentryDSN: ingest.dsn()}, false)
	c := newClient(t, srv)
	envelope := func(dsn string) string {
		return `{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"` + dsn + `"}` + "\n" + `{"type":"event"}` + "\n" + `{"message":"from the browser"}` + "\n"
	}

	// The browser SDK posts from the app's own page: same-origin.
	body := envelope(ingest.dsn())
	// What the tunnel forwarded, leaving out the app's own Sentry
	// client's envelopes (sampled transactions), which authenticate.
	tunnelled := func() []ingested {
		var out []ingested
		for _, in := range ingest.received() {
			if in.header.Get("X-Sentry-Auth") == "" {
				out = append(out, in)
			}
		}
		return out
	}
	r := c.must(c.do("POST", sentryTunnelPath, body, "Content-Type", "text/plain;charset=UTF-8", "Sec-Fetch-Site", "same-origin", "Cookie", "session=abc"), 200)
	if got := tunnelled(); len(got) != 1 || string(got[0].body) != body || got[0].path != "/api/42/envelope/" || got[0].header.Get("Cookie") != "" {
		t.Fatalf("forwarded %+v, want the envelope unchanged, without the cookie", got)
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Error("the tunnel is not behind guard")
	}

	// Another project, another host, garbage, a cross-site page.
	c.must(c.do("POST", sentryTunnelPath, envelope(strings.Replace(ingest.dsn(), "/42", "/43", 1))), 403)
	c.must(c.do("POST", sentryTunnelPath, envelope("https://publickey@evil.example/42")), 403)
	c.must(c.do("POST", sentryTunnelPath, "not an envelope"), 400)
	c.do("POST", sentryTunnelPath, body, "Sec-Fetch-Site", "cross-site").problem(t, 403, "cross_origin")
	if n := len(tunnelled()); n != 1 {
		t.Errorf("%d envelopes went through the tunnel, want 1: %q", n, tunnelled())
	}

	// Without -sentry-dsn there is no tunnel.
	plain := newClient(t, startApp(t, memStore(t)))
	plain.do("POST", sentryTunnelPath, body, "Content-Type", "text/plain;charset=UTF-8").problem(t, 404, "not_found")
}
