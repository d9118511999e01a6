package limiter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/store"
	"github.com/guardsdk/guard/store/memory"
)

// Result is the outcome of a decision.
type Result struct {
	// Allowed reports whether the request is admitted (always true in
	// shadow mode).
	Allowed bool
	// Limit is the quota of the binding limit: the one that denied, or,
	// when allowed, the one with the least remaining. For GCRA it is the
	// burst.
	Limit int64
	// Remaining is what is left of the binding limit's quota after this
	// decision; -1 when unknown (a FailOpen or FailClosed decision).
	Remaining int64
	// ResetAfter is how long until the binding limit's quota is whole
	// again.
	ResetAfter time.Duration
	// RetryAfter is, when denied, how long until the same request could be
	// admitted (0 when it never can, or when unknown).
	RetryAfter time.Duration
	// Window is the binding limit's window, for headers: the period of a
	// window algorithm, or the time GCRA takes to refill its burst.
	Window time.Duration
	// Blocked reports a denial by a penalty block.
	Blocked bool
	// Shadow reports that a shadow-mode limit would have denied.
	Shadow bool
	// Degraded reports that the backend failed and the failure policy
	// decided.
	Degraded bool
	// Cached reports a denial answered by the local deny cache.
	Cached bool
}

// Limiter decides rate limits on a backend. Create it with New (direct
// use) or Option (inside a Guard). It is safe for concurrent use.
type Limiter struct {
	cfg      config
	backend  Backend
	memory   *MemoryBackend // backend, when it is the memory backend
	deny     *denyCache
	brk      breaker
	fallOnce sync.Once
	fallback *MemoryBackend
	policy   atomic.Pointer[policy]
	publish  atomic.Pointer[func(guard.Event)]
	now      func() time.Time
	// With no clock given, time is base plus the monotonic time since it:
	// time.Since reads one clock where time.Now reads two, which is a
	// third of a memory decision, and steps of the wall clock cannot
	// move it backwards.
	mono      bool
	base      time.Time
	baseMicro int64
	pool      sync.Pool
	closed    atomic.Bool
	degraded  atomic.Bool // between a failure and the next success
}

// policy is a compiled list of limits, replaced whole by SetLimits.
type policy struct {
	limits []Limit
	specs  []Spec
	names  []string
	nh     []uint64 // nameHash of names, for the memory backend
	cap    int64    // the smallest capacity: the largest valid cost
	// gcra is set for one GCRA limit without penalty, the default, which
	// the memory backend decides in MemoryBackend.gcra1; t, tau, limit
	// and window are that limit's, precomputed.
	gcra          bool
	t, tau, limit int64
	window        time.Duration
}

func compile(limits []Limit) (*policy, error) {
	if len(limits) > MaxOps {
		return nil, fmt.Errorf("%d limits; at most %d are decided together", len(limits), MaxOps)
	}
	p := &policy{limits: append([]Limit(nil), limits...), cap: MaxRate}
	seen := map[string]bool{}
	for i, l := range limits {
		if err := l.Validate(); err != nil {
			return nil, err
		}
		name := l.Name
		if name == "" {
			name = strconv.Itoa(i)
		}
		if seen[name] {
			return nil, fmt.Errorf("limiter: two limits named %q", name)
		}
		seen[name] = true
		p.specs = append(p.specs, l.spec())
		p.names = append(p.names, name)
		p.nh = append(p.nh, nameHash(name))
		p.cap = min(p.cap, l.Capacity())
	}
	if len(p.specs) == 1 && p.specs[0].Algorithm == GCRA && !p.specs[0].hasPenalty() {
		sp := &p.specs[0]
		p.gcra, p.t, p.tau = true, sp.Period, sp.Quota*sp.Period
		q, w := sp.window()
		p.limit, p.window = q, time.Duration(w)*time.Microsecond
	}
	return p, nil
}

// New returns a Limiter for direct use: Allow, AllowN, Peek and Reset on
// the limits of WithLimits, on a memory backend unless WithBackend is
// given. It validates every setting and fails with an error naming it.
func New(settings ...Setting) (*Limiter, error) {
	cfg := defaultConfig()
	for _, s := range settings {
		if s == nil {
			return nil, errors.New("limiter: New: nil setting")
		}
		if err := s.apply(&cfg); err != nil {
			return nil, err
		}
	}
	return newLimiter(cfg, nil)
}

