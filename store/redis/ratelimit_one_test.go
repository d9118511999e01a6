package redis

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/guardsdk/guard/limiter"
)

// TestOneScriptMatchesGeneral runs the single-limit script and the general
// script (whose one-limit path it replaces) side by side on random specs
// and random sequences of (time, cost, peek), each on its own key, and
// requires byte-identical replies, identical stored states and the same
// TTL: the two scripts must be interchangeable on a key.
func TestOneScriptMatchesGeneral(t *testing.T) {
	c := singleClient(t)
	ctx := context.Background()
	s := newTestStore(t, c)
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	const trials, steps = 300, 40
	for trial := range trials {
		alg := rng.IntN(3)
		quota := int64(1 + rng.IntN(12))
		period := int64([]int{1000, 7919, 250000, 1000000, 3600000000}[rng.IntN(5)])
		shadow := int64(rng.IntN(4) / 3)
		var pb, pm, pd int64
		if rng.IntN(2) == 0 {
			pb = int64(1 + rng.IntN(5000000))
			pm = pb * int64(1+rng.IntN(20))
			pd = int64(1 + rng.IntN(10000000))
		}
		kg := s.prefix + "rl:{one" + strconv.Itoa(trial) + "}:general"
		ko := s.prefix + "rl:{one" + strconv.Itoa(trial) + "}:one"
		now := int64(1_700_000_000_000_000) + rng.Int64N(1<<40)
		for step := range steps {
			switch rng.IntN(6) {
			case 0: // same instant
			case 1:
				now += rng.Int64N(period + 1)
			case 2:
				now += rng.Int64N(period/int64(1+rng.IntN(int(quota))) + 1)
			case 3:
				now += rng.Int64N(4*period + pb + 1)
			default: // next to a window boundary, where rounding matters
				now = (now/period+1)*period + rng.Int64N(5) - 2
			}
			cost := int64(rng.IntN(int(quota) + 2)) // sometimes impossible
			peek := "0"
			if rng.IntN(8) == 0 {
				peek = "1"
			}
			var specs []byte
			for _, v := range [8]int64{int64(alg), quota, period, cost, shadow, pb, pm, pd} {
				specs = binary.LittleEndian.AppendUint64(specs, math.Float64bits(float64(v)))
			}
			args := []any{strconv.FormatInt(now, 10), peek, specs}
			// One transaction, so that both keys are written and read
			// back within microseconds of each other: their TTLs compare.
			var cg, co *goredis.Cmd
			var gg, go_ *goredis.StringCmd
			var tgc, toc *goredis.DurationCmd
			var t0, t1 *goredis.TimeCmd
			if _, err := c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				t0 = p.Time(ctx)
				cg = rateLimitScript.Eval(ctx, p, []string{kg}, args...)
				co = rateLimitOne.Eval(ctx, p, []string{ko}, args...)
				t1 = p.Time(ctx)
				gg, go_ = p.Get(ctx, kg), p.Get(ctx, ko)
				tgc, toc = p.PExpireTime(ctx, kg), p.PExpireTime(ctx, ko)
				return nil
			}); err != nil && err != goredis.Nil {
				t.Fatal(err)
			}
			rg, err := cg.Text()
			if err != nil {
				t.Fatal(err)
			}
			ro, err := co.Text()
			if err != nil {
				t.Fatal(err)
			}
			where := func() string {
				return "trial " + strconv.Itoa(trial) + " step " + strconv.Itoa(step) +
					" alg " + strconv.Itoa(alg) + " quota " + strconv.FormatInt(quota, 10) +
					" period " + strconv.FormatInt(period, 10) + " cost " + strconv.FormatInt(cost, 10) +
					" shadow " + strconv.FormatInt(shadow, 10) + " penalty " + strconv.FormatInt(pb, 10) + "/" +
					strconv.FormatInt(pm, 10) + "/" + strconv.FormatInt(pd, 10) + " peek " + peek
			}
			if rg != ro {
				gv, _ := decodeReply(rg, nil)
				ov, _ := decodeReply(ro, nil)
				t.Fatalf("%s: replies differ\ngeneral %v\none     %v", where(), gv, ov)
			}
			sg, eg := gg.Result()
			so, eo := go_.Result()
			if sg != so || (eg == nil) != (eo == nil) {
				t.Fatalf("%s: states differ: %q (%v) and %q (%v)", where(), sg, eg, so, eo)
			}
			// Each script sets its TTL from its own start, in whole
			// milliseconds of a clock Redis caches: the expiry times may
			// differ by the time between the two (a loaded machine can
			// stall Redis for milliseconds) and a few milliseconds of
			// rounding and caching, no more. A wrong unit or formula is
			// off by far more.
			tg, to := tgc.Val(), toc.Val()
			slack := t1.Val().Sub(t0.Val()) + 5*time.Millisecond
			if d := tg - to; d < -slack || d > slack {
				t.Fatalf("%s: expiry times differ: %v and %v (slack %v)", where(), tg, to, slack)
			}
		}
	}
}

