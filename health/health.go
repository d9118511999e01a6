package health

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guardsdk/guard"
)

// Defaults and limits.
const (
	// DefaultCheckTimeout bounds one check unless CheckTimeout says
	// otherwise; below Kubernetes' default probe timeout of 1 s.
	DefaultCheckTimeout = 500 * time.Millisecond
	// DefaultCacheTTL is how long check results are reused.
	DefaultCacheTTL = time.Second
	// MaxChecks is the most checks one Health accepts.
	MaxChecks = 64
)

// Status values in responses and events.
const (
	StatusUp      = "up"
	StatusDown    = "down"
	StatusClosing = "closing"
)

// Errors.
var (
	// ErrClosing is the readiness error once the Guard is closing or Drain
	// was called.
	ErrClosing = errors.New("health: shutting down")
	// ErrTimeout is a check's error when it did not answer within its
	// timeout.
	ErrTimeout = errors.New("health: check timed out")
)

// CheckFunc reports a dependency's health: nil when usable. It must
// return when ctx ends.
type CheckFunc func(ctx context.Context) error

// CheckOption configures one check.
type CheckOption interface{ applyCheck(*check) }

type checkOptionFunc func(*check)

func (f checkOptionFunc) applyCheck(c *check) { f(c) }

// Critical sets whether the check decides readiness (default true). A
// non-critical check only shows in /health/dependencies.
func Critical(on bool) CheckOption { return checkOptionFunc(func(c *check) { c.critical = on }) }

// CheckTimeout sets the check's timeout (default DefaultCheckTimeout).
func CheckTimeout(d time.Duration) CheckOption {
	return checkOptionFunc(func(c *check) { c.timeout = d })
}

type check struct {
	name     string
	fn       CheckFunc
	critical bool
	timeout  time.Duration
}

// Option configures Health.
type Option interface{ apply(*Health) error }

type optionFunc func(*Health) error

func (f optionFunc) apply(h *Health) error { return f(h) }

// WithCheck adds a custom check.
func WithCheck(name string, fn CheckFunc, opts ...CheckOption) Option {
	return optionFunc(func(h *Health) error { return h.add("WithCheck", name, fn, opts) })
}

// WithStoreCheck checks the Guard's store (guard.WithStore) with its Ping:
// a Redis PING, a bolt read transaction, nothing for memory. Named
// "store".
func WithStoreCheck(opts ...CheckOption) Option {
	return optionFunc(func(h *Health) error {
		st := h.g.Store()
		return h.add("WithStoreCheck", "store", st.Ping, opts)
	})
}

// WithSQLCheck checks a database/sql pool with PingContext.
func WithSQLCheck(name string, db *sql.DB, opts ...CheckOption) Option {
	return optionFunc(func(h *Health) error {
		if db == nil {
			return fmt.Errorf("health: WithSQLCheck(%q): nil *sql.DB", name)
		}
		return h.add("WithSQLCheck", name, db.PingContext, opts)
	})
}

// WithHTTPCheck checks that a GET of rawURL answers with a status below
// 400 (redirects are not followed, and count as up).
func WithHTTPCheck(name, rawURL string, opts ...CheckOption) Option {
	return optionFunc(func(h *Health) error {
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("health: WithHTTPCheck(%q): %q is not an http(s) URL", name, rawURL)
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		fn := func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			if resp.StatusCode >= 400 {
				return fmt.Errorf("health: %s answered %d", u.Redacted(), resp.StatusCode)
			}
			return nil
		}
		return h.add("WithHTTPCheck", name, fn, opts)
	})
}

// WithCacheTTL sets how long results are reused (default DefaultCacheTTL;
// 0 runs the checks on every probe).
func WithCacheTTL(d time.Duration) Option {
	return optionFunc(func(h *Health) error {
		if d < 0 {
			return fmt.Errorf("health: WithCacheTTL: %v is negative", d)
		}
		h.ttl = d
		return nil
	})
}

// WithDetail decides who sees the error text and latency of each check in
// /health/dependencies. By default no one does: error messages name
// internal hosts. AllowAll, or a function checking an admin token or the
// client address, opens it.
func WithDetail(allow func(*http.Request) bool) Option {
	return optionFunc(func(h *Health) error {
		if allow == nil {
			return errors.New("health: WithDetail: nil function")
		}
		h.detail = allow
		return nil
	})
}

