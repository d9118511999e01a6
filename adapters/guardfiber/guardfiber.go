package guardfiber

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/guardsdk/guard"
)

// New returns g's pipeline as fiber middleware. Register it with App.Use
// before the routes.
func New(g *guard.Guard) fiber.Handler {
	m := &middleware{g: g}
	return m.serve
}

type middleware struct {
	g      *guard.Guard
	routes routes
}

func (m *middleware) serve(c *fiber.Ctx) (err error) {
	g := m.g
	fc := c.Context()
	req, res := &fc.Request, &fc.Response
	in := guard.Incoming{
		Context: c.UserContext(),
		Method:  method(req.Header.Method()),
		Route:   m.routes.route(c),
		// fasthttp reuses its buffers after the request: everything guard
		// may keep (events are delivered later) is copied.
		Host:           string(req.Header.Host()),
		Path:           string(req.URI().PathOriginal()),
		RawQuery:       string(req.URI().QueryString()),
		TLS:            fc.IsTLS(),
		Peer:           peer(fc.RemoteAddr()),
		Header:         (*requestHeader)(&req.Header),
		ResponseHeader: (*responseHeader)(&res.Header),
	}
	if req.IsBodyStream() {
		in.ContentLength = int64(req.Header.ContentLength())
		if in.ContentLength < 0 {
			in.ContentLength = -1
		}
		in.Body = &streamBody{req: req}
	} else {
		// fasthttp has read the whole body (up to the app's BodyLimit).
		in.ContentLength = int64(len(req.Body()))
		if in.ContentLength > 0 {
			in.Body = (*body)(req)
		}
	}
	r := g.Begin(in)
	if g.RecoverEnabled() {
		defer func() {
			if p := recover(); p != nil {
				d, ok := g.Recovered(r, p)
				if !ok {
					panic(p)
				}
				// fasthttp sends nothing before the handler returns, so the
				// response can always be replaced.
				writeProblem(res, d)
				g.Finish(r, res.StatusCode(), bytesOut(fc))
				err = nil
			}
		}()
	}
	if d := g.Check(r); !d.Allowed() {
		writeProblem(res, d)
		g.Finish(r, res.StatusCode(), bytesOut(fc))
		return nil
	}
	c.SetUserContext(r)
	// Makes guard.FromContext work on c.Context() too.
	fc.SetUserValue(contextKey, r)
	if err := c.Next(); err != nil {
		// Answer the error here, as fiber's logger middleware does, so
		// that request_done carries the status the error handler chose.
		if c.App().ErrorHandler(c, err) != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	g.Finish(r, res.StatusCode(), bytesOut(fc))
	return nil
}

func writeProblem(res *fasthttp.Response, d guard.Decision) {
	guard.SetProblemHeaders((*responseHeader)(&res.Header))
	res.SetStatusCode(d.StatusCode())
	res.SetBodyRaw(d.ProblemJSON())
}

// bytesOut is the size of the response body, without reading a body
// stream (a file, say): for those it is the declared length, or 0.
func bytesOut(fc *fasthttp.RequestCtx) int64 {
	res := &fc.Response
	if fc.IsHead() || res.SkipBody {
		return 0
	}
	if res.IsBodyStream() {
		return max(int64(res.Header.ContentLength()), 0)
	}
	return int64(len(res.Body()))
}

// method returns the request method as one of net/http's constants when it
// is one, so that the common case does not allocate.
func method(b []byte) string {
	switch string(b) {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodHead:
		return http.MethodHead
	case http.MethodOptions:
		return http.MethodOptions
	case http.MethodConnect:
		return http.MethodConnect
	case http.MethodTrace:
		return http.MethodTrace
	}
	return string(b)
}

// peer is the TCP peer's address, IPv4-mapped addresses unmapped and any
// zone dropped, as guard.PeerAddr does for net/http.
func peer(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		return guard.NormalizeAddr(t.AddrPort().Addr())
	}
	return netip.Addr{}
}

// requestHeader implements guard.HeaderReader over fasthttp's request
// header; a pointer, so storing it in the interface does not allocate.
type requestHeader fasthttp.RequestHeader

func (h *requestHeader) Get(key string) string {
	return string((*fasthttp.RequestHeader)(h).Peek(key))
}

func (h *requestHeader) Values(key string) []string {
	all := (*fasthttp.RequestHeader)(h).PeekAll(key)
	if len(all) == 0 {
		return nil
	}
	vs := make([]string, len(all))
	for i, v := range all {
		vs[i] = string(v)
	}
	return vs
}

// responseHeader implements guard.HeaderWriter over fasthttp's response
// header.
type responseHeader fasthttp.ResponseHeader

func (h *responseHeader) Set(key, value string) { (*fasthttp.ResponseHeader)(h).Set(key, value) }
func (h *responseHeader) Add(key, value string) { (*fasthttp.ResponseHeader)(h).Add(key, value) }
func (h *responseHeader) Del(key string)        { (*fasthttp.ResponseHeader)(h).Del(key) }

// body implements guard.BodyReader over a body fasthttp has already read
// whole: nothing is copied, and the handler reads the same bytes.
type body fasthttp.Request

func (b *body) ReadBody(limit int64) ([]byte, error) {
	data := (*fasthttp.Request)(b).Body()
	if int64(len(data)) > limit {
		return nil, guard.ErrBodyTooLarge
	}
	return data, nil
}

// streamBody implements guard.BodyReader when the app streams request
// bodies (Config.StreamRequestBody): it reads up to the limit and sets the
// bytes as the request body, so the handler reads them whole.
type streamBody struct {
	req  *fasthttp.Request
	data []byte
	err  error
	read bool
}

func (b *streamBody) ReadBody(limit int64) ([]byte, error) {
	if b.read {
		if b.err == nil && int64(len(b.data)) > limit {
			return nil, guard.ErrBodyTooLarge
		}
		return b.data, b.err
	}
	b.read = true
	data, err := io.ReadAll(io.LimitReader(b.req.BodyStream(), limit+1))
	switch {
	case err != nil:
		b.err = fmt.Errorf("guardfiber: reading request body: %w", err)
	case int64(len(data)) > limit:
		b.err = guard.ErrBodyTooLarge
	default:
		b.data = data
		b.req.SetBody(data)
	}
	return b.data, b.err
}

// contextKey is the key guard.FromContext looks up. Storing the Request
// under it as a fasthttp user value makes guard.FromContext(c) work, as
// guard.FromContext(c.UserContext()) does.
var contextKey = guard.ContextKey()
