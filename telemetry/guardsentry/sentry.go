package guardsentry

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/getsentry/sentry-go"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/scrub"
)

// Defaults.
const (
	// DefaultCaptureStatus is the lowest response status captured as an
	// error event.
	DefaultCaptureStatus = 500
	// DefaultFlushTimeout bounds Close's flush when its context has no
	// deadline.
	DefaultFlushTimeout = 2 * time.Second
)

// Tags set on every event guard sends.
const (
	TagRoute         = "http.route"
	TagStatus        = "http.status_code"
	TagCorrelationID = "correlation_id"
	TagTraceID       = "trace_id"
	TagKind          = "guard.kind"
)

// Rule is a custom grouping rule: events matching every non-zero field get
// Fingerprint instead of Sentry's default grouping. Rules are tried in
// order; the first match wins. Use "{{ default }}" in Fingerprint to
// extend the default grouping rather than replace it.
type Rule struct {
	Route         string // route template, as in the http.route tag
	Status        int    // response status
	Kind          string // guard event kind ("panic", "request_done")
	ErrorContains string // substring of an exception value or the message
	Fingerprint   []string
}

func (r Rule) match(ev *sentry.Event) bool {
	if r.Route != "" && ev.Tags[TagRoute] != r.Route {
		return false
	}
	if r.Status != 0 && ev.Tags[TagStatus] != strconv.Itoa(r.Status) {
		return false
	}
	if r.Kind != "" && ev.Tags[TagKind] != r.Kind {
		return false
	}
	if r.ErrorContains != "" {
		found := strings.Contains(ev.Message, r.ErrorContains)
		for _, ex := range ev.Exception {
			found = found || strings.Contains(ex.Value, r.ErrorContains)
		}
		if !found {
			return false
		}
	}
	return true
}

// Option configures Sentry.
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	dsn           string
	env, release  string
	tracesRate    float64
	sampleRate    float64
	rules         []Rule
	scrubber      *scrub.Scrubber
	captureStatus int
	userIP        bool
	bodies        bool
	client        func(*sentry.ClientOptions)
}

// WithDSN sets the project DSN. With an empty DSN (the default) Sentry is
// off: Option adds nothing and Close does nothing.
func WithDSN(dsn string) Option {
	return optionFunc(func(c *config) error {
		if dsn != "" {
			if _, err := sentry.NewDsn(dsn); err != nil {
				return fmt.Errorf("guardsentry: WithDSN: %w", err)
			}
		}
		c.dsn = dsn
		return nil
	})
}

// WithEnvironment sets the environment ("production", "staging").
func WithEnvironment(env string) Option {
	return optionFunc(func(c *config) error { c.env = env; return nil })
}

// WithRelease sets the release (a version or commit).
func WithRelease(release string) Option {
	return optionFunc(func(c *config) error { c.release = release; return nil })
}

// WithTracesSampleRate turns on performance tracing: a Sentry
// transaction per request, named after the route template, for this
// fraction of requests (0 to 1; default 0, off).
func WithTracesSampleRate(rate float64) Option {
	return optionFunc(func(c *config) error {
		if rate < 0 || rate > 1 || rate != rate {
			return fmt.Errorf("guardsentry: WithTracesSampleRate: %v not in [0, 1]", rate)
		}
		c.tracesRate = rate
		return nil
	})
}

// WithSampleRate sets the fraction of error events sent (default 1).
func WithSampleRate(rate float64) Option {
	return optionFunc(func(c *config) error {
		if rate <= 0 || rate > 1 || rate != rate {
			return fmt.Errorf("guardsentry: WithSampleRate: %v not in (0, 1]", rate)
		}
		c.sampleRate = rate
		return nil
	})
}

// WithFingerprint adds custom grouping rules.
func WithFingerprint(rules ...Rule) Option {
	return optionFunc(func(c *config) error {
		for i, r := range rules {
			if len(r.Fingerprint) == 0 {
				return fmt.Errorf("guardsentry: WithFingerprint: rule %d has an empty fingerprint", i)
			}
		}
		c.rules = append(c.rules, rules...)
		return nil
	})
}

// WithScrubber replaces scrub.Default in BeforeSend.
func WithScrubber(s *scrub.Scrubber) Option {
	return optionFunc(func(c *config) error {
		if s == nil {
			return errors.New("guardsentry: WithScrubber: nil scrubber")
		}
		c.scrubber = s
		return nil
	})
}

