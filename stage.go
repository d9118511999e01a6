package guard

import (
	"context"
	"encoding/hex"
	"net/http"
	"time"
	"unsafe"

	"github.com/guardsdk/guard/store"
)

// Stage is one decision of the request pipeline. Check must be safe for
// concurrent use, must not panic on any input, and must not block longer
// than its own documented timeout. A stage that has something to report
// emits an Event through r.Emit; it never calls a sink.
type Stage interface {
	// Name is a short, constant, snake_case name ("rate_limit"), used in
	// events and metrics.
	Name() string
	// Check decides on r. A denial is a Decision, not an error.
	Check(r *Request) Decision
}

// Phase orders stages: lower phases run first; stages of one phase run in
// the order they were given.
type Phase int

// Phases of the built-in pipeline:
//
//	recover → correlate → headers → csrf → rate limit → inspect → app → handler
const (
	PhaseCorrelate Phase = 100
	PhaseHeaders   Phase = 200
	PhaseCSRF      Phase = 300
	PhaseRateLimit Phase = 400
	PhaseInspect   Phase = 500
	PhaseApp       Phase = 600 // the default for stages without a Phase
)

// Phased is implemented by stages that choose their phase.
type Phased interface {
	Phase() Phase
}

// Env is what guard.New hands to stages and sinks that implement
// Initializer: the shared backend and clock.
type Env struct {
	Store store.Store
	Now   func() time.Time
	// Publish emits an event that does not belong to a request (a backend
	// turning degraded, say). It never blocks.
	Publish func(Event)
}

// Initializer is implemented by stages and sinks that need the Guard's
// shared backend or clock. guard.New calls Init once, in option order, and
// fails with the error it returns.
type Initializer interface {
	Init(env Env) error
}

// Closer is implemented by stages and sinks holding resources; Guard.Close
// calls it after the event queues are drained.
type Closer interface {
	Close(ctx context.Context) error
}

// Finisher is implemented by stages that must see the end of every
// request in the request path: the status and bytes written (ending a
// span, releasing a gauge). Guard.Finish calls Finish, in reverse
// pipeline order, on each Finisher whose Check ran for the request (not on
// those after a denying stage), before it publishes request_done. Like
// Check it must be fast and must not panic.
//
// Finish is not called when the adapter never finishes the request: a
// handler panic with WithRecover(false).
type Finisher interface {
	Finish(r *Request, status int, bytesOut int64)
}

// StageFunc builds a Stage from a name, a phase and a function.
func StageFunc(name string, phase Phase, check func(*Request) Decision) Stage {
	return &funcStage{name: name, phase: phase, check: check}
}

type funcStage struct {
	name  string
	phase Phase
	check func(*Request) Decision
}

func (s *funcStage) Name() string              { return s.name }
func (s *funcStage) Phase() Phase              { return s.phase }
func (s *funcStage) Check(r *Request) Decision { return s.check(r) }

func phaseOf(s Stage) Phase {
	if p, ok := s.(Phased); ok {
		return p.Phase()
	}
	return PhaseApp
}

// correlateStage assigns the correlation id and trace context.
type correlateStage struct {
	header string // inbound and echoed request id header, canonical
}

func (s *correlateStage) Name() string { return "correlate" }
func (s *correlateStage) Phase() Phase { return PhaseCorrelate }

func (s *correlateStage) Check(r *Request) Decision {
	if r.Header != nil {
		if tp := r.Header.Get("Traceparent"); tp != "" {
			r.Trace, _ = ParseTraceparent(tp)
		}
		if id := r.Header.Get(s.header); ValidRequestID(id) {
			r.CorrelationID = id
		}
	}
	if r.CorrelationID == "" {
		if r.Trace.IsValid() {
			hex.Encode(r.idBuf[:], r.Trace.TraceID[:])
		} else {
			putRequestID(&r.idBuf)
		}
		r.CorrelationID = unsafe.String(&r.idBuf[0], len(r.idBuf))
	}
	switch h := r.Response.(type) {
	case http.Header:
		// s.header is canonical: assigning directly is what Set does,
		// without allocating the one-element slice.
		r.idHdr[0] = r.CorrelationID
		h[s.header] = r.idHdr[:]
	case nil:
	default:
		h.Set(s.header, r.CorrelationID)
	}
	return Decision{}
}