// newLimiter builds a Limiter; env, when not nil, is the Guard's.
func newLimiter(cfg config, env *guard.Env) (*Limiter, error) {
	l := &Limiter{cfg: cfg, now: cfg.now}
	if l.now == nil {
		l.now = time.Now
		if env != nil && env.Now != nil {
			l.now = env.Now
		} else {
			l.mono, l.base = true, time.Now()
			l.baseMicro = l.base.UnixMicro()
		}
	}
	p, err := compile(cfg.limits)
	if err != nil {
		return nil, err
	}
	l.policy.Store(p)
	if cfg.publish != nil {
		l.publish.Store(&cfg.publish)
	} else if env != nil && env.Publish != nil {
		pub := env.Publish
		l.publish.Store(&pub)
	}
	switch {
	case cfg.backend != nil:
		l.backend = cfg.backend
	case env != nil && env.Store != nil:
		l.backend, err = backendFor(env.Store, cfg.maxKeys)
		if err != nil {
			return nil, err
		}
	default:
		l.backend, err = NewMemoryBackend(cfg.maxKeys)
		if err != nil {
			return nil, err
		}
	}
	l.memory, _ = l.backend.(*MemoryBackend)
	keys := cfg.denyKeys
	if keys < 0 {
		keys = DefaultDenyCacheKeys
		if l.memory != nil {
			keys = 0
		}
	}
	if keys > 0 {
		l.deny = newDenyCache(keys)
	}
	l.brk.threshold = int32(cfg.breakerFailures)
	l.brk.probe = micros(cfg.probe)
	l.pool.New = func() any { return new(Batch) }
	return l, nil
}

// backendFor picks the rate-limit backend that matches a Guard's store.
func backendFor(s store.Store, maxKeys int) (Backend, error) {
	switch s := s.(type) {
	case BackendProvider:
		b, err := s.RateLimitBackend()
		if err != nil {
			return nil, fmt.Errorf("limiter: backend of store %T: %w", s, err)
		}
		return b, nil
	case *memory.Store:
		// The generic KV would cost a map lookup, a copy and an
		// allocation per decision; the memory backend costs none.
		return NewMemoryBackend(maxKeys)
	}
	return nil, fmt.Errorf("limiter: store %T has no rate-limit backend (it does not implement limiter.BackendProvider); pass limiter.WithBackend", s)
}

// Backend returns the Limiter's backend.
func (l *Limiter) Backend() Backend { return l.backend }

// Limits returns the limits Allow applies.
func (l *Limiter) Limits() []Limit { return append([]Limit(nil), l.policy.Load().limits...) }

// SetLimits replaces the limits Allow applies, at run time. State is kept
// per limit name (by default the position), so a key's usage carries over
// to the new rate. It clears the deny cache.
func (l *Limiter) SetLimits(limits ...Limit) error {
	p, err := compile(limits)
	if err != nil {
		return fmt.Errorf("limiter: SetLimits: %w", err)
	}
	l.policy.Store(p)
	if l.deny != nil {
		l.deny.clear()
	}
	return nil
}

// Allow reports whether one event for key is admitted now, and consumes
// it if so. See AllowN.
func (l *Limiter) Allow(ctx context.Context, key string) (Result, error) {
	return l.AllowN(ctx, key, 1)
}

// AllowN decides an event of the given cost for key under every limit of
// WithLimits together: it is admitted, and the cost consumed from every
// limit, only if every limit admits it.
//
// A denial is a Result, not an error. The error is non-nil only for a
// cost that is not positive or exceeds a limit's Capacity (ErrCost), an
// empty key, a closed Limiter (ErrClosed), or a cancelled ctx; a failing
// backend is handled by the failure policy (Result.Degraded).
func (l *Limiter) AllowN(ctx context.Context, key string, cost int64) (Result, error) {
	if r, ok := l.fast(key, cost, false); ok {
		return r, nil
	}
	return l.direct(ctx, key, cost, false)
}

// Peek reports what Allow would decide for key now, without consuming
// anything or recording a penalty. Remaining is the current remaining
// quota.
func (l *Limiter) Peek(ctx context.Context, key string) (Result, error) {
	if r, ok := l.fast(key, 1, true); ok {
		return r, nil
	}
	return l.direct(ctx, key, 1, true)
}

