package guard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/guardsdk/guard"
)

// benchServe runs h over one recycled request and recorder, so the figures
// are the middleware's cost, not httptest's.
func benchServe(b *testing.B, h http.Handler, path string) {
	req := httptest.NewRequest("GET", path, nil)
	req.RemoteAddr = "198.51.100.7:5555"
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(w, req)
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func newBenchMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /notes/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /static", func(w http.ResponseWriter, r *http.Request) {})
	return mux
}

func bareHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
}

func newGuardB(b *testing.B, opts ...guard.Option) *guard.Guard {
	g, err := guard.New(opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = g.Close(context.Background()) })
	return g
}

// BenchmarkPipeline measures what guard adds to a request: a bare handler
// against the same handler behind a Guard with every stage off, with panic
// recovery, with the defaults (correlation on, the view in the context),
// and with a sink subscribed to request_done. The Mux variants do the same
// over a ServeMux with a static and a wildcard route.
func BenchmarkPipeline(b *testing.B) {
	off := []guard.Option{guard.WithCorrelation(false), guard.WithRecover(false)}
	sink := guard.WithSink(guard.SinkFunc(func(guard.Event) {}), guard.KindRequestDone)
	b.Run("bare", func(b *testing.B) { benchServe(b, bareHandler(), "/notes/42") })
	b.Run("stages-off", func(b *testing.B) { benchServe(b, newGuardB(b, off...).Handler(bareHandler()), "/notes/42") })
	b.Run("recover", func(b *testing.B) {
		benchServe(b, newGuardB(b, guard.WithCorrelation(false)).Handler(bareHandler()), "/notes/42")
	})
	b.Run("stages-off-context", func(b *testing.B) {
		benchServe(b, newGuardB(b, append(off, guard.WithRequestContext(true))...).Handler(bareHandler()), "/notes/42")
	})
	b.Run("default", func(b *testing.B) { benchServe(b, newGuardB(b).Handler(bareHandler()), "/notes/42") })
	b.Run("default-sink", func(b *testing.B) { benchServe(b, newGuardB(b, sink).Handler(bareHandler()), "/notes/42") })
	for _, path := range []string{"/static", "/notes/42"} {
		b.Run("mux-bare"+path, func(b *testing.B) { benchServe(b, newBenchMux(), path) })
		b.Run("mux-stages-off"+path, func(b *testing.B) { benchServe(b, newGuardB(b, off...).Handler(newBenchMux()), path) })
		b.Run("mux-default"+path, func(b *testing.B) { benchServe(b, newGuardB(b).Handler(newBenchMux()), path) })
	}
}
