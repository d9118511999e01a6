package tracing_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/telemetry/tracing"
)

func Example() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tr, _ := tracing.New(tracing.WithTracerProvider(tp))
	g, _ := guard.New(tr.Option())
	defer g.Close(context.Background())

	mux := http.NewServeMux()
	mux.HandleFunc("GET /notes/{id}", func(w http.ResponseWriter, r *http.Request) {})
	req := httptest.NewRequest("GET", "/notes/7", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	w := httptest.NewRecorder()
	g.Handler(mux).ServeHTTP(w, req)

	span := rec.Ended()[0]
	fmt.Println(span.Name(), span.SpanKind())
	fmt.Println("trace", span.SpanContext().TraceID(), "parent", span.Parent().SpanID())
	fmt.Println("correlation id", w.Header().Get("X-Request-Id"))
	// Output:
	// GET /notes/{id} server
	// trace 4bf92f3577b34da6a3ce929d0e0e4736 parent 00f067aa0ba902b7
	// correlation id 4bf92f3577b34da6a3ce929d0e0e4736
}
