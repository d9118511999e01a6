package csp

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guardsdk/guard"
)

// collector is a Publisher that keeps events.
type collector struct {
	mu  sync.Mutex
	evs []guard.Event
}

func (c *collector) Publish(ev guard.Event) {
	c.mu.Lock()
	c.evs = append(c.evs, ev)
	c.mu.Unlock()
}

func (c *collector) events() []guard.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]guard.Event(nil), c.evs...)
}

func attrs(ev guard.Event) map[string]string {
	m := map[string]string{}
	for _, a := range ev.Attrs {
		m[a.Key] = a.Value
	}
	return m
}

const legacyReport = `{"csp-report":{
 "document-uri":"https://user:pw@example.com/account/settings?token=s3cret#frag",
 "referrer":"https://other.example/?q=private",
 "violated-directive":"script-src-elem",
 "effective-directive":"script-src-elem",
 "original-policy":"default-src 'none'; script-src 'nonce-abc'",
 "disposition":"enforce",
 "blocked-uri":"https://evil.example/x.js?session=abc",
 "line-number":12,"column-number":"7",
 "source-file":"https://example.com/app.js?v=1",
 "status-code":200,
 "script-sample":"alert(document.cookie)"}}`

const apiReports = `[
 {"type":"csp-violation","age":10,"url":"https://example.com/p?x=1","user_agent":"UA",
  "body":{"documentURL":"https://example.com/p?x=1","blockedURL":"inline","effectiveDirective":"script-src-elem",
          "originalPolicy":"...","sourceFile":"https://example.com/p","sample":"alert(1)","disposition":"report",
          "statusCode":200,"lineNumber":3,"columnNumber":9}},
 {"type":"deprecation","age":1,"url":"https://example.com/","body":{"id":"x","message":"m"}},
 {"type":"csp-violation","body":{"documentURL":"https://example.com/q","blockedURL":"data:text/html;base64,PHNjcmlwdD4=","effectiveDirective":"img-src","disposition":"enforce"}}
]`

// server mounts the handler behind the real net/http adapter of a Guard
// whose events go to a collector through g.Publish.
func server(t *testing.T, cfg ReportConfig) (*ReportHandler, http.Handler, *collector) {
	t.Helper()
	col := &collector{}
	g, err := guard.New(guard.WithSink(col.sink(), guard.KindCSPViolation))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	h, err := NewReportHandler(g, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/csp-report", h)
	return h, g.Handler(mux), col
}

func (c *collector) sink() guard.Sink { return guard.SinkFunc(c.Publish) }

func post(t *testing.T, h http.Handler, ct, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "https://example.com/csp-report", strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// waitEvents waits for the sink goroutine to deliver n events.
func waitEvents(t *testing.T, col *collector, n int) []guard.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs := col.events()
		if len(evs) >= n || time.Now().After(deadline) {
			if len(evs) != n {
				t.Fatalf("got %d events, want %d", len(evs), n)
			}
			return evs
		}
		time.Sleep(time.Millisecond)
	}
}

func TestLegacyReport(t *testing.T) {
	t.Parallel()
	_, h, col := server(t, ReportConfig{})
	rec := post(t, h, "application/csp-report", legacyReport)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	ev := waitEvents(t, col, 1)[0]
	if ev.Kind != guard.KindCSPViolation || ev.Route != "/csp-report" || ev.Method != "POST" || ev.CorrelationID == "" {
		t.Errorf("event %+v", ev)
	}
	want := map[string]string{
		"format": "report-uri", "directive": "script-src-elem",
		"blocked": "https://evil.example/x.js", "document": "https://example.com/account/settings",
		"source": "https://example.com/app.js", "line": "12", "column": "7", "disposition": "enforce",
	}
	got := attrs(ev)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for k, v := range got {
		if strings.ContainsAny(v, "?#@") || strings.Contains(v, "s3cret") || strings.Contains(v, "alert") {
			t.Errorf("attr %s leaks %q", k, v)
		}
	}
}

