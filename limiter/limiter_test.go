package limiter_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"pgregory.net/rapid"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/limiter"
	"github.com/guardsdk/guard/store"
)

// clock is a manual clock: tests move it, nothing sleeps.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// flaky wraps a memory backend; fail makes it fail, block makes it wait
// for the context, and it counts calls. Being another type, it gets the
// remote treatment (timeouts, deny cache).
type flaky struct {
	inner *limiter.MemoryBackend
	fail  atomic.Bool
	block atomic.Bool
	calls atomic.Int64
}

func newFlaky(t *testing.T) *flaky {
	m, err := limiter.NewMemoryBackend(1 << 12)
	if err != nil {
		t.Fatal(err)
	}
	return &flaky{inner: m}
}

var errDown = fmt.Errorf("flaky: %w", store.ErrUnavailable)

func (f *flaky) Decide(ctx context.Context, b *limiter.Batch) error {
	f.calls.Add(1)
	if f.block.Load() {
		<-ctx.Done()
		return fmt.Errorf("flaky: %w: %w", store.ErrUnavailable, ctx.Err())
	}
	if f.fail.Load() {
		return errDown
	}
	return f.inner.Decide(ctx, b)
}

func (f *flaky) Reset(ctx context.Context, b *limiter.Batch) error { return f.inner.Reset(ctx, b) }

type events struct {
	mu  sync.Mutex
	evs []guard.Event
}

func (e *events) publish(ev guard.Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
}

func (e *events) kinds() []guard.Kind {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ks []guard.Kind
	for _, ev := range e.evs {
		ks = append(ks, ev.Kind)
	}
	return ks
}

type fataler interface {
	Helper()
	Fatal(args ...any)
}

