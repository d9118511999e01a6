package guard_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/adapters/adaptertest"
)

func serveNetHTTP(t *testing.T, g *guard.Guard, routes []adaptertest.Route) string {
	t.Helper()
	mux := http.NewServeMux()
	for _, rt := range routes {
		h := rt.Handle
		mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			status, resp := h(r.Context(), body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(resp)
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: g.Handler(mux)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

func TestAdapterConformance(t *testing.T) {
	adaptertest.Run(t, adaptertest.Adapter{
		Serve:    serveNetHTTP,
		Template: func(_, path string) string { return path },
	})
}
