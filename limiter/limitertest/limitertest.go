package limitertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/guardsdk/guard/limiter"
)

// Config describes the backend under test.
type Config struct {
	// New returns the backend under test. It must decide at Batch.Now
	// (backends with a clock of their own need a test mode for that). The
	// suite uses unique tags, so New may return the same backend each
	// time.
	New func(t *testing.T) limiter.Backend
	// Goroutines hammering one key in the concurrency tests (default 8).
	Goroutines int
	// Checks is the number of random sequences per property (default 100).
	Checks int
}

// base is a time well inside the range every backend handles: 2026-01-01.
const base = 1_767_225_600_000_000

var run = strconv.FormatUint(rand.Uint64(), 36)

var seq atomic.Uint64

// Tag returns a tag no other test of this process or another uses.
func Tag(name string) string {
	return "lt-" + run + "-" + strconv.FormatUint(seq.Add(1), 10) + "-" + name
}

// Run runs the conformance suite.
func Run(t *testing.T, cfg Config) {
	if cfg.Goroutines == 0 {
		cfg.Goroutines = 8
	}
	if cfg.Checks == 0 {
		cfg.Checks = 100
	}
	t.Run("Model", func(t *testing.T) { testModel(t, cfg, false) })
	t.Run("ModelMultiTag", func(t *testing.T) { testModel(t, cfg, true) })
	t.Run("ExactUnderConcurrency", func(t *testing.T) { testExact(t, cfg) })
	t.Run("AllOrNothingUnderConcurrency", func(t *testing.T) { testAllOrNothing(t, cfg) })
	t.Run("PeekAndReset", func(t *testing.T) { testPeekReset(t, cfg) })
}

// Spec draws a random valid spec.
func Spec(t *rapid.T, label string) limiter.Spec {
	alg := limiter.Algorithm(rapid.IntRange(0, 2).Draw(t, label+".alg"))
	l := limiter.Limit{
		Algorithm: alg,
		Rate:      rapid.Int64Range(1, 20).Draw(t, label+".rate"),
		Period:    time.Duration(rapid.Int64Range(1, 5000).Draw(t, label+".period_ms")) * time.Millisecond,
	}
	if alg == limiter.GCRA {
		l.Burst = rapid.Int64Range(0, 20).Draw(t, label+".burst")
	}
	if rapid.Bool().Draw(t, label+".penalty") {
		b := time.Duration(rapid.Int64Range(1, 2000).Draw(t, label+".pen_base_ms")) * time.Millisecond
		l.Penalty = limiter.Penalty{
			Base:  b,
			Max:   b * time.Duration(rapid.Int64Range(1, 16).Draw(t, label+".pen_max_x")),
			Decay: time.Duration(rapid.Int64Range(0, 3000).Draw(t, label+".pen_decay_ms")) * time.Millisecond,
		}
	}
	if err := l.Validate(); err != nil {
		t.Fatalf("invalid limit drawn: %v", err)
	}
	return limiter.SpecOf(l)
}

func testModel(t *testing.T, cfg Config, multiTag bool) {
	b := cfg.New(t)
	ctx := context.Background()
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 3).Draw(rt, "ops")
		var ops [limiter.MaxOps]limiter.Op
		tag := Tag("model")
		for i := 0; i < n; i++ {
			ops[i].Spec = Spec(rt, "spec"+strconv.Itoa(i))
			ops[i].Tag = tag
			if multiTag {
				ops[i].Tag = tag + "-" + strconv.Itoa(i)
			}
			ops[i].Name = "l" + strconv.Itoa(i)
			ops[i].Shadow = rapid.IntRange(0, 4).Draw(rt, "shadow"+strconv.Itoa(i)) == 0
		}
		model := NewModel()
		now := int64(base) + rapid.Int64Range(0, 1e9).Draw(rt, "start")
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for s := 0; s < steps; s++ {
			now += rapid.Int64Range(0, 3_000_000).Draw(rt, "dt")
			var got, want limiter.Batch
			got.Now, got.N = now, n
			copy(got.Ops[:], ops[:n])
			for i := 0; i < n; i++ {
				got.Ops[i].Cost = rapid.Int64Range(1, 6).Draw(rt, "cost")
			}
			switch rapid.IntRange(0, 9).Draw(rt, "kind") {
			case 0:
				got.Peek = true
			case 1:
				if err := b.Reset(ctx, &got); err != nil {
					rt.Fatalf("Reset: %v", err)
				}
				model.Reset(&got)
				continue
			}
			want = got
			if err := b.Decide(ctx, &got); err != nil {
				rt.Fatalf("Decide: %v", err)
			}
			model.Decide(&want)
			if got.Allowed != want.Allowed {
				rt.Fatalf("step %d at %d: Allowed = %v, model says %v\ngot  %+v\nwant %+v", s, now, got.Allowed, want.Allowed, got.Results[:n], want.Results[:n])
			}
			for i := 0; i < n; i++ {
				if got.Results[i] != want.Results[i] {
					rt.Fatalf("step %d at %d (peek %v): op %d (%+v, cost %d): got %+v, model %+v", s, now, got.Peek, i, got.Ops[i].Spec, got.Ops[i].Cost, got.Results[i], want.Results[i])
				}
			}
		}
	})
}

