package metrics_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/telemetry/metrics"
)

// scopeLabels drops the instrumentation-scope labels to keep the output short.
var scopeLabels = regexp.MustCompile(`,?otel_scope_[a-z_]+="[^"]*"`)

func Example() {
	m, _ := metrics.New()
	defer m.Shutdown(context.Background())
	g, _ := guard.New(m.Option())
	m.ObserveGuard(g)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /notes/{id}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "a note") })
	h := g.Handler(mux)
	for _, p := range []string{"/notes/1", "/notes/2", "/no/such/path"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	_ = g.Close(context.Background()) // drains the event queues

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "http_server_request_duration_seconds_count") {
			fmt.Println(scopeLabels.ReplaceAllString(line, ""))
		}
	}
	// Output:
	// http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/notes/{id}",url_scheme="http"} 2
	// http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="404",http_route="unmatched",url_scheme="http"} 1
}
