package health_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/health"
)

func Example() {
	g, _ := guard.New()
	h, _ := health.New(g,
		health.WithStoreCheck(), // the Guard's store: memory here
		health.WithCheck("payments", func(ctx context.Context) error { return errors.New("payments: 502") }, health.Critical(false)),
	)
	mux := http.NewServeMux()
	h.Register(mux)
	srv := g.Handler(mux)

	for _, path := range []string{"/health/live", "/health/ready", "/health/dependencies"} {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		fmt.Print(path, " ", w.Code, " ", w.Body.String())
	}
	_ = g.Close(context.Background())
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", "/health/ready", nil))
	fmt.Print("closing: /health/ready ", w.Code, " ", w.Body.String())
	// Output:
	// /health/live 200 {"status":"up"}
	// /health/ready 200 {"status":"up","checks":[{"name":"store","status":"up","critical":true}]}
	// /health/dependencies 200 {"status":"up","checks":[{"name":"store","status":"up","critical":true},{"name":"payments","status":"down","critical":false}]}
	// closing: /health/ready 503 {"status":"closing"}
}