func TestReportingAPIBatch(t *testing.T) {
	t.Parallel()
	_, h, col := server(t, ReportConfig{})
	for _, ct := range []string{"application/reports+json", "application/json; charset=utf-8"} {
		if rec := post(t, h, ct, apiReports); rec.Code != http.StatusNoContent {
			t.Fatalf("%s: status %d: %s", ct, rec.Code, rec.Body)
		}
	}
	evs := waitEvents(t, col, 4)
	a, b := attrs(evs[0]), attrs(evs[1])
	if a["format"] != "report-to" || a["blocked"] != "inline" || a["document"] != "https://example.com/p" || a["disposition"] != "report" || a["line"] != "3" {
		t.Errorf("first %v", a)
	}
	if b["blocked"] != "data" || b["directive"] != "img-src" {
		t.Errorf("second %v", b)
	}
	// application/json with the legacy shape.
	if rec := post(t, h, "application/json", legacyReport); rec.Code != http.StatusNoContent {
		t.Fatalf("legacy as application/json: %d", rec.Code)
	}
	waitEvents(t, col, 5)
}

func TestReportRejects(t *testing.T) {
	t.Parallel()
	rh, h, col := server(t, ReportConfig{})
	big := `{"csp-report":{"document-uri":"https://a.example/` + strings.Repeat("a", DefaultMaxReportBody) + `"}}`
	tests := []struct {
		name, ct, body string
		status         int
	}{
		{"too large", "application/csp-report", big, 413},
		{"not json", "application/csp-report", "<html>", 400},
		{"empty", "application/csp-report", "", 400},
		{"trailing data", "application/csp-report", legacyReport + `{}`, 400},
		{"two values", "application/reports+json", `[] []`, 400},
		{"no csp-report member", "application/csp-report", `{"report":{}}`, 400},
		{"null", "application/csp-report", `null`, 400},
		{"null batch", "application/reports+json", `null`, 400},
		{"object as batch", "application/reports+json", `{"type":"csp-violation"}`, 400},
		{"entry without type", "application/reports+json", `[{"body":{}}]`, 400},
		{"violation without body", "application/reports+json", `[{"type":"csp-violation"}]`, 400},
		{"wrong field type", "application/csp-report", `{"csp-report":{"document-uri":7}}`, 400},
		{"bad number", "application/csp-report", `{"csp-report":{"line-number":"x"}}`, 400},
		{"text/plain", "text/plain", legacyReport, 415},
		{"no content type", "", legacyReport, 415},
		{"bad media type", "application/", legacyReport, 415},
	}
	for _, tt := range tests {
		rec := post(t, h, tt.ct, tt.body)
		if rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, rec.Code, tt.status)
		}
		if ct := rec.Header().Get("Content-Type"); ct != guard.ContentTypeProblem {
			t.Errorf("%s: Content-Type %q", tt.name, ct)
		}
		if strings.Contains(rec.Body.String(), "document-uri") || strings.Contains(rec.Body.String(), "evil") || strings.Contains(rec.Body.String(), "aaaa") {
			t.Errorf("%s: body echoes the request: %s", tt.name, rec.Body)
		}
	}
	// Content-Length over the cap is refused before reading; so is a
	// chunked body that grows past it.
	req := httptest.NewRequest("POST", "https://example.com/csp-report", strings.NewReader(big))
	req.Header.Set("Content-Type", ContentTypeCSPReport)
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Errorf("chunked oversize: %d", rec.Code)
	}
	// Methods.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/csp-report", nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow=%q", rec.Code, rec.Header().Get("Allow"))
	}
	if st := rh.Stats(); st.Accepted != 0 || st.Rejected != uint64(len(tests))+2 {
		t.Errorf("stats %+v", st)
	}
	if n := len(col.events()); n != 0 {
		t.Errorf("%d events from rejected reports", n)
	}
}

