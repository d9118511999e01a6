package guardgin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/adapters/guardgin"
)

func Example() {
	g, err := guard.New()
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())

	r := gin.New()
	r.Use(guardgin.New(g))
	r.GET("/notes/:id", func(c *gin.Context) {
		ctx := c.Request.Context()
		c.String(http.StatusOK, "route %s, request id %s", guard.Route(ctx), guard.CorrelationID(ctx))
	})

	req := httptest.NewRequest(http.MethodGet, "/notes/42", nil)
	req.Header.Set("X-Request-Id", "req-1")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Body.String())
	// Output: 200 route /notes/:id, request id req-1
}
