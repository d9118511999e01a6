package tracing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/telemetry/tracing"
)

const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func attr(s sdktrace.ReadOnlySpan, k string) attribute.Value {
	for _, a := range s.Attributes() {
		if string(a.Key) == k {
			return a.Value
		}
	}
	return attribute.Value{}
}

func TestServerSpan(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tr, err := tracing.New(tracing.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	var events []guard.Event
	g, err := guard.New(tr.Option(), guard.WithSink(guard.SinkFunc(func(ev guard.Event) { events = append(events, ev) }), guard.KindRequestDone))
	if err != nil {
		t.Fatal(err)
	}
	var outbound string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /notes/{id}", func(w http.ResponseWriter, r *http.Request) {
		// A child span and outbound propagation see guard's server span.
		_, child := tp.Tracer("app").Start(r.Context(), "load")
		child.End()
		h := http.Header{}
		propagation.TraceContext{}.Inject(r.Context(), propagation.HeaderCarrier(h))
		outbound = h.Get("Traceparent")
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	h := g.Handler(mux)

	tests := []struct {
		name, path, traceparent, requestID string
	}{
		{"inbound parent", "/notes/1", parent, ""},
		{"new root", "/notes/2", "", ""},
		{"invalid parent", "/notes/3", "00-zz-00f067aa0ba902b7-01", "req-3"},
		{"error", "/fail", "", ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("GET", tt.path, nil)
		if tt.traceparent != "" {
			req.Header.Set("Traceparent", tt.traceparent)
		}
		if tt.requestID != "" {
			req.Header.Set("X-Request-Id", tt.requestID)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		corr := w.Header().Get("X-Request-Id")
		var server sdktrace.ReadOnlySpan
		for _, s := range rec.Ended() {
			if s.SpanKind() == trace.SpanKindServer {
				server = s
			}
		}
		if server == nil {
			t.Fatalf("%s: no server span", tt.name)
		}
		tid := server.SpanContext().TraceID().String()
		switch tt.name {
		case "inbound parent":
			if tid != "4bf92f3577b34da6a3ce929d0e0e4736" || server.Parent().SpanID().String() != "00f067aa0ba902b7" {
				t.Errorf("%s: span not a child of the inbound parent: %s", tt.name, server.Parent().SpanID())
			}
			if !strings.Contains(outbound, tid) || !strings.Contains(outbound, server.SpanContext().SpanID().String()) {
				t.Errorf("%s: outbound traceparent %q does not name the server span", tt.name, outbound)
			}
			if server.Name() != "GET /notes/{id}" {
				t.Errorf("span name %q", server.Name())
			}
		case "error":
			if server.Status().Code != codes.Error || attr(server, "http.response.status_code").AsInt64() != 502 {
				t.Errorf("%s: status %v", tt.name, server.Status())
			}
		}
		if tt.requestID == "" && corr != tid {
			t.Errorf("%s: correlation id %q is not the trace id %q", tt.name, corr, tid)
		}
		if got := attr(server, tracing.AttrCorrelationID).AsString(); got != corr {
			t.Errorf("%s: span correlation id %q, want %q", tt.name, got, corr)
		}
		rec.Reset()
	}
	if err := g.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(events) != len(tests) {
		t.Fatalf("%d events", len(events))
	}
	for i, ev := range events {
		if !ev.TraceID.IsValid() {
			t.Errorf("event %d (%s) has no trace id", i, tests[i].name)
		}
	}
}

func TestNoopProviderKeepsInboundTrace(t *testing.T) {
	t.Parallel()
	tr, _ := tracing.New(tracing.WithTracerProvider(noop.NewTracerProvider()))
	g, _ := guard.New(tr.Option())
	defer g.Close(context.Background())
	var got string
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = trace.SpanContextFromContext(r.Context()).TraceID().String()
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Traceparent", parent)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace id in handler %q", got)
	}
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	if _, err := tracing.New(tracing.WithTracerProvider(nil)); err == nil || !strings.Contains(err.Error(), "WithTracerProvider") {
		t.Error(err)
	}
	if _, err := tracing.New(tracing.WithPropagator(nil)); err == nil || !strings.Contains(err.Error(), "WithPropagator") {
		t.Error(err)
	}
}
