package guard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guardsdk/guard/store"
	"github.com/guardsdk/guard/store/memory"
)

// Guard is a configured security and monitoring layer: a pipeline of
// stages, an event bus feeding sinks, and a backend for state. Build one
// with New and share it: all methods are safe for concurrent use.
type Guard struct {
	cfg      config
	proxies  proxyConfig
	stages   []Stage
	finish   []finisher // stages implementing Finisher, in reverse order
	bus      *bus
	store    store.Store
	ownStore bool
	needTime bool // a sink wants request_done, so requests are timed
	attach   bool // the Request view is installed as the handler's context

	closing   atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// New builds a Guard. With no options it runs on in-memory defaults:
// correlation ids on, panics recovered, no trusted proxies, a store/memory
// backend. An invalid option makes New fail with an error naming the
// option and the bad value; an unreachable store makes it fail within the
// startup timeout (WithStartupCheck).
func New(opts ...Option) (*Guard, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("guard: New: nil option")
		}
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	g := &Guard{cfg: cfg}
	g.proxies = proxyConfig{trusted: cfg.trusted, headers: cfg.proxyHeaders}

	g.store = cfg.store
	if g.store == nil {
		m, err := memory.New()
		if err != nil {
			return nil, fmt.Errorf("guard: default store: %w", err)
		}
		g.store, g.ownStore = m, true
	} else if cfg.startupCheck {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.startupTimeout)
		err := g.store.Ping(ctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("guard: WithStore: backend not reachable within %v: %w", cfg.startupTimeout, err)
		}
	}

	if cfg.correlation {
		g.stages = append(g.stages, &correlateStage{header: cfg.requestIDHdr})
	}
	g.stages = append(g.stages, cfg.stages...)
	slices.SortStableFunc(g.stages, func(a, b Stage) int { return int(phaseOf(a) - phaseOf(b)) })
	for i := len(g.stages) - 1; i >= 0; i-- {
		if f, ok := g.stages[i].(Finisher); ok {
			g.finish = append(g.finish, finisher{pos: i + 1, f: f})
		}
	}

	subs := make([]*subscription, len(cfg.sinks))
	for i, s := range cfg.sinks {
		subs[i] = &subscription{sink: s.sink, kinds: s.kinds}
	}
	g.bus = newBus(subs, cfg.queue)
	g.needTime = g.bus.wants(KindRequestDone)
	g.attach = len(g.stages) > 0 || cfg.contextView

	env := Env{Store: g.store, Now: cfg.now, Publish: g.Publish}
	for _, s := range g.stages {
		if in, ok := s.(Initializer); ok {
			if err := in.Init(env); err != nil {
				g.abort()
				return nil, fmt.Errorf("guard: stage %s: %w", s.Name(), err)
			}
		}
	}
	for _, s := range cfg.sinks {
		if in, ok := s.sink.(Initializer); ok {
			if err := in.Init(env); err != nil {
				g.abort()
				return nil, fmt.Errorf("guard: sink %T: %w", s.sink, err)
			}
		}
	}
	return g, nil
}

// abort releases what New started when a later step fails.
func (g *Guard) abort() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = g.Close(ctx)
}

func (g *Guard) now() time.Time { return g.cfg.now() }

// Store returns the Guard's backend.
func (g *Guard) Store() store.Store { return g.store }

// Stages returns the names of the pipeline's stages, in order.
func (g *Guard) Stages() []string {
	names := make([]string, len(g.stages))
	for i, s := range g.stages {
		names[i] = s.Name()
	}
	return names
}

// Publish emits an event that belongs to no request. It never blocks.
func (g *Guard) Publish(ev Event) {
	if !g.bus.wants(ev.Kind) {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = g.now()
	}
	g.bus.publish(&ev)
}

// BusStats reports how many events were published and dropped.
func (g *Guard) BusStats() BusStats { return g.bus.stats() }

// Closing reports whether Close has begun; readiness checks turn failing
// then so that load balancers drain traffic.
func (g *Guard) Closing() bool { return g.closing.Load() }

// Close stops the Guard: it stops accepting events, delivers what is
// queued to the sinks until ctx ends, then closes stages and sinks that
// implement Closer and the store the Guard created itself. It is
// idempotent: later calls return the first call's result. Requests still
// in flight keep working; their events are dropped and counted.
func (g *Guard) Close(ctx context.Context) error {
	g.closeOnce.Do(func() {
		g.closing.Store(true)
		var errs []error
		if err := g.bus.close(ctx); err != nil {
			errs = append(errs, err)
		}
		for _, s := range g.stages {
			if c, ok := s.(Closer); ok {
				if err := c.Close(ctx); err != nil {
					errs = append(errs, fmt.Errorf("guard: close stage %s: %w", s.Name(), err))
				}
			}
		}
		for _, s := range g.cfg.sinks {
			if c, ok := s.sink.(Closer); ok {
				if err := c.Close(ctx); err != nil {
					errs = append(errs, fmt.Errorf("guard: close sink %T: %w", s.sink, err))
				}
			}
		}
		if g.ownStore {
			if err := g.store.Close(); err != nil {
				errs = append(errs, fmt.Errorf("guard: close store: %w", err))
			}
		}
		g.closeErr = errors.Join(errs...)
	})
	return g.closeErr
}

