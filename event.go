package guard

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Kind names the type of an Event. The kinds guard's own stages emit are
// predeclared; packages outside the core declare theirs with RegisterKind.
type Kind uint8

// Predeclared kinds.
const (
	KindRequestDone       Kind = iota // one per request, after the handler
	KindPanic                         // a handler panicked; recovered as a 500
	KindDenied                        // a stage denied the request (any reason)
	KindRateLimited                   // rate limiter denial
	KindInjectionBlocked              // input inspection found an attack
	KindCSRFRejected                  // cross-origin or token check failed
	KindCSPViolation                  // a browser reported a CSP violation
	KindLoginFailed                   // an authentication attempt failed
	KindAccountLocked                 // lockout engaged
	KindBackendDegraded               // a backend failed; failure policy applied
	KindBackendRecovered              // a degraded backend answers again
	KindDependencyChanged             // a health check changed state
	numPredeclared
)

// MaxKinds is the number of distinct kinds, predeclared and registered.
const MaxKinds = 64

// kindNames is replaced, never modified, so String reads it without a lock.
var (
	kindMu    sync.Mutex
	kindNames atomic.Pointer[[]string]
)

func init() {
	names := []string{
		"request_done", "panic", "denied", "rate_limited", "injection_blocked",
		"csrf_rejected", "csp_violation", "login_failed", "account_locked",
		"backend_degraded", "backend_recovered", "dependency_changed",
	}
	kindNames.Store(&names)
}

// RegisterKind declares a new event kind, or returns the existing kind of
// that name. It fails once MaxKinds kinds exist. Call it at package
// initialisation.
func RegisterKind(name string) (Kind, error) {
	if name == "" {
		return 0, fmt.Errorf("guard: RegisterKind: empty name")
	}
	kindMu.Lock()
	defer kindMu.Unlock()
	old := *kindNames.Load()
	for i, n := range old {
		if n == name {
			return Kind(i), nil
		}
	}
	if len(old) == MaxKinds {
		return 0, fmt.Errorf("guard: RegisterKind(%q): all %d kinds in use", name, MaxKinds)
	}
	names := append(old[:len(old):len(old)], name)
	kindNames.Store(&names)
	return Kind(len(old)), nil
}

