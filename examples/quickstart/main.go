// Command quickstart is a small JSON notes API protected by guard: the
// first program to run after installing the SDK.
//
//	go run ./examples/quickstart                        # in-memory, :8080
//	go run ./examples/quickstart -store bolt            # durable, quickstart.db
//	go run ./examples/quickstart -store redis -redis-addr localhost:6379
//
// Then, in another terminal:
//
//	curl -s localhost:8080/
//	curl -s -H 'Content-Type: application/json' -d '{"username":"alice","password":"correct horse battery"}' localhost:8080/api/v1/auth/register
//	curl -s -H 'Content-Type: application/json' -d '{"username":"alice","password":"correct horse battery"}' localhost:8080/api/v1/auth/login
//	curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"title":"hello","body":"first note"}' localhost:8080/api/v1/notes
//	curl -s -H "Authorization: Bearer $TOKEN" 'localhost:8080/api/v1/search?q=first'
//
// Users, sessions and notes are kept in the guard store chosen with
// -store, so on bolt they survive a restart and on redis they are shared
// by every instance. Passwords are hashed with argon2id; only the SHA-256
// of a session token is stored. Every error is an RFC 9457 problem JSON
// body, and every response carries an X-Request-Id.
//
// Flags:
//
//	-addr             listen address (default ":8080"; port 0 picks a free port)
//	-store            memory, bolt or redis (default memory)
//	-bolt-path        bolt file for -store bolt (default "quickstart.db")
//	-redis-addr       host:port, a redis:// or rediss:// URL, or a
//	                  comma-separated host:port list for a Redis Cluster
//	                  (default "localhost:6379")
//	-trusted-proxies  comma-separated CIDRs or addresses of reverse proxies
//	                  whose X-Forwarded-For is believed (default none)
//
// On start-up it prints one line to stdout once it accepts connections,
//
//	quickstart: listening on http://localhost:8080 (store: memory)
//
// and on SIGINT or SIGTERM it stops accepting, finishes in-flight requests
// (at most 10 seconds), closes guard and then the store, and exits 0. A bad
// flag value exits 2 with a message naming the flag.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// shutdownTimeout bounds the graceful stop.
const shutdownTimeout = 10 * time.Second

// run is main with its inputs and outputs as parameters; it returns the
// exit code: 0 after a clean shutdown, 1 on a runtime failure, 2 on a bad
// command line.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, errHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, nil))

	st, err := openStore(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "quickstart: -store %s: %v\n", cfg.store, err)
		return 1
	}
	// Close order on every path: server, then guard, then the store.
	defer func() {
		if err := st.Close(); err != nil {
			fmt.Fprintf(stderr, "quickstart: closing the %s store: %v\n", cfg.store, err)
		}
	}()

	a, err := newApp(appConfig{Store: st, TrustedProxies: cfg.trustedProxies, Log: log})
	if err != nil {
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		return 1
	}
	closeApp := func(ctx context.Context) {
		if err := a.Close(ctx); err != nil {
			fmt.Fprintf(stderr, "quickstart: closing guard: %v\n", err)
		}
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		fmt.Fprintf(stderr, "quickstart: -addr %s: %v\n", cfg.addr, err)
		closeApp(context.Background())
		return 1
	}
	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "quickstart: listening on %s (store: %s)\n", listenURL(ln.Addr()), cfg.store)

	code := 0
	select {
	case err := <-serveErr:
		fmt.Fprintf(stderr, "quickstart: serve: %v\n", err)
		code = 1
	case <-ctx.Done():
		stop() // a second signal now kills the process the default way
		fmt.Fprintln(stderr, "quickstart: shutting down")
	}

	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "quickstart: shutdown: %v\n", err)
		_ = srv.Close()
		code = 1
	}
	closeApp(sctx)
	return code
}

// listenURL is the URL to print for the bound address: the real port
// (which -addr :0 leaves to the kernel) and "localhost" for a wildcard
// address.
func listenURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	host := "localhost"
	if !tcp.IP.IsUnspecified() {
		host = tcp.IP.String()
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}
