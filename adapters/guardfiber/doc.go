// Package guardfiber is guard's native middleware for fiber v2 (for fiber
// v3 use guardfiberv3).
//
//	g, err := guard.New()
//	if err != nil { log.Fatal(err) }
//	defer g.Close(context.Background())
//	app := fiber.New()
//	app.Use(guardfiber.New(g))  // before the routes
//	app.Get("/notes/:id", getNote)
//
// # Route template
//
// The template is the path the route was registered with ("/notes/:id",
// group prefix included). Fiber decides which route runs only as c.Next()
// walks its stack, so the middleware finds it itself: it keeps a table of
// the app's routes that are not middleware (App.GetRoutes(true)), per
// method and in fiber's order, and takes the first whose pattern matches
// the path under the app's CaseSensitive, StrictRouting and UnescapePath
// settings. Static paths, "/*" and whole-segment ":name" parameters are
// matched by compiled matchers that follow fiber's rules without
// allocating; other forms (optional, greedy or constrained parameters,
// several parameters in a segment) by fiber.RoutePatternMatch. The table
// is rebuilt when App.HandlersCount changes, that is when routes are
// added. A request no route matches (fiber's 404 and 405) gets
// guard.RouteUnmatched. Static file routes (App.Static) are middleware in
// fiber v2 and count as unmatched; so does a route that a middleware
// answers before fiber reaches it, as far as the template goes.
//
// # Request view
//
// The client address is the TCP peer (fasthttp's RemoteAddr) resolved
// through guard's trusted proxies; fiber's ProxyHeader and
// EnableTrustedProxyCheck play no part. Headers are read from fasthttp
// without copying them into an http.Header; what guard may keep (host,
// path, query, header values) is copied, since fasthttp reuses its
// buffers. Stages read the body fasthttp has already read (bounded by the
// app's BodyLimit) without copying; with Config.StreamRequestBody it is
// read up to the stage's limit and set back as the request body.
//
// # Handlers
//
// On an allowed request the middleware sets guard's Request as the user
// context, so handlers reach it with guard.FromContext(c.UserContext())
// and the helpers guard.Route, guard.ClientIP, guard.CorrelationID and
// guard.Principal; guard.FromContext(c.Context()) finds it too. A denied
// request is answered with an RFC 9457 problem body and c.Next is not
// called.
//
// # Errors, status and panics
//
// An error returned by the rest of the chain is answered in the middleware
// by App.ErrorHandler (a mounted app's handler where fiber would use it),
// as fiber's logger middleware does, and the middleware returns nil: the
// request_done event then carries the status the error handler chose. With
// guard's recover stage on (the default) a panic becomes a 500 problem
// response and a panic event; fasthttp sends nothing before the handler
// returns, so the response can always be replaced. http.ErrAbortHandler is
// re-panicked, as guard asks; fasthttp does not recover it, so add fiber's
// recover middleware before this one if handlers use it.
//
// The middleware is safe for concurrent use. The Request's header view
// reads fasthttp's header, which is not: read headers from the request's
// own goroutine.
package guardfiber