// fast decides the default limit (one GCRA limit without penalty, not in
// shadow mode) on the memory backend, in a function of its own so that
// its frame stays small. ok is false when it does not apply or the key's
// record holds penalty state; direct decides then.
func (l *Limiter) fast(key string, cost int64, peek bool) (r Result, ok bool) {
	p, m := l.policy.Load(), l.memory
	if m == nil || !p.gcra || l.cfg.shadow || cost < 1 || cost > p.cap || key == "" || l.closed.Load() {
		return r, false
	}
	now := l.nowMicro()
	allowed, handled, tat, next := m.gcra1(m.hashKey(key, p.nh[0]), p.t, p.tau, cost, now, peek)
	if !handled {
		return r, false
	}
	end := tat
	if !allowed {
		r.RetryAfter = time.Duration(next-p.tau-now) * time.Microsecond
	} else if !peek {
		end = next
	}
	r.Allowed, r.Limit, r.Window = allowed, p.limit, p.window
	r.Remaining = max((p.tau-(end-now))/p.t, 0)
	r.ResetAfter = time.Duration(end-now) * time.Microsecond
	return r, true
}

func (l *Limiter) direct(ctx context.Context, key string, cost int64, peek bool) (Result, error) {
	p := l.policy.Load()
	if len(p.specs) == 0 {
		return Result{}, errors.New("limiter: no limits (WithLimits)")
	}
	if cost < 1 || cost > p.cap {
		return Result{}, fmt.Errorf("%w: cost %d not in [1, %d]", ErrCost, cost, p.cap)
	}
	if m := l.memory; m != nil && len(p.specs) == 1 {
		// The fast path: one limit on the memory backend, no batch.
		if key == "" {
			return Result{}, errors.New("limiter: empty key")
		}
		if l.closed.Load() {
			return Result{}, ErrClosed
		}
		var or OpResult
		allowed := m.decide1(key, p.nh[0], &p.specs[0], cost, l.nowMicro(), peek, l.cfg.shadow, &or)
		return result1(&p.specs[0], &or, allowed, l.cfg.shadow), nil
	}
	tag, err := l.tag(key)
	if err != nil {
		return Result{}, err
	}
	b := l.pool.Get().(*Batch)
	b.N, b.Peek = 0, peek
	for i := range p.specs {
		b.Ops[i] = Op{Tag: tag, Name: p.names[i], Spec: p.specs[i], Cost: cost, Shadow: l.cfg.shadow}
	}
	b.N = len(p.specs)
	res, err := l.decide(ctx, b)
	l.release(b)
	return res, err
}

// Reset forgets key's state under every limit of WithLimits, here and in
// the backend.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	p := l.policy.Load()
	tag, err := l.tag(key)
	if err != nil {
		return err
	}
	b := l.pool.Get().(*Batch)
	b.N = 0
	for i := range p.specs {
		b.Add(Op{Tag: tag, Name: p.names[i], Spec: p.specs[i]})
	}
	err = l.reset(ctx, b)
	l.release(b)
	return err
}

func (l *Limiter) reset(ctx context.Context, b *Batch) error {
	if l.closed.Load() {
		return ErrClosed
	}
	if l.deny != nil {
		for i := 0; i < b.N; i++ {
			l.deny.forget(&b.Ops[i])
		}
	}
	if fb := l.fallback; fb != nil {
		_ = fb.Reset(ctx, b)
	}
	ctx, cancel := l.withTimeout(ctx)
	defer cancel()
	if err := l.backend.Reset(ctx, b); err != nil {
		return fmt.Errorf("limiter: Reset: %w", err)
	}
	return nil
}

func (l *Limiter) release(b *Batch) {
	for i := 0; i < b.N; i++ {
		b.Ops[i].Tag, b.Ops[i].Name = "", ""
	}
	l.pool.Put(b)
}

// tag maps a direct key to the backend's tag. The memory backend hashes
// whatever it gets, so keys go to it as they are; remote backends get
// keys without hash tag delimiters (directTag).
func (l *Limiter) tag(key string) (string, error) {
	if l.memory != nil {
		if key == "" {
			return "", errors.New("limiter: empty key")
		}
		return key, nil
	}
	return directTag(key)
}

// maxKeyLen bounds direct keys; longer ones are hashed.
const maxKeyLen = 256

// directTag returns key as a backend tag: as is when it is short and has
// no braces (which would break Redis Cluster hash tags), else a digest.
func directTag(key string) (string, error) {
	if key == "" {
		return "", errors.New("limiter: empty key")
	}
	if len(key) <= maxKeyLen && safeTag(key) {
		return key, nil
	}
	return digestTag(key), nil
}

