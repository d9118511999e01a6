package guard

import (
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/guardsdk/guard/store"
)

// Option configures a Guard. Options are sealed: they come only from the
// With functions of this package (and of packages that wrap them, such as
// limiter), so a Guard's configuration is always one guard.New validated.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// Defaults.
const (
	// DefaultEventQueue is the capacity of each sink's event queue: the
	// most events waiting for, or being delivered to, one sink.
	DefaultEventQueue = 4096
	// DefaultRequestIDHeader is the inbound and echoed correlation header.
	DefaultRequestIDHeader = "X-Request-Id"
	// DefaultStartupTimeout bounds guard.New's reachability check of the store.
	DefaultStartupTimeout = 2 * time.Second
	// MaxEventQueue is the largest queue WithEventQueue accepts.
	MaxEventQueue = 1 << 20
)

type sinkSpec struct {
	sink  Sink
	kinds uint64
}

type config struct {
	store          store.Store
	trusted        []netip.Prefix
	proxyHeaders   []string
	principal      func(*Request) string
	stages         []Stage
	sinks          []sinkSpec
	queue          int
	correlation    bool
	requestIDHdr   string
	recover        bool
	now            func() time.Time
	startupTimeout time.Duration
	startupCheck   bool
	contextView    bool
}

func defaultConfig() config {
	return config{
		proxyHeaders:   []string{HeaderXForwardedFor},
		queue:          DefaultEventQueue,
		correlation:    true,
		requestIDHdr:   DefaultRequestIDHeader,
		recover:        true,
		now:            time.Now,
		startupTimeout: DefaultStartupTimeout,
		startupCheck:   true,
	}
}

// WithStore sets the backend every stateful capability uses unless given
// its own. The default is a store/memory store with its defaults, which
// the Guard closes on Close; a store passed here is not closed by the
// Guard. guard.New pings it (see WithStartupCheck).
func WithStore(s store.Store) Option {
	return optionFunc(func(c *config) error {
		if s == nil {
			return fmt.Errorf("guard: WithStore: nil store")
		}
		c.store = s
		return nil
	})
}

// WithStartupCheck sets whether guard.New pings the store, and how long it
// waits (default on, DefaultStartupTimeout). With the check on, an
// unreachable store makes guard.New fail with an error wrapping
// store.ErrUnavailable (for the built-in backends) within the timeout;
// with it off, New succeeds and each capability applies its failure policy
// per request.
func WithStartupCheck(on bool, timeout time.Duration) Option {
	return optionFunc(func(c *config) error {
		if on && timeout <= 0 {
			return fmt.Errorf("guard: WithStartupCheck: timeout %v must be positive", timeout)
		}
		c.startupCheck, c.startupTimeout = on, timeout
		return nil
	})
}

// WithTrustedProxies lists the proxies, as CIDRs ("10.0.0.0/8") or single
// addresses, whose forwarding headers guard believes. With none (the
// default) the client address is always the TCP peer and forwarding
// headers are ignored.
func WithTrustedProxies(cidrs ...string) Option {
	return optionFunc(func(c *config) error {
		prefixes, err := parseTrustedProxies(cidrs)
		if err != nil {
			return fmt.Errorf("guard: WithTrustedProxies: %w", err)
		}
		c.trusted = append(c.trusted, prefixes...)
		return nil
	})
}

// WithProxyHeaders names the forwarding headers trusted proxies set, in
// order of preference: HeaderXForwardedFor (the default), HeaderForwarded
// (RFC 7239), HeaderXRealIP. List only headers your proxies overwrite or
// append to: a header a proxy passes through untouched is client-controlled,
// and a client could choose it by sending it.
func WithProxyHeaders(names ...string) Option {
	return optionFunc(func(c *config) error {
		if len(names) == 0 {
			return fmt.Errorf("guard: WithProxyHeaders: no header given")
		}
		out := make([]string, 0, len(names))
		for _, n := range names {
			cn := http.CanonicalHeaderKey(n)
			switch cn {
			case HeaderXForwardedFor, HeaderForwarded, HeaderXRealIP:
				out = append(out, cn)
			default:
				return fmt.Errorf("guard: WithProxyHeaders: unsupported header %q (want X-Forwarded-For, Forwarded or X-Real-IP)", n)
			}
		}
		c.proxyHeaders = out
		return nil
	})
}

