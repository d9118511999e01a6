package guard_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/adapters/adaptertest"
)

func serveNetHTTP(t *testing.T, g *guard.Guard, routes []adaptertest.Route) string {
	t.Helper()
	mux := http.NewServeMux()
	for _, rt := range routes {
		h := rt.Handle
		mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			status, resp := h(r.Context(), body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(resp)
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: g.Handler(mux)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

func TestAdapterConformance(t *testing.T) {
	adaptertest.Run(t, adaptertest.Adapter{
		Serve:    serveNetHTTP,
		Template: func(_, path string) string { return path },
	})
}

// TestKeptContextDoesNotPinRequest: a handler that keeps its context past
// the request (a goroutine, or an event in a sink's queue holding the
// correlation id that lives in the view) keeps the view alive, but not
// the *http.Request, its buffered body or the response writer.
func TestKeptContextDoesNotPinRequest(t *testing.T) {
	g, err := guard.New(guard.WithSink(guard.SinkFunc(func(guard.Event) {})))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	var kept context.Context
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		kept = r.Context()
	}))
	collected := make(chan struct{})
	func() {
		r, err := http.NewRequest("POST", "http://example.test/notes", strings.NewReader(strings.Repeat("x", 1<<20)))
		if err != nil {
			t.Fatal(err)
		}
		r.RemoteAddr = "192.0.2.1:1234"
		runtime.AddCleanup(r, func(ch chan struct{}) { close(ch) }, collected)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}()
	for range 10 {
		runtime.GC()
		select {
		case <-collected:
			if guard.CorrelationID(kept) == "" {
				t.Fatal("the kept context lost its correlation id")
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the *http.Request is still reachable from the kept context")
}
