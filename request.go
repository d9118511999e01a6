package guard

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// RouteUnmatched is the route template of a request no route matched. It
// is one constant so that scanners probing random paths create one metric
// series, one rate-limit bucket per client, not one per path.
const RouteUnmatched = "unmatched"

// ErrBodyTooLarge is returned by BodyReader.ReadBody when the body exceeds
// the limit asked for.
var ErrBodyTooLarge = errors.New("guard: request body too large")

// HeaderWriter is the write side of response headers. http.Header
// satisfies it; adapters for other frameworks wrap their own.
type HeaderWriter interface {
	Set(key, value string)
	Add(key, value string)
	Del(key string)
}

// BodyReader gives stages the request body without taking it from the
// handler.
type BodyReader interface {
	// ReadBody returns the whole body, at most limit bytes, and keeps it so
	// the handler still reads it whole. A longer body returns
	// ErrBodyTooLarge; the handler must then not be run. Calling it again
	// returns the same bytes.
	ReadBody(limit int64) ([]byte, error)
}

// Incoming is what an adapter knows of a request before the pipeline runs.
// Adapters fill it from their framework's request; see Guard.Begin.
type Incoming struct {
	Context        context.Context
	Method         string
	Route          string // route template; "" means unmatched
	Host           string
	Path           string // the raw (escaped) path, for inspection only
	RawQuery       string
	TLS            bool // the connection to this process is TLS
	Peer           netip.Addr
	Header         HeaderReader
	ResponseHeader HeaderWriter
	Body           BodyReader // nil when the request has no body
	ContentLength  int64      // -1 when unknown
}

// Request is guard's framework-neutral view of one request, built by an
// adapter and passed to every stage. It is also a context.Context: the
// adapters install it as the request context, so handlers reach it with
// FromContext and the helpers below.
//
// The exported fields are set before the first stage runs and must be
// treated as read-only by stages. A Request is not safe for concurrent
// mutation; reading it from several goroutines is safe.
type Request struct {
	Method        string
	Route         string // route template, or RouteUnmatched; never the raw path
	Host          string
	Path          string // raw path as received; for inspection, never for labels
	RawQuery      string
	Scheme        string     // "https" when TLS, or reported by a trusted proxy
	ClientIP      netip.Addr // resolved through trusted proxies
	Peer          netip.Addr // the TCP peer
	CorrelationID string     // "" when correlation is off
	Trace         TraceContext
	Header        HeaderReader
	Response      HeaderWriter
	Body          BodyReader
	ContentLength int64

	parent    context.Context
	g         *Guard
	start     time.Time
	principal string
	prinState uint8 // 0 unknown, 1 resolved
	checked   int   // how many stages' Check ran (Finisher)
	vals      []kv
	valsBuf   [2]kv // backs the first values set, so common stages allocate nothing
	// idBuf backs a generated CorrelationID and idHdr the echoed header
	// value, so correlation costs no allocation. A Request is never reused
	// once its view may have escaped (see Guard.AttachContext), so strings
	// pointing here stay valid.
	idBuf [32]byte
	idHdr [1]string
}

type kv struct{ k, v any }

type ctxKey struct{}

// Deadline implements context.Context by delegating to the request's
// original context.
func (r *Request) Deadline() (time.Time, bool) { return r.parent.Deadline() }

// Done implements context.Context.
func (r *Request) Done() <-chan struct{} { return r.parent.Done() }

// Err implements context.Context.
func (r *Request) Err() error { return r.parent.Err() }

// Value implements context.Context: it returns r for guard's own key and
// values set with SetValue, and defers to the original context otherwise.
func (r *Request) Value(key any) any {
	if key == (ctxKey{}) {
		return r
	}
	for i := range r.vals {
		if r.vals[i].k == key {
			return r.vals[i].v
		}
	}
	return r.parent.Value(key)
}

// Context returns the request's context (r itself, which carries the
// adapter's original context values, deadline and cancellation).
func (r *Request) Context() context.Context { return r }

// SetValue attaches a request-scoped value visible through Value and so
// through the handler's context, like context.WithValue without the
// allocation of a new context per value. Stages use it to pass data (a CSP
// nonce, a logger) to handlers. key must be comparable and should be an
// unexported type, as for context.WithValue.
func (r *Request) SetValue(key, value any) {
	for i := range r.vals {
		if r.vals[i].k == key {
			r.vals[i].v = value
			return
		}
	}
	if r.vals == nil {
		r.vals = r.valsBuf[:0]
	}
	r.vals = append(r.vals, kv{key, value})
}