// AllowAll is a WithDetail function that shows the detail to everyone.
func AllowAll(*http.Request) bool { return true }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(h *Health) error {
		if now == nil {
			return errors.New("health: WithClock: nil function")
		}
		h.now = now
		return nil
	})
}

// Health serves liveness, readiness and dependency endpoints for a Guard.
// It is safe for concurrent use.
type Health struct {
	g      *guard.Guard
	checks []*check
	ttl    time.Duration
	detail func(*http.Request) bool
	now    func() time.Time

	draining atomic.Bool

	mu      sync.Mutex // serialises refreshes; held while checks run
	results []Result
	at      time.Time
	last    map[string]string // previous status per check, for events
}

// Result is one check's outcome.
type Result struct {
	Name     string
	Status   string // StatusUp or StatusDown
	Critical bool
	Latency  time.Duration
	Error    string // "" when up
	err      error
}

// New returns Health for g with the given checks.
func New(g *guard.Guard, opts ...Option) (*Health, error) {
	if g == nil {
		return nil, errors.New("health: New: nil guard")
	}
	h := &Health{g: g, ttl: DefaultCacheTTL, detail: func(*http.Request) bool { return false }, now: time.Now, last: map[string]string{}}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("health: New: nil option")
		}
		if err := o.apply(h); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func (h *Health) add(opt, name string, fn CheckFunc, opts []CheckOption) error {
	if name == "" || fn == nil {
		return fmt.Errorf("health: %s: empty name or nil function", opt)
	}
	for _, c := range h.checks {
		if c.name == name {
			return fmt.Errorf("health: %s: duplicate check %q", opt, name)
		}
	}
	if len(h.checks) == MaxChecks {
		return fmt.Errorf("health: %s(%q): more than %d checks", opt, name, MaxChecks)
	}
	c := &check{name: name, fn: fn, critical: true, timeout: DefaultCheckTimeout}
	for _, o := range opts {
		if o != nil {
			o.applyCheck(c)
		}
	}
	if c.timeout <= 0 {
		return fmt.Errorf("health: %s(%q): CheckTimeout %v must be positive", opt, name, c.timeout)
	}
	h.checks = append(h.checks, c)
	return nil
}

// Drain makes readiness fail from now on, before Guard.Close is called,
// so load balancers stop sending traffic while the server finishes.
func (h *Health) Drain() { h.draining.Store(true) }

func (h *Health) closing() bool { return h.draining.Load() || h.g.Closing() }

// Live reports whether the process is alive: always nil. It never checks
// dependencies, so a database outage does not get the process restarted.
func (h *Health) Live(context.Context) error { return nil }

// Ready reports whether the service should get traffic: ErrClosing once
// the Guard closes (or after Drain), else the first failing critical
// check's error.
func (h *Health) Ready(ctx context.Context) error {
	if h.closing() {
		return ErrClosing
	}
	for _, r := range h.Results(ctx) {
		if r.Critical && r.err != nil {
			return fmt.Errorf("health: %s: %w", r.Name, r.err)
		}
	}
	return nil
}

// Results runs the checks, or returns the cached results when younger
// than the cache TTL. Checks run concurrently, each under its timeout.
func (h *Health) Results(ctx context.Context) []Result {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	if h.results != nil && now.Sub(h.at) < h.ttl {
		return h.results
	}
	res := make([]Result, len(h.checks))
	var wg sync.WaitGroup
	for i, c := range h.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = h.run(ctx, c)
		}()
	}
	wg.Wait()
	h.results, h.at = res, h.now()
	h.publishChanges(res)
	return res
}

func (h *Health) run(ctx context.Context, c *check) Result {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("health: check panicked: %v", p)
			}
		}()
		done <- c.fn(ctx)
	}()
	var err error
	select {
	case err = <-done:
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w after %v: %w", ErrTimeout, c.timeout, err)
		}
	case <-ctx.Done():
		// A check that ignores its context is abandoned, not waited for.
		err = fmt.Errorf("%w after %v", ErrTimeout, c.timeout)
	}
	r := Result{Name: c.name, Status: StatusUp, Critical: c.critical, Latency: time.Since(start), err: err}
	if err != nil {
		r.Status, r.Error = StatusDown, err.Error()
	}
	return r
}

