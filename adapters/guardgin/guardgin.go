package guardgin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/guardsdk/guard"
)

// New returns g's pipeline as gin middleware. Register it with Engine.Use
// before the routes.
func New(g *guard.Guard) gin.HandlerFunc {
	return func(c *gin.Context) { serve(g, c) }
}

func serve(g *guard.Guard, c *gin.Context) {
	hr := c.Request
	in := guard.Incoming{
		Context:        hr.Context(),
		Method:         hr.Method,
		Route:          c.FullPath(), // "" when no route matched
		Host:           hr.Host,
		Path:           hr.URL.EscapedPath(),
		RawQuery:       hr.URL.RawQuery,
		TLS:            hr.TLS != nil,
		Peer:           guard.PeerAddr(hr.RemoteAddr),
		Header:         hr.Header,
		ResponseHeader: c.Writer.Header(),
		ContentLength:  hr.ContentLength,
	}
	if hr.Body != nil && hr.Body != http.NoBody {
		in.Body = guard.NewHTTPBody(hr)
	}
	r := g.Begin(in)
	if g.RecoverEnabled() {
		defer func() {
			if p := recover(); p != nil {
				recovered(g, c, r, p)
			}
		}()
	}
	if d := g.Check(r); !d.Allowed() {
		writeProblem(c, d)
		c.Abort()
		g.Finish(r, c.Writer.Status(), size(c))
		return
	}
	c.Request = hr.WithContext(r)
	c.Next()
	g.Finish(r, c.Writer.Status(), size(c))
}

func recovered(g *guard.Guard, c *gin.Context, r *guard.Request, p any) {
	d, ok := g.Recovered(r, p)
	if !ok {
		panic(p)
	}
	c.Abort()
	if c.Writer.Written() {
		// The status line has gone out: abort the connection so the client
		// sees a truncated response rather than a complete-looking one.
		g.Finish(r, http.StatusInternalServerError, size(c))
		panic(http.ErrAbortHandler)
	}
	writeProblem(c, d)
	g.Finish(r, c.Writer.Status(), size(c))
}

func writeProblem(c *gin.Context, d guard.Decision) {
	guard.SetProblemHeaders(c.Writer.Header())
	c.Writer.WriteHeader(d.StatusCode())
	_, _ = c.Writer.Write(d.ProblemJSON())
}

// size is the number of body bytes written; gin reports -1 before the
// first write.
func size(c *gin.Context) int64 {
	if n := c.Writer.Size(); n > 0 {
		return int64(n)
	}
	return 0
}