func testExact(t *testing.T, cfg Config) {
	for _, alg := range []limiter.Algorithm{limiter.GCRA, limiter.SlidingWindow, limiter.FixedWindow} {
		t.Run(alg.String(), func(t *testing.T) {
			b := cfg.New(t)
			const quota = 100
			spec := limiter.SpecOf(limiter.Per(quota, time.Hour).Using(alg))
			tag := Tag("exact")
			// A frozen clock in the middle of a window: exactly the quota
			// is admitted however many clients try, for GCRA too (its
			// bound, burst + rate×t, is the burst at t = 0).
			now := int64(base) + 10*int64(time.Minute/time.Microsecond)
			var admitted atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, cfg.Goroutines)
			for g := 0; g < cfg.Goroutines; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 2*quota/cfg.Goroutines+5; i++ {
						var bt limiter.Batch
						bt.Now = now
						bt.Add(limiter.Op{Tag: tag, Name: "x", Spec: spec, Cost: 1})
						if err := b.Decide(context.Background(), &bt); err != nil {
							errs <- err
							return
						}
						if bt.Allowed {
							admitted.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if got := admitted.Load(); got != quota {
				t.Fatalf("admitted %d, want exactly %d", got, quota)
			}
		})
	}
}

// testAllOrNothing has clients spend a shared budget (tag "shared", 60)
// and their own (tag per client, 10) together: the shared one must admit
// exactly 60 and no client's own more than 10, even though half of the
// decisions are denied by one limit while the other admits.
func testAllOrNothing(t *testing.T, cfg Config) {
	b := cfg.New(t)
	shared := limiter.SpecOf(limiter.Per(60, time.Hour).Using(limiter.FixedWindow))
	own := limiter.SpecOf(limiter.Per(10, time.Hour).Using(limiter.FixedWindow))
	sharedTag := Tag("shared")
	now := int64(base) + 10*int64(time.Minute/time.Microsecond)
	clients := max(cfg.Goroutines, 8)
	perClient := make([]int64, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tag := Tag("own" + strconv.Itoa(c))
			for i := 0; i < 15; i++ {
				var bt limiter.Batch
				bt.Now = now
				bt.Add(limiter.Op{Tag: sharedTag, Name: "s", Spec: shared, Cost: 1})
				bt.Add(limiter.Op{Tag: tag, Name: "o", Spec: own, Cost: 1})
				if err := b.Decide(context.Background(), &bt); err != nil {
					errs <- err
					return
				}
				if bt.Allowed {
					perClient[c]++
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var total int64
	for c, n := range perClient {
		if n > 10 {
			t.Errorf("client %d admitted %d, over its own limit of 10", c, n)
		}
		total += n
	}
	want := min(int64(60), int64(clients)*10)
	if total != want {
		t.Errorf("admitted %d in total, want exactly %d", total, want)
	}
	// The shared limit's state must match what was admitted: nothing was
	// consumed by decisions that were denied.
	var peek limiter.Batch
	peek.Now, peek.Peek = now, true
	peek.Add(limiter.Op{Tag: sharedTag, Name: "s", Spec: shared, Cost: 1})
	if err := b.Decide(context.Background(), &peek); err != nil {
		t.Fatal(err)
	}
	if got := peek.Results[0].Remaining; got != 60-total {
		t.Errorf("shared remaining %d, want %d", got, 60-total)
	}
}

func testPeekReset(t *testing.T, cfg Config) {
	b := cfg.New(t)
	ctx := context.Background()
	spec := limiter.SpecOf(limiter.Per(3, time.Minute))
	tag := Tag("peek")
	now := int64(base)
	decide := func(peek bool) limiter.Batch {
		t.Helper()
		var bt limiter.Batch
		bt.Now, bt.Peek = now, peek
		bt.Add(limiter.Op{Tag: tag, Name: "p", Spec: spec, Cost: 1})
		if err := b.Decide(ctx, &bt); err != nil {
			t.Fatal(err)
		}
		return bt
	}
	for i := 0; i < 5; i++ {
		if r := decide(true); !r.Allowed || r.Results[0].Remaining != 3 {
			t.Fatalf("peek %d on a fresh key: %+v", i, r.Results[0])
		}
	}
	for i := 0; i < 3; i++ {
		if r := decide(false); !r.Allowed {
			t.Fatalf("request %d denied", i)
		}
	}
	if r := decide(false); r.Allowed {
		t.Fatal("fourth request admitted")
	}
	if r := decide(true); r.Allowed || r.Results[0].Remaining != 0 || r.Results[0].RetryAfter != 20_000_000 {
		t.Fatalf("peek on an exhausted key: %+v", r.Results[0])
	}
	var rb limiter.Batch
	rb.Add(limiter.Op{Tag: tag, Name: "p", Spec: spec})
	if err := b.Reset(ctx, &rb); err != nil {
		t.Fatal(err)
	}
	if r := decide(false); !r.Allowed || r.Results[0].Remaining != 2 {
		t.Fatalf("after Reset: %+v", r.Results[0])
	}
}

// String helps failure messages.
func String(b *limiter.Batch) string {
	return fmt.Sprintf("allowed=%v results=%+v", b.Allowed, b.Results[:b.N])
}
