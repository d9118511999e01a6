// Command quickstart is a small JSON notes API protected by guard: the
// first program to run after installing the SDK.
//
//	go run ./examples/quickstart                        # in-memory, :8080
//	go run ./examples/quickstart -store bolt            # durable, quickstart.db
//	go run ./examples/quickstart -store redis -redis-addr localhost:6379
//	go run ./examples/quickstart -tls-cert cert.pem -tls-key key.pem   # HTTPS on :8443, redirect on :8080
//	go run ./examples/quickstart -sentry-dsn https://KEY@o1.ingest.sentry.io/2  # panics and 5xx to Sentry
//
// Then, in another terminal:
//
//	curl -s localhost:8080/
//	curl -s -H 'Content-Type: application/json' -d '{"username":"alice","password":"correct horse battery"}' localhost:8080/api/v1/auth/register
//	curl -s -H 'Content-Type: application/json' -d '{"username":"alice","password":"correct horse battery"}' localhost:8080/api/v1/auth/login
//	curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"title":"hello","body":"first note"}' localhost:8080/api/v1/notes
//	curl -s -H "Authorization: Bearer $TOKEN" 'localhost:8080/api/v1/search?q=first'
//	curl -s localhost:8080/metrics
//	curl -s localhost:8080/health/ready
//
// Users, sessions and notes are kept in the guard store chosen with
// -store, so on bolt they survive a restart and on redis they are shared
// by every instance. Passwords are hashed with argon2id; only the SHA-256
// of a session token is stored. Every error is an RFC 9457 problem JSON
// body, and every response carries an X-Request-Id, the security headers
// of package headers (Strict-Transport-Security over HTTPS only) and
// passes the CSRF check of package csrf (browsers' cross-site POSTs are
// refused; clients that are not browsers are not affected).
//
// Monitoring (telemetry.go): GET /metrics serves Prometheus metrics (the
// OpenTelemetry HTTP server conventions by route template, and guard's
// own); GET /health, /health/live, /health/ready and /health/dependencies
// are the health endpoints; every request writes one JSON line to stderr
// (method, route, status, bytes, duration, client IP, principal,
// correlation id, trace id), and every security event one more. With
// -sentry-dsn, panics and 5xx go to Sentry with the user as user id, and
// POST /sentry-tunnel relays browser SDK envelopes to that project.
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
//	-tls-cert         PEM certificate (chain) file; with -tls-key, -addr
//	                  serves HTTPS (TLS 1.2+, HTTP/2) and defaults to :8443
//	-tls-key          PEM private key file; both or neither
//	-http-redirect-addr
//	                  with TLS only: a plain-HTTP listener answering every
//	                  request with a 308 to https://<host>:<HTTPS port><URI>
//	                  (default ":8080"; "" for none)
//	-sentry-dsn       Sentry project DSN (default none: Sentry off)
//
// On start-up it prints one line to stdout once it accepts connections,
//
//	quickstart: listening on http://localhost:8080 (store: memory)
//
// or, with -tls-cert and -tls-key, two:
//
//	quickstart: listening on https://localhost:8443 (store: memory)
//	quickstart: redirecting http://localhost:8080 to https://localhost:8443
//
// Logs go to stderr. On SIGINT or SIGTERM it turns /health/ready to 503,
// stops accepting (on both listeners), finishes in-flight requests (at
// most 10 seconds), closes guard (draining the logs and flushing Sentry)
// and then the store, and exits 0. A bad flag value exits 2 with a
// message naming the flag.
package main

import (
	"context"
	"crypto/tls"
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

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
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
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	zl := newLogger(stderr)
	defer func() { _ = zl.Sync() }()

	var cert tls.Certificate
	if cfg.useTLS() {
		if cert, err = loadCertificate(cfg.tlsCert, cfg.tlsKey); err != nil {
			fmt.Fprintf(stderr, "quickstart: -tls-cert %s -tls-key %s: %v\n", cfg.tlsCert, cfg.tlsKey, err)
			return 1
		}
	}

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

	a, err := newApp(appConfig{Store: st, TrustedProxies: cfg.trustedProxies, Log: log, Logger: zl, SentryDSN: cfg.sentryDSN})
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
	var rln net.Listener // the plain-HTTP redirect listener, with TLS only
	if cfg.useTLS() && cfg.redirectAddr != "" {
		if rln, err = net.Listen("tcp", cfg.redirectAddr); err != nil {
			fmt.Fprintf(stderr, "quickstart: -http-redirect-addr %s: %v\n", cfg.redirectAddr, err)
			_ = ln.Close()
			closeApp(context.Background())
			return 1
		}
	}
	errorLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errorLog,
	}
	serveErr := make(chan error, 2)
	scheme := "http"
	if cfg.useTLS() {
		scheme = "https"
		srv.TLSConfig = tlsConfig(cert)
		go func() { serveErr <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { serveErr <- srv.Serve(ln) }()
	}
	var redirect *http.Server
	if rln != nil {
		redirect = &http.Server{
			Handler:           redirectToHTTPS(ln.Addr().(*net.TCPAddr).Port, cert.Leaf),
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       30 * time.Second,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          errorLog,
		}
		go func() { serveErr <- redirect.Serve(rln) }()
	}
	// Scripts read the first line; the redirect listener gets a second.
	fmt.Fprintf(stdout, "quickstart: listening on %s (store: %s)\n", listenURL(scheme, ln.Addr()), cfg.store)
	if rln != nil {
		fmt.Fprintf(stdout, "quickstart: redirecting %s to %s\n", listenURL("http", rln.Addr()), listenURL(scheme, ln.Addr()))
	}

	code := 0
	select {
	case err := <-serveErr:
		fmt.Fprintf(stderr, "quickstart: serve: %v\n", err)
		code = 1
	case <-ctx.Done():
		stop() // a second signal now kills the process the default way
		fmt.Fprintln(stderr, "quickstart: shutting down")
	}
	// Readiness fails first, so load balancers stop sending traffic while
	// the server still answers.
	a.Drain()

	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if redirect != nil {
		if err := redirect.Shutdown(sctx); err != nil {
			fmt.Fprintf(stderr, "quickstart: shutdown of the redirect listener: %v\n", err)
			_ = redirect.Close()
			code = 1
		}
	}
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "quickstart: shutdown: %v\n", err)
		_ = srv.Close()
		code = 1
	}
	closeApp(sctx)
	return code
}

// newLogger is guard's request and event logger: zap's production JSON
// encoding, Info and above, to w. Unlike zap.NewProduction it does not
// sample: its sampler would drop security events along with request
// lines (telemetry/logging's WithSampling samples request lines only).
func newLogger(w io.Writer) *zap.Logger {
	ws := zapcore.Lock(zapcore.AddSync(w))
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), ws, zapcore.InfoLevel)
	return zap.New(core, zap.ErrorOutput(ws))
}

// listenURL is the URL to print for the bound address: the real port
// (which -addr :0 leaves to the kernel) and "localhost" for a wildcard
// address.
func listenURL(scheme string, addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return scheme + "://" + addr.String()
	}
	host := "localhost"
	if !tcp.IP.IsUnspecified() {
		host = tcp.IP.String()
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}
