package guard

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// routeFinder is what *http.ServeMux offers: the pattern a request will
// match, without serving it.
type routeFinder interface {
	Handler(r *http.Request) (h http.Handler, pattern string)
}

// Handler returns next wrapped in the Guard's pipeline: the net/http
// middleware.
//
// The route template comes from r.Pattern when a ServeMux routed the
// request before the Guard (a per-route wrap), or, when next is itself a
// *http.ServeMux (or anything with its Handler(*http.Request) method),
// from asking it which pattern the request will match, before any stage
// runs. The template is kept in the Request view, which the handler's
// context carries, so it survives r.WithContext copies made by other
// middleware. Requests no pattern matches get RouteUnmatched.
func (g *Guard) Handler(next http.Handler) http.Handler {
	rf, _ := next.(routeFinder)
	_, isMux := next.(*http.ServeMux)
	return &httpHandler{g: g, next: next, router: rf, isMux: isMux}
}

// rawPath is the path as the client sent it, escaped: the request-target
// of RequestURI up to the query, or URL.EscapedPath for requests that
// carry no origin-form target (absolute-form, "*", or built by hand).
func rawPath(r *http.Request) string {
	u := r.RequestURI
	if u == "" || u[0] != '/' {
		return r.URL.EscapedPath()
	}
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// patternPath strips the method from a ServeMux pattern ("GET /notes/{id}"
// becomes "/notes/{id}"), so templates look alike across frameworks and
// methods stay a separate attribute.
func patternPath(p string) string {
	if p == "" || p[0] == '/' {
		return p
	}
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case ' ', '\t':
			j := i
			for j < len(p) && (p[j] == ' ' || p[j] == '\t') {
				j++
			}
			return p[j:]
		case '/':
			return p // a host pattern: "example.com/path"
		}
	}
	return p
}

// Middleware is Handler in the func(http.Handler) http.Handler shape
// routers expect.
func (g *Guard) Middleware() func(http.Handler) http.Handler { return g.Handler }

type httpHandler struct {
	g      *Guard
	next   http.Handler
	router routeFinder
	isMux  bool
}

// httpExchange holds everything guard needs for one net/http request in
// one allocation: the Request view, the status-recording writer and the
// buffered body. When the view is not installed as the handler's context
// (AttachContext), nothing outlives ServeHTTP and exchanges are pooled.
type httpExchange struct {
	req  Request
	w    responseWriter
	body HTTPBody
}

var exchangePool = sync.Pool{New: func() any { return new(httpExchange) }}

func (h *httpHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g := h.g
	var ex *httpExchange
	if g.attach {
		// The view escapes into the handler's context, which handlers may
		// hand to goroutines that outlive the request: never recycled,
		// but released (after the recovery, deferred later, has run).
		ex = new(httpExchange)
		defer ex.release()
	} else {
		ex = exchangePool.Get().(*httpExchange)
		defer func() {
			*ex = httpExchange{}
			exchangePool.Put(ex)
		}()
	}
	ex.body.req = r
	ex.w.ResponseWriter = w
	next := h.next
	route := r.Pattern
	if route == "" && h.router != nil {
		hh, pattern := h.router.Handler(r)
		if h.isMux && pattern != "" && strings.IndexByte(pattern, '{') < 0 {
			// A pattern without wildcards has no path values to set, so
			// the matched handler can be called directly: one routing,
			// not two. Wildcard routes go through the mux again, which
			// sets their path values.
			r.Pattern, next = pattern, hh
		}
		route = pattern
	}
	q := &ex.req
	q.parent = r.Context()
	q.Method, q.Route = r.Method, patternPath(route)
	q.Host, q.Path, q.RawQuery = r.Host, rawPath(r), r.URL.RawQuery
	q.Peer = PeerAddr(r.RemoteAddr)
	q.Header, q.Response = r.Header, w.Header()
	q.ContentLength = r.ContentLength
	if r.Body != nil && r.Body != http.NoBody {
		q.Body = &ex.body
	}
	g.complete(q, r.TLS != nil)
	if g.cfg.recover {
		defer ex.recover()
	}
	if d := g.Check(&ex.req); d.Status != 0 {
		WriteProblem(&ex.w, d)
		g.Finish(&ex.req, ex.w.status, ex.w.written)
		return
	}
	if g.attach {
		r = r.WithContext(&ex.req)
	}
	next.ServeHTTP(&ex.w, r)
	g.Finish(&ex.req, ex.w.statusOrOK(), ex.w.written)
}

