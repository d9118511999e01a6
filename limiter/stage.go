package limiter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/guardsdk/guard"
)

// StageName is the HTTP stage's name, in events and metrics.
const StageName = "rate_limit"

// Reasons of the HTTP stage's denials (problem "code" and event Reason).
const (
	ReasonRateLimited = "rate_limited"
	ReasonUnavailable = "rate_limit_unavailable"
)

// Rule applies limits to the requests it matches. Every rule matching a
// request applies, and all their limits are decided together, all or
// nothing, in one backend call.
type Rule struct {
	// Name identifies the rule's state in the backend and its policy in
	// headers and events: 1-64 of [A-Za-z0-9_.-], unique. Renaming a rule
	// starts its budgets afresh.
	Name string
	// Method matches the request method exactly; "" matches any.
	Method string
	// Route matches the route template exactly as guard reports it
	// (guard.Request.Route: "/notes/{id}", or guard.RouteUnmatched); ""
	// matches every route.
	Route string
	// Key says whose budget the request spends; nil means ByIP.
	Key Key
	// Limits are the rule's limits (at least one).
	Limits []Limit
	// Cost is what one request costs (default 1); it must not exceed any
	// limit's Capacity.
	Cost int64
	// Shadow makes the rule decide and report but never deny.
	Shadow bool
}

type compiledRule struct {
	name, method, route string
	key                 Key
	cost                int64
	shadow              bool
	specs               []Spec
	names               []string // backend names: rule.limit
	policies            []string // header policy ids
	quoted              []string // the ids as structured-field Strings
	quotas              []string // X-RateLimit-Limit values
	policyItems         string   // RateLimit-Policy items of this rule
}

type ruleSet struct {
	global  []*compiledRule // rules with no route, in order
	byRoute map[string][]*compiledRule
	names   map[string]*compiledRule
}

