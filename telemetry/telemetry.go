package telemetry

import (
	"context"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/scrub"
	"github.com/guardsdk/guard/telemetry/guardsentry"
	"github.com/guardsdk/guard/telemetry/logging"
	"github.com/guardsdk/guard/telemetry/metrics"
	"github.com/guardsdk/guard/telemetry/tracing"
)

// Option configures Telemetry.
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	noMetrics  bool
	metrics    []metrics.Option
	logger     *zap.Logger
	logging    []logging.Option
	tracing    bool
	tracingOps []tracing.Option
	sentry     []guardsentry.Option
	scrubber   *scrub.Scrubber
}

// WithMetrics passes options to the metrics part (on by default).
func WithMetrics(opts ...metrics.Option) Option {
	return optionFunc(func(c *config) error { c.metrics = append(c.metrics, opts...); return nil })
}

// WithoutMetrics turns the metrics part off.
func WithoutMetrics() Option {
	return optionFunc(func(c *config) error { c.noMetrics = true; return nil })
}

// WithLogger turns request and event logging on, writing to l.
func WithLogger(l *zap.Logger, opts ...logging.Option) Option {
	return optionFunc(func(c *config) error {
		if l == nil {
			return errors.New("telemetry: WithLogger: nil logger")
		}
		c.logger, c.logging = l, append(c.logging, opts...)
		return nil
	})
}

// WithTracing turns the server span per request on.
func WithTracing(opts ...tracing.Option) Option {
	return optionFunc(func(c *config) error { c.tracing, c.tracingOps = true, append(c.tracingOps, opts...); return nil })
}

// WithSentry configures Sentry; it is on only when the options include a
// non-empty guardsentry.WithDSN.
func WithSentry(opts ...guardsentry.Option) Option {
	return optionFunc(func(c *config) error { c.sentry = append(c.sentry, opts...); return nil })
}

// WithScrubber sets the scrubber shared by logs and Sentry (default
// scrub.Default).
func WithScrubber(s *scrub.Scrubber) Option {
	return optionFunc(func(c *config) error {
		if s == nil {
			return errors.New("telemetry: WithScrubber: nil scrubber")
		}
		c.scrubber = s
		return nil
	})
}

// Telemetry bundles metrics, logging, tracing and Sentry for one Guard.
type Telemetry struct {
	metrics *metrics.Metrics
	logging *logging.Logging
	tracing *tracing.Tracing
	sentry  *guardsentry.Sentry
}

// New builds the parts the options ask for. Errors name the failing
// option, prefixed by its part ("metrics: WithLabelLimit: ...").
func New(opts ...Option) (*Telemetry, error) {
	var c config
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("telemetry: New: nil option")
		}
		if err := o.apply(&c); err != nil {
			return nil, err
		}
	}
	t := &Telemetry{}
	var err error
	if !c.noMetrics {
		if t.metrics, err = metrics.New(c.metrics...); err != nil {
			return nil, err
		}
	}
	if c.logger != nil {
		lo := c.logging
		if c.scrubber != nil {
			lo = append([]logging.Option{logging.WithScrubber(c.scrubber)}, lo...)
		}
		if t.logging, err = logging.New(c.logger, lo...); err != nil {
			return nil, err
		}
	}
	if c.tracing {
		if t.tracing, err = tracing.New(c.tracingOps...); err != nil {
			return nil, err
		}
	}
	so := c.sentry
	if c.scrubber != nil {
		so = append([]guardsentry.Option{guardsentry.WithScrubber(c.scrubber)}, so...)
	}
	if t.sentry, err = guardsentry.New(so...); err != nil {
		return nil, err
	}
	return t, nil
}

// Option returns one guard.Option adding every enabled part's stages and
// sinks: the metrics and logging sinks share one event queue (Sink), so
// each request costs one event delivery, not two; Sentry keeps its own,
// as it talks to the network.
func (t *Telemetry) Option() guard.Option {
	var opts []guard.Option
	for _, s := range t.Stages() {
		opts = append(opts, guard.WithStage(s))
	}
	if s := t.Sink(); s != nil {
		opts = append(opts, guard.WithSink(s))
	}
	opts = append(opts, t.sentry.Option())
	return guard.WithOptions(opts...)
}

// Stages returns the pipeline stages of metrics, logging and tracing (not
// Sentry's), for callers assembling options themselves.
func (t *Telemetry) Stages() []guard.Stage {
	var out []guard.Stage
	if t.metrics != nil {
		out = append(out, t.metrics.Stage())
	}
	if t.logging != nil {
		out = append(out, t.logging.Stage())
	}
	if t.tracing != nil {
		out = append(out, t.tracing.Stages()...)
	}
	return out
}

// Sink returns the sink feeding metrics and logging from one queue, or
// nil when both are off.
func (t *Telemetry) Sink() guard.Sink {
	switch {
	case t.metrics != nil && t.logging != nil:
		return pair{t.metrics, t.logging}
	case t.metrics != nil:
		return t.metrics
	case t.logging != nil:
		return t.logging
	}
	return nil
}

type pair struct {
	m *metrics.Metrics
	l *logging.Logging
}

func (p pair) HandleEvent(ev guard.Event) {
	p.m.HandleEvent(ev)
	p.l.HandleEvent(ev)
}

// Attach exports g's event-bus counters in the metrics; call it once after
// guard.New.
func (t *Telemetry) Attach(g *guard.Guard) {
	if t.metrics != nil && g != nil {
		t.metrics.ObserveGuard(g)
	}
}

// MetricsHandler serves /metrics (404 when metrics are off or exported by
// the application's own MeterProvider).
func (t *Telemetry) MetricsHandler() http.Handler {
	if t.metrics == nil {
		return http.NotFoundHandler()
	}
	return t.metrics.Handler()
}

// Metrics returns the metrics part, or nil.
func (t *Telemetry) Metrics() *metrics.Metrics { return t.metrics }

// Logging returns the logging part, or nil.
func (t *Telemetry) Logging() *logging.Logging { return t.logging }

// Tracing returns the tracing part, or nil.
func (t *Telemetry) Tracing() *tracing.Tracing { return t.tracing }

// Sentry returns the Sentry part (disabled without a DSN; never nil).
func (t *Telemetry) Sentry() *guardsentry.Sentry { return t.sentry }

// Shutdown stops what Guard.Close does not: the metrics provider. Call it
// after Guard.Close (which already flushed Sentry).
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t.metrics != nil {
		return t.metrics.Shutdown(ctx)
	}
	return nil
}
