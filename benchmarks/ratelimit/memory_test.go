package ratelimit

import (
	"context"
	"hash/maphash"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sethvargo "github.com/sethvargo/go-limiter/memorystore"
	"github.com/throttled/throttled/v2"
	"github.com/throttled/throttled/v2/store/memstore"
	ulule "github.com/ulule/limiter/v3"
	ulmemory "github.com/ulule/limiter/v3/drivers/store/memory"
	"golang.org/x/time/rate"

	"github.com/guardsdk/guard/limiter"
)

// allowFunc decides one event for key and reports whether it is admitted.
type allowFunc func(ctx context.Context, key string) bool

type peer struct {
	name string
	// new builds a limiter of n events per period for every key; keys is a
	// hint of how many keys it will see.
	new func(tb testing.TB, n int64, period time.Duration, keys int) allowFunc
}

// memoryPeers are the in-process limiters, each used the way its
// documentation shows.
var memoryPeers = []peer{
	{"guard", func(tb testing.TB, n int64, period time.Duration, keys int) allowFunc {
		// A table for the keys to come, with a quarter to spare, as for sethvargo's InitialAlloc and throttled's maxKeys.
		l, err := limiter.New(limiter.WithLimits(limiter.Per(n, period)), limiter.WithMaxKeys(max(keys+keys/4, 1<<16)))
		if err != nil {
			tb.Fatal(err)
		}
		return func(ctx context.Context, key string) bool {
			r, _ := l.Allow(ctx, key)
			return r.Allowed
		}
	}},
	{"x-time-rate", func(tb testing.TB, n int64, period time.Duration, keys int) allowFunc {
		// The usual pattern: a sync.Map of *rate.Limiter, one per key.
		var m sync.Map
		every := rate.Every(period / time.Duration(n))
		return func(ctx context.Context, key string) bool {
			v, ok := m.Load(key)
			if !ok {
				v, _ = m.LoadOrStore(key, rate.NewLimiter(every, int(n)))
			}
			return v.(*rate.Limiter).Allow()
		}
	}},
	{"ulule", func(tb testing.TB, n int64, period time.Duration, keys int) allowFunc {
		l := ulule.New(ulmemory.NewStore(), ulule.Rate{Period: period, Limit: n})
		return func(ctx context.Context, key string) bool {
			c, err := l.Get(ctx, key)
			return err == nil && !c.Reached
		}
	}},
	{"throttled", func(tb testing.TB, n int64, period time.Duration, keys int) allowFunc {
		st, err := memstore.NewCtx(max(keys*2, 1<<16))
		if err != nil {
			tb.Fatal(err)
		}
		q := throttled.RateQuota{MaxRate: throttled.PerDuration(int(n), period), MaxBurst: int(n) - 1}
		rl, err := throttled.NewGCRARateLimiterCtx(st, q)
		if err != nil {
			tb.Fatal(err)
		}
		return func(ctx context.Context, key string) bool {
			limited, _, err := rl.RateLimitCtx(ctx, key, 1)
			return err == nil && !limited
		}
	}},
	{"sethvargo", func(tb testing.TB, n int64, period time.Duration, keys int) allowFunc {
		st, err := sethvargo.New(&sethvargo.Config{Tokens: uint64(n), Interval: period, InitialAlloc: max(keys, 4096)})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = st.Close(context.Background()) })
		return func(ctx context.Context, key string) bool {
			_, _, _, ok, err := st.Take(ctx, key)
			return err == nil && ok
		}
	}},
}

// floorPeer is not a limiter: it hashes the key and reads the clock, as
// any limiter must, and nothing else. Its time in the 100k-keys case is
// what the harness, the key's cache misses and the clock cost together.
var floorPeer = peer{"floor-hash-clock", func(tb testing.TB, n int64, period time.Duration, keys int) allowFunc {
	seed, start := maphash.MakeSeed(), time.Now()
	return func(ctx context.Context, key string) bool {
		return (maphash.String(seed, key)^uint64(time.Since(start)))&1 == 0
	}
}}

// reportCPU reports the process's CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func makeKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "client:" + strconv.Itoa(i)
	}
	return keys
}

// BenchmarkMemory runs the in-process cases: one hot key, serial and
// parallel; 100,000 keys in parallel; a mostly-denied hot key.
func BenchmarkMemory(b *testing.B) {
	ctx := context.Background()
	keys100k := makeKeys(100_000)
	for _, p := range append(memoryPeers, floorPeer) {
		b.Run("HotKeySerial/"+p.name, func(b *testing.B) {
			allow := p.new(b, 1_000_000, time.Second, 1)
			b.ReportAllocs()
			cpu := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				allow(ctx, "hot")
			}
			reportCPU(b, cpu)
		})
		b.Run("HotKeyParallel/"+p.name, func(b *testing.B) {
			allow := p.new(b, 1_000_000, time.Second, 1)
			b.ReportAllocs()
			cpu := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					allow(ctx, "hot")
				}
			})
			reportCPU(b, cpu)
		})
		b.Run("Keys100kParallel/"+p.name, func(b *testing.B) {
			allow := p.new(b, 1000, time.Second, len(keys100k))
			for _, k := range keys100k { // warm: every key exists
				allow(ctx, k)
			}
			b.ReportAllocs()
			cpu := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := rand.IntN(len(keys100k))
				for pb.Next() {
					allow(ctx, keys100k[i])
					i += 7919 // a prime: every goroutine walks all keys
					if i >= len(keys100k) {
						i -= len(keys100k)
					}
				}
			})
			reportCPU(b, cpu)
		})
		if p.name == floorPeer.name {
			continue // it admits at random
		}
		b.Run("MostlyDeniedParallel/"+p.name, func(b *testing.B) {
			allow := p.new(b, 10, time.Hour, 1)
			var admitted atomic.Int64
			b.ReportAllocs()
			cpu := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if allow(ctx, "hot") {
						admitted.Add(1)
					}
				}
			})
			reportCPU(b, cpu)
			if admitted.Load() > 10 {
				b.Fatalf("%s admitted %d of a limit of 10", p.name, admitted.Load())
			}
		})
	}
}

// BenchmarkFootprint measures heap bytes per key: run it with
// -benchtime=1000000x for a million keys. Key strings are made before
// measuring, so they count for nobody; guard does not keep them anyway.
func BenchmarkFootprint(b *testing.B) {
	ctx := context.Background()
	for _, p := range memoryPeers {
		b.Run(p.name, func(b *testing.B) {
			keys := makeKeys(b.N)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			allow := p.new(b, 10, time.Minute, b.N)
			for _, k := range keys {
				allow(ctx, k)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "heapB/key")
			runtime.KeepAlive(allow)
			runtime.KeepAlive(keys)
		})
	}
}