// WithCaptureStatus sets the lowest response status captured as an error
// event (default DefaultCaptureStatus, 500; 400 to 600, 600 meaning none).
func WithCaptureStatus(status int) Option {
	return optionFunc(func(c *config) error {
		if status < 400 || status > 600 {
			return fmt.Errorf("guardsentry: WithCaptureStatus: %d not in [400, 600]", status)
		}
		c.captureStatus = status
		return nil
	})
}

// WithUserIP adds the client address to the event's user (default off:
// only the principal is sent, as user id).
func WithUserIP(on bool) Option {
	return optionFunc(func(c *config) error { c.userIP = on; return nil })
}

// WithRequestBodies keeps request bodies a handler attached with
// Scope.SetRequestBody (scrubbed). Off by default: bodies are dropped in
// BeforeSend.
func WithRequestBodies(on bool) Option {
	return optionFunc(func(c *config) error { c.bodies = on; return nil })
}

// WithClientOptions lets fn adjust the sentry.ClientOptions guard built
// (a transport, a server name, integrations). guard's BeforeSend and
// BeforeSendTransaction run after any fn sets.
func WithClientOptions(fn func(*sentry.ClientOptions)) Option {
	return optionFunc(func(c *config) error {
		if fn == nil {
			return errors.New("guardsentry: WithClientOptions: nil function")
		}
		c.client = fn
		return nil
	})
}

// Sentry reports guard's panics and server errors to Sentry, gives each
// request its own hub, and optionally traces requests as transactions.
// It is safe for concurrent use.
type Sentry struct {
	cfg    config
	client *sentry.Client // nil when off
	hub    *sentry.Hub

	lastPanic string // sink goroutine only: correlation id of the last panic
}

// New builds Sentry. Without WithDSN it returns a disabled Sentry.
func New(opts ...Option) (*Sentry, error) {
	c := config{captureStatus: DefaultCaptureStatus, scrubber: scrub.Default(), sampleRate: 1}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("guardsentry: New: nil option")
		}
		if err := o.apply(&c); err != nil {
			return nil, err
		}
	}
	s := &Sentry{cfg: c}
	if c.dsn == "" {
		return s, nil
	}
	co := sentry.ClientOptions{
		Dsn:              c.dsn,
		Environment:      c.env,
		Release:          c.release,
		SampleRate:       c.sampleRate,
		EnableTracing:    c.tracesRate > 0,
		TracesSampleRate: c.tracesRate,
		SendDefaultPII:   false,
		// The telemetry buffer (sentry-go ≥ 0.40) can hand an item to its
		// transport after FlushWithContext returned, losing it at
		// shutdown; the classic transport's flush waits for every queued
		// envelope, which is what Close promises.
		DisableTelemetryBuffer: true,
	}
	if c.client != nil {
		c.client(&co)
	}
	userSend, userSendTx := co.BeforeSend, co.BeforeSendTransaction
	co.BeforeSend = func(ev *sentry.Event, hint *sentry.EventHint) *sentry.Event {
		if userSend != nil {
			if ev = userSend(ev, hint); ev == nil {
				return nil
			}
		}
		return s.beforeSend(ev)
	}
	co.BeforeSendTransaction = func(ev *sentry.Event, hint *sentry.EventHint) *sentry.Event {
		if userSendTx != nil {
			if ev = userSendTx(ev, hint); ev == nil {
				return nil
			}
		}
		return s.beforeSend(ev)
	}
	client, err := sentry.NewClient(co)
	if err != nil {
		return nil, fmt.Errorf("guardsentry: New: %w", err)
	}
	s.client = client
	s.hub = sentry.NewHub(client, sentry.NewScope())
	return s, nil
}

// Enabled reports whether a DSN was given.
func (s *Sentry) Enabled() bool { return s.client != nil }

// Hub returns the base hub (nil when disabled).
func (s *Sentry) Hub() *sentry.Hub { return s.hub }

// Option returns the guard.Option that wires Sentry into a Guard: a stage
// giving each request its own hub (and transaction, when tracing), and a
// sink capturing panics and server errors. Disabled, it adds nothing.
func (s *Sentry) Option() guard.Option {
	if s.client == nil {
		return guard.WithOptions()
	}
	return guard.WithOptions(
		guard.WithStage(stage{s}),
		guard.WithSink(s, guard.KindPanic, guard.KindRequestDone),
	)
}