// String returns the kind's snake_case name.
func (k Kind) String() string {
	if names := *kindNames.Load(); int(k) < len(names) {
		return names[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Attr is one extra key/value carried by an Event.
type Attr struct {
	Key, Value string
}

// Event is what stages and adapters publish and sinks consume. Events are
// values: a sink may keep one. They never carry request bodies, header
// values or query strings; a stage that reports what it saw (for example
// the field an injection was found in) puts names, not payloads, in Attrs.
type Event struct {
	Kind          Kind
	Time          time.Time
	Stage         string // the stage that produced or denied, if any
	Method        string
	Route         string // route template, never the raw path
	Scheme        string
	ClientIP      netip.Addr
	Principal     string
	CorrelationID string
	TraceID       TraceID
	Status        int           // response status (request_done, denials)
	Reason        string        // machine-readable reason code
	Duration      time.Duration // request_done: time in guard and handler
	BytesIn       int64         // request_done: request Content-Length, -1 unknown
	BytesOut      int64         // request_done: response body bytes written
	Err           error         // panic or backend error, if any
	Attrs         []Attr
}

// Sink consumes events. HandleEvent is called from one goroutine per
// subscription, in publication order; a slow sink delays only its own
// queue. It must not retain ev.Attrs' backing array beyond the call if it
// modifies it.
type Sink interface {
	HandleEvent(ev Event)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(Event)

// HandleEvent calls f(ev).
func (f SinkFunc) HandleEvent(ev Event) { f(ev) }

// BusStats counts what the event bus did since the Guard was created.
type BusStats struct {
	Published uint64 // events accepted into at least one queue
	Dropped   uint64 // event deliveries dropped because a queue was full or the bus closed
}

type subscription struct {
	sink    Sink
	kinds   uint64 // bitmask of Kind
	dropped atomic.Uint64
	done    chan struct{}
	wake    chan struct{} // capacity 1: a token means "look at pending"

	mu       sync.Mutex // guards the fields below
	pending  []Event    // published, not yet taken by run
	inflight int        // events of the batch run is delivering
	limit    int        // most events pending plus in flight
	closed   bool
}

// bus fans events out to per-subscription bounded queues. Publishing never
// waits for a sink: a full queue drops the event and counts it.
//
// A queue is a slice that grows with the backlog, up to its limit, rather
// than a channel: a channel's buffer is allocated at full capacity and,
// as events hold pointers, scanned whole by every garbage collection,
// while a sink that keeps up needs a few slots. The sink goroutine takes
// all pending events in one lock and delivers them in order.
type bus struct {
	subs      []*subscription
	mask      uint64 // union of all subscriptions' kinds
	published atomic.Uint64
	dropped   atomic.Uint64
}

func newBus(subs []*subscription, queue int) *bus {
	b := &bus{subs: subs}
	for _, s := range subs {
		b.mask |= s.kinds
		s.limit = queue
		s.wake = make(chan struct{}, 1)
		s.done = make(chan struct{})
		go s.run()
	}
	return b
}

// push queues ev unless the queue is full or closed.
func (s *subscription) push(ev *Event) bool {
	s.mu.Lock()
	if s.closed || len(s.pending)+s.inflight >= s.limit {
		s.mu.Unlock()
		return false
	}
	s.pending = append(s.pending, *ev)
	first := len(s.pending) == 1
	s.mu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default: // a token is already there
		}
	}
	return true
}

// shrinkAbove is the capacity above which a batch buffer that a backlog
// grew is dropped once the backlog is gone, so a burst does not pin its
// peak memory.
const shrinkAbove = 256

func (s *subscription) run() {
	defer close(s.done)
	var batch []Event
	for {
		s.mu.Lock()
		s.inflight = 0
		for len(s.pending) == 0 {
			if s.closed {
				s.mu.Unlock()
				return
			}
			s.mu.Unlock()
			<-s.wake
			s.mu.Lock()
		}
		batch, s.pending = s.pending, batch[:0]
		s.inflight = len(batch)
		s.mu.Unlock()
		delivered := len(batch)
		for i := range batch {
			s.deliver(&batch[i])
		}
		clear(batch) // drop the events' references before the buffer is reused
		if cap(batch) > shrinkAbove && delivered < cap(batch)/4 {
			batch = nil
		}
		if delivered < lingerBelow {
			// Let the next batch gather: woken per event, a sink that
			// keeps up would cost a goroutine wake-up (a futex call when
			// other cores are idle) per request. A large batch means the
			// sink is busy enough to be woken rarely anyway.
			time.Sleep(sinkLinger)
		}
	}
}

// sinkLinger is how long a sink goroutine waits after delivering a batch
// of fewer than lingerBelow events before it takes the next: under load
// it wakes about once per linger instead of once per event, and events
// reach sinks at most about that much later.
const (
	sinkLinger  = time.Millisecond
	lingerBelow = 64
)

func (s *subscription) deliver(ev *Event) {
	// A panicking sink must not take the process down with it.
	defer func() { _ = recover() }()
	s.sink.HandleEvent(*ev)
}

// wants reports whether any sink subscribed to k; publishers use it to skip
// building events nobody reads.
func (b *bus) wants(k Kind) bool { return b.mask&(1<<k) != 0 }

func (b *bus) publish(ev *Event) {
	bit := uint64(1) << ev.Kind
	if b.mask&bit == 0 {
		return
	}
	sent := false
	for _, s := range b.subs {
		if s.kinds&bit == 0 {
			continue
		}
		if s.push(ev) {
			sent = true
		} else {
			s.dropped.Add(1)
			b.dropped.Add(1)
		}
	}
	if sent {
		b.published.Add(1)
	}
}

// close stops accepting events and waits, until ctx ends, for every queue
// to be delivered.
func (b *bus) close(ctx context.Context) error {
	for _, s := range b.subs {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	for _, s := range b.subs {
		select {
		case <-s.done:
		case <-ctx.Done():
			return fmt.Errorf("guard: Close: event queues not drained: %w", ctx.Err())
		}
	}
	return nil
}

func (b *bus) stats() BusStats {
	return BusStats{Published: b.published.Load(), Dropped: b.dropped.Load()}
}
