// Command gin is a small notes API served by gin through guard's native
// gin middleware (adapters/guardgin).
//
//	go run ./gin                      # from examples/, listens on :8080
//	curl -i localhost:8080/notes/42
//	curl -i -d '{"text":"hi"}' localhost:8080/notes
//	curl -i localhost:8080/boom       # a handler panic becomes a 500 problem body
//	curl -i localhost:8080/nowhere    # unmatched: one "unmatched" route in events
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

	"github.com/gin-gonic/gin"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/adapters/guardgin"
)

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	proxies := flag.String("trusted-proxies", "", "comma-separated CIDRs of trusted reverse proxies")
	flag.Parse()
	logger := log.New(os.Stderr, "gin-example: ", log.LstdFlags)

	g, err := newGuard(*proxies, logger)
	if err != nil {
		logger.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	srv := &http.Server{Addr: *addr, Handler: newRouter(g), ReadHeaderTimeout: 5 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	logger.Printf("listening on %s", *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
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

func newRouter(g *guard.Guard) *gin.Engine {
	r := gin.New()
	r.Use(guardgin.New(g)) // first, so it sees every request, 404s included
	r.GET("/notes/:id", func(c *gin.Context) {
		ctx := c.Request.Context()
		c.JSON(http.StatusOK, gin.H{
			"id":         c.Param("id"),
			"route":      guard.Route(ctx),
			"request_id": guard.CorrelationID(ctx),
			"client_ip":  guard.ClientIP(ctx).String(),
		})
	})
	r.POST("/notes", func(c *gin.Context) {
		body, err := io.ReadAll(io.LimitReader(c.Request.Body, 1<<20))
		if err != nil {
			c.Status(http.StatusBadRequest)
			return
		}
		c.JSON(http.StatusCreated, gin.H{"bytes": len(body), "request_id": guard.CorrelationID(c.Request.Context())})
	})
	r.GET("/boom", func(*gin.Context) { panic("example: boom") })
	return r
}
