package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"go.uber.org/zap"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/headers"
	"github.com/guardsdk/guard/store"
)

// appConfig is what newApp needs. main fills it from the flags; tests fill
// it directly.
type appConfig struct {
	// Store keeps users, sessions and notes, and is handed to guard with
	// WithStore so every guard capability shares it. The caller owns it and
	// closes it after app.Close.
	Store store.Store
	// RateLimits are the rate limits; the zero value is the plan's (see
	// rateLimits).
	RateLimits rateLimits
	// TrustedProxies are CIDRs or addresses whose X-Forwarded-For guard
	// believes (guard.WithTrustedProxies). Empty: the TCP peer is the client.
	TrustedProxies []string
	// Hash sets the argon2id cost; the zero value means defaultHashParams.
	// Tests lower it so that -race runs stay fast.
	Hash hashParams
	// Log receives server-side errors (never sent to clients); nil
	// discards them.
	Log *slog.Logger
	// Logger receives guard's JSON lines, one per request and one per
	// security or health event (telemetry/logging); nil discards them.
	Logger *zap.Logger
	// SentryDSN turns Sentry on (-sentry-dsn): panics and 5xx are
	// reported to that project, and POST /sentry-tunnel relays browser
	// envelopes to it. "" leaves Sentry off.
	SentryDSN string
}

// guardOptions is the one place the quickstart configures guard. Rate
// limits, security headers, CSRF and input inspection are added here as
// the SDK grows, so that main and the tests get them alike. Telemetry
// (metrics, logs, tracing, Sentry) is the one addition made in newApp,
// from the observability of telemetry.go, because the app also serves
// its endpoints.
func guardOptions(cfg appConfig) []guard.Option {
	opts := []guard.Option{
		// One backend for the app's own data and for every stateful guard
		// capability: memory, bolt or redis, chosen with -store.
		guard.WithStore(cfg.Store),
		// The principal is the user behind the bearer token, resolved
		// through the session store (see sessions.principal).
		guard.WithPrincipal(newSessions(cfg.Store).principal),
		// Handlers read the principal through the request context; keep
		// it there even if every stage is turned off.
		guard.WithRequestContext(true),
	}
	// Security headers, CSP reports and CSRF (hardening.go).
	opts = append(opts, hardeningOptions()...)
	// Rate limits (ratelimit.go).
	opts = append(opts, rateLimitOptions(cfg.RateLimits)...)
	// Body schemas and input inspection (input.go).
	opts = append(opts, inputOptions()...)
	if len(cfg.TrustedProxies) > 0 {
		opts = append(opts, guard.WithTrustedProxies(cfg.TrustedProxies...))
	}
	return opts
}

// app is the notes service: a ServeMux of JSON handlers wrapped in guard.
// It is an http.Handler and safe for concurrent use.
type app struct {
	guard    *guard.Guard
	obs      *observability // metrics, logs, tracing, Sentry, health
	handler  http.Handler
	reports  http.Handler // CSP violation reports, POST cspReportPath
	log      *slog.Logger
	users    *users
	sessions *sessions
	notes    *notes
}

// newApp builds the service on cfg.Store. Close it with Close, then close
// the store.
func newApp(cfg appConfig) (*app, error) {
	if cfg.Store == nil {
		return nil, errors.New("quickstart: newApp: nil store")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	hasher, err := newHasher(cfg.Hash)
	if err != nil {
		return nil, err
	}
	obs, err := newObservability(cfg)
	if err != nil {
		return nil, err
	}
	g, err := guard.New(append(guardOptions(cfg), obs.tel.Option())...)
	if err != nil {
		obs.abandon()
		return nil, err
	}
	a := &app{
		guard:    g,
		obs:      obs,
		log:      cfg.Log,
		users:    &users{st: cfg.Store, hasher: hasher},
		sessions: newSessions(cfg.Store),
		notes:    &notes{st: cfg.Store},
	}
	if err = obs.attach(g, cfg); err == nil {
		a.reports, err = newCSPReports(g)
	}
	if err != nil {
		_ = a.Close(context.Background())
		return nil, err
	}
	// StripLeaks, outside the Guard, removes Server and X-Powered-By
	// whoever sets them, guard's own problem responses included.
	a.handler = headers.StripLeaks(g.Handler(a.routes()))
	return a, nil
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Guard returns the app's Guard.
func (a *app) Guard() *guard.Guard { return a.guard }

// Close stops the Guard, draining its event queues (logs, metrics) and
// flushing Sentry until ctx ends, then stops the metrics provider. It does
// not close the store. /health/ready answers 503 from the moment it
// begins; call Drain (main does) to start that earlier.
func (a *app) Close(ctx context.Context) error {
	err := a.guard.Close(ctx)
	return errors.Join(err, a.obs.close(ctx))
}

// Drain turns /health/ready to 503 so that load balancers stop sending
// traffic, while requests are still served; main calls it on SIGINT or
// SIGTERM, before stopping the server.
func (a *app) Drain() { a.obs.health.Drain() }

// endpoint documents one route for the index.
type endpoint struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	Auth        bool   `json:"auth"`
	Description string `json:"description"`
}

var apiEndpoints = []endpoint{
	{"GET", "/", false, "This index."},
	{"POST", "/api/v1/auth/register", false, `Create an account: {"username","password"}.`},
	{"POST", "/api/v1/auth/login", false, `Get a bearer token: {"username","password"}.`},
	{"POST", "/api/v1/auth/logout", true, "End the session of the bearer token."},
	{"POST", "/api/v1/notes", true, `Create a note: {"title","body"}.`},
	{"GET", "/api/v1/notes", true, "List your notes."},
	{"GET", "/api/v1/notes/{id}", true, "Get one of your notes."},
	{"GET", "/api/v1/search?q=", true, "Your notes whose title or body contains q."},
	{"POST", cspReportPath, false, "Content-Security-Policy violation reports from browsers."},
}

// endpoints are the routes the index lists: the API's, then the
// monitoring endpoints (the Sentry tunnel only with -sentry-dsn).
func (a *app) endpoints() []endpoint {
	return append(append([]endpoint(nil), apiEndpoints...), a.obs.endpoints()...)
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.index)
	mux.HandleFunc("POST /api/v1/auth/register", a.register)
	mux.HandleFunc("POST /api/v1/auth/login", a.login)
	mux.HandleFunc("POST /api/v1/auth/logout", a.logout)
	mux.HandleFunc("POST /api/v1/notes", a.createNote)
	mux.HandleFunc("GET /api/v1/notes", a.listNotes)
	mux.HandleFunc("GET /api/v1/notes/{id}", a.getNote)
	mux.HandleFunc("GET /api/v1/search", a.search)
	mux.Handle("POST "+cspReportPath, a.reports)
	a.obs.routes(mux) // GET /metrics, /health..., POST /sentry-tunnel (telemetry.go)
	return problemMux{mux}
}

func (a *app) index(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Name      string     `json:"name"`
		Endpoints []endpoint `json:"endpoints"`
	}{"guard quickstart: a notes API", a.endpoints()})
}

// fail answers a failed store operation: 503 when the backend is down or
// overloaded, 500 otherwise. The error itself is only logged.
func (a *app) fail(w http.ResponseWriter, r *http.Request, op string, err error) {
	a.log.Error("quickstart: "+op, "err", err, "request_id", guard.CorrelationID(r.Context()))
	switch {
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, store.ErrConflict),
		errors.Is(err, store.ErrFull), errors.Is(err, store.ErrClosed),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, errBusy):
		writeProblem(w, errUnavailable)
	default:
		writeProblem(w, errInternal)
	}
}
