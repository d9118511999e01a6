package guardecho

import (
	"bytes"
	"fmt"
	"io"
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
		in.Body = &body{req: hr}
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

// body implements guard.BodyReader over the request body: it buffers up to
// the limit asked for and puts the bytes back as the request body so the
// handler reads them whole.
type body struct {
	req  *http.Request
	data []byte
	err  error
	read bool
}

func (b *body) ReadBody(limit int64) ([]byte, error) {
	if b.read {
		if b.err == nil && int64(len(b.data)) > limit {
			return nil, guard.ErrBodyTooLarge
		}
		return b.data, b.err
	}
	b.read = true
	data, err := io.ReadAll(io.LimitReader(b.req.Body, limit+1))
	switch {
	case err != nil:
		b.err = fmt.Errorf("guardecho: reading request body: %w", err)
	case int64(len(data)) > limit:
		b.err = guard.ErrBodyTooLarge
	default:
		b.data = data
		b.req.Body = io.NopCloser(bytes.NewReader(data))
	}
	return b.data, b.err
}
