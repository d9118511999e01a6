package guardecho

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/guardsdk/guard"
)

// New returns g's pipeline as echo middleware. Register it with Echo.Use
// (or on a Group), not Echo.Pre.
func New(g *guard.Guard) echo.MiddlewareFunc {
	rs := &routeSets{}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { return serve(g, rs, c, next) }
	}
}

func serve(g *guard.Guard, rs *routeSets, c echo.Context, next echo.HandlerFunc) (err error) {
	hr := c.Request()
	res := c.Response()
	in := guard.Incoming{
		Context:        hr.Context(),
		Method:         hr.Method,
		Route:          rs.route(c),
		Host:           hr.Host,
		Path:           hr.URL.EscapedPath(),
		RawQuery:       hr.URL.RawQuery,
		TLS:            hr.TLS != nil,
		Peer:           guard.PeerAddr(hr.RemoteAddr),
		Header:         hr.Header,
		ResponseHeader: res.Header(),
		ContentLength:  hr.ContentLength,
	}
	if hr.Body != nil && hr.Body != http.NoBody {
		in.Body = guard.NewHTTPBody(hr)
	}
	r := g.Begin(in)
	if g.RecoverEnabled() {
		defer func() {
			if p := recover(); p != nil {
				recovered(g, res, r, p)
				err = nil
			}
		}()
	}
	if d := g.Check(r); !d.Allowed() {
		writeProblem(res, d)
		g.Finish(r, res.Status, res.Size)
		return nil
	}
	c.SetRequest(hr.WithContext(r))
	err = next(c)
	if err != nil {
		c.Error(err)
	}
	g.Finish(r, res.Status, res.Size)
	return err
}

func recovered(g *guard.Guard, res *echo.Response, r *guard.Request, p any) {
	d, ok := g.Recovered(r, p)
	if !ok {
		panic(p)
	}
	if res.Committed {
		// The status line has gone out: abort the connection so the client
		// sees a truncated response rather than a complete-looking one.
		g.Finish(r, http.StatusInternalServerError, res.Size)
		panic(http.ErrAbortHandler)
	}
	writeProblem(res, d)
	g.Finish(r, res.Status, res.Size)
}

func writeProblem(res *echo.Response, d guard.Decision) {
	guard.SetProblemHeaders(res.Header())
	res.WriteHeader(d.StatusCode())
	_, _ = res.Write(d.ProblemJSON())
}