func safeTag(s string) bool {
	if s[0] == '#' { // reserved for digests
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '{' || c == '}' || c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// digestTag is "#" and 32 hex digits of SHA-256. Safe tags never start
// with '#', so a digest cannot collide with a key kept as is.
func digestTag(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "#" + hex.EncodeToString(sum[:16])
}

func (l *Limiter) nowMicro() int64 {
	if l.mono {
		return l.baseMicro + int64(time.Since(l.base)/time.Microsecond)
	}
	return l.now().UnixMicro()
}

func (l *Limiter) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if l.memory != nil {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, l.cfg.timeout)
}

// decide runs b through the deny cache, the breaker, the backend and the
// failure policy, and summarises it. b.Results are valid afterwards.
func (l *Limiter) decide(ctx context.Context, b *Batch) (Result, error) {
	if l.closed.Load() {
		return Result{}, ErrClosed
	}
	now := l.nowMicro()
	b.Now = now
	if l.memory != nil { // the fast path: no deny cache, no failure
		_ = l.memory.Decide(ctx, b)
		return summarise(b), nil
	}
	if l.deny != nil && !b.Peek && l.denyCached(b, now) {
		r := summarise(b)
		r.Cached = true
		return r, nil
	}
	probe, call := l.brk.allow(now)
	if !call {
		return l.degrade(ctx, b), nil
	}
	cctx, cancel := context.WithTimeout(ctx, l.cfg.timeout)
	err := l.backend.Decide(cctx, b)
	cancel()
	if err != nil {
		if ctx.Err() != nil { // the caller gave up; not the backend's fault
			l.brk.abandon(probe)
			return Result{}, fmt.Errorf("limiter: %w", ctx.Err())
		}
		l.brk.failure(now, probe)
		if l.degraded.CompareAndSwap(false, true) {
			l.emit(guard.Event{
				Kind:   guard.KindBackendDegraded,
				Stage:  StageName,
				Reason: "backend_unavailable",
				Err:    fmt.Errorf("limiter: backend failed, applying %s: %w", l.cfg.failure, err),
				Attrs:  []guard.Attr{{Key: "policy", Value: l.cfg.failure.String()}},
			})
		}
		return l.degrade(ctx, b), nil
	}
	l.brk.success(probe)
	if l.degraded.Load() && l.degraded.CompareAndSwap(true, false) {
		l.emit(guard.Event{Kind: guard.KindBackendRecovered, Stage: StageName, Reason: "backend_recovered"})
	}
	if l.deny != nil && !b.Allowed && !b.Peek {
		local := l.nowMicro()
		for i := 0; i < b.N; i++ {
			r := &b.Results[i]
			if !r.Allowed && !b.Ops[i].Shadow && r.RetryAfter > 0 {
				// Measured from when the answer arrived: the entry may
				// outlive the denial by the answer's transit time, never
				// end before it.
				l.deny.put(&b.Ops[i], local+r.RetryAfter, local)
			}
		}
	}
	return summarise(b), nil
}

// denyCached answers b from the deny cache when one of its enforced ops
// is known to be denied.
func (l *Limiter) denyCached(b *Batch, now int64) bool {
	for i := 0; i < b.N; i++ {
		op := &b.Ops[i]
		if op.Shadow {
			continue
		}
		if until := l.deny.denied(op, now); until != 0 {
			for j := 0; j < b.N; j++ {
				b.Results[j] = OpResult{Allowed: true, Remaining: -1}
			}
			b.Results[i] = OpResult{RetryAfter: until - now, ResetAfter: until - now}
			b.Allowed = false
			return true
		}
	}
	return false
}

// degrade applies the failure policy to b.
func (l *Limiter) degrade(ctx context.Context, b *Batch) Result {
	switch l.cfg.failure {
	case FailOpen, FailClosed:
		allow := l.cfg.failure == FailOpen
		for i := 0; i < b.N; i++ {
			b.Results[i] = OpResult{Allowed: allow, Remaining: -1}
		}
		b.Allowed = allow || l.allShadow(b)
	default:
		l.fallOnce.Do(func() {
			l.fallback, _ = NewMemoryBackend(l.cfg.fallbackKeys)
		})
		_ = l.fallback.Decide(ctx, b)
	}
	r := summarise(b)
	r.Degraded = true
	if l.cfg.failure != FailLocal {
		r.Remaining = -1
		if !r.Allowed {
			r.RetryAfter = l.cfg.probe
		}
	}
	return r
}

func (l *Limiter) allShadow(b *Batch) bool {
	for i := 0; i < b.N; i++ {
		if !b.Ops[i].Shadow {
			return false
		}
	}
	return true
}

func (l *Limiter) emit(ev guard.Event) {
	if p := l.publish.Load(); p != nil {
		(*p)(ev)
	}
}

// binding picks the op whose numbers a Result (and the headers) report:
// when denied, the enforced denial with the longest wait; when allowed,
// the enforced op with the least remaining (then the longest reset).
// It returns -1 when no op qualifies.
func binding(b *Batch) int {
	best := -1
	for i := 0; i < b.N; i++ {
		if b.Ops[i].Shadow {
			continue
		}
		r := &b.Results[i]
		if !b.Allowed {
			if r.Allowed {
				continue
			}
			if best < 0 || r.RetryAfter > b.Results[best].RetryAfter {
				best = i
			}
			continue
		}
		if best < 0 || r.Remaining < b.Results[best].Remaining ||
			r.Remaining == b.Results[best].Remaining && r.ResetAfter > b.Results[best].ResetAfter {
			best = i
		}
	}
	return best
}

// result1 is summarise for a decision of one op.
func result1(sp *Spec, or *OpResult, allowed, shadow bool) Result {
	q, w := sp.window()
	r := Result{
		Allowed:    allowed,
		Limit:      q,
		Window:     time.Duration(w) * time.Microsecond,
		Remaining:  or.Remaining,
		ResetAfter: time.Duration(or.ResetAfter) * time.Microsecond,
		Blocked:    or.Blocked,
	}
	if shadow {
		r.Shadow = !or.Allowed
		r.Remaining, r.ResetAfter, r.Limit, r.Window, r.Blocked = 0, 0, 0, 0, false
	} else if !allowed {
		r.RetryAfter = time.Duration(or.RetryAfter) * time.Microsecond
	}
	return r
}

// summarise turns a decided batch into the Result its binding op
// describes.
func summarise(b *Batch) Result {
	r := Result{Allowed: b.Allowed}
	for i := 0; i < b.N; i++ {
		if b.Ops[i].Shadow && !b.Results[i].Allowed {
			r.Shadow = true
		}
	}
	i := binding(b)
	if i < 0 {
		return r
	}
	op, or := &b.Ops[i], &b.Results[i]
	q, w := op.Spec.window()
	r.Limit = q
	r.Window = time.Duration(w) * time.Microsecond
	r.Remaining = or.Remaining
	r.ResetAfter = time.Duration(or.ResetAfter) * time.Microsecond
	r.Blocked = or.Blocked
	if !b.Allowed {
		r.RetryAfter = time.Duration(or.RetryAfter) * time.Microsecond
	}
	return r
}

// Close stops using the backend: later decisions fail with ErrClosed. It
// does not close the backend, which belongs to whoever created it (the
// Guard's store, or the caller of WithBackend). It is idempotent.
func (l *Limiter) Close(ctx context.Context) error {
	l.closed.Store(true)
	return nil
}

// breaker is a circuit breaker read with one atomic load on the hot path.
type breaker struct {
	threshold int32
	probe     int64 // µs
	failures  atomic.Int32
	openUntil atomic.Int64 // 0: closed
	probing   atomic.Bool
	mu        sync.Mutex
}

// allow reports whether to call the backend, and whether the call is the
// probe of an open breaker.
func (b *breaker) allow(now int64) (probe, call bool) {
	ou := b.openUntil.Load()
	if ou == 0 {
		return false, true
	}
	if now < ou {
		return false, false
	}
	if b.probing.CompareAndSwap(false, true) {
		return true, true
	}
	return false, false
}

// success records a successful call; it reports whether it closed the
// breaker.
func (b *breaker) success(probe bool) bool {
	if b.failures.Load() != 0 {
		b.failures.Store(0)
	}
	if b.openUntil.Load() == 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openUntil.Load() == 0 {
		return false
	}
	b.openUntil.Store(0)
	b.probing.Store(false)
	return true
}

// failure records a failed call; it reports whether it opened the breaker.
func (b *breaker) failure(now int64, probe bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.openUntil.Store(now + b.probe)
		b.probing.Store(false)
		return false
	}
	if b.openUntil.Load() != 0 {
		return false
	}
	if b.failures.Add(1) < b.threshold {
		return false
	}
	b.openUntil.Store(now + b.probe)
	return true
}

// abandon gives the probe back when its caller went away.
func (b *breaker) abandon(probe bool) {
	if probe {
		b.probing.Store(false)
	}
}
