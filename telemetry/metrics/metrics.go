package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"

	"github.com/guardsdk/guard"
)

// Defaults and limits.
const (
	// DefaultLabelLimit is how many distinct values one label (a route
	// template, a database table, a client host, a cache name) may take
	// before further new values are recorded as Overflow.
	DefaultLabelLimit = 1000
	// MaxLabelLimit is the largest WithLabelLimit accepts.
	MaxLabelLimit = 100_000
	// DefaultCardinalityLimit is the OpenTelemetry SDK's per-instrument
	// series cap applied to the MeterProvider this package builds; series
	// beyond it are folded into one with otel.metric.overflow="true".
	DefaultCardinalityLimit = 10_000
	// Overflow is the value a capped label takes once its limit is
	// reached, and the method of requests with an unknown method (the
	// HTTP semantic conventions' "_OTHER").
	Overflow = "_OTHER"
	// ScopeName is the instrumentation scope of every instrument.
	ScopeName = "github.com/guardsdk/guard/telemetry/metrics"
)

// maxSeriesCache bounds the sink's cache of precomputed attribute sets.
const maxSeriesCache = 8192

// Option configures Metrics.
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	mp         metric.MeterProvider
	reg        *prometheus.Registry
	labelLimit int
	cardLimit  int
	res        *resource.Resource
}

// WithMeterProvider records into the given MeterProvider instead of the
// one this package builds. Handler then serves 404: exporting is the
// provider's business.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) error {
		if mp == nil {
			return errors.New("metrics: WithMeterProvider: nil provider")
		}
		c.mp = mp
		return nil
	})
}

// WithRegistry exports into reg (and Handler serves reg) instead of a new
// registry of its own. Pass prometheus.DefaultRegisterer's registry to
// share one /metrics with other collectors.
func WithRegistry(reg *prometheus.Registry) Option {
	return optionFunc(func(c *config) error {
		if reg == nil {
			return errors.New("metrics: WithRegistry: nil registry")
		}
		c.reg = reg
		return nil
	})
}

// WithLabelLimit sets how many distinct values one label may take
// (default DefaultLabelLimit, 1 to MaxLabelLimit).
func WithLabelLimit(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 || n > MaxLabelLimit {
			return fmt.Errorf("metrics: WithLabelLimit: %d not in [1, %d]", n, MaxLabelLimit)
		}
		c.labelLimit = n
		return nil
	})
}

// WithCardinalityLimit sets the SDK's per-instrument series cap of the
// built-in MeterProvider (default DefaultCardinalityLimit).
func WithCardinalityLimit(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("metrics: WithCardinalityLimit: %d must be positive", n)
		}
		c.cardLimit = n
		return nil
	})
}

// WithResource sets the OpenTelemetry resource (service.name and so on)
// of the built-in MeterProvider; exported as Prometheus target_info.
func WithResource(r *resource.Resource) Option {
	return optionFunc(func(c *config) error {
		if r == nil {
			return errors.New("metrics: WithResource: nil resource")
		}
		c.res = r
		return nil
	})
}

// Metrics records guard's HTTP server metrics and its own, and offers
// helpers for database, outbound HTTP and cache metrics. It is safe for
// concurrent use. Build it with New, add it to a Guard with Option, serve
// Handler on /metrics and Shutdown it last.
type Metrics struct {
	own     *sdkmetric.MeterProvider // nil with WithMeterProvider
	server  *serverProducer          // the HTTP server histograms; nil with WithMeterProvider
	reg     *prometheus.Registry
	meter   metric.Meter
	handler http.Handler

	duration httpconv.ServerRequestDuration
	active   httpconv.ServerActiveRequestsObservable
	reqSize  httpconv.ServerRequestBodySize
	respSize httpconv.ServerResponseBodySize

	decisions metric.Int64Counter
	secEvents metric.Int64Counter
	published metric.Int64ObservableCounter
	dropped   metric.Int64ObservableCounter

	dbDuration     metric.Float64Histogram
	clientDuration httpconv.ClientRequestDuration
	cacheRequests  metric.Int64Counter

	routes, stages, reasons, tables, ops, hosts, caches, systems *limiter

	// Active requests are counted with atomics in the request path and
	// observed at collection: two atomic adds instead of two SDK
	// measurements per request.
	activeN    [numMethods][2]atomic.Int64
	activeSeen [numMethods][2]atomic.Bool
	activeSets [numMethods][2][]metric.ObserveOption // by method index, https

	// Owned by the sink goroutine: no lock.
	series    map[seriesKey]*series
	kindOpts  [guard.MaxKinds][]metric.AddOption
	denyCache map[[2]string][]metric.AddOption

	mu        sync.Mutex
	queues    map[string]func() uint64
	callbacks []metric.Registration
	closeOnce sync.Once
}

