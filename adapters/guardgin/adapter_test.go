package guardgin_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/adapters/adaptertest"
	"github.com/guardsdk/guard/adapters/guardgin"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// ginPath translates the suite's "{name}" parameters to gin's ":name".
func ginPath(p string) string {
	return strings.NewReplacer("{", ":", "}", "").Replace(p)
}

func serveGin(t *testing.T, g *guard.Guard, routes []adaptertest.Route) string {
	t.Helper()
	e := gin.New()
	// By default gin routes on the decoded path, so "/notes/..%2fx" is a
	// 404 (which guard reports as unmatched, see TestEncodedSlash); the
	// suite expects a path parameter to hold an encoded slash, as
	// net/http's ServeMux does, so route on the raw path.
	e.UseRawPath = true
	e.Use(guardgin.New(g))
	for _, rt := range routes {
		h := rt.Handle
		e.Handle(rt.Method, ginPath(rt.Path), func(c *gin.Context) {
			body, _ := io.ReadAll(c.Request.Body)
			status, resp := h(c.Request.Context(), body)
			c.Data(status, "application/json", resp)
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

func TestAdapterConformance(t *testing.T) {
	adaptertest.Run(t, adaptertest.Adapter{
		Serve:    serveGin,
		Template: func(_, path string) string { return ginPath(path) },
	})
}

// TestContextWithFallback checks that guard's helpers work on the gin
// context itself when the engine falls back to the request context.
func TestContextWithFallback(t *testing.T) {
	g, err := guard.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	e := gin.New()
	e.ContextWithFallback = true
	e.Use(guardgin.New(g))
	e.GET("/notes/:id", func(c *gin.Context) { c.String(http.StatusOK, guard.Route(c)) })
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/notes/1", nil))
	if w.Body.String() != "/notes/:id" {
		t.Fatalf("route from the gin context: %q", w.Body.String())
	}
}

// TestPanicAfterWrite checks that a panic after the response started
// aborts the connection instead of appending a problem body.
func TestPanicAfterWrite(t *testing.T) {
	g, err := guard.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	e := gin.New()
	e.Use(guardgin.New(g))
	e.GET("/half", func(c *gin.Context) {
		c.Status(http.StatusOK)
		_, _ = c.Writer.Write([]byte("partial"))
		c.Writer.Flush()
		panic("after write")
	})
	srv := httptest.NewServer(e)
	srv.Config.ErrorLog = quietLog()
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + "/half")
	if err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	if err == nil {
		t.Fatalf("response completed after a panic mid-response")
	}
}

// TestEncodedSlash checks gin's default routing of an encoded slash: the
// decoded path matches no route, and guard reports the request unmatched.
func TestEncodedSlash(t *testing.T) {
	g, err := guard.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	var route string
	e := gin.New()
	e.Use(func(c *gin.Context) {
		c.Next()
		route = guard.Route(c.Request.Context())
	})
	e.Use(guardgin.New(g))
	e.GET("/notes/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/notes/..%2fetc", nil))
	if w.Code != http.StatusNotFound || route != guard.RouteUnmatched {
		t.Fatalf("status %d, route %q", w.Code, route)
	}
}
