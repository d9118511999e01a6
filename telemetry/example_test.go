package telemetry_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"go.uber.org/zap"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/telemetry"
)

func Example() {
	tel, err := telemetry.New(telemetry.WithLogger(zap.NewNop()), telemetry.WithTracing())
	if err != nil {
		panic(err)
	}
	g, _ := guard.New(tel.Option())
	tel.Attach(g)
	defer tel.Shutdown(context.Background())

	mux := http.NewServeMux()
	mux.HandleFunc("GET /notes/{id}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "a note") })
	mux.Handle("GET /metrics", tel.MetricsHandler())
	h := g.Handler(mux)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/notes/1", nil))
	_ = g.Close(context.Background())

	w := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	fmt.Println(strings.Contains(w.Body.String(), `http_route="/notes/{id}"`))
	fmt.Println(g.Stages())
	// Output:
	// true
	// [metrics tracing correlate logging tracing_link]
}
