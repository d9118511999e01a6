// Package guardgin is guard's native gin middleware.
//
//	g, err := guard.New()
//	if err != nil { log.Fatal(err) }
//	defer g.Close(context.Background())
//	r := gin.New()
//	r.Use(guardgin.New(g))      // before the routes, so 404s pass through it too
//	r.GET("/notes/:id", getNote)
//
// # Request view
//
// The route template is c.FullPath() ("/notes/:id"); requests no route
// matches (gin's 404 and 405 handlers, which run middleware registered with
// Engine.Use) get guard.RouteUnmatched. The client address is the TCP peer
// resolved through guard's trusted proxies; gin's own ClientIP settings
// play no part. Stages may read the body: it is buffered up to the limit
// they ask for and handed back to the handler unchanged.
//
// # Handlers
//
// On an allowed request the middleware installs guard's Request as
// c.Request's context, so handlers reach it with
// guard.FromContext(c.Request.Context()) and the helpers guard.Route,
// guard.ClientIP, guard.CorrelationID and guard.Principal (or with c
// itself when the engine sets ContextWithFallback). A denied request is
// answered with an RFC 9457 problem body and the chain is aborted.
//
// # Panics
//
// With guard's recover stage on (the default) a handler panic becomes a 500
// problem response and a panic event; when the handler had already written
// part of the response, the connection is aborted instead by re-panicking
// with http.ErrAbortHandler, which net/http handles. Register gin.Recovery
// before this middleware only if you want it to see what guard does not
// recover; it swallows http.ErrAbortHandler rather than aborting the
// connection.
//
// # Status
//
// The request_done event carries the status the handler set. For gin's own
// 404 and 405 answers gin writes the body after the middleware returns, so
// the event has the status but zero bytes out. Requests gin answers with a
// trailing-slash or fixed-path redirect never reach any middleware.
//
// The middleware is safe for concurrent use.
package guardgin