type seriesKey struct {
	method, scheme, route string
	status                int
}

type series struct {
	rec []metric.RecordOption // the SDK path (WithMeterProvider)
	set attribute.Set
	// The built-in provider's points; req is set on the first request
	// with a known body size, as the SDK creates a series on first use.
	dur       *point[float64]
	req, resp *point[int64]
}

// New builds Metrics. With no options it creates its own MeterProvider
// exporting to a new Prometheus registry served by Handler.
func New(opts ...Option) (*Metrics, error) {
	c := config{labelLimit: DefaultLabelLimit, cardLimit: DefaultCardinalityLimit}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("metrics: New: nil option")
		}
		if err := o.apply(&c); err != nil {
			return nil, err
		}
	}
	m := &Metrics{
		series:    map[seriesKey]*series{},
		denyCache: map[[2]string][]metric.AddOption{},
		queues:    map[string]func() uint64{},
	}
	mp := c.mp
	if mp == nil {
		m.reg = c.reg
		if m.reg == nil {
			m.reg = prometheus.NewRegistry()
		}
		m.server = newServerProducer(c.cardLimit)
		exp, err := otelprom.New(
			otelprom.WithRegisterer(m.reg),
			otelprom.WithProducer(m.server),
			otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		)
		if err != nil {
			return nil, fmt.Errorf("metrics: prometheus exporter: %w", err)
		}
		popts := []sdkmetric.Option{sdkmetric.WithReader(exp), sdkmetric.WithCardinalityLimit(c.cardLimit)}
		if c.res != nil {
			popts = append(popts, sdkmetric.WithResource(c.res))
		}
		m.own = sdkmetric.NewMeterProvider(popts...)
		mp = m.own
		m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	} else {
		m.handler = http.NotFoundHandler()
	}
	m.meter = mp.Meter(ScopeName)
	for _, l := range []**limiter{&m.routes, &m.stages, &m.reasons, &m.tables, &m.ops, &m.hosts, &m.caches, &m.systems} {
		*l = newLimiter(c.labelLimit)
	}
	if err := m.instruments(); err != nil {
		m.Shutdown(context.Background())
		return nil, err
	}
	for i := range methods {
		for tls := range 2 {
			set := attribute.NewSet(
				attribute.String("http.request.method", methods[i]),
				attribute.String("url.scheme", schemes[tls]),
			)
			m.activeSets[i][tls] = []metric.ObserveOption{metric.WithAttributeSet(set)}
		}
	}
	return m, nil
}

func (m *Metrics) instruments() error {
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	var err error
	m.duration, err = httpconv.NewServerRequestDuration(m.meter)
	add(err)
	m.active, err = httpconv.NewServerActiveRequestsObservable(m.meter)
	add(err)
	m.reqSize, err = httpconv.NewServerRequestBodySize(m.meter)
	add(err)
	m.respSize, err = httpconv.NewServerResponseBodySize(m.meter)
	add(err)
	m.clientDuration, err = httpconv.NewClientRequestDuration(m.meter)
	add(err)
	m.dbDuration, err = m.meter.Float64Histogram("db.client.operation.duration",
		metric.WithDescription("Duration of database client operations."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10))
	add(err)
	m.cacheRequests, err = m.meter.Int64Counter("cache.requests",
		metric.WithDescription("Cache lookups by cache and result (hit or miss)."),
		metric.WithUnit("{request}"))
	add(err)
	m.decisions, err = m.meter.Int64Counter("guard.decisions",
		metric.WithDescription("Requests denied by a guard stage, by stage and reason."),
		metric.WithUnit("{decision}"))
	add(err)
	m.secEvents, err = m.meter.Int64Counter("guard.security.events",
		metric.WithDescription("Security and health events guard emitted, by kind."),
		metric.WithUnit("{event}"))
	add(err)
	m.published, err = m.meter.Int64ObservableCounter("guard.events.published",
		metric.WithDescription("Events accepted by guard's event bus."), metric.WithUnit("{event}"))
	add(err)
	m.dropped, err = m.meter.Int64ObservableCounter("guard.queue.dropped",
		metric.WithDescription("Items dropped by guard's bounded queues (event bus and sink queues), by queue."),
		metric.WithUnit("{item}"))
	add(err)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("metrics: creating instruments: %w", err)
	}
	reg, err := m.meter.RegisterCallback(m.observe, m.published, m.dropped, m.active.Inst())
	if err != nil {
		return fmt.Errorf("metrics: registering callback: %w", err)
	}
	m.callbacks = append(m.callbacks, reg)
	return nil
}

// Handler serves the Prometheus text exposition of the built-in registry
// (mount it on /metrics). With WithMeterProvider it answers 404.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Registry returns the Prometheus registry Handler serves, or nil with
// WithMeterProvider.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Meter returns the meter guard records with, for the application's own
// instruments.
func (m *Metrics) Meter() metric.Meter { return m.meter }