// Close flushes queued events until ctx ends (DefaultFlushTimeout
// without a deadline). Guard.Close calls it after draining the sink.
func (s *Sentry) Close(ctx context.Context) error {
	if s.client == nil {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultFlushTimeout)
		defer cancel()
	}
	if !s.client.FlushWithContext(ctx) {
		return errors.New("guardsentry: Close: events not flushed before the deadline")
	}
	return nil
}

type stage struct{ s *Sentry }

func (stage) Name() string { return "sentry" }

// Phase: after correlate and tracing's link, so ids are known.
func (stage) Phase() guard.Phase { return guard.PhaseCorrelate + 2 }

func (st stage) Check(r *guard.Request) guard.Decision {
	s := st.s
	hub := s.hub.Clone()
	scope := hub.Scope()
	scope.SetTag(TagRoute, r.Route)
	scope.SetTag(TagCorrelationID, r.CorrelationID)
	if r.Trace.IsValid() {
		scope.SetTag(TagTraceID, r.Trace.TraceID.String())
	}
	name := r.Method + " " + r.Route
	// The principal is resolved when an event is captured, not now: the
	// application may authenticate after guard's stages.
	scope.AddEventProcessor(func(ev *sentry.Event, _ *sentry.EventHint) *sentry.Event {
		if ev.User.ID == "" {
			ev.User.ID = r.Principal()
		}
		if ev.Transaction == "" {
			ev.Transaction = name
		}
		if s.cfg.userIP && ev.User.IPAddress == "" && r.ClientIP.IsValid() {
			ev.User.IPAddress = r.ClientIP.String()
		}
		return ev
	})
	r.WrapContext(func(ctx context.Context) context.Context {
		ctx = sentry.SetHubOnContext(ctx, hub)
		if s.cfg.tracesRate == 0 {
			return ctx
		}
		tx := sentry.StartTransaction(ctx, name,
			sentry.WithOpName("http.server"),
			sentry.WithTransactionSource(sentry.SourceRoute),
			sentry.ContinueFromHeaders(header(r, sentry.SentryTraceHeader), header(r, sentry.SentryBaggageHeader)),
		)
		tx.SetData("http.request.method", r.Method)
		return tx.Context()
	})
	return guard.Decision{}
}

func header(r *guard.Request, k string) string {
	if r.Header == nil {
		return ""
	}
	return r.Header.Get(k)
}

func (st stage) Finish(r *guard.Request, status int, _ int64) {
	if tx := sentry.SpanFromContext(r); tx != nil {
		tx.Status = sentry.HTTPtoSpanStatus(status)
		tx.SetData("http.response.status_code", status)
		tx.Finish()
	}
}

// HandleEvent implements guard.Sink: a panic is captured with its stack,
// and a request finishing with a status at or above the capture status
// (not already reported as a panic) as an error message.
func (s *Sentry) HandleEvent(ev guard.Event) {
	switch ev.Kind {
	case guard.KindPanic:
		s.lastPanic = ev.CorrelationID
		se := s.event(&ev, sentry.LevelFatal)
		err := ev.Err
		if err == nil {
			err = errors.New("panic")
		}
		se.Exception = []sentry.Exception{{
			Type:       "panic",
			Value:      err.Error(),
			Stacktrace: ParseStack(attr(ev.Attrs, "stack")),
			Mechanism:  &sentry.Mechanism{Type: "guard.recover", Handled: sentry.Pointer(false)},
		}}
		s.capture(se)
	case guard.KindRequestDone:
		if ev.Status < s.cfg.captureStatus {
			return
		}
		if ev.CorrelationID != "" && ev.CorrelationID == s.lastPanic {
			s.lastPanic = ""
			return
		}
		se := s.event(&ev, sentry.LevelError)
		se.Message = fmt.Sprintf("%s %s responded %d", ev.Method, ev.Route, ev.Status)
		s.capture(se)
	}
}

func (s *Sentry) event(ev *guard.Event, level sentry.Level) *sentry.Event {
	se := sentry.NewEvent()
	se.Level = level
	se.Timestamp = ev.Time
	se.Transaction = ev.Method + " " + ev.Route
	se.User.ID = ev.Principal
	if s.cfg.userIP && ev.ClientIP.IsValid() {
		se.User.IPAddress = ev.ClientIP.String()
	}
	se.Tags = map[string]string{
		TagRoute:         ev.Route,
		TagKind:          ev.Kind.String(),
		TagCorrelationID: ev.CorrelationID,
	}
	if ev.Status != 0 {
		se.Tags[TagStatus] = strconv.Itoa(ev.Status)
	}
	if ev.TraceID.IsValid() {
		se.Tags[TagTraceID] = ev.TraceID.String()
		se.Contexts = map[string]sentry.Context{"trace": {"trace_id": ev.TraceID.String()}}
	}
	// Method and route only: never the raw URL, headers or body.
	se.Request = &sentry.Request{Method: ev.Method, URL: ev.Route}
	return se
}