// publishChanges emits a dependency_changed event for every check whose
// status differs from the last run (and for checks found down on the
// first run). Called with h.mu held.
func (h *Health) publishChanges(res []Result) {
	for _, r := range res {
		prev, seen := h.last[r.Name]
		h.last[r.Name] = r.Status
		if prev == r.Status || (!seen && r.Status == StatusUp) {
			continue
		}
		ev := guard.Event{
			Kind:   guard.KindDependencyChanged,
			Stage:  "health",
			Reason: r.Status,
			Err:    r.err,
			Attrs:  []guard.Attr{{Key: "check", Value: r.Name}, {Key: "critical", Value: fmt.Sprint(r.Critical)}},
		}
		if prev != "" {
			ev.Attrs = append(ev.Attrs, guard.Attr{Key: "previous", Value: prev})
		}
		h.g.Publish(ev)
	}
}

// Register mounts the four endpoints on mux with their own route
// templates: GET /health, /health/live, /health/ready and
// /health/dependencies.
func (h *Health) Register(mux *http.ServeMux) {
	mux.Handle("GET /health", h.SummaryHandler())
	mux.Handle("GET /health/live", h.LiveHandler())
	mux.Handle("GET /health/ready", h.ReadyHandler())
	mux.Handle("GET /health/dependencies", h.DependenciesHandler())
}

// Handler serves the four endpoints by path, for mounting on "/health"
// and "/health/" of any router.
func (h *Health) Handler() http.Handler {
	mux := http.NewServeMux()
	h.Register(mux)
	return mux
}

type body struct {
	Status string        `json:"status"`
	Reason string        `json:"reason,omitempty"`
	Checks []checkDetail `json:"checks,omitempty"`
}

type checkDetail struct {
	Name      string   `json:"name"`
	Status    string   `json:"status"`
	Critical  bool     `json:"critical"`
	LatencyMS *float64 `json:"latency_ms,omitempty"`
	Error     string   `json:"error,omitempty"`
}

func write(w http.ResponseWriter, code int, b body) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(b)
}

// LiveHandler serves /health/live: 200 {"status":"up"} while the process
// serves HTTP at all.
func (h *Health) LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write(w, http.StatusOK, body{Status: StatusUp})
	})
}

// ReadyHandler serves /health/ready: 200 when every critical check is up,
// 503 otherwise, with status "closing" once the Guard closes. Only check
// names and statuses are shown.
func (h *Health) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.closing() {
			write(w, http.StatusServiceUnavailable, body{Status: StatusClosing})
			return
		}
		b, ok := h.report(r, true)
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		write(w, code, b)
	})
}

// DependenciesHandler serves /health/dependencies: every check with its
// status, and, for requests WithDetail allows, its latency and error.
// 200 when every critical check is up, else 503.
func (h *Health) DependenciesHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := h.report(r, false)
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		if h.closing() {
			b.Status, b.Reason = StatusClosing, ErrClosing.Error()
			code = http.StatusServiceUnavailable
		}
		write(w, code, b)
	})
}

// SummaryHandler serves /health: the overall status only ("up", "down"
// or "closing"), 200 when ready, else 503.
func (h *Health) SummaryHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h.Ready(r.Context())
		switch {
		case err == nil:
			write(w, http.StatusOK, body{Status: StatusUp})
		case errors.Is(err, ErrClosing):
			write(w, http.StatusServiceUnavailable, body{Status: StatusClosing})
		default:
			write(w, http.StatusServiceUnavailable, body{Status: StatusDown})
		}
	})
}

func (h *Health) report(r *http.Request, criticalOnly bool) (body, bool) {
	detail := !criticalOnly && h.detail(r)
	ok := true
	b := body{Status: StatusUp}
	for _, res := range h.Results(r.Context()) {
		if res.Critical && res.err != nil {
			ok = false
		}
		if criticalOnly && !res.Critical {
			continue
		}
		d := checkDetail{Name: res.Name, Status: res.Status, Critical: res.Critical}
		if detail {
			ms := float64(res.Latency.Microseconds()) / 1000
			d.LatencyMS, d.Error = &ms, res.Error
		}
		b.Checks = append(b.Checks, d)
	}
	if !ok {
		b.Status = StatusDown
	}
	return b, ok
}