func mustNew(t fataler, settings ...limiter.Setting) *limiter.Limiter {
	t.Helper()
	l, err := limiter.New(settings...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestDirectAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l := mustNew(t, limiter.WithLimits(limiter.Per(3, time.Minute)), limiter.WithClock(c.Now))
	for i := 0; i < 3; i++ {
		r, err := l.Allow(ctx, "user:1")
		if err != nil || !r.Allowed || r.Remaining != int64(2-i) || r.Limit != 3 {
			t.Fatalf("request %d: %+v, %v", i, r, err)
		}
	}
	r, _ := l.Allow(ctx, "user:1")
	if r.Allowed || r.RetryAfter != 20*time.Second || r.ResetAfter != time.Minute || r.Window != time.Minute {
		t.Fatalf("fourth request: %+v", r)
	}
	if r, _ := l.Allow(ctx, "user:2"); !r.Allowed {
		t.Fatalf("another key denied: %+v", r)
	}
	if p, _ := l.Peek(ctx, "user:1"); p.Allowed || p.Remaining != 0 {
		t.Fatalf("peek: %+v", p)
	}
	c.Advance(20 * time.Second)
	if p, _ := l.Peek(ctx, "user:1"); !p.Allowed || p.Remaining != 1 {
		t.Fatalf("peek after 20s: %+v", p)
	}
	if p, _ := l.Peek(ctx, "user:1"); !p.Allowed || p.Remaining != 1 {
		t.Fatalf("peek consumed: %+v", p)
	}
	if err := l.Reset(ctx, "user:1"); err != nil {
		t.Fatal(err)
	}
	if r, _ := l.AllowN(ctx, "user:1", 3); !r.Allowed || r.Remaining != 0 {
		t.Fatalf("after reset, cost 3: %+v", r)
	}
	for _, cost := range []int64{0, -1, 4} {
		if _, err := l.AllowN(ctx, "user:1", cost); !errors.Is(err, limiter.ErrCost) {
			t.Errorf("cost %d: err = %v, want ErrCost", cost, err)
		}
	}
	if _, err := l.Allow(ctx, ""); err == nil {
		t.Error("empty key accepted")
	}
	// Keys with hash-tag braces or of any length work (as digests).
	for _, k := range []string{"{x}", "#abc", string(make([]byte, 1000))} {
		if r, err := l.Allow(ctx, k); err != nil || !r.Allowed {
			t.Errorf("key %.10q: %+v, %v", k, r, err)
		}
	}
	// Limits change at run time; usage carries over.
	if err := l.SetLimits(limiter.Per(6, time.Minute)); err != nil {
		t.Fatal(err)
	}
	// GCRA keeps usage as time owed: the bucket was empty, and is still
	// empty under the new rate, refilling one request every 10s.
	if r, _ := l.Allow(ctx, "user:1"); r.Allowed || r.Limit != 6 || r.RetryAfter != 10*time.Second {
		t.Fatalf("after SetLimits: %+v", r)
	}
	c.Advance(10 * time.Second)
	if r, _ := l.Allow(ctx, "user:1"); !r.Allowed {
		t.Fatalf("after SetLimits and 10s: %+v", r)
	}
	if err := l.SetLimits(limiter.Per(0, time.Minute)); err == nil {
		t.Error("SetLimits accepted rate 0")
	}
	_ = l.Close(ctx)
	if _, err := l.Allow(ctx, "user:1"); !errors.Is(err, limiter.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestSettingsValidation(t *testing.T) {
	t.Parallel()
	bad := map[string]limiter.Setting{
		"rate 0":           limiter.WithLimits(limiter.Per(0, time.Second)),
		"period 0":         limiter.WithLimits(limiter.Per(1, 0)),
		"period 1µs":       limiter.WithLimits(limiter.Per(1, time.Microsecond)),
		"window burst":     limiter.WithLimits(limiter.PerSecond(5).WithBurst(9).Using(limiter.FixedWindow)),
		"too fast":         limiter.WithLimits(limiter.Per(2000, time.Millisecond)),
		"penalty max<base": limiter.WithLimits(limiter.PerSecond(1).WithPenalty(limiter.Penalty{Base: time.Minute, Max: time.Second})),
		"dup names":        limiter.WithLimits(limiter.PerSecond(1).Named("a"), limiter.PerDay(9).Named("a")),
		"bad name":         limiter.WithLimits(limiter.PerSecond(1).Named("a b")),
		"too many":         limiter.WithLimits(make([]limiter.Limit, 9)...),
		"nil backend":      limiter.WithBackend(nil),
		"max keys":         limiter.WithMaxKeys(0),
		"timeout":          limiter.WithTimeout(0),
		"breaker":          limiter.WithBreaker(0, time.Second),
		"deny cache":       limiter.WithDenyCache(-1),
		"policy":           limiter.WithFailurePolicy(9),
		"headers":          limiter.WithHeaders(0x80),
		"clock":            limiter.WithClock(nil),
	}
	for name, s := range bad {
		if _, err := limiter.New(s); err == nil {
			t.Errorf("%s: New succeeded", name)
		} else if err.Error()[:9] != "limiter: " {
			t.Errorf("%s: error %q lacks the prefix", name, err)
		}
	}
}

// TestGCRABound checks the GCRA guarantee over random arrivals: over any
// run, admitted cost ≤ burst + elapsed × rate.
func TestGCRABound(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		rate := rapid.Int64Range(1, 50).Draw(rt, "rate")
		burst := rapid.Int64Range(1, 50).Draw(rt, "burst")
		period := time.Duration(rapid.Int64Range(1, 10_000).Draw(rt, "period_ms")) * time.Millisecond
		c := newClock()
		lim := limiter.Per(rate, period).WithBurst(burst)
		l := mustNew(rt, limiter.WithLimits(lim), limiter.WithClock(c.Now), limiter.WithMaxKeys(64))
		interval := limiter.SpecOf(lim).Period // µs, rounded up
		var admitted, elapsed int64
		for i := 0; i < 200; i++ {
			dt := rapid.Int64Range(0, int64(period/time.Microsecond)/rate*2).Draw(rt, "dt")
			c.Advance(time.Duration(dt) * time.Microsecond)
			elapsed += dt
			cost := rapid.Int64Range(1, burst).Draw(rt, "cost")
			r, err := l.AllowN(context.Background(), "k", cost)
			if err != nil {
				rt.Fatal(err)
			}
			if r.Allowed {
				admitted += cost
			}
			if bound := burst + elapsed/interval; admitted > bound {
				rt.Fatalf("admitted %d after %dµs; bound %d", admitted, elapsed, bound)
			}
		}
	})
}

// TestRetryAfterIsExact: a denied request is admitted exactly at
// RetryAfter, not a microsecond earlier (GCRA and fixed window; the
// sliding window's is a float estimate, exact within a microsecond).
func TestRetryAfterIsExact(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		alg := limiter.Algorithm(rapid.SampledFrom([]int{0, 1, 2}).Draw(rt, "alg"))
		rate := rapid.Int64Range(1, 20).Draw(rt, "rate")
		period := time.Duration(rapid.Int64Range(1, 5000).Draw(rt, "period_ms")) * time.Millisecond
		c := newClock()
		l := mustNew(rt, limiter.WithLimits(limiter.Per(rate, period).Using(alg)), limiter.WithClock(c.Now), limiter.WithMaxKeys(64))
		ctx := context.Background()
		for i := 0; i < 60; i++ {
			c.Advance(time.Duration(rapid.Int64Range(0, int64(period/time.Microsecond)/rate).Draw(rt, "dt")) * time.Microsecond)
			cost := rapid.Int64Range(1, rate).Draw(rt, "cost")
			r, err := l.AllowN(ctx, "k", cost)
			if err != nil {
				rt.Fatal(err)
			}
			if r.Allowed {
				continue
			}
			slack := time.Duration(0)
			if alg == limiter.SlidingWindow {
				slack = time.Microsecond
			}
			c.Advance(r.RetryAfter - time.Microsecond - slack)
			if p, _ := l.Peek(ctx, "k"); p.Allowed && cost == 1 {
				rt.Fatalf("admitted before RetryAfter %v", r.RetryAfter)
			}
			c.Advance(time.Microsecond + slack)
			if r2, _ := l.AllowN(ctx, "k", cost); !r2.Allowed {
				rt.Fatalf("denied at RetryAfter %v: %+v", r.RetryAfter, r2)
			}
		}
	})
}

func TestMultipleLimitsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l := mustNew(t, limiter.WithClock(c.Now), limiter.WithLimits(
		limiter.PerSecond(2).Named("second"),
		limiter.PerDay(5).Using(limiter.FixedWindow).Named("day"),
	))
	admitted := 0
	for i := 0; i < 40; i++ {
		r, _ := l.Allow(ctx, "k")
		if r.Allowed {
			admitted++
		}
		c.Advance(100 * time.Millisecond)
	}
	if admitted != 5 {
		t.Fatalf("admitted %d in 4s, want the daily 5", admitted)
	}
	r, _ := l.Allow(ctx, "k")
	if r.Allowed || r.Limit != 5 || r.RetryAfter < 23*time.Hour {
		t.Fatalf("binding limit should be the daily one: %+v", r)
	}
}

func TestPenalty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	pen := limiter.Penalty{Base: 10 * time.Second, Max: 40 * time.Second, Decay: time.Minute}
	l := mustNew(t, limiter.WithClock(c.Now), limiter.WithLimits(limiter.PerSecond(1).WithPenalty(pen)))
	violate := func() limiter.Result {
		t.Helper()
		for {
			r, _ := l.Allow(ctx, "k")
			if !r.Allowed {
				return r
			}
		}
	}
	for i, want := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 40 * time.Second} {
		r := violate()
		if r.Blocked || r.RetryAfter != want {
			t.Fatalf("violation %d: %+v, want a %v block", i+1, r, want)
		}
		if r, _ := l.Allow(ctx, "k"); !r.Blocked || r.RetryAfter != want {
			t.Fatalf("during block %d: %+v", i+1, r)
		}
		c.Advance(want)
	}
	// Two quiet minutes after the block: the level drops from 4 to 2, so
	// the next violation is level 3: 40s.
	c.Advance(2 * time.Minute)
	if r := violate(); r.RetryAfter != 40*time.Second {
		t.Fatalf("after two decays: %+v", r)
	}
	c.Advance(40*time.Second + 10*time.Minute)
	if r := violate(); r.RetryAfter != 10*time.Second {
		t.Fatalf("after full decay: %+v", r)
	}
}

func TestShadowMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := mustNew(t, limiter.WithShadow(true), limiter.WithLimits(limiter.Per(2, time.Hour)), limiter.WithClock(newClock().Now))
	for i := 0; i < 5; i++ {
		r, _ := l.Allow(ctx, "k")
		if !r.Allowed || r.Shadow != (i >= 2) {
			t.Fatalf("request %d: %+v", i, r)
		}
	}
}

func TestMemoryAllocations(t *testing.T) {
	l := mustNew(t, limiter.WithLimits(limiter.PerSecond(1000)), limiter.WithMaxKeys(1<<12))
	ctx := context.Background()
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	i := 0
	if n := testing.AllocsPerRun(1000, func() {
		_, _ = l.Allow(ctx, keys[i%len(keys)])
		i++
	}); n != 0 {
		t.Fatalf("Allow allocates %v times per call", n)
	}
	l2 := mustNew(t, limiter.WithLimits(limiter.PerSecond(10), limiter.PerHour(1000).Using(limiter.SlidingWindow)), limiter.WithMaxKeys(1<<12))
	if n := testing.AllocsPerRun(1000, func() {
		_, _ = l2.Allow(ctx, keys[i%len(keys)])
		i++
	}); n != 0 {
		t.Fatalf("Allow with two limits allocates %v times per call", n)
	}
}

