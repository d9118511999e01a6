package headers

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
)

// StripLeaks wraps next so that the Server and X-Powered-By headers (or
// the names given) are removed just before the response header is
// written, whoever set them: a handler, a reverse proxy copying an
// upstream's headers, a framework.
//
// The stage alone cannot do this for net/http: it runs before the
// handler, and http.ResponseWriter offers no hook between the handler's
// last header change and the write. Wrap outside the Guard, so guard's
// own problem responses pass through it too:
//
//	http.ListenAndServe(addr, headers.StripLeaks(g.Handler(mux)))
//
// The wrapper keeps http.Flusher, http.Hijacker and io.ReaderFrom, and
// unwraps for http.ResponseController. Costs one small allocation per
// request.
func StripLeaks(next http.Handler, names ...string) http.Handler {
	if len(names) == 0 {
		names = []string{"Server", "X-Powered-By"}
	}
	canon := make([]string, len(names))
	for i, n := range names {
		canon[i] = http.CanonicalHeaderKey(n)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &stripWriter{ResponseWriter: w, names: canon}
		next.ServeHTTP(sw, r)
		// A handler that wrote nothing leaves the header to the server,
		// which writes it after ServeHTTP returns: strip it now.
		sw.strip()
	})
}

type stripWriter struct {
	http.ResponseWriter
	names []string
	done  bool
}

func (w *stripWriter) strip() {
	if w.done {
		return
	}
	w.done = true
	h := w.ResponseWriter.Header()
	for _, n := range w.names {
		delete(h, n)
	}
}

func (w *stripWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.strip()
	} else {
		// Informational responses (103 Early Hints) are written with the
		// current headers too.
		h := w.ResponseWriter.Header()
		for _, n := range w.names {
			delete(h, n)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *stripWriter) Write(b []byte) (int, error) {
	w.strip()
	return w.ResponseWriter.Write(b)
}

func (w *stripWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *stripWriter) Flush() {
	w.strip()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *stripWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("headers: the underlying ResponseWriter does not support hijacking")
}

func (w *stripWriter) ReadFrom(src io.Reader) (int64, error) {
	w.strip()
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, src)
}