// TestOneScriptChosen checks that a one-limit decision runs the
// single-limit script and a several-limit one the general script.
func TestOneScriptChosen(t *testing.T) {
	c := singleClient(t)
	ctx := context.Background()
	for _, sc := range []*goredis.Script{rateLimitOne, rateLimitScript} {
		if err := sc.Load(ctx, c).Err(); err != nil {
			t.Fatal(err)
		}
	}
	b := rlBackend(t, c)
	one := b.newCall(oneOpBatch(), []int{0})
	two := b.newCall(twoOpBatch(), []int{0, 1})
	if one.script != rateLimitOne || two.script != rateLimitScript {
		t.Fatalf("scripts: one limit %s, two limits %s", one.script.Hash(), two.script.Hash())
	}
}

func oneOpBatch() *limiter.Batch {
	var bt limiter.Batch
	bt.Add(limiter.Op{Tag: "t", Name: "a", Spec: limiter.SpecOf(limiter.Per(5, time.Second)), Cost: 1})
	return &bt
}

func twoOpBatch() *limiter.Batch {
	bt := oneOpBatch()
	bt.Add(limiter.Op{Tag: "t", Name: "b", Spec: limiter.SpecOf(limiter.Per(50, time.Hour)), Cost: 1})
	return bt
}

// TestRateLimitServerClockTTL: on the server's clock both scripts give a
// key the TTL after which its state equals a fresh key's (PXAT): a GCRA
// limit of 2 per hour after one request is back to full after 30 minutes.
func TestRateLimitServerClockTTL(t *testing.T) {
	c := singleClient(t)
	ctx := context.Background()
	b := rlBackend(t, c)
	spec := limiter.SpecOf(limiter.Per(2, time.Hour))
	for _, n := range []int{1, 2} { // the single-limit and the general script
		var bt limiter.Batch
		for i := range n {
			bt.Add(limiter.Op{Tag: "ttl" + strconv.Itoa(n), Name: strconv.Itoa(i), Spec: spec, Cost: 1})
		}
		if err := b.Decide(ctx, &bt); err != nil || !bt.Allowed {
			t.Fatalf("%d limits: %v %+v", n, err, bt.Results[0])
		}
		for i := range n {
			ttl := c.PTTL(ctx, b.key(&bt.Ops[i])).Val()
			if ttl <= 30*time.Minute-5*time.Second || ttl > 30*time.Minute+time.Millisecond {
				t.Fatalf("%d limits, key %d: TTL %v, want 30m", n, i, ttl)
			}
		}
	}
	// A penalised key lives until its penalty has decayed: blocked for 10
	// minutes at level 1, which decays an hour after the block ends.
	pen := limiter.SpecOf(limiter.Per(1, time.Minute).Using(limiter.FixedWindow).
		WithPenalty(limiter.Penalty{Base: 10 * time.Minute, Max: time.Hour, Decay: time.Hour}))
	for _, n := range []int{1, 2} {
		for req, want := range []bool{true, false} {
			var bt limiter.Batch
			for i := range n {
				bt.Add(limiter.Op{Tag: "pen" + strconv.Itoa(n), Name: strconv.Itoa(i), Spec: pen, Cost: 1})
			}
			if err := b.Decide(ctx, &bt); err != nil || bt.Allowed != want {
				t.Fatalf("%d limits, request %d: %v %+v", n, req, err, bt.Results[0])
			}
			if want {
				continue
			}
			for i := range n {
				ttl := c.PTTL(ctx, b.key(&bt.Ops[i])).Val()
				if ttl <= 70*time.Minute-5*time.Second || ttl > 70*time.Minute+time.Millisecond {
					t.Fatalf("%d limits, key %d after a penalty: TTL %v, want 1h10m", n, i, ttl)
				}
			}
		}
	}
}
