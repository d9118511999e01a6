package headers_test

import (
	"net/http"
	"testing"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/csp"
	"github.com/guardsdk/guard/headers"
)

// benchStage measures Stage.Check alone: the Request view comes from
// Guard.Begin (itself measured by BenchmarkBeginBaseline) and the
// response header map is reused, as a server's would be per request.
func benchStage(b *testing.B, s *headers.Stage, check bool) {
	g := newGuard(b, guard.WithCorrelation(false))
	h := http.Header{}
	in := guard.Incoming{Method: "GET", Route: "/x", Host: "example.com", TLS: true, Header: http.Header{}, ResponseHeader: h}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(h)
		r := g.Begin(in)
		if check {
			s.Check(r)
		}
	}
}

func BenchmarkBeginBaseline(b *testing.B) { benchStage(b, nil, false) }

func BenchmarkStage(b *testing.B) {
	api, err := headers.New()
	if err != nil {
		b.Fatal(err)
	}
	html, err := headers.New(headers.WithCSP(csp.HTML()))
	if err != nil {
		b.Fatal(err)
	}
	routes, err := headers.New(
		headers.ForRoute("GET /a", headers.WithoutCSP()),
		headers.ForRoute("/x", headers.WithCSP(csp.HTML())),
	)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("api-static", func(b *testing.B) { benchStage(b, api, true) })
	b.Run("html-nonce", func(b *testing.B) { benchStage(b, html, true) })
	b.Run("route-override", func(b *testing.B) { benchStage(b, routes, true) })
}

// BenchmarkHandler runs the stage through the net/http adapter in
// parallel, as a server does.
func BenchmarkHandler(b *testing.B) {
	g := newGuard(b, headers.Option(headers.WithCSP(csp.HTML())), guard.WithCorrelation(false))
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req, _ := http.NewRequest("GET", "https://example.com/x", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &nopWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	})
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}
