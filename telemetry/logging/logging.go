package logging

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/scrub"
)

// Defaults and limits.
const (
	// MessageRequest is the message of the one line logged per request.
	MessageRequest = "request"
	// MessageEvent is the message of a security or health event line.
	MessageEvent = "guard event"
	// MessageBody is the message of the opt-in body line (WithBodies).
	MessageBody = "http body"
	// DefaultBodyLimit is the per-body cap WithBodies(0) picks.
	DefaultBodyLimit = 4 << 10
	// MaxBodyLimit is the largest cap WithBodies accepts.
	MaxBodyLimit = 1 << 20
)

// ipCacheSize bounds the sink's cache of formatted client addresses.
const ipCacheSize = 4096

// routeCacheSize bounds the sink's cache of request loggers per method
// and route.
const routeCacheSize = 1024

// Option configures Logging.
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	scrubber   *scrub.Scrubber
	sampling   bool
	first      int
	thereafter int
	tick       time.Duration
	bodyLimit  int
}

// WithScrubber replaces scrub.Default for bodies, error messages and
// event attributes.
func WithScrubber(s *scrub.Scrubber) Option {
	return optionFunc(func(c *config) error {
		if s == nil {
			return errors.New("logging: WithScrubber: nil scrubber")
		}
		c.scrubber = s
		return nil
	})
}

// WithSampling samples request lines with zap's sampler: per tick, the
// first lines with the same level and message are logged, then every
// thereafter-th. Security and health events are never sampled.
func WithSampling(tick time.Duration, first, thereafter int) Option {
	return optionFunc(func(c *config) error {
		if tick <= 0 || first < 0 || thereafter < 0 {
			return fmt.Errorf("logging: WithSampling: tick %v, first %d, thereafter %d: tick must be positive and counts non-negative", tick, first, thereafter)
		}
		c.sampling, c.tick, c.first, c.thereafter = true, tick, first, thereafter
		return nil
	})
}

// WithBodies turns on request and response body logging by the net/http
// middleware Bodies, each body capped at limit bytes (0 means
// DefaultBodyLimit; at most MaxBodyLimit). Off by default: bodies carry
// personal data even after scrubbing.
func WithBodies(limit int) Option {
	return optionFunc(func(c *config) error {
		if limit < 0 || limit > MaxBodyLimit {
			return fmt.Errorf("logging: WithBodies: limit %d not in [0, %d]", limit, MaxBodyLimit)
		}
		if limit == 0 {
			limit = DefaultBodyLimit
		}
		c.bodyLimit = limit
		return nil
	})
}

// Logging writes one JSON line per request and one per security event
// through zap, and gives handlers a request-scoped logger. Build it with
// New and add it to a Guard with Option. It is safe for concurrent use.
type Logging struct {
	base     *zap.Logger // as given: bodies, request-scoped loggers
	events   *zap.Logger // unsampled, no caller or stack: event lines
	requests *zap.Logger // request lines: events' logger, sampled by option
	scrub    *scrub.Scrubber
	bodies   int

	// Owned by the sink goroutine.
	fields []zap.Field
	ips    map[netip.Addr]string
	routes map[routeKey]zapcore.Core
}

type routeKey struct{ method, route string }

// New returns Logging writing to l. Give it a JSON logger
// (zap.NewProduction, or a zapcore.NewJSONEncoder core) for JSON lines.
func New(l *zap.Logger, opts ...Option) (*Logging, error) {
	if l == nil {
		return nil, errors.New("logging: New: nil logger")
	}
	c := config{scrubber: scrub.Default()}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("logging: New: nil option")
		}
		if err := o.apply(&c); err != nil {
			return nil, err
		}
	}
	lg := &Logging{base: l, scrub: c.scrubber, bodies: c.bodyLimit, ips: map[netip.Addr]string{}, routes: map[routeKey]zapcore.Core{}}
	// Sink lines are written by the sink goroutine: the caller would
	// always be this file, and finding it costs a stack walk per line.
	lg.events = l.WithOptions(zap.WithCaller(false), zap.AddStacktrace(zapcore.FatalLevel+1))
	lg.requests = lg.events
	if c.sampling {
		lg.requests = lg.events.WithOptions(zap.WrapCore(func(core zapcore.Core) zapcore.Core {
			return zapcore.NewSamplerWithOptions(core, c.tick, c.first, c.thereafter)
		}))
	}
	return lg, nil
}

// Option returns the guard.Option that feeds Logging: a stage that makes
// the request-scoped logger available (FromContext) and a sink for every
// event kind.
func (lg *Logging) Option() guard.Option {
	return guard.WithOptions(guard.WithStage(stage{lg}), guard.WithSink(lg))
}

// Stage returns the stage behind Option, which makes the request-scoped
// logger available to FromContext; the sink is lg itself.
func (lg *Logging) Stage() guard.Stage { return stage{lg} }

// Logger returns the base logger.
func (lg *Logging) Logger() *zap.Logger { return lg.base }

type ctxKey struct{}

type stage struct{ lg *Logging }

func (stage) Name() string       { return "logging" }
func (stage) Phase() guard.Phase { return guard.PhaseCorrelate + 1 }
func (s stage) Check(r *guard.Request) guard.Decision {
	r.SetValue(ctxKey{}, s.lg)
	return guard.Decision{}
}

var nop = zap.NewNop()

