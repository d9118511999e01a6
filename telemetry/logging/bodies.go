package logging

import (
	"bytes"
	"io"
	"mime"
	"net/http"

	"go.uber.org/zap"

	"github.com/guardsdk/guard"
)

// Bodies returns net/http middleware that logs the request and response
// bodies of each request as one Debug line (MessageBody) carrying the
// correlation id, when WithBodies was given; otherwise it returns next
// unchanged. Mount it inside guard's handler (g.Handler(lg.Bodies(mux))).
//
// Only textual bodies (JSON, text/*, form, XML) are logged, each capped at
// the WithBodies limit (the line says truncated), after scrubbing: JSON
// through the scrubber's JSON rules, anything else as text. The handler
// still reads and writes whole bodies; only the copies are capped.
//
// The middleware passes on its next handler's Handler(*http.Request)
// method, so guard still finds the route template of a wrapped ServeMux.
func (lg *Logging) Bodies(next http.Handler) http.Handler {
	if lg.bodies == 0 {
		return next
	}
	return &bodiesHandler{lg: lg, next: next}
}

type routeFinder interface {
	Handler(r *http.Request) (h http.Handler, pattern string)
}

type bodiesHandler struct {
	lg   *Logging
	next http.Handler
}

// Handler reports the pattern the wrapped router would match, for guard's
// route resolution.
func (b *bodiesHandler) Handler(r *http.Request) (http.Handler, string) {
	if rf, ok := b.next.(routeFinder); ok {
		_, p := rf.Handler(r)
		return b, p
	}
	return b, ""
}

func (b *bodiesHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lg, next := b.lg, b.next
	{
		if ce := lg.base.Check(zap.DebugLevel, MessageBody); ce == nil {
			next.ServeHTTP(w, r)
			return
		}
		var in capBuffer
		in.limit = lg.bodies
		if r.Body != nil && r.Body != http.NoBody && textual(r.Header.Get("Content-Type")) {
			r.Body = readCloser{io.TeeReader(r.Body, &in), r.Body}
		}
		bw := &bodyWriter{ResponseWriter: w}
		bw.buf.limit = lg.bodies
		next.ServeHTTP(bw, r)

		fields := []zap.Field{zap.String("correlation_id", guard.CorrelationID(r.Context()))}
		if in.buf.Len() > 0 {
			fields = append(fields, zap.ByteString("request_body", lg.scrubBody(r.Header.Get("Content-Type"), in.buf.Bytes())),
				zap.Bool("request_body_truncated", in.truncated))
		}
		if bw.buf.buf.Len() > 0 && textual(w.Header().Get("Content-Type")) {
			fields = append(fields, zap.ByteString("response_body", lg.scrubBody(w.Header().Get("Content-Type"), bw.buf.buf.Bytes())),
				zap.Bool("response_body_truncated", bw.buf.truncated))
		}
		lg.base.Debug(MessageBody, fields...)
	}
}

func (lg *Logging) scrubBody(contentType string, b []byte) []byte {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/json" || bytes.HasSuffix([]byte(mt), []byte("+json")) {
		return lg.scrub.JSON(b)
	}
	if mt == "application/x-www-form-urlencoded" {
		return []byte(lg.scrub.Query(string(b)))
	}
	return []byte(lg.scrub.String(string(b)))
}

func textual(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case mt == "application/json", mt == "application/x-www-form-urlencoded",
		mt == "application/xml", len(mt) > 5 && mt[:5] == "text/",
		bytes.HasSuffix([]byte(mt), []byte("+json")), bytes.HasSuffix([]byte(mt), []byte("+xml")):
		return true
	}
	return false
}

// capBuffer keeps the first limit bytes written to it.
type capBuffer struct {
	buf       bytes.Buffer
	limit     int
	truncated bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	room := c.limit - c.buf.Len()
	if room <= 0 {
		c.truncated = c.truncated || len(p) > 0
		return len(p), nil
	}
	if len(p) > room {
		c.buf.Write(p[:room])
		c.truncated = true
		return len(p), nil
	}
	c.buf.Write(p)
	return len(p), nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

type bodyWriter struct {
	http.ResponseWriter
	buf capBuffer
}

func (w *bodyWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	_, _ = w.buf.Write(p[:n])
	return n, err
}

func (w *bodyWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *bodyWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
