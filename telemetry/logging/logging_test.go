package logging_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/telemetry/logging"
)

const (
	jwt    = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	secret = "hunter2-s3cr3t"
)

// syncBuffer is a goroutine-safe buffer for the JSON core.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) Sync() error    { return nil }
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newLogger(level zapcore.Level) (*zap.Logger, *observer.ObservedLogs, *syncBuffer) {
	obs, logs := observer.New(level)
	buf := &syncBuffer{}
	js := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), buf, level)
	return zap.New(zapcore.NewTee(obs, js)), logs, buf
}

func TestOneLinePerRequestSecretsMasked(t *testing.T) {
	t.Parallel()
	zl, logs, buf := newLogger(zapcore.DebugLevel)
	lg, err := logging.New(zl, logging.WithBodies(64))
	if err != nil {
		t.Fatal(err)
	}
	var scoped *zap.Logger
	g, err := guard.New(lg.Option(), guard.WithPrincipal(func(*guard.Request) string { return "user-42" }))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		scoped = logging.FromContext(r.Context())
		scoped.Info("checking credentials")
		body, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(body), secret) {
			t.Errorf("handler did not get the whole body: %s", body)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"note":"card 4111 1111 1111 1111"}`, jwt)
	})
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic(errors.New("db said: Bearer " + secret)) })
	h := g.Handler(lg.Bodies(mux))

	req := httptest.NewRequest("POST", "/login", strings.NewReader(`{"user":"ann","password":"`+secret+`","padding":"`+strings.Repeat("x", 100)+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+jwt)
	req.Header.Set("X-Request-Id", "req-1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/boom", nil))
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nowhere", nil))
	}
	if err := g.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	if n := logs.FilterMessage(logging.MessageRequest).Len(); n != 5 {
		t.Errorf("%d request lines for 5 requests", n)
	}
	first := logs.FilterMessage(logging.MessageRequest).All()[0].ContextMap()
	for k, want := range map[string]any{"method": "POST", "route": "/login", "status": int64(200), "correlation_id": "req-1", "principal": "user-42", "client_ip": "192.0.2.1"} {
		if first[k] != want {
			t.Errorf("request line %s = %v (%T), want %v", k, first[k], first[k], want)
		}
	}
	if _, ok := first["duration"]; !ok {
		t.Error("request line has no duration")
	}
	if n := logs.FilterMessage("checking credentials").FilterField(zap.String("correlation_id", "req-1")).Len(); n != 1 {
		t.Errorf("request-scoped logger lines with the correlation id: %d", n)
	}
	if n := logs.FilterMessage(logging.MessageEvent).FilterField(zap.String("kind", "panic")).Len(); n != 1 {
		t.Errorf("panic event lines: %d", n)
	}
	// One per request that returned (the panicking one did not).
	if n := logs.FilterMessage(logging.MessageBody).Len(); n != 4 {
		t.Errorf("body lines: %d", n)
	}

	out := buf.String()
	for _, leaked := range []string{secret, jwt, "4111 1111 1111 1111"} {
		if strings.Contains(out, leaked) {
			t.Errorf("log output contains %q:\n%s", leaked, out)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	lines := 0
	for sc.Scan() {
		lines++
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("line %d is not JSON: %v: %s", lines, err, sc.Text())
		}
	}
	// 5 request lines, 1 handler line, 1 panic event, 4 body lines.
	if lines != 11 {
		t.Errorf("%d JSON lines, want 11:\n%s", lines, out)
	}
}

func TestSecurityEventsBypassSampling(t *testing.T) {
	t.Parallel()
	zl, logs, _ := newLogger(zapcore.InfoLevel)
	lg, err := logging.New(zl, logging.WithSampling(time.Hour, 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		lg.HandleEvent(guard.Event{Kind: guard.KindRequestDone, Method: "GET", Route: "/", Status: 200})
		lg.HandleEvent(guard.Event{Kind: guard.KindRateLimited, Route: "/", Reason: "rate_limited",
			Attrs: []guard.Attr{{Key: "api_key", Value: "k"}, {Key: "limit", Value: "10"}}})
	}
	if n := logs.FilterMessage(logging.MessageRequest).Len(); n != 2 {
		t.Errorf("sampled request lines: %d, want 2", n)
	}
	ev := logs.FilterMessage(logging.MessageEvent)
	if ev.Len() != 10 {
		t.Errorf("security event lines: %d, want all 10", ev.Len())
	}
	if m := ev.All()[0].ContextMap(); m["api_key"] != "[REDACTED]" || m["limit"] != "10" {
		t.Errorf("event attrs not scrubbed: %v", m)
	}
}

func TestFromContextOutsideGuard(t *testing.T) {
	t.Parallel()
	if l := logging.FromContext(context.Background()); l == nil {
		t.Fatal("nil logger")
	}
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	zl := zap.NewNop()
	for name, opt := range map[string]logging.Option{
		"WithScrubber": logging.WithScrubber(nil),
		"WithSampling": logging.WithSampling(0, 1, 1),
		"WithBodies":   logging.WithBodies(-1),
	} {
		if _, err := logging.New(zl, opt); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	if _, err := logging.New(nil); err == nil {
		t.Error("nil logger accepted")
	}
}
