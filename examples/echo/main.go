// Command echo is a small notes API served by echo v4 through guard's
// native echo middleware (adapters/guardecho).
//
//	go run ./echo                     # from examples/, listens on :8080
//	curl -i localhost:8080/notes/42
//	curl -i -d '{"text":"hi"}' localhost:8080/notes
//	curl -i localhost:8080/boom       # a handler panic becomes a 500 problem body
//	curl -i localhost:8080/teapot     # a returned echo.HTTPError, status in events
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
	"errors"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/adapters/guardecho"
)

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	proxies := flag.String("trusted-proxies", "", "comma-separated CIDRs of trusted reverse proxies")
	flag.Parse()
	logger := log.New(os.Stderr, "echo-example: ", log.LstdFlags)

	g, err := newGuard(*proxies, logger)
	if err != nil {
		logger.Fatal(err)
	}
	e := newServer(g)
	e.Server.ReadHeaderTimeout = 5 * time.Second

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.Shutdown(sctx)
	}()
	logger.Printf("listening on %s", *addr)
	if err := e.Start(*addr); err != nil && !errors.Is(err, http.ErrServerClosed) {
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

func newServer(g *guard.Guard) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(guardecho.New(g)) // Use, not Pre: guard needs the matched route
	e.GET("/notes/:id", func(c echo.Context) error {
		ctx := c.Request().Context()
		return c.JSON(http.StatusOK, map[string]string{
			"id":         c.Param("id"),
			"route":      guard.Route(ctx),
			"request_id": guard.CorrelationID(ctx),
			"client_ip":  guard.ClientIP(ctx).String(),
		})
	})
	e.POST("/notes", func(c echo.Context) error {
		body, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<20))
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		return c.JSON(http.StatusCreated, map[string]any{"bytes": len(body), "request_id": guard.CorrelationID(c.Request().Context())})
	})
	e.GET("/teapot", func(echo.Context) error { return echo.NewHTTPError(http.StatusTeapot, "short and stout") })
	e.GET("/boom", func(echo.Context) error { panic("example: boom") })
	return e
}
