package guardfiberv3_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/gofiber/fiber/v3"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/adapters/guardfiberv3"
)

func Example() {
	g, err := guard.New()
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())

	app := fiber.New()
	app.Use(guardfiberv3.New(g))
	app.Get("/notes/:id", func(c fiber.Ctx) error {
		// c itself carries guard's Request, as does c.Context().
		return c.SendString(fmt.Sprintf("route %s, request id %s", guard.Route(c), guard.CorrelationID(c)))
	})

	req := httptest.NewRequest(http.MethodGet, "/notes/42", nil)
	req.Header.Set("X-Request-Id", "req-1")
	res, err := app.Test(req)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, string(body))
	// Output: 200 route /notes/:id, request id req-1
}
