// Package guardecho is guard's native middleware for echo v4.
//
//	g, err := guard.New()
//	if err != nil { log.Fatal(err) }
//	defer g.Close(context.Background())
//	e := echo.New()
//	e.Use(guardecho.New(g))     // Use, not Pre: the route must be known
//	e.GET("/notes/:id", getNote)
//
// # Request view
//
// The route template is c.Path() ("/notes/:id"). Echo runs middleware
// registered with Echo.Use after routing, so the template is known before
// any stage runs; middleware registered with Echo.Pre runs before routing
// and would see every request as unmatched. Requests that matched no route
// get guard.RouteUnmatched: echo's own 404 and 405 answers (including the
// automatic OPTIONS answer) and routes registered with RouteNotFound
// (which Group.Use registers too) even though echo reports their path.
// The client address is the TCP peer resolved through guard's trusted
// proxies; echo's IPExtractor plays no part. Stages may read the body: it
// is buffered up to the limit they ask for and handed back to the handler
// unchanged.
//
// # Handlers
//
// On an allowed request the middleware installs guard's Request as the
// request's context (c.SetRequest), so handlers reach it with
// guard.FromContext(c.Request().Context()) and the helpers guard.Route,
// guard.ClientIP, guard.CorrelationID and guard.Principal. A denied request
// is answered with an RFC 9457 problem body and the handler is not run.
//
// # Errors and status
//
// When the handler returns an error the middleware passes it to c.Error
// (the Echo's HTTPErrorHandler) at once, so that the request_done event
// carries the status the error handler chose, and then returns the error
// unchanged, as echo's own logger middleware does: middleware further out
// still sees it, and echo's default error handler ignores it since the
// response is committed. A custom HTTPErrorHandler should check
// c.Response().Committed, as echo's documentation asks.
//
// # Panics
//
// With guard's recover stage on (the default) a handler panic becomes a 500
// problem response and a panic event; when the response was already
// committed, the middleware re-panics with http.ErrAbortHandler so that
// net/http aborts the connection (echo's Recover middleware passes that
// value through).
//
// The middleware is safe for concurrent use.
package guardecho
