package guardecho_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/adapters/guardecho"
)

// BenchmarkMiddleware compares a request through echo with and without the
// guard middleware (default options: correlation ids and recover on), in
// process.
func BenchmarkMiddleware(b *testing.B) {
	g, err := guard.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = g.Close(context.Background()) })
	for _, bc := range []struct {
		name string
		mw   []echo.MiddlewareFunc
	}{
		{"bare", nil},
		{"guard", []echo.MiddlewareFunc{guardecho.New(g)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := echo.New()
			e.Use(bc.mw...)
			e.GET("/notes/:id", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
			req := httptest.NewRequest(http.MethodGet, "/notes/42", nil)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &discard{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					e.ServeHTTP(w, req)
				}
			})
		})
	}
}

// discard is a ResponseWriter that keeps nothing, so the benchmark
// measures the router and middleware, not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
