package guardfiber_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/gofiber/fiber/v2"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/adapters/guardfiber"
)

func Example() {
	g, err := guard.New()
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())

	app := fiber.New()
	app.Use(guardfiber.New(g))
	app.Get("/notes/:id", func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		return c.SendString(fmt.Sprintf("route %s, request id %s", guard.Route(ctx), guard.CorrelationID(ctx)))
	})

	req := httptest.NewRequest(http.MethodGet, "/notes/42", nil)
	req.Header.Set("X-Request-Id", "req-1")
	res, err := app.Test(req, -1)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, string(body))
	// Output: 200 route /notes/:id, request id req-1
}