func compileRules(rules []Rule) (*ruleSet, error) {
	rs := &ruleSet{byRoute: map[string][]*compiledRule{}, names: map[string]*compiledRule{}}
	var all []*compiledRule
	for _, r := range rules {
		if !validName(r.Name) {
			return nil, fmt.Errorf("limiter: rule %q: name must be 1-64 of [A-Za-z0-9_.-]", r.Name)
		}
		if rs.names[r.Name] != nil {
			return nil, fmt.Errorf("limiter: two rules named %q", r.Name)
		}
		if len(r.Limits) == 0 {
			return nil, fmt.Errorf("limiter: rule %q: no limits", r.Name)
		}
		p, err := compile(r.Limits)
		if err != nil {
			return nil, fmt.Errorf("limiter: rule %q: %w", r.Name, err)
		}
		cost := r.Cost
		if cost == 0 {
			cost = 1
		}
		if cost < 1 || cost > p.cap {
			return nil, fmt.Errorf("limiter: rule %q: cost %d not in [1, %d]", r.Name, r.Cost, p.cap)
		}
		if r.Method != "" && !validToken(r.Method) {
			return nil, fmt.Errorf("limiter: rule %q: invalid method %q", r.Name, r.Method)
		}
		cr := &compiledRule{
			name: r.Name, method: r.Method, route: r.Route, key: r.Key,
			cost: cost, shadow: r.Shadow, specs: p.specs,
		}
		if cr.key == nil {
			cr.key = ByIP()
		}
		items := make([]string, len(p.specs))
		for i, n := range p.names {
			cr.names = append(cr.names, r.Name+"."+n)
			id := r.Name
			if len(p.specs) > 1 {
				id = r.Name + "." + n
			}
			cr.policies = append(cr.policies, id)
			cr.quoted = append(cr.quoted, strconv.Quote(id))
			q, w := p.specs[i].window()
			cr.quotas = append(cr.quotas, strconv.FormatInt(q, 10))
			items[i] = policyItem(id, q, w)
		}
		cr.policyItems = strings.Join(items, ", ")
		rs.names[r.Name] = cr
		all = append(all, cr)
	}
	for _, cr := range all {
		if cr.route == "" {
			rs.global = append(rs.global, cr)
		}
	}
	// Each route's list holds its own rules and the global ones, in the
	// order given, so a request costs one map lookup.
	for _, cr := range all {
		if cr.route == "" || rs.byRoute[cr.route] != nil {
			continue
		}
		var list []*compiledRule
		for _, o := range all {
			if o.route == "" || o.route == cr.route {
				list = append(list, o)
			}
		}
		rs.byRoute[cr.route] = list
	}
	// Every request's limits must fit in one decision.
	check := func(route string, list []*compiledRule) error {
		n := 0
		for _, cr := range list {
			n += len(cr.specs)
		}
		if n > MaxOps {
			return fmt.Errorf("limiter: route %q: %d limits apply to one request; at most %d", route, n, MaxOps)
		}
		return nil
	}
	if err := check("(any)", rs.global); err != nil {
		return nil, err
	}
	for route, list := range rs.byRoute {
		if err := check(route, list); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// policyItem renders one RateLimit-Policy list member: a String id with
// the quota and the window in seconds.
func policyItem(id string, quota, window int64) string {
	return strconv.Quote(id) + ";q=" + strconv.FormatInt(quota, 10) + ";w=" + strconv.FormatInt(ceilSeconds(window), 10)
}

func ceilSeconds(us int64) int64 {
	if us <= 0 {
		return 0
	}
	return (us + 999_999) / 1_000_000
}

// HTTPStage is the guard.Stage that applies Rules to requests. Build it
// with Stage or Option; it is safe for concurrent use.
type HTTPStage struct {
	mu       sync.Mutex
	l        *Limiter // guarded by mu; lim is its lock-free copy for Check
	lim      atomic.Pointer[Limiter]
	owned    bool // the stage built l and closes it
	settings []Setting
	pending  []Rule
	err      error
	rules    atomic.Pointer[ruleSet]
	headers  HeaderMode
	pool     sync.Pool
}

var (
	_ guard.Stage       = (*HTTPStage)(nil)
	_ guard.Phased      = (*HTTPStage)(nil)
	_ guard.Initializer = (*HTTPStage)(nil)
	_ guard.Closer      = (*HTTPStage)(nil)
)

// Stage returns an HTTP stage applying rules (and the Limiter's
// WithRules) with l. Invalid rules make guard.New fail, naming the rule.
func Stage(l *Limiter, rules ...Rule) *HTTPStage {
	s := &HTTPStage{l: l}
	if l == nil {
		s.err = errors.New("limiter: Stage: nil Limiter")
		return s
	}
	s.headers = l.cfg.headers
	s.pending = append(append([]Rule(nil), l.cfg.rules...), rules...)
	s.err = s.setRules(s.pending)
	s.lim.Store(l)
	s.init()
	return s
}

// Option returns a guard.Option adding an HTTP stage whose Limiter is
// built from settings when guard.New runs: on the Guard's store (its
// RateLimitBackend, or a memory backend for store/memory) unless
// WithBackend is given, with the Guard's clock, and publishing
// backend_degraded/backend_recovered events to the Guard's sinks. Invalid
// settings make guard.New fail.
func Option(settings ...Setting) guard.Option {
	s := &HTTPStage{settings: append([]Setting(nil), settings...)}
	s.init()
	return guard.WithStage(s)
}

func (s *HTTPStage) init() {
	s.pool.New = func() any { return new(stageCall) }
}

// Name implements guard.Stage.
func (s *HTTPStage) Name() string { return StageName }

// Phase implements guard.Phased: guard.PhaseRateLimit.
func (s *HTTPStage) Phase() guard.Phase { return guard.PhaseRateLimit }

// Init implements guard.Initializer: it builds the Limiter of Option on
// the Guard's store, or hooks a Stage's Limiter to the Guard's events.
func (s *HTTPStage) Init(env guard.Env) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.l != nil {
		if env.Publish != nil {
			pub := env.Publish
			s.l.publish.CompareAndSwap(nil, &pub)
		}
		return nil
	}
	cfg := defaultConfig()
	for _, st := range s.settings {
		if st == nil {
			return errors.New("limiter: Option: nil setting")
		}
		if err := st.apply(&cfg); err != nil {
			return err
		}
	}
	l, err := newLimiter(cfg, &env)
	if err != nil {
		return err
	}
	if err := s.setRules(cfg.rules); err != nil {
		return err
	}
	s.l, s.owned, s.headers = l, true, cfg.headers
	s.lim.Store(l)
	return nil
}

// Limiter returns the stage's Limiter (nil before guard.New for Option).
func (s *HTTPStage) Limiter() *Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.l
}

// SetRules replaces the stage's rules at run time. State is kept per rule
// and limit name, so a budget carries over when its rates change.
func (s *HTTPStage) SetRules(rules ...Rule) error {
	if err := s.setRules(rules); err != nil {
		return err
	}
	if l := s.Limiter(); l != nil && l.deny != nil {
		l.deny.clear()
	}
	return nil
}