// AttachContext reports whether adapters install the Request view as the
// handler's context: when the pipeline has at least one stage (the default
// correlate stage counts) or WithRequestContext(true) was given. With every
// stage off and no such option there is nothing for a handler to read, and
// the adapters save the context copy.
func (g *Guard) AttachContext() bool { return g.attach }

// Begin builds the Request view for an adapter: it resolves the client
// address through the trusted proxies and the scheme, and stamps the start
// time when a sink wants request events. Adapters then call Check, run the
// handler with the Request as its context, and call Finish.
func (g *Guard) Begin(in Incoming) *Request {
	r := &Request{
		parent: in.Context, Method: in.Method, Route: in.Route,
		Host: in.Host, Path: in.Path, RawQuery: in.RawQuery, Peer: in.Peer,
		Header: in.Header, Response: in.ResponseHeader, Body: in.Body,
		ContentLength: in.ContentLength,
	}
	g.complete(r, in.TLS)
	return r
}

// complete fills what guard derives once an adapter has set the request's
// own fields: defaults, client address, scheme and start time.
func (g *Guard) complete(r *Request, tls bool) {
	r.g = g
	if r.parent == nil {
		r.parent = context.Background()
	}
	if r.Route == "" {
		r.Route = RouteUnmatched
	}
	r.ClientIP = g.proxies.resolve(r.Peer, r.Header)
	if tls {
		r.Scheme = "https"
	} else {
		r.Scheme = "http"
		if p := g.proxies.forwardedProto(r.Peer, r.Header); p != "" {
			r.Scheme = p
		}
	}
	if g.needTime {
		r.start = g.now()
	}
}

// Check runs the pipeline's stages in order and returns the first denial,
// or Allow. A denial is also published as a KindDenied event.
func (g *Guard) Check(r *Request) Decision {
	for i, s := range g.stages {
		r.checked = i + 1
		d := s.Check(r)
		if d.Status != 0 {
			d.Stage = s.Name()
			if g.bus.wants(KindDenied) {
				r.Emit(Event{Kind: KindDenied, Stage: d.Stage, Status: d.StatusCode(), Reason: d.Reason})
			}
			return d
		}
	}
	return Decision{}
}

// finisher is a stage implementing Finisher and its 1-based position in
// the pipeline.
type finisher struct {
	pos int
	f   Finisher
}

// Finish calls Finish on the stages implementing Finisher whose Check ran,
// then publishes the request_done event: status, bytes written and
// duration. Adapters call it once the response is written; r.Body is nil
// afterwards.
func (g *Guard) Finish(r *Request, status int, bytesOut int64) {
	for _, f := range g.finish {
		if f.pos <= r.checked {
			f.f.Finish(r, status, bytesOut)
		}
	}
	// The body is not read after the response; a view kept past the
	// request must not keep the framework's request alive through it.
	r.Body = nil
	if !g.needTime {
		return
	}
	now := g.now()
	ev := Event{Kind: KindRequestDone, Time: now, Status: status, BytesIn: r.ContentLength, BytesOut: bytesOut}
	if !r.start.IsZero() {
		ev.Duration = now.Sub(r.start)
	}
	r.fill(&ev)
	g.bus.publish(&ev)
}

// RecoverEnabled reports whether adapters should recover handler panics.
func (g *Guard) RecoverEnabled() bool { return g.cfg.recover }

// Recovered turns a recovered panic value into the 500 Decision adapters
// render, and publishes a KindPanic event carrying the value and stack.
// For http.ErrAbortHandler it returns false: the adapter must re-panic.
func (g *Guard) Recovered(r *Request, p any) (Decision, bool) {
	if p == http.ErrAbortHandler {
		return Decision{}, false
	}
	if g.bus.wants(KindPanic) {
		err, ok := p.(error)
		if !ok {
			err = fmt.Errorf("%v", p)
		}
		r.Emit(Event{
			Kind:   KindPanic,
			Stage:  "recover",
			Status: http.StatusInternalServerError,
			Reason: ReasonPanic,
			Err:    fmt.Errorf("guard: handler panic: %w", err),
			Attrs:  []Attr{{Key: "stack", Value: string(debug.Stack())}},
		})
	}
	return Decision{
		Status: http.StatusInternalServerError,
		Reason: ReasonPanic,
		Detail: "The server could not complete the request.",
		Stage:  "recover",
	}, true
}
