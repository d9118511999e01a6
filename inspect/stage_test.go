package inspect_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/inspect"
)

// eventLog collects events for assertions.
type eventLog struct {
	mu  sync.Mutex
	evs []guard.Event
}

func (l *eventLog) HandleEvent(ev guard.Event) {
	l.mu.Lock()
	l.evs = append(l.evs, ev)
	l.mu.Unlock()
}

func (l *eventLog) all() []guard.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]guard.Event(nil), l.evs...)
}

// newServer builds a guard with the inspect stage over a mux that echoes
// the body it receives.
func newServer(t testing.TB, cfg inspect.Config) (http.Handler, *guard.Guard, *eventLog) {
	t.Helper()
	log := &eventLog{}
	g, err := guard.New(inspect.Option(cfg), guard.WithSink(log, guard.KindInjectionBlocked, inspect.KindInjectionDetected))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	echo := func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}
	mux.HandleFunc("/search", echo)
	mux.HandleFunc("/notes/{id}", echo)
	mux.HandleFunc("/files/", echo)
	mux.HandleFunc("/raw", echo)
	return g.Handler(mux), g, log
}

func do(h http.Handler, method, target, ctype, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body == "" {
		req.Body = http.NoBody
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// closeAndEvents closes g (draining the event queues) and returns what
// the sink received.
func closeAndEvents(t *testing.T, g *guard.Guard, l *eventLog) []guard.Event {
	t.Helper()
	if err := g.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return l.all()
}

func attr(ev guard.Event, key string) string {
	for _, a := range ev.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

func TestStageBlocks(t *testing.T) {
	t.Parallel()
	const json = "application/json"
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, target, ctype, body string
		status                            int
		class, field                      string
	}{
		{"benign query", "GET", "/search?q=blue+shoes&page=2&sort=price", "", "", 200, "", ""},
		{"benign json", "POST", "/notes/7", json, `{"title":"O'Brien's notes","tags":["a","b"],"n":3,"ok":true,"x":null}`, 200, "", ""},
		{"sqli query", "GET", "/search?q=1%27%20OR%20%271%27%3D%271", "", "", 403, "sqli", "query.q"},
		{"sqli query double encoded", "GET", "/search?q=1%2527%2520OR%25201%253D1--", "", "", 403, "sqli", "query.q"},
		{"xss json nested", "POST", "/notes/7", json, `{"user":{"name":"<script>alert(1)</script>"}}`, 403, "xss", "body.user.name"},
		{"xss json escaped", "POST", "/notes/7", json, `{"user":{"name":"\u003cimg src=x onerror=alert(1)\u003e"}}`, 403, "xss", "body.user.name"},
		{"xss json array", "POST", "/notes/7", json, `{"items":[{"note":"ok"},{"note":"<svg/onload=alert(1)>"}]}`, 403, "xss", "body.items[].note"},
		{"xss json key", "POST", "/notes/7", json, `{"<script>x</script>":1}`, 403, "xss", "body._script_x__script_"},
		{"traversal form", "POST", "/raw", form, "file=..%2F..%2Fetc%2Fpasswd", 403, "path_traversal", "form.file"},
		{"cmdi form", "POST", "/raw", form, "host=127.0.0.1%3Bcat+/etc/passwd", 403, "", "form.host"},
		{"path encoded dots", "GET", "/files/..%2f..%2fetc/passwd", "", "", 403, "path_traversal", "path"},
		{"path double encoding", "GET", "/files/%252e%252e/x", "", "", 403, "path_traversal", "path"},
		{"path NUL", "GET", "/files/a%00.png", "", "", 403, "path_traversal", "path"},
		{"path backslash", "GET", "/files/..%5cwin.ini", "", "", 403, "path_traversal", "path"},
		{"path overlong", "GET", "/files/%c0%ae%c0%ae/x", "", "", 403, "path_traversal", "path"},
		{"path segment xss", "GET", "/notes/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "", "", 403, "xss", "path"},
		{"malformed json", "POST", "/notes/7", json, `{"a":`, 400, "", ""},
		{"trailing json", "POST", "/notes/7", json, `{"a":1} {"b":2}`, 400, "", ""},
		{"deep json", "POST", "/notes/7", json, strings.Repeat("[", 40) + strings.Repeat("]", 40), 400, "", ""},
		{"json control char", "POST", "/notes/7", json, "{\"a\":\"x\x01\"}", 400, "", ""},
		{"unknown content type is not read", "POST", "/raw", "text/plain", "<script>alert(1)</script>", 200, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, g, log := newServer(t, inspect.Config{})
			rec := do(h, tc.method, tc.target, tc.ctype, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == 200 {
				if rec.Body.String() != tc.body {
					t.Fatalf("handler read %q, want the body unchanged", rec.Body)
				}
				return
			}
			body := rec.Body.String()
			if ct := rec.Header().Get("Content-Type"); ct != guard.ContentTypeProblem {
				t.Fatalf("Content-Type = %q", ct)
			}
			for _, bad := range []string{"script", "passwd", "OR", "alert", "etc", "%"} {
				if strings.Contains(body, bad) {
					t.Fatalf("problem body echoes input %q: %s", bad, body)
				}
			}
			evs := closeAndEvents(t, g, log)
			if tc.status != 403 {
				if len(evs) != 0 {
					t.Fatalf("events for a limit denial: %+v", evs)
				}
				return
			}
			if len(evs) != 1 {
				t.Fatalf("events = %d, want 1", len(evs))
			}
			ev := evs[0]
			if ev.Kind != guard.KindInjectionBlocked || ev.Stage != inspect.StageName || ev.Status != 403 {
				t.Fatalf("event = %+v", ev)
			}
			if tc.class != "" && attr(ev, "class") != tc.class {
				t.Errorf("class = %q, want %q", attr(ev, "class"), tc.class)
			}
			if attr(ev, "field") != tc.field {
				t.Errorf("field = %q, want %q", attr(ev, "field"), tc.field)
			}
			if attr(ev, "reason") == "" || ev.Reason != attr(ev, "reason") {
				t.Errorf("reason = %q / %q", ev.Reason, attr(ev, "reason"))
			}
			for _, a := range ev.Attrs {
				for _, bad := range []string{"<", "passwd", "alert", "'", "%"} {
					if strings.Contains(a.Value, bad) {
						t.Errorf("event attr %s=%q carries input", a.Key, a.Value)
					}
				}
			}
		})
	}
}

func TestStageLimits(t *testing.T) {
	t.Parallel()
	h, _, _ := newServer(t, inspect.Config{MaxBodyBytes: 64, MaxFields: 5, MaxDepth: 3})
	cases := []struct {
		name, ctype, target, body string
		status                    int
	}{
		{"body over limit", "application/json", "/raw", `{"a":"` + strings.Repeat("x", 100) + `"}`, 413},
		{"depth at limit", "application/json", "/raw", `[[["x"]]]`, 200},
		{"depth over limit", "application/json", "/raw", `[[[["x"]]]]`, 400},
		{"fields over limit", "application/json", "/raw", `[1,2,3,4,5,6]`, 400},
		{"form params over limit", "application/x-www-form-urlencoded", "/raw", "a=1&b=2&c=3&d=4&e=5&f=6", 400},
		{"query params over limit", "", "/raw?a=1&b=2&c=3&d=4&e=5&f=6", "", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := "POST"
			if tc.body == "" {
				method = "GET"
			}
			rec := do(h, method, tc.target, tc.ctype, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
		})
	}
	// Content-Length alone is enough to refuse.
	req := httptest.NewRequest("POST", "/raw", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = 1 << 30
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Fatalf("declared length: status = %d, want 413", rec.Code)
	}
}

func TestStageMultipart(t *testing.T) {
	t.Parallel()
	h, g, log := newServer(t, inspect.Config{})
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("title", "holiday photos")
	fw, _ := mw.CreateFormFile("upload", "../../etc/passwd")
	fw.Write([]byte("<script>file contents are not inspected</script>"))
	mw.Close()
	rec := do(h, "POST", "/raw", mw.FormDataContentType(), b.String())
	if rec.Code != 403 {
		t.Fatalf("status = %d, want 403", rec.Code)
	}
	evs := closeAndEvents(t, g, log)
	if len(evs) != 1 || attr(evs[0], "field") != "form.upload.filename" {
		t.Fatalf("events = %+v", evs)
	}

	h2, _, _ := newServer(t, inspect.Config{})
	b.Reset()
	mw = multipart.NewWriter(&b)
	mw.WriteField("comment", "fine words")
	fw, _ = mw.CreateFormFile("upload", "photo.png")
	fw.Write([]byte("<script>file contents are not inspected</script>"))
	mw.Close()
	if rec := do(h2, "POST", "/raw", mw.FormDataContentType(), b.String()); rec.Code != 200 {
		t.Fatalf("benign multipart: status = %d", rec.Code)
	}
	b.Reset()
	mw = multipart.NewWriter(&b)
	mw.WriteField("comment", "<iframe src=javascript:alert(1)>")
	mw.Close()
	if rec := do(h2, "POST", "/raw", mw.FormDataContentType(), b.String()); rec.Code != 403 {
		t.Fatalf("multipart xss: status = %d", rec.Code)
	}
	if rec := do(h2, "POST", "/raw", "multipart/form-data; boundary=x", "garbage"); rec.Code != 400 {
		t.Fatalf("bad multipart: status = %d", rec.Code)
	}
}

func TestStageDetectOnly(t *testing.T) {
	t.Parallel()
	h, g, log := newServer(t, inspect.Config{Mode: inspect.DetectOnly})
	rec := do(h, "GET", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E", "", "")
	if rec.Code != 200 {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	evs := closeAndEvents(t, g, log)
	if len(evs) != 1 || evs[0].Kind != inspect.KindInjectionDetected || attr(evs[0], "mode") != "detect" || evs[0].Status != 0 {
		t.Fatalf("events = %+v", evs)
	}
	if inspect.KindInjectionDetected.String() != "injection_detected" {
		t.Fatalf("kind name = %q", inspect.KindInjectionDetected)
	}
}

func TestStageAllow(t *testing.T) {
	t.Parallel()
	h, _, _ := newServer(t, inspect.Config{
		Status: http.StatusBadRequest,
		Allow: []inspect.Allow{
			{Method: "POST", Route: "/notes/{id}", Field: "body.html", Classes: 1 << inspect.ClassXSS},
			{Route: "/search", Field: "query.sql*"},
			{Route: "/raw"},
		},
	})
	cases := []struct {
		name, method, target, ctype, body string
		status                            int
	}{
		{"field allowed for xss", "POST", "/notes/1", "application/json", `{"html":"<b onclick=x()>hi</b>"}`, 200},
		{"field allowed only for xss", "POST", "/notes/1", "application/json", `{"html":"1' or '1'='1"}`, 400},
		{"other field checked", "POST", "/notes/1", "application/json", `{"text":"<b onclick=x()>hi</b>"}`, 400},
		{"method must match", "PUT", "/notes/1", "application/json", `{"html":"<b onclick=x()>hi</b>"}`, 400},
		{"prefix field", "GET", "/search?sql_text=select+*+from+users+union+select+1", "", "", 200},
		{"prefix other field", "GET", "/search?q=select+*+from+users+union+select+1", "", "", 400},
		{"whole route", "POST", "/raw", "application/json", `{"x":"<script>alert(1)</script>"}`, 200},
		{"whole route is not read", "POST", "/raw", "application/json", `{"x":`, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if rec := do(h, tc.method, tc.target, tc.ctype, tc.body); rec.Code != tc.status {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
		})
	}
}

func TestSkipFields(t *testing.T) {
	t.Parallel()
	st, err := inspect.New(inspect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	marker := guard.StageFunc("marker", guard.PhaseInspect-1, func(r *guard.Request) guard.Decision {
		inspect.SkipFields(r, "body.id", "query.q")
		return guard.Allow()
	})
	g, err := guard.New(guard.WithStage(st), guard.WithStage(marker))
	if err != nil {
		t.Fatal(err)
	}
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	if rec := do(h, "POST", "/x?q=%27+or+1%3D1--", "application/json", `{"id":"<script>"}`); rec.Code != 200 {
		t.Fatalf("skipped fields: status = %d", rec.Code)
	}
	if rec := do(h, "POST", "/x", "application/json", `{"id":"ok","other":"<script>"}`); rec.Code != 403 {
		t.Fatalf("other field: status = %d", rec.Code)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	bad := []inspect.Config{
		{Mode: 7},
		{Status: 500},
		{MaxBodyBytes: -1},
		{MaxDepth: -1},
		{MaxDepth: 20000},
		{Classes: 1 << 7},
		{Allow: []inspect.Allow{{Field: "x"}}},
		{Allow: []inspect.Allow{{Route: "*", Field: "a*b"}}},
	}
	for i, c := range bad {
		if _, err := inspect.New(c); err == nil || !strings.HasPrefix(err.Error(), "inspect: ") {
			t.Errorf("config %d: err = %v", i, err)
		}
		if _, err := guard.New(inspect.Option(c)); err == nil {
			t.Errorf("config %d: guard.New accepted it", i)
		}
	}
}