func (s *HTTPStage) setRules(rules []Rule) error {
	rs, err := compileRules(rules)
	if err != nil {
		return err
	}
	s.rules.Store(rs)
	return nil
}

// Close implements guard.Closer: it closes a Limiter built by Option.
func (s *HTTPStage) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owned && s.l != nil {
		return s.l.Close(ctx)
	}
	return nil
}

// stageCall is the per-request scratch space, pooled: the batch and the
// bytes the identities are built in (ops' tags point into buf while the
// backend runs; backends never retain them).
type stageCall struct {
	b     Batch
	rules [MaxOps]*compiledRule
	limit [MaxOps]int
	buf   [1024]byte
}

// Check implements guard.Stage.
func (s *HTTPStage) Check(r *guard.Request) guard.Decision {
	rs := s.rules.Load()
	l := s.lim.Load()
	if rs == nil || l == nil {
		return guard.Decision{}
	}
	list := rs.global
	if rl, ok := rs.byRoute[r.Route]; ok {
		list = rl
	}
	if len(list) == 0 {
		return guard.Decision{}
	}
	c := s.pool.Get().(*stageCall)
	defer s.pool.Put(c)
	b := &c.b
	b.N, b.Peek = 0, false
	buf := c.buf[:0]
	for _, cr := range list {
		if cr.method != "" && cr.method != r.Method {
			continue
		}
		start := len(buf)
		id, ok := cr.key(r, buf)
		if !ok {
			continue
		}
		var tag string
		if len(id) > start+maxIdentity || cap(id) != cap(c.buf) {
			// Too long, or the key outgrew the scratch space: copy it.
			tag = string(id[start:])
			if len(tag) > maxIdentity || !safeIdentity(tag) {
				tag = digestTag(tag)
			}
			buf = buf[:start]
		} else {
			raw := id[start:]
			if !safeIdentity(unsafe.String(unsafe.SliceData(raw), len(raw))) {
				tag = digestTag(string(raw))
				buf = buf[:start]
			} else {
				tag = unsafe.String(unsafe.SliceData(raw), len(raw))
				buf = id
			}
		}
		for i := range cr.specs {
			c.rules[b.N], c.limit[b.N] = cr, i
			b.Add(Op{Tag: tag, Name: cr.names[i], Spec: cr.specs[i], Cost: cr.cost, Shadow: cr.shadow || l.cfg.shadow})
		}
	}
	if b.N == 0 {
		return guard.Decision{}
	}
	res, err := l.decide(r, b)
	defer func() {
		for i := 0; i < b.N; i++ {
			b.Ops[i].Tag = "" // do not keep pointers into buf alive
		}
	}()
	if err != nil {
		// Only a cancelled request or a closed limiter get here: the
		// client is gone, or the Guard is shutting down.
		return guard.Decision{}
	}
	if res.Shadow && r.Wants(guard.KindRateLimited) {
		for i := 0; i < b.N; i++ {
			if b.Ops[i].Shadow && !b.Results[i].Allowed {
				s.emit(r, c, i, res, true)
			}
		}
	}
	if res.Degraded && !res.Allowed && res.Remaining < 0 {
		if h := r.Response; h != nil {
			h.Set("Retry-After", strconv.FormatInt(ceilSeconds(int64(res.RetryAfter/time.Microsecond)), 10))
		}
		return guard.Deny(http.StatusServiceUnavailable, ReasonUnavailable, "Rate limiting is unavailable; retry later.")
	}
	bi := binding(b)
	if bi >= 0 && r.Response != nil && !(res.Degraded && res.Remaining < 0) {
		// (A FailOpen decision knows no numbers: it writes no headers.)
		s.writeHeaders(r, c, bi, res)
	}
	if res.Allowed {
		return guard.Decision{}
	}
	if bi >= 0 && r.Wants(guard.KindRateLimited) {
		s.emit(r, c, bi, res, false)
	}
	return guard.Deny(http.StatusTooManyRequests, ReasonRateLimited, "Too many requests; retry after the time given in the Retry-After header.")
}

// safeIdentity reports whether s can be a tag as is (no hash tag
// delimiters, no control bytes, not a digest's form).
func safeIdentity(s string) bool { return s != "" && safeTag(s) }