// WrapContext replaces the context r delegates to (for values, deadline
// and cancellation) with wrap(current). Stages use it for libraries that
// keep request data under their own unexported context keys, such as an
// OpenTelemetry span or a Sentry hub, so that the handler's context
// carries them. wrap must return a context derived from the one it is
// given. Call it only from Check, before the handler runs.
func (r *Request) WrapContext(wrap func(context.Context) context.Context) {
	if ctx := wrap(r.parent); ctx != nil {
		r.parent = ctx
	}
}

// Principal returns the authenticated user id, from the function given
// with WithPrincipal (called at most once per request) or SetPrincipal;
// "" when anonymous. It never reads a client-supplied header by itself.
func (r *Request) Principal() string {
	if r.prinState == 0 {
		r.prinState = 1
		if r.g != nil && r.g.cfg.principal != nil {
			r.principal = r.g.cfg.principal(r)
		}
	}
	return r.principal
}

// SetPrincipal records the authenticated user id, for handlers that learn
// it during the request (a login endpoint, say), so that the request's
// events carry it.
func (r *Request) SetPrincipal(id string) {
	r.principal, r.prinState = id, 1
}

// Guard returns the Guard handling the request.
func (r *Request) Guard() *Guard { return r.g }

// Start returns when guard began handling the request, or the zero time
// when nothing needed it (no sink subscribed to request events).
func (r *Request) Start() time.Time { return r.start }

// Wants reports whether any sink listens to events of kind k, so a stage
// can skip building an event nobody reads.
func (r *Request) Wants(k Kind) bool { return r.g != nil && r.g.bus.wants(k) }

// Emit publishes ev, filling the request's method, route, client address,
// principal, correlation and trace ids and time where ev leaves them zero.
// It never blocks.
func (r *Request) Emit(ev Event) {
	if r.g == nil || !r.g.bus.wants(ev.Kind) {
		return
	}
	r.fill(&ev)
	r.g.bus.publish(&ev)
}

func (r *Request) fill(ev *Event) {
	if ev.Time.IsZero() {
		ev.Time = r.g.now()
	}
	if ev.Method == "" {
		ev.Method = r.Method
	}
	if ev.Route == "" {
		ev.Route = r.Route
	}
	if ev.Scheme == "" {
		ev.Scheme = r.Scheme
	}
	if !ev.ClientIP.IsValid() {
		ev.ClientIP = r.ClientIP
	}
	if ev.Principal == "" {
		ev.Principal = r.Principal()
	}
	if ev.CorrelationID == "" {
		ev.CorrelationID = r.CorrelationID
	}
	if !ev.TraceID.IsValid() {
		ev.TraceID = r.Trace.TraceID
	}
}

// ContextKey returns the key under which a Request's context answers with
// the Request itself. Adapters whose framework keeps its own value store
// (fasthttp's user values) store the Request under it, so that
// FromContext works on the framework's context too.
func ContextKey() any { return ctxKey{} }

// FromContext returns the Request guard attached to ctx.
func FromContext(ctx context.Context) (*Request, bool) {
	if ctx == nil {
		return nil, false
	}
	r, ok := ctx.Value(ctxKey{}).(*Request)
	return r, ok
}

// CorrelationID returns the request's correlation id, or "".
func CorrelationID(ctx context.Context) string {
	if r, ok := FromContext(ctx); ok {
		return r.CorrelationID
	}
	return ""
}

// ClientIP returns the request's resolved client address, or the zero Addr.
func ClientIP(ctx context.Context) netip.Addr {
	if r, ok := FromContext(ctx); ok {
		return r.ClientIP
	}
	return netip.Addr{}
}

// Route returns the request's route template, or "".
func Route(ctx context.Context) string {
	if r, ok := FromContext(ctx); ok {
		return r.Route
	}
	return ""
}

// Principal returns the request's principal, or "".
func Principal(ctx context.Context) string {
	if r, ok := FromContext(ctx); ok {
		return r.Principal()
	}
	return ""
}