// TestMemoryBytesPerKey: a million keys in the default table cost at most
// 64 bytes each, and (at 95% load) almost none is evicted.
func TestMemoryBytesPerKey(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 32 MiB")
	}
	const keys = 1_000_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b, err := limiter.NewMemoryBackend(limiter.DefaultMaxKeys)
	if err != nil {
		t.Fatal(err)
	}
	spec := limiter.SpecOf(limiter.PerMinute(10))
	var bt limiter.Batch
	buf := make([]byte, 0, 16)
	for i := 0; i < keys; i++ {
		buf = strconv.AppendInt(buf[:0], int64(i), 10)
		bt.N = 0
		bt.Now = 1_767_225_600_000_000
		bt.Add(limiter.Op{Tag: unsafe.String(&buf[0], len(buf)), Name: "n", Spec: spec, Cost: 1})
		_ = b.Decide(context.Background(), &bt)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	evicted := b.Evicted()
	runtime.KeepAlive(b)
	var dropped runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&dropped)
	// Two estimates: what filling the backend added, and what dropping it
	// freed. Memory of other tests freed meanwhile (a leftover Limiter's
	// 32 MiB table, say) can spoil one of them, rarely both; the smaller
	// positive one is kept.
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	freed := int64(after.HeapAlloc) - int64(dropped.HeapAlloc)
	est := max(grown, freed)
	if grown > 0 && freed > 0 {
		est = min(grown, freed)
	}
	per := float64(est) / keys
	t.Logf("%.1f heap bytes per key (grown %d, freed %d); %d of %d keys evicted", per, grown, freed, evicted, keys)
	if per <= 0 || per > 64 {
		t.Errorf("%.1f bytes per key, want at most 64", per)
	}
	if evicted > keys/100 {
		t.Errorf("%d keys evicted at 95%% load, want under 1%%", evicted)
	}
}

func TestMemoryEvictionBound(t *testing.T) {
	t.Parallel()
	b, err := limiter.NewMemoryBackend(1000)
	if err != nil {
		t.Fatal(err)
	}
	if b.Cap() < 1000 || b.Cap() > 1100 {
		t.Fatalf("Cap = %d for 1000 keys", b.Cap())
	}
	spec := limiter.SpecOf(limiter.PerMinute(10))
	for i := 0; i < 10_000; i++ {
		var bt limiter.Batch
		bt.Now = 1_767_225_600_000_000 + int64(i)
		bt.Add(limiter.Op{Tag: strconv.Itoa(i), Name: "n", Spec: spec, Cost: 1})
		_ = b.Decide(context.Background(), &bt)
	}
	if ev := b.Evicted(); ev < 10_000-uint64(b.Cap()) {
		t.Fatalf("evicted %d of 10000 keys into %d slots", ev, b.Cap())
	}
}

func TestFailurePolicies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy  limiter.FailurePolicy
		allowed []bool // five requests on a limit of 2
	}{
		{limiter.FailOpen, []bool{true, true, true, true, true}},
		{limiter.FailClosed, []bool{false, false, false, false, false}},
		{limiter.FailLocal, []bool{true, true, false, false, false}},
	} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			t.Parallel()
			f := newFlaky(t)
			f.fail.Store(true)
			var ev events
			l := mustNew(t, limiter.WithBackend(f), limiter.WithFailurePolicy(tc.policy),
				limiter.WithLimits(limiter.Per(2, time.Hour)), limiter.WithEvents(ev.publish), limiter.WithClock(newClock().Now))
			for i, want := range tc.allowed {
				r, err := l.Allow(context.Background(), "k")
				if err != nil {
					t.Fatal(err)
				}
				if r.Allowed != want || !r.Degraded {
					t.Fatalf("request %d: %+v, want allowed=%v degraded", i, r, want)
				}
			}
			if got := ev.kinds(); len(got) != 1 || got[0] != guard.KindBackendDegraded {
				t.Fatalf("events %v, want one backend_degraded", got)
			}
		})
	}
}