// Option returns the guard.Option that feeds these Metrics: a stage that
// counts active requests and a sink for request_done, denied and every
// security event kind.
func (m *Metrics) Option() guard.Option {
	return guard.WithOptions(guard.WithStage(m.Stage()), guard.WithSink(m))
}

// ObserveGuard exports g's event-bus counters (guard.events.published,
// guard.queue.dropped{guard.queue="events"}). Call it once after guard.New.
func (m *Metrics) ObserveGuard(g *guard.Guard) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queues["events"] = func() uint64 { return g.BusStats().Dropped }
	m.queues["\x00published"] = func() uint64 { return g.BusStats().Published }
}

// ObserveDropped exports a bounded queue's drop counter as
// guard.queue.dropped{guard.queue=name}; audit, alerting and notifier
// queues register here. fn must be cheap and safe for concurrent use.
func (m *Metrics) ObserveDropped(name string, fn func() uint64) error {
	if name == "" || fn == nil {
		return errors.New("metrics: ObserveDropped: empty name or nil function")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queues[name] = fn
	return nil
}

func (m *Metrics) observe(_ context.Context, o metric.Observer) error {
	for i := range m.activeN {
		for tls := range m.activeN[i] {
			if m.activeSeen[i][tls].Load() {
				o.ObserveInt64(m.active.Inst(), m.activeN[i][tls].Load(), m.activeSets[i][tls]...)
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, fn := range m.queues {
		if name == "\x00published" {
			o.ObserveInt64(m.published, int64(fn()))
			continue
		}
		o.ObserveInt64(m.dropped, int64(fn()), metric.WithAttributes(attribute.String("guard.queue", name)))
	}
	return nil
}

// Shutdown stops the built-in MeterProvider; Handler serves nothing
// afterwards. It is idempotent and does nothing with WithMeterProvider.
// It is deliberately not named Close: Guard.Close closes sinks that are
// Closers, and a final scrape must still see the last requests.
func (m *Metrics) Shutdown(ctx context.Context) error {
	var err error
	m.closeOnce.Do(func() {
		for _, r := range m.callbacks {
			_ = r.Unregister()
		}
		if m.own != nil {
			err = m.own.Shutdown(ctx)
		}
	})
	return err
}

// Methods known to the HTTP semantic conventions; others are Overflow.
var methods = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY", Overflow}

const numMethods = len(methods)

var schemes = [2]string{"http", "https"}

func methodIndex(m string) int {
	switch m {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "DELETE":
		return 4
	case "CONNECT":
		return 5
	case "OPTIONS":
		return 6
	case "TRACE":
		return 7
	case "PATCH":
		return 8
	case "QUERY":
		return 9
	}
	return numMethods - 1
}

// Method returns m if the HTTP semantic conventions know it, else Overflow.
func Method(m string) string { return methods[methodIndex(m)] }

func schemeIndex(s string) int {
	if s == "https" {
		return 1
	}
	return 0
}

// stage increments http.server.active_requests when a request enters the
// pipeline and decrements it when the request finishes.
type stage struct{ m *Metrics }

// Stage returns the pipeline stage behind Option.
func (m *Metrics) Stage() guard.Stage { return stage{m} }

func (stage) Name() string { return "metrics" }

// Phase runs the stage before the correlate stage and any stage that
// could deny, so every request is counted in.
func (stage) Phase() guard.Phase { return guard.PhaseCorrelate - 1 }

func (s stage) Check(r *guard.Request) guard.Decision {
	i, tls := methodIndex(r.Method), schemeIndex(r.Scheme)
	s.m.activeN[i][tls].Add(1)
	if !s.m.activeSeen[i][tls].Load() {
		s.m.activeSeen[i][tls].Store(true)
	}
	return guard.Decision{}
}

// Finish is called by guard only when Check ran, so the gauge balances.
func (s stage) Finish(r *guard.Request, _ int, _ int64) {
	s.m.activeN[methodIndex(r.Method)][schemeIndex(r.Scheme)].Add(-1)
}

// HandleEvent implements guard.Sink: request_done feeds the HTTP server
// histograms, denied feeds guard.decisions, and every other kind counts
// in guard.security.events.
func (m *Metrics) HandleEvent(ev guard.Event) {
	ctx := context.Background()
	switch ev.Kind {
	case guard.KindRequestDone:
		s := m.seriesFor(&ev)
		if m.server != nil {
			s.dur.record(ev.Duration.Seconds())
			if ev.BytesIn >= 0 {
				if s.req == nil {
					s.req = m.server.req.point(s.set)
				}
				s.req.record(ev.BytesIn)
			}
			s.resp.record(ev.BytesOut)
			return
		}
		m.duration.Float64Histogram.Record(ctx, ev.Duration.Seconds(), s.rec...)
		if ev.BytesIn >= 0 {
			m.reqSize.Int64Histogram.Record(ctx, ev.BytesIn, s.rec...)
		}
		m.respSize.Int64Histogram.Record(ctx, ev.BytesOut, s.rec...)
	case guard.KindDenied:
		k := [2]string{m.stages.value(ev.Stage), m.reasons.value(ev.Reason)}
		opts, ok := m.denyCache[k]
		if !ok {
			opts = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(
				attribute.String("guard.stage", k[0]),
				attribute.String("guard.reason", k[1]),
			))}
			if len(m.denyCache) < maxSeriesCache {
				m.denyCache[k] = opts
			}
		}
		m.decisions.Add(ctx, 1, opts...)
	default:
		opts := m.kindOpts[ev.Kind]
		if opts == nil {
			opts = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(
				attribute.String("guard.event.kind", ev.Kind.String())))}
			m.kindOpts[ev.Kind] = opts
		}
		m.secEvents.Add(ctx, 1, opts...)
	}
}