func TestReportFlood(t *testing.T) {
	t.Parallel()
	rh, h, col := server(t, ReportConfig{Rate: 2, Burst: 3})
	now := time.Unix(1_700_000_000, 0)
	rh.bucket.now = func() time.Time { return now }
	codes := func(n int) []int {
		var out []int
		for i := 0; i < n; i++ {
			out = append(out, post(t, h, ContentTypeCSPReport, legacyReport).Code)
		}
		return out
	}
	if got := fmt.Sprint(codes(5)); got != "[204 204 204 429 429]" {
		t.Fatalf("burst: %s", got)
	}
	rec := post(t, h, ContentTypeCSPReport, legacyReport)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("429 without Retry-After: %d %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	now = now.Add(500 * time.Millisecond) // one token at 2/s
	if got := fmt.Sprint(codes(2)); got != "[204 429]" {
		t.Fatalf("refill: %s", got)
	}
	now = now.Add(time.Hour) // refills to the burst, not beyond
	if got := fmt.Sprint(codes(4)); got != "[204 204 204 429]" {
		t.Fatalf("cap: %s", got)
	}
	// A rate-limited request is not read: malformed floods cost nothing.
	if rec := post(t, h, "text/plain", "junk"); rec.Code != 429 {
		t.Fatalf("malformed while limited: %d", rec.Code)
	}
	st := rh.Stats()
	if st.Accepted != 7 || st.RateLimited != 6 {
		t.Fatalf("stats %+v", st)
	}
	waitEvents(t, col, 7)
}

func TestReportBatchCap(t *testing.T) {
	t.Parallel()
	rh, h, col := server(t, ReportConfig{MaxReports: 5})
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 8; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"type":"csp-violation","body":{"documentURL":"https://example.com/%d","effectiveDirective":"img-src"}}`, i)
	}
	b.WriteString("]")
	if rec := post(t, h, ContentTypeReports, b.String()); rec.Code != 204 {
		t.Fatalf("status %d", rec.Code)
	}
	waitEvents(t, col, 5)
	if st := rh.Stats(); st.Accepted != 5 || st.Dropped != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestReportConcurrent(t *testing.T) {
	t.Parallel()
	rh, h, col := server(t, ReportConfig{Rate: 1e6, Burst: 1000})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				post(t, h, ContentTypeCSPReport, legacyReport)
			}
		}()
	}
	wg.Wait()
	waitEvents(t, col, 160)
	if rh.Stats().Accepted != 160 {
		t.Fatalf("stats %+v", rh.Stats())
	}
}

func TestNewReportHandlerErrors(t *testing.T) {
	t.Parallel()
	pub := &collector{}
	tests := []struct {
		pub  Publisher
		cfg  ReportConfig
		want string
	}{
		{nil, ReportConfig{}, "nil Publisher"},
		{pub, ReportConfig{MaxBody: -1}, "MaxBody -1"},
		{pub, ReportConfig{MaxBody: MaxReportBody + 1}, "MaxBody 1048577"},
		{pub, ReportConfig{MaxReports: -3}, "MaxReports -3"},
		{pub, ReportConfig{Rate: -1}, "Rate -1"},
		{pub, ReportConfig{Burst: -1}, "Burst -1"},
	}
	for _, tt := range tests {
		if _, err := NewReportHandler(tt.pub, tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestReduceURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":                                     "",
		"inline":                               "inline",
		"eval":                                 "eval",
		"https://u:p@Example.COM:8443/a/b?c#d": "https://example.com:8443/a/b",
		"http://example.com":                   "http://example.com",
		"wss://ws.example/s?t=1":               "wss://ws.example/s",
		"data:image/png;base64,AAAA":           "data",
		"blob:https://example.com/uuid":        "blob",
		"chrome-extension://abc/x.js":          "chrome-extension",
		"javascript:alert(1)":                  "javascript",
		"not a url":                            "other",
		"https://example.com/%22%3Cscript%3E":  "https://example.com/%22%3Cscript%3E",
		"https://example.com/" + strings.Repeat("x", 400): "https://example.com/" + strings.Repeat("x", maxField-len("https://example.com/")),
		"https:///nohost": "other",
		"//example.com/x": "other",
	}
	for in, want := range tests {
		if got := reduceURL(in); got != want {
			t.Errorf("reduceURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseReports feeds arbitrary bodies to both parsers: no panic, and
// nothing unsafe to log comes out.
func FuzzParseReports(f *testing.F) {
	f.Add(ContentTypeCSPReport, []byte(legacyReport))
	f.Add(ContentTypeReports, []byte(apiReports))
	f.Add("application/json", []byte(`[{"type":"csp-violation","body":{"blockedURL":"https://a@b/c?d"}}]`))
	f.Add(ContentTypeCSPReport, []byte(`{"csp-report":{"line-number":1e400}}`))
	f.Add(ContentTypeReports, []byte(strings.Repeat("[", 500)))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		reports, err := ParseReports(ct, body, 4)
		if err != nil {
			if len(reports) != 0 {
				t.Fatal("reports with an error")
			}
			return
		}
		if len(reports) > 4 {
			t.Fatalf("%d reports over the cap", len(reports))
		}
		for _, r := range reports {
			for _, v := range []string{r.Directive, r.Blocked, r.Document, r.Source, r.Disposition} {
				if len(v) > maxField || !printable(v) && v != "" || strings.ContainsAny(v, "?#@") {
					t.Fatalf("unsafe field %q", v)
				}
			}
			if r.Line < 0 || r.Column < 0 || r.StatusCode < 0 {
				t.Fatalf("negative number in %+v", r)
			}
		}
	})
}
