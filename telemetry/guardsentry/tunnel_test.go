package guardsentry_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/guardsdk/guard/telemetry/guardsentry"
)

// recordingTransport records where the tunnel sends requests, and answers
// them itself: no test request leaves the process.
type recordingTransport struct {
	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
	fail bool
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, r)
	rt.body = append(rt.body, b)
	rt.mu.Unlock()
	if rt.fail {
		return nil, errors.New("connection refused")
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(`{"id":"abc"}`)), Request: r}, nil
}

func envelope(dsn string) string {
	return `{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"` + dsn + `"}` + "\n" +
		`{"type":"event","length":2}` + "\n{}\n"
}

func TestTunnel(t *testing.T) {
	t.Parallel()
	const allowed = "https://pubkey@o1.ingest.sentry.io/42"
	tests := []struct {
		name       string
		method     string
		body       string
		wantStatus int
		wantURL    string // "" means nothing may be forwarded
	}{
		{"allowed", "POST", envelope(allowed), 200, "https://o1.ingest.sentry.io/api/42/envelope/"},
		{"allowed, other public key", "POST", envelope("https://otherkey@o1.ingest.sentry.io/42"), 200, "https://o1.ingest.sentry.io/api/42/envelope/"},
		{"allowed, explicit default port", "POST", envelope("https://pubkey@O1.INGEST.SENTRY.IO:443/42"), 200, "https://o1.ingest.sentry.io/api/42/envelope/"},
		{"foreign project", "POST", envelope("https://pubkey@o1.ingest.sentry.io/43"), 403, ""},
		{"foreign host", "POST", envelope("https://pubkey@evil.example/42"), 403, ""},
		{"ssrf metadata", "POST", envelope("http://pubkey@169.254.169.254/42"), 403, ""},
		{"ssrf loopback", "POST", envelope("http://pubkey@127.0.0.1:6379/42"), 403, ""},
		{"ssrf userinfo trick", "POST", envelope("https://pubkey@o1.ingest.sentry.io@evil.example/42"), 403, ""},
		{"ssrf other port", "POST", envelope("https://pubkey@o1.ingest.sentry.io:8443/42"), 403, ""},
		{"ssrf scheme downgrade", "POST", envelope("http://pubkey@o1.ingest.sentry.io/42"), 403, ""},
		{"ssrf path prefix", "POST", envelope("https://pubkey@o1.ingest.sentry.io/internal/42"), 403, ""},
		{"file scheme", "POST", envelope("file:///etc/passwd"), 400, ""},
		{"no dsn", "POST", `{"event_id":"x"}` + "\n" + `{"type":"client_report"}` + "\n{}\n", 400, ""},
		{"empty dsn", "POST", envelope(""), 400, ""},
		{"dsn not a string", "POST", `{"dsn":42}` + "\n", 400, ""},
		{"header not an object", "POST", `["https://pubkey@o1.ingest.sentry.io/42"]` + "\n", 400, ""},
		{"not json", "POST", "hello\nworld\n", 400, ""},
		{"empty body", "POST", "", 400, ""},
		{"too large", "POST", envelope(allowed) + strings.Repeat("x", guardsentry.MaxEnvelopeBytes), 413, ""},
		{"GET", "GET", "", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rt := &recordingTransport{}
			h, err := guardsentry.Tunnel([]string{allowed}, guardsentry.WithTunnelClient(&http.Client{Transport: rt}))
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(tt.method, "/tunnel", strings.NewReader(tt.body))
			req.Header.Set("Cookie", "session=secret")
			req.Header.Set("Authorization", "Bearer secret")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tt.wantStatus {
				t.Errorf("status %d, want %d (%s)", w.Code, tt.wantStatus, w.Body.String())
			}
			if tt.wantURL == "" {
				if len(rt.reqs) != 0 {
					t.Errorf("forwarded to %s", rt.reqs[0].URL)
				}
				return
			}
			if len(rt.reqs) != 1 {
				t.Fatalf("%d forwards", len(rt.reqs))
			}
			fwd := rt.reqs[0]
			if fwd.URL.String() != tt.wantURL || fwd.Method != "POST" {
				t.Errorf("forwarded %s %s, want POST %s", fwd.Method, fwd.URL, tt.wantURL)
			}
			if fwd.Header.Get("Cookie") != "" || fwd.Header.Get("Authorization") != "" {
				t.Errorf("client credentials forwarded: %v", fwd.Header)
			}
			if !bytes.Equal(rt.body[0], []byte(tt.body)) {
				t.Error("envelope changed in transit")
			}
			if w.Body.String() != `{"id":"abc"}` {
				t.Errorf("reply %q", w.Body.String())
			}
		})
	}
}