func (m *Metrics) seriesFor(ev *guard.Event) *series {
	k := seriesKey{method: Method(ev.Method), scheme: schemes[schemeIndex(ev.Scheme)], route: ev.Route, status: ev.Status}
	if s, ok := m.series[k]; ok {
		return s
	}
	route := m.routes.value(ev.Route)
	k2 := k
	k2.route = route
	if s, ok := m.series[k2]; ok {
		return s
	}
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", k.method),
		attribute.String("url.scheme", k.scheme),
		attribute.Int("http.response.status_code", ev.Status),
		attribute.String("http.route", route),
	}
	if ev.Status >= 500 {
		attrs = append(attrs, attribute.String("error.type", strconv.Itoa(ev.Status)))
	}
	set := attribute.NewSet(attrs...)
	s := &series{rec: []metric.RecordOption{metric.WithAttributeSet(set)}, set: set}
	if m.server != nil {
		s.dur, s.resp = m.server.dur.point(set), m.server.resp.point(set)
	}
	if len(m.series) < maxSeriesCache {
		// Cache under the route as received only when it was admitted, so
		// overflowed routes never grow the cache.
		if route == ev.Route {
			m.series[k] = s
		} else {
			m.series[k2] = s
		}
	}
	return s
}

// ObserveQuery records one database operation in
// db.client.operation.duration (seconds) with db.system.name,
// db.operation.name, db.collection.name and, on error, error.type. system
// is the DBMS ("postgresql", "mysql", "sqlite"); operation and table are
// capped like every label.
func (m *Metrics) ObserveQuery(ctx context.Context, system, operation, table string, d time.Duration, err error) {
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, attribute.String("db.system.name", m.systems.value(system)))
	if operation != "" {
		attrs = append(attrs, attribute.String("db.operation.name", m.ops.value(operation)))
	}
	if table != "" {
		attrs = append(attrs, attribute.String("db.collection.name", m.tables.value(table)))
	}
	if err != nil {
		attrs = append(attrs, attribute.String("error.type", errorType(err)))
	}
	m.dbDuration.Record(ctx, d.Seconds(), metric.WithAttributes(attrs...))
}

// TrackQuery runs fn and records its duration and error with
// ObserveQuery. It returns fn's error.
func (m *Metrics) TrackQuery(ctx context.Context, system, operation, table string, fn func(context.Context) error) error {
	start := time.Now()
	err := fn(ctx)
	m.ObserveQuery(ctx, system, operation, table, time.Since(start), err)
	return err
}

// Cache records one cache lookup in cache.requests{cache.name,
// cache.result="hit"|"miss"}.
func (m *Metrics) Cache(ctx context.Context, cache string, hit bool) {
	result := "miss"
	if hit {
		result = "hit"
	}
	m.cacheRequests.Add(ctx, 1, metric.WithAttributes(
		attribute.String("cache.name", m.caches.value(cache)),
		attribute.String("cache.result", result)))
}

func errorType(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "_OTHER"
}

// limiter caps the distinct values of one label. Safe for concurrent use.
type limiter struct {
	mu   sync.RWMutex
	seen map[string]struct{}
	max  int
}

func newLimiter(max int) *limiter { return &limiter{seen: map[string]struct{}{}, max: max} }

func (l *limiter) value(v string) string {
	l.mu.RLock()
	_, ok := l.seen[v]
	full := len(l.seen) >= l.max
	l.mu.RUnlock()
	if ok {
		return v
	}
	if full {
		return Overflow
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[v]; ok {
		return v
	}
	if len(l.seen) >= l.max {
		return Overflow
	}
	l.seen[v] = struct{}{}
	return v
}