func (s *Sentry) capture(se *sentry.Event) {
	s.hub.Clone().CaptureEvent(se)
}

func attr(attrs []guard.Attr, k string) string {
	for _, a := range attrs {
		if a.Key == k {
			return a.Value
		}
	}
	return ""
}

// beforeSend scrubs every event and transaction and applies the
// fingerprint rules.
func (s *Sentry) beforeSend(ev *sentry.Event) *sentry.Event {
	sc := s.cfg.scrubber
	ev.Message = sc.String(ev.Message)
	for i := range ev.Exception {
		ev.Exception[i].Value = sc.String(ev.Exception[i].Value)
	}
	if rq := ev.Request; rq != nil {
		rq.URL = sc.String(rq.URL)
		rq.QueryString = sc.Query(rq.QueryString)
		rq.Cookies = ""
		for k, v := range rq.Headers {
			rq.Headers[k] = sc.Header(k, v)
		}
		delete(rq.Headers, "Authorization")
		delete(rq.Headers, "Cookie")
		delete(rq.Headers, "Proxy-Authorization")
		if s.cfg.bodies {
			rq.Data = string(sc.JSON([]byte(rq.Data)))
		} else {
			rq.Data = ""
		}
		for k, v := range rq.Env {
			rq.Env[k] = sc.Value(k, v)
		}
	}
	for k, v := range ev.Tags {
		ev.Tags[k] = sc.Value(k, v)
	}
	for k, c := range ev.Contexts {
		if k == "trace" {
			continue
		}
		for ck, cv := range c {
			if sc.SensitiveKey(ck) {
				c[ck] = scrub.Redacted
			} else {
				c[ck] = sc.Any(cv)
			}
		}
	}
	for _, b := range ev.Breadcrumbs {
		b.Message = sc.String(b.Message)
		for k, v := range b.Data {
			if sc.SensitiveKey(k) {
				b.Data[k] = scrub.Redacted
			} else {
				b.Data[k] = sc.Any(v)
			}
		}
	}
	for k, v := range ev.User.Data {
		ev.User.Data[k] = sc.Value(k, v)
	}
	if ev.Type != "transaction" {
		for _, r := range s.cfg.rules {
			if r.match(ev) {
				ev.Fingerprint = r.Fingerprint
				break
			}
		}
	}
	return ev
}

// ParseStack turns the text of runtime/debug.Stack (as carried by guard's
// panic events) into a Sentry stack trace, oldest frame first, starting
// at the frame that panicked. Lines it does not understand are skipped.
func ParseStack(stack string) *sentry.Stacktrace {
	lines := strings.Split(stack, "\n")
	var frames []sentry.Frame
	for i := 0; i+1 < len(lines); i++ {
		fn := lines[i]
		loc := lines[i+1]
		if fn == "" || strings.HasPrefix(fn, "goroutine ") || !strings.HasPrefix(loc, "\t") {
			continue
		}
		i++
		if strings.HasPrefix(fn, "panic(") {
			frames = frames[:0] // everything so far is the recovery machinery
			continue
		}
		if j := strings.LastIndexByte(fn, '('); j > 0 {
			fn = fn[:j]
		}
		loc = strings.TrimPrefix(loc, "\t")
		if j := strings.LastIndex(loc, " +0x"); j >= 0 {
			loc = loc[:j]
		}
		file, line := loc, 0
		if j := strings.LastIndexByte(loc, ':'); j > 0 {
			if n, err := strconv.Atoi(loc[j+1:]); err == nil {
				file, line = loc[:j], n
			}
		}
		frames = append(frames, sentry.NewFrame(runtime.Frame{Function: fn, File: file, Line: line}))
	}
	if len(frames) == 0 {
		return nil
	}
	for i, j := 0, len(frames)-1; i < j; i, j = i+1, j-1 {
		frames[i], frames[j] = frames[j], frames[i]
	}
	return &sentry.Stacktrace{Frames: frames}
}
