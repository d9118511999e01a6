package guardecho_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/labstack/echo/v4"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/adapters/guardecho"
)

func Example() {
	g, err := guard.New()
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())

	e := echo.New()
	e.Use(guardecho.New(g))
	e.GET("/notes/:id", func(c echo.Context) error {
		ctx := c.Request().Context()
		return c.String(http.StatusOK, fmt.Sprintf("route %s, request id %s", guard.Route(ctx), guard.CorrelationID(ctx)))
	})

	req := httptest.NewRequest(http.MethodGet, "/notes/42", nil)
	req.Header.Set("X-Request-Id", "req-1")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Body.String())
	// Output: 200 route /notes/:id, request id req-1
}
