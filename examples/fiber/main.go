// Command fiber is a small notes API served by fiber v2 through guard's
// native fiber middleware (adapters/guardfiber; adapters/guardfiberv3 is
// the same for fiber v3).
//
//	go run ./fiber                    # from examples/, listens on :8080
//	curl -i localhost:8080/notes/42
//	curl -i -d '{"text":"hi"}' localhost:8080/notes
//	curl -i localhost:8080/boom       # a handler panic becomes a 500 problem body
//	curl -i localhost:8080/teapot     # a returned fiber.Error, status in events
//
// Every response carries an X-Request-Id; guard's events (request_done,
// denied, panic) are logged to stderr, each with the route template, not
// the raw path.
//
// Flags:
//
//	-addr             listen address (default ":8080")
//	-trusted-proxies  comma-separated CIDRs of reverse proxies whose
//	                  X-Forwarded-For is believed (default none)
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/adapters/guardfiber"
)

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	proxies := flag.String("trusted-proxies", "", "comma-separated CIDRs of trusted reverse proxies")
	flag.Parse()
	logger := log.New(os.Stderr, "fiber-example: ", log.LstdFlags)

	g, err := newGuard(*proxies, logger)
	if err != nil {
		logger.Fatal(err)
	}
	app := newApp(g)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = app.ShutdownWithTimeout(10 * time.Second)
	}()
	logger.Printf("listening on %s", *addr)
	if err := app.Listen(*addr); err != nil {
		logger.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.Close(cctx); err != nil {
		logger.Fatal(err)
	}
}

// newGuard builds the Guard: defaults (correlation ids, panic recovery,
// in-memory store), the trusted proxies, and a sink logging events.
func newGuard(proxies string, logger *log.Logger) (*guard.Guard, error) {
	opts := []guard.Option{
		guard.WithSink(guard.SinkFunc(func(ev guard.Event) {
			logger.Printf("%s %s %s status=%d id=%s client=%s %s", ev.Kind, ev.Method, ev.Route, ev.Status, ev.CorrelationID, ev.ClientIP, ev.Duration)
		}), guard.KindRequestDone, guard.KindDenied, guard.KindPanic),
	}
	if proxies != "" {
		opts = append(opts, guard.WithTrustedProxies(strings.Split(proxies, ",")...))
	}
	return guard.New(opts...)
}

func newApp(g *guard.Guard) *fiber.App {
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadTimeout: 30 * time.Second})
	app.Use(guardfiber.New(g)) // first, so it sees every request, 404s included
	app.Get("/notes/:id", func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		return c.JSON(fiber.Map{
			"id":         c.Params("id"),
			"route":      guard.Route(ctx),
			"request_id": guard.CorrelationID(ctx),
			"client_ip":  guard.ClientIP(ctx).String(),
		})
	})
	app.Post("/notes", func(c *fiber.Ctx) error {
		return c.Status(http.StatusCreated).JSON(fiber.Map{"bytes": len(c.Body()), "request_id": guard.CorrelationID(c.UserContext())})
	})
	app.Get("/teapot", func(*fiber.Ctx) error { return fiber.NewError(http.StatusTeapot, "short and stout") })
	app.Get("/boom", func(*fiber.Ctx) error { panic("example: boom") })
	return app
}
