package limiter_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/guardsdk/guard/limiter"
)

// wrapped hides a memory backend behind another type, so that the Limiter
// takes the generic path (a Batch, Decide, the engine) rather than the
// memory backend's single-limit fast path.
type wrapped struct{ limiter.Backend }

// TestFastPathMatchesEngine: the direct API's single-limit fast path
// (including its GCRA shortcut) gives the same results as the generic
// path, on random sequences of time, cost, peek and limit changes.
func TestFastPathMatchesEngine(t *testing.T) {
	t.Parallel()
	limits := [][]limiter.Limit{
		{limiter.Per(5, time.Second)},
		{limiter.Per(1, time.Minute)},
		{limiter.Per(3, time.Second).WithBurst(6)},
		{limiter.Per(3, time.Minute).Using(limiter.SlidingWindow)},
		{limiter.Per(4, time.Second).Using(limiter.FixedWindow)},
		{limiter.Per(2, time.Second).WithPenalty(limiter.Penalty{Base: time.Second, Max: 8 * time.Second, Decay: 4 * time.Second})},
	}
	for seed := uint64(0); seed < 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		for _, shadow := range []bool{false, true} {
			c := newClock()
			mb, err := limiter.NewMemoryBackend(64)
			if err != nil {
				t.Fatal(err)
			}
			fast := mustNew(t, limiter.WithClock(c.Now), limiter.WithLimits(limits[0]...), limiter.WithMaxKeys(64), limiter.WithShadow(shadow))
			slow := mustNew(t, limiter.WithClock(c.Now), limiter.WithLimits(limits[0]...), limiter.WithBackend(wrapped{mb}), limiter.WithDenyCache(0), limiter.WithShadow(shadow))
			ctx := context.Background()
			for i := 0; i < 400; i++ {
				switch x := rng.IntN(100); {
				case x < 3:
					ls := limits[rng.IntN(len(limits))]
					if err := fast.SetLimits(ls...); err != nil {
						t.Fatal(err)
					}
					if err := slow.SetLimits(ls...); err != nil {
						t.Fatal(err)
					}
				case x < 40:
					c.Advance(time.Duration(rng.IntN(1500)) * time.Millisecond)
				}
				key := "k" + strconv.Itoa(rng.IntN(3))
				var a, b limiter.Result
				var ea, eb error
				if rng.IntN(5) == 0 {
					a, ea = fast.Peek(ctx, key)
					b, eb = slow.Peek(ctx, key)
				} else {
					cost := int64(1 + rng.IntN(3))
					a, ea = fast.AllowN(ctx, key, cost)
					b, eb = slow.AllowN(ctx, key, cost)
				}
				if (ea == nil) != (eb == nil) || a != b {
					t.Fatalf("seed %d step %d key %s: fast path %+v (%v), engine %+v (%v)", seed, i, key, a, ea, b, eb)
				}
			}
		}
	}
}