func TestTunnelUpstreamDown(t *testing.T) {
	t.Parallel()
	rt := &recordingTransport{fail: true}
	h, _ := guardsentry.Tunnel([]string{"https://k@o1.ingest.sentry.io/42"}, guardsentry.WithTunnelClient(&http.Client{Transport: rt}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/tunnel", strings.NewReader(envelope("https://k@o1.ingest.sentry.io/42"))))
	if w.Code != http.StatusBadGateway {
		t.Errorf("status %d", w.Code)
	}
}

// The default client follows no redirect: a compromised or spoofed
// upstream cannot bounce the tunnel elsewhere.
func TestTunnelNoRedirects(t *testing.T) {
	t.Parallel()
	var hits []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, r.URL.Path)
		mu.Unlock()
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	dsn := "http://k@" + strings.TrimPrefix(srv.URL, "http://") + "/5"
	h, err := guardsentry.Tunnel([]string{dsn})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/tunnel", strings.NewReader(envelope(dsn))))
	mu.Lock()
	defer mu.Unlock()
	if len(hits) != 1 || hits[0] != "/api/5/envelope/" || w.Code != http.StatusTemporaryRedirect {
		t.Errorf("hits %v, status %d", hits, w.Code)
	}
	if w.Header().Get("Location") != "" {
		t.Error("Location relayed to the browser")
	}
}

func TestTunnelConfigErrors(t *testing.T) {
	t.Parallel()
	if _, err := guardsentry.Tunnel(nil); err == nil {
		t.Error("empty allowlist accepted")
	}
	if _, err := guardsentry.Tunnel([]string{"not a dsn"}); err == nil {
		t.Error("bad DSN accepted")
	}
	if _, err := guardsentry.Tunnel([]string{"https://k@h/1"}, guardsentry.WithTunnelClient(nil)); err == nil || !strings.Contains(err.Error(), "WithTunnelClient") {
		t.Errorf("nil client: %v", err)
	}
}

// FuzzParseEnvelopeDSN: the parser never panics and returns a DSN only
// with a nil error.
func FuzzParseEnvelopeDSN(f *testing.F) {
	for _, s := range []string{envelope("https://k@o1.ingest.sentry.io/42"), "", "{}", "{\"dsn\":null}\n", "\n", "{\"dsn\":\"\\u0000\"}", "[1]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dsn, err := guardsentry.ParseEnvelopeDSN(b)
		if (err == nil) != (dsn != "") {
			t.Fatalf("dsn %q err %v", dsn, err)
		}
	})
}

// FuzzTunnel: whatever the body, the tunnel forwards only to the
// allowlisted project's endpoint.
func FuzzTunnel(f *testing.F) {
	const allowed = "https://k@o1.ingest.sentry.io/42"
	for _, s := range []string{envelope(allowed), envelope("https://k@evil.example/42"), envelope("https://k@o1.ingest.sentry.io/42/../43"), "x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rt := &recordingTransport{}
		h, _ := guardsentry.Tunnel([]string{allowed}, guardsentry.WithTunnelClient(&http.Client{Transport: rt}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/tunnel", bytes.NewReader(b)))
		for _, r := range rt.reqs {
			if r.URL.String() != "https://o1.ingest.sentry.io/api/42/envelope/" {
				t.Fatalf("forwarded to %s", r.URL)
			}
		}
	})
}