// WithPrincipal sets how the authenticated user id of a request is found,
// typically from the application's verified session or JWT (which the
// function may read from r.Context() or r.Header). It is called at most
// once per request, lazily. It must return "" for anonymous requests and
// must never trust an unverified client header.
func WithPrincipal(fn func(r *Request) string) Option {
	return optionFunc(func(c *config) error {
		if fn == nil {
			return fmt.Errorf("guard: WithPrincipal: nil function")
		}
		c.principal = fn
		return nil
	})
}

// WithOptions bundles several options into one, applied in order, so a
// package can offer one guard.Option that adds a stage and its sinks
// (telemetry.Option, for example).
func WithOptions(opts ...Option) Option {
	return optionFunc(func(c *config) error {
		for _, o := range opts {
			if o == nil {
				return fmt.Errorf("guard: WithOptions: nil option")
			}
			if err := o.apply(c); err != nil {
				return err
			}
		}
		return nil
	})
}

// WithStage adds a stage to the pipeline, ordered by its Phase.
func WithStage(s Stage) Option {
	return optionFunc(func(c *config) error {
		if s == nil {
			return fmt.Errorf("guard: WithStage: nil stage")
		}
		if s.Name() == "" {
			return fmt.Errorf("guard: WithStage: stage %T has an empty name", s)
		}
		c.stages = append(c.stages, s)
		return nil
	})
}

// WithSink subscribes s to events of the given kinds (all kinds when none
// is given). Each sink gets its own bounded queue and goroutine.
func WithSink(s Sink, kinds ...Kind) Option {
	return optionFunc(func(c *config) error {
		if s == nil {
			return fmt.Errorf("guard: WithSink: nil sink")
		}
		var mask uint64
		for _, k := range kinds {
			if int(k) >= MaxKinds {
				return fmt.Errorf("guard: WithSink: kind %d out of range", k)
			}
			mask |= 1 << k
		}
		if len(kinds) == 0 {
			mask = ^uint64(0)
		}
		c.sinks = append(c.sinks, sinkSpec{s, mask})
		return nil
	})
}

// WithEventQueue sets the capacity of each sink's queue (default
// DefaultEventQueue, at most MaxEventQueue): the most events waiting for,
// or being delivered to, one sink. Events published to a full queue are
// dropped and counted (Guard.BusStats). A queue's memory follows its
// backlog (about 256 bytes per waiting event plus what the events point
// to), not its capacity; a buffer a burst grew beyond 256 events is
// released once the backlog is gone.
func WithEventQueue(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 || n > MaxEventQueue {
			return fmt.Errorf("guard: WithEventQueue: %d not in [1, %d]", n, MaxEventQueue)
		}
		c.queue = n
		return nil
	})
}

// WithCorrelation turns the correlate stage on or off (default on). When
// on, each request gets a correlation id: the inbound request id header if
// valid (ValidRequestID), else the trace id of a valid W3C traceparent,
// else 32 random hex digits. It is echoed on the response.
func WithCorrelation(on bool) Option {
	return optionFunc(func(c *config) error {
		c.correlation = on
		return nil
	})
}

// WithRequestIDHeader sets the correlation header (default X-Request-Id).
func WithRequestIDHeader(name string) Option {
	return optionFunc(func(c *config) error {
		if name == "" || !validHeaderName(name) {
			return fmt.Errorf("guard: WithRequestIDHeader: invalid header name %q", name)
		}
		c.requestIDHdr = http.CanonicalHeaderKey(name)
		return nil
	})
}

// WithRecover turns panic recovery on or off (default on). When on, a
// handler panic becomes a 500 problem body and a KindPanic event, and the
// server goes on. http.ErrAbortHandler is re-panicked, as net/http expects.
func WithRecover(on bool) Option {
	return optionFunc(func(c *config) error {
		c.recover = on
		return nil
	})
}

// WithRequestContext makes adapters install the Request view as the
// handler's context even when the pipeline has no stage, so that
// FromContext, ClientIP, Route and Principal work in handlers of a Guard
// with every stage off. With at least one stage it is always installed.
func WithRequestContext(on bool) Option {
	return optionFunc(func(c *config) error {
		c.contextView = on
		return nil
	})
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) error {
		if now == nil {
			return fmt.Errorf("guard: WithClock: nil function")
		}
		c.now = now
		return nil
	})
}

func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !ok {
			return false
		}
	}
	return true
}