// FromContext returns a logger for the request carried by ctx, with its
// correlation_id, trace_id, method and route; a no-op logger when ctx is
// not a guard request with Logging attached. It builds the logger on each
// call: keep it for the request rather than calling it per line.
func FromContext(ctx context.Context) *zap.Logger {
	r, ok := guard.FromContext(ctx)
	if !ok {
		return nop
	}
	lg, ok := r.Value(ctxKey{}).(*Logging)
	if !ok {
		return nop
	}
	fields := make([]zap.Field, 0, 4)
	fields = append(fields, zap.String("correlation_id", r.CorrelationID))
	if r.Trace.IsValid() {
		fields = append(fields, zap.String("trace_id", r.Trace.TraceID.String()))
	}
	fields = append(fields, zap.String("method", r.Method), zap.String("route", r.Route))
	return lg.base.With(fields...)
}

// HandleEvent implements guard.Sink.
func (lg *Logging) HandleEvent(ev guard.Event) {
	if ev.Kind == guard.KindRequestDone {
		lg.request(&ev)
		return
	}
	lg.event(&ev)
}

func (lg *Logging) request(ev *guard.Event) {
	level := zapcore.InfoLevel
	if ev.Status >= 500 {
		level = zapcore.ErrorLevel
	}
	// The entry is checked against the cached core directly, stamped with
	// the time the response finished (ev.Time): the line's ts is the
	// request's end, not when the sink got to it, and the sink saves the
	// clock read zap.Logger.Check would make.
	ent := zapcore.Entry{Level: level, Time: ev.Time, LoggerName: lg.requests.Name(), Message: MessageRequest}
	if ent.Time.IsZero() {
		ent.Time = time.Now()
	}
	ce := lg.forRoute(ev.Method, ev.Route).Check(ent, nil)
	if ce == nil {
		return
	}
	f := lg.fields[:0]
	f = append(f,
		zap.Int("status", ev.Status),
		zap.Int64("bytes", ev.BytesOut),
		zap.Duration("duration", ev.Duration),
		zap.String("client_ip", lg.ip(ev.ClientIP)),
		zap.String("correlation_id", ev.CorrelationID),
	)
	if ev.Principal != "" {
		f = append(f, zap.String("principal", ev.Principal))
	}
	if ev.TraceID.IsValid() {
		f = append(f, zap.String("trace_id", ev.TraceID.String()))
	}
	ce.Write(f...)
	lg.fields = f
}

// forRoute returns the request logger's core with the method and route fields
// added (zap encodes them once, in With, and they come first among the
// line's fields as before), through a bounded cache: routes are
// templates, and methods other than the standard ones are rare.
func (lg *Logging) forRoute(method, route string) zapcore.Core {
	k := routeKey{method, route}
	if c, ok := lg.routes[k]; ok {
		return c
	}
	if len(lg.routes) >= routeCacheSize {
		clear(lg.routes)
	}
	c := lg.requests.With(zap.String("method", method), zap.String("route", route)).Core()
	lg.routes[k] = c
	return c
}

// ip formats addresses through a bounded cache: clients repeat, and the
// formatted string is the line's only allocation otherwise.
func (lg *Logging) ip(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	if s, ok := lg.ips[a]; ok {
		return s
	}
	if len(lg.ips) >= ipCacheSize {
		clear(lg.ips)
	}
	s := a.String()
	lg.ips[a] = s
	return s
}

// event logs a security or health event on the unsampled logger.
func (lg *Logging) event(ev *guard.Event) {
	level := zapcore.WarnLevel
	switch ev.Kind {
	case guard.KindPanic:
		level = zapcore.ErrorLevel
	case guard.KindBackendRecovered:
		level = zapcore.InfoLevel
	}
	ce := lg.events.Check(level, MessageEvent)
	if ce == nil {
		return
	}
	f := make([]zap.Field, 0, 12+len(ev.Attrs))
	f = append(f, zap.String("kind", ev.Kind.String()))
	if ev.Stage != "" {
		f = append(f, zap.String("stage", ev.Stage))
	}
	if ev.Reason != "" {
		f = append(f, zap.String("reason", ev.Reason))
	}
	if ev.Status != 0 {
		f = append(f, zap.Int("status", ev.Status))
	}
	if ev.Method != "" || ev.Route != "" {
		f = append(f, zap.String("method", ev.Method), zap.String("route", ev.Route))
	}
	if ev.ClientIP.IsValid() {
		f = append(f, zap.String("client_ip", lg.ip(ev.ClientIP)))
	}
	if ev.Principal != "" {
		f = append(f, zap.String("principal", ev.Principal))
	}
	if ev.CorrelationID != "" {
		f = append(f, zap.String("correlation_id", ev.CorrelationID))
	}
	if ev.TraceID.IsValid() {
		f = append(f, zap.String("trace_id", ev.TraceID.String()))
	}
	if ev.Err != nil {
		f = append(f, zap.String("error", lg.scrub.String(ev.Err.Error())))
	}
	for _, a := range ev.Attrs {
		f = append(f, zap.String(attrKey(a.Key), lg.scrub.Value(a.Key, a.Value)))
	}
	ce.Write(f...)
}

// attrKey keeps event attributes from overwriting the line's own keys.
func attrKey(k string) string {
	switch k {
	case "kind", "stage", "reason", "status", "method", "route", "client_ip",
		"principal", "correlation_id", "trace_id", "error", "level", "ts", "msg":
		return "attr_" + k
	}
	return k
}