func TestBreaker(t *testing.T) {
	t.Parallel()
	c := newClock()
	f := newFlaky(t)
	var ev events
	l := mustNew(t, limiter.WithBackend(f), limiter.WithBreaker(3, time.Second), limiter.WithClock(c.Now),
		limiter.WithLimits(limiter.Per(1000, time.Hour)), limiter.WithEvents(ev.publish))
	ctx := context.Background()
	allow := func() limiter.Result {
		t.Helper()
		r, err := l.Allow(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := allow(); r.Degraded || f.calls.Load() != 1 {
		t.Fatalf("healthy: %+v, %d calls", r, f.calls.Load())
	}
	f.fail.Store(true)
	for i := 0; i < 10; i++ {
		if r := allow(); !r.Degraded {
			t.Fatalf("failing request %d not degraded", i)
		}
	}
	if n := f.calls.Load(); n != 4 {
		t.Fatalf("%d backend calls, want 1 + 3 before the breaker opened", n)
	}
	c.Advance(time.Second)
	allow() // the probe, failing
	allow()
	if n := f.calls.Load(); n != 5 {
		t.Fatalf("%d calls after one probe interval, want 5", n)
	}
	f.fail.Store(false)
	c.Advance(time.Second)
	if r := allow(); r.Degraded {
		t.Fatalf("successful probe still degraded: %+v", r)
	}
	if r := allow(); r.Degraded || f.calls.Load() != 7 {
		t.Fatalf("after recovery: %+v, %d calls", r, f.calls.Load())
	}
	got := ev.kinds()
	if len(got) != 2 || got[0] != guard.KindBackendDegraded || got[1] != guard.KindBackendRecovered {
		t.Fatalf("events %v, want degraded then recovered", got)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	f := newFlaky(t)
	f.block.Store(true)
	l := mustNew(t, limiter.WithBackend(f), limiter.WithTimeout(20*time.Millisecond), limiter.WithFailurePolicy(limiter.FailOpen),
		limiter.WithLimits(limiter.PerSecond(10)), limiter.WithBreaker(1, time.Hour))
	start := time.Now()
	r, err := l.Allow(context.Background(), "k")
	if err != nil || !r.Allowed || !r.Degraded {
		t.Fatalf("%+v, %v", r, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v with a 20ms timeout", d)
	}
	// The breaker is open now: the next decisions do not call at all.
	for i := 0; i < 100; i++ {
		_, _ = l.Allow(context.Background(), "k")
	}
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("%d backend calls with an open breaker", n)
	}
	// A caller's own cancellation is an error, not a backend failure.
	g := newFlaky(t)
	g.block.Store(true)
	l2 := mustNew(t, limiter.WithBackend(g), limiter.WithLimits(limiter.PerSecond(10)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l2.Allow(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
}

func TestDenyCache(t *testing.T) {
	t.Parallel()
	c := newClock()
	f := newFlaky(t)
	l := mustNew(t, limiter.WithBackend(f), limiter.WithClock(c.Now), limiter.WithLimits(limiter.Per(2, time.Minute)))
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		_, _ = l.Allow(ctx, "k")
	}
	if n := f.calls.Load(); n != 3 {
		t.Fatalf("%d calls", n)
	}
	for i := 0; i < 100; i++ {
		r, _ := l.Allow(ctx, "k")
		if r.Allowed || !r.Cached || r.RetryAfter != 30*time.Second {
			t.Fatalf("cached denial %d: %+v", i, r)
		}
	}
	if n := f.calls.Load(); n != 3 {
		t.Fatalf("%d backend calls while the key is known denied", n)
	}
	c.Advance(30 * time.Second)
	if r, _ := l.Allow(ctx, "k"); !r.Allowed || r.Cached {
		t.Fatalf("after the denial ends: %+v", r)
	}
	// Reset forgets the cached denial too.
	_, _ = l.Allow(ctx, "k")
	if r, _ := l.Allow(ctx, "k"); r.Allowed {
		t.Fatalf("not denied again: %+v", r)
	}
	if err := l.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if r, _ := l.Allow(ctx, "k"); !r.Allowed {
		t.Fatalf("after Reset: %+v", r)
	}
}

func TestConcurrentDirect(t *testing.T) {
	t.Parallel()
	for _, lim := range []limiter.Limit{
		limiter.Per(500, time.Hour).Using(limiter.FixedWindow),
		limiter.Per(500, time.Hour), // GCRA, burst 500: the default limit's own path
	} {
		c := newClock()
		// 16 goroutines also insert 1,600 other keys while deciding the
		// hot one (a table of 4,096: no eviction, which would forget it).
		l := mustNew(t, limiter.WithClock(c.Now), limiter.WithLimits(lim), limiter.WithMaxKeys(4096))
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for g := 0; g < 16; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 100; i++ {
					if r, _ := l.Allow(context.Background(), "hot"); r.Allowed {
						admitted.Add(1)
					}
					_, _ = l.Allow(context.Background(), "churn:"+strconv.Itoa(g*100+i))
				}
			}()
		}
		wg.Wait()
		if ev := l.Backend().(*limiter.MemoryBackend).Evicted(); ev != 0 {
			t.Fatalf("%d records evicted from a table at 40%% load", ev)
		}
		if n := admitted.Load(); n != 500 {
			t.Fatalf("%v: admitted %d, want exactly 500", limiter.SpecOf(lim).Algorithm, n)
		}
	}
}