// release drops the exchange's references to the request, its buffered
// body and the response writer once the response is done. The view may
// outlive the request (a handler's goroutine keeping the context, an
// event in a sink's queue holding the correlation id that lives in the
// view): it then keeps only itself alive, not the request and its buffers.
// Neither the body nor the writer may be used after the handler returned
// (Guard.Finish has already dropped the view's body reader).
func (ex *httpExchange) release() {
	ex.body = HTTPBody{}
	ex.w.ResponseWriter = nil
}

func (ex *httpExchange) recover() {
	p := recover()
	if p == nil {
		return
	}
	d, ok := ex.req.g.Recovered(&ex.req, p)
	if !ok {
		panic(p)
	}
	if ex.w.status != 0 {
		// The response has started: the status cannot change. Abort the
		// connection so the client sees a truncated response, not a
		// complete-looking one.
		ex.req.g.Finish(&ex.req, http.StatusInternalServerError, ex.w.written)
		panic(http.ErrAbortHandler)
	}
	WriteProblem(&ex.w, d)
	ex.req.g.Finish(&ex.req, ex.w.status, ex.w.written)
}

// HTTPBody is the BodyReader of an *http.Request, for adapters of
// frameworks built on net/http (the core's, gin, echo). It buffers the body
// up to the limit asked for and puts the bytes back as r.Body, so the
// handler reads them whole. The zero value is not usable; use NewHTTPBody.
type HTTPBody struct {
	req  *http.Request
	data []byte
	err  error
	read bool
}

// NewHTTPBody returns the BodyReader of r's body.
func NewHTTPBody(r *http.Request) *HTTPBody { return &HTTPBody{req: r} }

// ReadBody implements BodyReader.
func (b *HTTPBody) ReadBody(limit int64) ([]byte, error) {
	if b.read {
		if b.err == nil && int64(len(b.data)) > limit {
			return nil, ErrBodyTooLarge
		}
		return b.data, b.err
	}
	b.read = true
	data, err := io.ReadAll(io.LimitReader(b.req.Body, limit+1))
	switch {
	case err != nil:
		b.err = fmt.Errorf("guard: reading request body: %w", err)
	case int64(len(data)) > limit:
		b.err = ErrBodyTooLarge
	default:
		b.data = data
		b.req.Body = io.NopCloser(bytes.NewReader(data))
	}
	return b.data, b.err
}

// WriteProblem writes d as an RFC 9457 problem response on w, with
// Content-Type application/problem+json, nosniff and no-store.
func WriteProblem(w http.ResponseWriter, d Decision) {
	SetProblemHeaders(w.Header())
	w.WriteHeader(d.StatusCode())
	_, _ = w.Write(d.ProblemJSON())
}

// SetProblemHeaders sets the headers of a problem response.
func SetProblemHeaders(h HeaderWriter) {
	h.Set("Content-Type", ContentTypeProblem)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

// responseWriter records the status and the bytes written. It exposes the
// writer it wraps through Unwrap (for http.ResponseController) and passes
// Flush, Hijack and ReadFrom through.
type responseWriter struct {
	http.ResponseWriter
	status  int
	written int64
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

func (w *responseWriter) statusOrOK() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		if w.status == 0 {
			w.status = http.StatusSwitchingProtocols
		}
		return h.Hijack()
	}
	return nil, nil, errors.New("guard: the underlying ResponseWriter does not support hijacking")
}

func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, src)
	}
	w.written += n
	return n, err
}
