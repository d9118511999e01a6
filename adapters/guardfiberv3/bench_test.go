package guardfiberv3_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/adapters/guardfiberv3"
)

// BenchmarkMiddleware compares a request through fiber with and without
// the guard middleware (default options: correlation ids and recover on),
// calling the app's fasthttp handler directly.
func BenchmarkMiddleware(b *testing.B) {
	g, err := guard.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = g.Close(context.Background()) })
	for _, bc := range []struct {
		name  string
		guard bool
	}{{"bare", false}, {"guard", true}} {
		b.Run(bc.name, func(b *testing.B) {
			app := newApp()
			if bc.guard {
				app.Use(guardfiberv3.New(g))
			}
			app.Get("/notes/:id", func(c fiber.Ctx) error { return c.SendStatus(http.StatusNoContent) })
			h := app.Handler()
			peer := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var req fasthttp.Request
				req.Header.SetMethod(http.MethodGet)
				req.SetRequestURI("/notes/42")
				var fc fasthttp.RequestCtx
				fc.Init(&req, peer, nil)
				for pb.Next() {
					fc.Response.Reset()
					fc.ResetUserValues()
					h(&fc)
				}
			})
		})
	}
}
