package tracing

import (
	"context"
	"errors"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/guardsdk/guard"
)

// ScopeName is the instrumentation scope of guard's tracer.
const ScopeName = "github.com/guardsdk/guard/telemetry/tracing"

// AttrCorrelationID is the span attribute carrying guard's correlation id.
const AttrCorrelationID = "guard.correlation_id"

// Option configures Tracing.
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	tp   trace.TracerProvider
	prop propagation.TextMapPropagator
}

// WithTracerProvider sets the provider spans are started with (default
// otel.GetTracerProvider(), which is a no-op until the application sets
// one).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) error {
		if tp == nil {
			return errors.New("tracing: WithTracerProvider: nil provider")
		}
		c.tp = tp
		return nil
	})
}

// WithPropagator sets how the parent context is read from request headers
// (default W3C Trace Context plus W3C Baggage).
func WithPropagator(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) error {
		if p == nil {
			return errors.New("tracing: WithPropagator: nil propagator")
		}
		c.prop = p
		return nil
	})
}

// Tracing starts a server span per request. Build it with New and add it
// to a Guard with Option. It is safe for concurrent use.
type Tracing struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

// New returns Tracing with the given options.
func New(opts ...Option) (*Tracing, error) {
	c := config{}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("tracing: New: nil option")
		}
		if err := o.apply(&c); err != nil {
			return nil, err
		}
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.prop == nil {
		c.prop = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	return &Tracing{tracer: c.tp.Tracer(ScopeName), prop: c.prop}, nil
}

// Option returns the guard.Option adding the tracing stages.
func (t *Tracing) Option() guard.Option {
	return guard.WithOptions(guard.WithStage(stage{t}), guard.WithStage(linkStage{}))
}

// Stages returns the two stages Option adds: the span stage (before
// correlate) and the link stage (after it).
func (t *Tracing) Stages() []guard.Stage { return []guard.Stage{stage{t}, linkStage{}} }

// Propagator returns the propagator used for inbound requests; use it
// (or otel's global one) to inject the context into outbound calls.
func (t *Tracing) Propagator() propagation.TextMapPropagator { return t.prop }

type stage struct{ t *Tracing }

// The span starts just before correlate, so that a request without a
// request id or traceparent gets the new trace id as its correlation id:
// one id to search logs, Sentry and traces by.
func (stage) Name() string       { return "tracing" }
func (stage) Phase() guard.Phase { return guard.PhaseCorrelate - 1 }

// carrier reads request headers for the propagator.
type carrier struct{ h guard.HeaderReader }

func (c carrier) Get(k string) string {
	if c.h == nil {
		return ""
	}
	return c.h.Get(k)
}
func (carrier) Set(string, string) {}
func (carrier) Keys() []string     { return nil }

func (s stage) Check(r *guard.Request) guard.Decision {
	var span trace.Span
	r.WrapContext(func(parent context.Context) context.Context {
		ctx := s.t.prop.Extract(parent, carrier{r.Header})
		name := r.Method + " " + r.Route
		if r.Route == guard.RouteUnmatched {
			name = r.Method
		}
		attrs := make([]attribute.KeyValue, 0, 4)
		attrs = append(attrs,
			attribute.String("http.request.method", r.Method),
			attribute.String("url.scheme", r.Scheme),
			attribute.String("http.route", r.Route),
		)
		if r.ClientIP.IsValid() {
			attrs = append(attrs, attribute.String("client.address", r.ClientIP.String()))
		}
		ctx, span = s.t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
		return ctx
	})
	// Events, logs and Sentry read the trace id from the request: make it
	// the server span's, which also covers requests without a traceparent.
	if sc := span.SpanContext(); sc.IsValid() {
		r.Trace = guard.TraceContext{TraceID: guard.TraceID(sc.TraceID()), SpanID: guard.SpanID(sc.SpanID()), Flags: byte(sc.TraceFlags())}
	}
	return guard.Decision{}
}

func (s stage) Finish(r *guard.Request, status int, _ int64) {
	span := trace.SpanFromContext(r)
	if !span.IsRecording() {
		span.End()
		return
	}
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 {
		span.SetAttributes(attribute.String("error.type", strconv.Itoa(status)))
		span.SetStatus(codes.Error, "")
	}
	span.End()
}

// linkStage runs after correlate: it records the correlation id on the
// span and restores the span's trace context where correlate replaced it
// (an inbound traceparent names the parent span, not guard's; an invalid
// one clears it).
type linkStage struct{}

func (linkStage) Name() string       { return "tracing_link" }
func (linkStage) Phase() guard.Phase { return guard.PhaseCorrelate + 1 }

func (linkStage) Check(r *guard.Request) guard.Decision {
	span := trace.SpanFromContext(r)
	sc := span.SpanContext()
	if !sc.IsValid() {
		return guard.Decision{}
	}
	r.Trace = guard.TraceContext{TraceID: guard.TraceID(sc.TraceID()), SpanID: guard.SpanID(sc.SpanID()), Flags: byte(sc.TraceFlags())}
	if r.CorrelationID != "" {
		span.SetAttributes(attribute.String(AttrCorrelationID, r.CorrelationID))
	}
	return guard.Decision{}
}