func (s *HTTPStage) emit(r *guard.Request, c *stageCall, i int, res Result, shadow bool) {
	cr := c.rules[i]
	ev := guard.Event{
		Kind:   guard.KindRateLimited,
		Stage:  StageName,
		Reason: ReasonRateLimited,
		Attrs: []guard.Attr{
			{Key: "rule", Value: cr.name},
			{Key: "limit", Value: cr.policies[c.limit[i]]},
		},
	}
	if shadow {
		ev.Attrs = append(ev.Attrs, guard.Attr{Key: "shadow", Value: "true"})
	} else {
		ev.Status = http.StatusTooManyRequests
		ev.Attrs = append(ev.Attrs, guard.Attr{Key: "retry_after", Value: res.RetryAfter.String()})
		if res.Blocked {
			ev.Attrs = append(ev.Attrs, guard.Attr{Key: "blocked", Value: "true"})
		}
		if res.Cached {
			ev.Attrs = append(ev.Attrs, guard.Attr{Key: "cached", Value: "true"})
		}
	}
	r.Emit(ev)
}

// writeHeaders writes the rate-limit headers of the binding op i.
//
// On a denial, X-RateLimit-Reset, the draft's t and Retry-After all give
// the same number of seconds, rounded up: when the same request can be
// admitted again. So Retry-After is never earlier than the reset, and a
// client that waits for either is not refused for being early.
func (s *HTTPStage) writeHeaders(r *guard.Request, c *stageCall, i int, res Result) {
	// One allocation backs every value written: the strings point into
	// hv.buf, which is only ever appended to.
	hv := new(headerValues)
	w := headerSink{h: r.Response, b: hv.buf[:0]}
	if m, ok := r.Response.(http.Header); ok {
		// Assign values directly, all backed by one array: Set would
		// allocate a one-element slice per header.
		w.m, w.vals = m, hv.vals[:0]
	}
	b := &c.b
	or := &b.Results[i]
	cr := c.rules[i]
	reset := ceilSeconds(or.ResetAfter)
	if !b.Allowed {
		wait := ceilSeconds(or.RetryAfter)
		if or.RetryAfter <= 0 { // never admitted: point at the full reset
			wait = max(reset, 1)
		}
		reset = wait
		w.set("Retry-After", w.num(wait))
	}
	remaining := max(or.Remaining, 0)
	mode := s.headers
	if mode&HeadersXRateLimit != 0 {
		w.set("X-Ratelimit-Limit", cr.quotas[c.limit[i]])
		w.set("X-Ratelimit-Remaining", w.num(remaining))
		if mode&HeadersResetEpoch != 0 {
			w.set("X-Ratelimit-Reset", w.num(s.lim.Load().now().Unix()+reset))
		} else {
			w.set("X-Ratelimit-Reset", w.num(reset))
		}
	}
	if mode&HeadersDraft != 0 {
		policy := ""
		var last *compiledRule
		for j := 0; j < b.N; j++ {
			if b.Ops[j].Shadow || c.rules[j] == last {
				continue
			}
			if last != nil {
				policy += ", "
			}
			last = c.rules[j]
			policy += last.policyItems
		}
		w.set("Ratelimit-Policy", policy)
		start := len(w.b)
		w.b = append(w.b, cr.quoted[c.limit[i]]...)
		w.b = append(w.b, ";r="...)
		w.b = strconv.AppendInt(w.b, remaining, 10)
		w.b = append(w.b, ";t="...)
		w.b = strconv.AppendInt(w.b, reset, 10)
		w.set("Ratelimit", w.str(start))
	}
}

// headerValues backs the header values of one decision.
type headerValues struct {
	vals [6]string
	buf  [96]byte // enough for the usual values; more moves on to the heap
}

// headerSink writes response headers, straight into an http.Header when
// it is one. Keys must be in canonical form.
type headerSink struct {
	h    guard.HeaderWriter
	m    http.Header
	vals []string
	b    []byte // appended to only: earlier values stay as they are
}

// num returns v in decimal, backed by w.b.
func (w *headerSink) num(v int64) string {
	start := len(w.b)
	w.b = strconv.AppendInt(w.b, v, 10)
	return w.str(start)
}

// str returns w.b[start:] as a string. It is safe because the bytes are
// never written again: w.b is only appended to, and an append beyond its
// capacity moves on to a new array, leaving the old one as it was.
func (w *headerSink) str(start int) string {
	return unsafe.String(&w.b[start], len(w.b)-start)
}

func (w *headerSink) set(key, v string) {
	if w.m == nil {
		w.h.Set(key, v)
		return
	}
	w.vals = append(w.vals, v)
	n := len(w.vals)
	w.m[key] = w.vals[n-1 : n : n]
}
