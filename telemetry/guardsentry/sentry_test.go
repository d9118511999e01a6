package guardsentry_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/telemetry/guardsentry"
)

const (
	password = "hunter2-pw"
	jwt      = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)

// ingest stands in for Sentry's ingest: it keeps every envelope posted to
// a project's envelope endpoint.
type ingest struct {
	mu        sync.Mutex
	envelopes [][]byte
	paths     []string
	srv       *httptest.Server
}

func newIngest(t *testing.T) *ingest {
	in := &ingest{}
	in.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		in.mu.Lock()
		in.envelopes = append(in.envelopes, buf.Bytes())
		in.paths = append(in.paths, r.URL.Path)
		in.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"0"}`))
	}))
	t.Cleanup(in.srv.Close)
	return in
}

func (in *ingest) dsn(project string) string {
	return "http://public@" + strings.TrimPrefix(in.srv.URL, "http://") + "/" + project
}

// items returns the payloads of envelope items of the given type.
func (in *ingest) items(t *testing.T, typ string) []map[string]any {
	t.Helper()
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []map[string]any
	for _, env := range in.envelopes {
		sc := bufio.NewScanner(bytes.NewReader(env))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		sc.Scan() // envelope header
		for sc.Scan() {
			var h struct{ Type string }
			if json.Unmarshal(sc.Bytes(), &h) != nil || !sc.Scan() {
				break
			}
			if h.Type == typ {
				var m map[string]any
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					t.Fatalf("item payload: %v", err)
				}
				out = append(out, m)
			}
		}
	}
	return out
}

func TestEventsReachIngestScrubbed(t *testing.T) {
	t.Parallel()
	in := newIngest(t)
	s, err := guardsentry.New(
		guardsentry.WithDSN(in.dsn("42")),
		guardsentry.WithEnvironment("test"),
		guardsentry.WithRelease("notes@1.0.0"),
		guardsentry.WithFingerprint(guardsentry.Rule{Route: "/boom", Fingerprint: []string{"boom-group"}}),
		// Even with PII on, the scrubber removes secrets.
		guardsentry.WithClientOptions(func(o *sentry.ClientOptions) { o.SendDefaultPII = true }),
	)
	if err != nil {
		t.Fatal(err)
	}
	g, err := guard.New(s.Option(), guard.WithPrincipal(func(*guard.Request) string { return "user-42" }))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) {
		panic(errors.New("db failure password=" + password))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		hub := sentry.GetHubFromContext(r.Context())
		if hub == nil {
			t.Error("no per-request hub in the handler's context")
			return
		}
		hub.Scope().SetRequest(r)
		hub.Scope().SetRequestBody([]byte(`{"password":"` + password + `"}`))
		hub.CaptureException(errors.New("login failed: password=" + password))
		w.WriteHeader(http.StatusUnauthorized)
	})
	mux.HandleFunc("GET /unavailable", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("GET /fine", func(w http.ResponseWriter, r *http.Request) {})
	h := g.Handler(mux)

	req := httptest.NewRequest("POST", "/login?token=abc", strings.NewReader(`{"password":"`+password+`"}`))
	req.Header.Set("Authorization", "Bearer "+jwt)
	req.Header.Set("Cookie", "session="+password)
	h.ServeHTTP(httptest.NewRecorder(), req)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/boom", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/unavailable", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/fine", nil))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.Close(ctx); err != nil { // drains the sink and flushes Sentry
		t.Fatal(err)
	}

	in.mu.Lock()
	all := bytes.Join(in.envelopes, nil)
	for _, p := range in.paths {
		if p != "/api/42/envelope/" {
			t.Errorf("posted to %s", p)
		}
	}
	in.mu.Unlock()
	for _, leak := range []string{password, jwt, `"Authorization"`, `"Cookie"`} {
		if bytes.Contains(all, []byte(leak)) {
			t.Errorf("envelopes contain %s:\n%s", leak, all)
		}
	}
	events := in.items(t, "event")
	if len(events) != 3 {
		t.Fatalf("%d events, want 3 (login capture, panic, 503); envelopes:\n%s", len(events), all)
	}
	byTx := map[string]map[string]any{}
	for _, ev := range events {
		byTx[ev["transaction"].(string)] = ev
		if u, _ := ev["user"].(map[string]any); u["id"] != "user-42" {
			t.Errorf("event %v: user %v, want id user-42", ev["transaction"], ev["user"])
		}
		if ev["environment"] != "test" || ev["release"] != "notes@1.0.0" {
			t.Errorf("environment/release: %v %v", ev["environment"], ev["release"])
		}
		if tags, _ := ev["tags"].(map[string]any); tags["correlation_id"] == "" || tags["correlation_id"] == nil {
			t.Errorf("event without correlation id tag: %v", ev["tags"])
		}
	}
	boom := byTx["GET /boom"]
	if boom == nil {
		t.Fatalf("no panic event; have %v", keys(byTx))
	}
	if fp, _ := json.Marshal(boom["fingerprint"]); string(fp) != `["boom-group"]` {
		t.Errorf("panic fingerprint %s", fp)
	}
	exc, _ := json.Marshal(boom["exception"])
	if !bytes.Contains(exc, []byte("TestEventsReachIngestScrubbed")) {
		t.Errorf("panic stack does not name the handler: %s", exc)
	}
	if byTx["GET /unavailable"] == nil || byTx["POST /login"] == nil {
		t.Errorf("missing events: have %v", keys(byTx))
	}
	if rq, _ := byTx["POST /login"]["request"].(map[string]any); rq["data"] != nil {
		t.Errorf("request body sent: %v", rq["data"])
	}
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestTransactionsNamedByRoute(t *testing.T) {
	t.Parallel()
	in := newIngest(t)
	s, err := guardsentry.New(guardsentry.WithDSN(in.dsn("7")), guardsentry.WithTracesSampleRate(1))
	if err != nil {
		t.Fatal(err)
	}
	g, _ := guard.New(s.Option())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /notes/{id}", func(w http.ResponseWriter, r *http.Request) {})
	g.Handler(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/notes/99", nil))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = g.Close(ctx)
	txs := in.items(t, "transaction")
	if len(txs) != 1 || txs[0]["transaction"] != "GET /notes/{id}" {
		in.mu.Lock()
		t.Logf("envelopes %d: %s", len(in.envelopes), bytes.Join(in.envelopes, []byte("\n----\n")))
		in.mu.Unlock()
		t.Fatalf("transactions %v", txs)
	}
	if info, _ := txs[0]["transaction_info"].(map[string]any); info["source"] != "route" {
		t.Errorf("transaction source %v", txs[0]["transaction_info"])
	}
}

func TestDisabledWithoutDSN(t *testing.T) {
	t.Parallel()
	s, err := guardsentry.New()
	if err != nil || s.Enabled() {
		t.Fatal(err)
	}
	g, err := guard.New(s.Option())
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]guardsentry.Option{
		"WithDSN":              guardsentry.WithDSN("ftp://x@host/1"),
		"WithTracesSampleRate": guardsentry.WithTracesSampleRate(1.5),
		"WithSampleRate":       guardsentry.WithSampleRate(0),
		"WithFingerprint":      guardsentry.WithFingerprint(guardsentry.Rule{Route: "/x"}),
		"WithScrubber":         guardsentry.WithScrubber(nil),
		"WithCaptureStatus":    guardsentry.WithCaptureStatus(200),
		"WithClientOptions":    guardsentry.WithClientOptions(nil),
	} {
		if _, err := guardsentry.New(opt); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func TestParseStack(t *testing.T) {
	t.Parallel()
	stack := "goroutine 7 [running]:\nruntime/debug.Stack()\n\t/go/src/runtime/debug/stack.go:26 +0x5e\npanic({0x1, 0x2})\n\t/go/src/runtime/panic.go:770 +0x132\nexample.com/app.handler(0xc0)\n\t/src/app/main.go:42 +0x25\nnet/http.HandlerFunc.ServeHTTP(...)\n\t/go/src/net/http/server.go:2171\n"
	st := guardsentry.ParseStack(stack)
	if st == nil || len(st.Frames) != 2 {
		t.Fatalf("frames %+v", st)
	}
	last := st.Frames[len(st.Frames)-1]
	if last.Function != "handler" || last.Module != "example.com/app" || last.Lineno != 42 {
		t.Errorf("innermost frame %+v", last)
	}
	if guardsentry.ParseStack("garbage") != nil {
		t.Error("garbage parsed")
	}
}
