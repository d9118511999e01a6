package ratelimit

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"
	ulule "github.com/ulule/limiter/v3"
	ulredis "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/guardsdk/guard/limiter"
	guardredis "github.com/guardsdk/guard/store/redis"
)

// callers is the number of concurrent callers of the Redis cases.
const callers = 64

func redisClient(b *testing.B) *goredis.Client {
	addr := os.Getenv("GUARD_REDIS_ADDR")
	if addr == "" {
		b.Skip("set GUARD_REDIS_ADDR (e.g. 127.0.0.1:6379) to run the Redis benchmarks")
	}
	// One pool for everybody, large enough that no caller waits for a
	// connection: the peers get their best case.
	c := goredis.NewClient(&goredis.Options{Addr: addr, PoolSize: callers + 8, ContextTimeoutEnabled: true})
	if err := c.Ping(context.Background()).Err(); err != nil {
		b.Fatalf("Redis at %s: %v", addr, err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

var runID = strconv.FormatInt(time.Now().UnixNano(), 36)

func redisPeers(b *testing.B, c *goredis.Client, n int64, period time.Duration) []struct {
	name  string
	allow allowFunc
} {
	prefix := "bench:" + runID + ":"
	newGuard := func(opts ...guardredis.RateLimitOption) allowFunc {
		s, err := guardredis.New(c, guardredis.WithPrefix(prefix+"g:"), guardredis.WithTimeout(5*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		rb, err := guardredis.NewRateLimitBackend(s, opts...)
		if err != nil {
			b.Fatal(err)
		}
		l, err := limiter.New(limiter.WithBackend(rb), limiter.WithLimits(limiter.Per(n, period)), limiter.WithTimeout(5*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		return func(ctx context.Context, key string) bool {
			r, err := l.Allow(ctx, key)
			if err != nil || r.Degraded {
				b.Errorf("guard: %v %+v", err, r)
			}
			return r.Allowed
		}
	}
	ust, err := ulredis.NewStoreWithOptions(c, ulule.StoreOptions{Prefix: prefix + "u"})
	if err != nil {
		b.Fatal(err)
	}
	ul := ulule.New(ust, ulule.Rate{Period: period, Limit: n})
	rr := redis_rate.NewLimiter(c)
	rrLimit := redis_rate.Limit{Rate: int(n), Burst: int(n), Period: period}
	trivial := goredis.NewScript("return 1")
	return []struct {
		name  string
		allow allowFunc
	}{
		{"guard", newGuard()},
		{"guard-unpipelined", newGuard(guardredis.WithPipelines(0))},
		{"guard-script-batching", newGuard(guardredis.WithScriptBatching(true))},
		{"ulule", func(ctx context.Context, key string) bool {
			r, err := ul.Get(ctx, key)
			return err == nil && !r.Reached
		}},
		{"redis_rate", func(ctx context.Context, key string) bool {
			r, err := rr.Allow(ctx, prefix+"r:"+key, rrLimit)
			return err == nil && r.Allowed > 0
		}},
		// The physical limits of one round trip per decision.
		{"raw-evalsha-trivial", func(ctx context.Context, key string) bool {
			return trivial.Run(ctx, c, []string{prefix + "t:" + key}).Err() == nil
		}},
		{"raw-incr", func(ctx context.Context, key string) bool {
			return c.Incr(ctx, prefix+"i:"+key).Err() == nil
		}},
	}
}

// BenchmarkRedis runs every Redis peer side by side: a lone caller's
// latency, throughput with 64 concurrent callers, and a mostly-denied
// workload with 64 callers.
func BenchmarkRedis(b *testing.B) {
	c := redisClient(b)
	ctx := context.Background()
	keys := makeKeys(1000)
	for _, p := range redisPeers(b, c, 1_000_000, time.Second) {
		for i := 0; i < 100; i++ { // load scripts, open connections
			p.allow(ctx, keys[i%len(keys)])
		}
	}
	for _, p := range redisPeers(b, c, 1_000_000, time.Second) {
		b.Run("Lone/"+p.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p.allow(ctx, keys[i%len(keys)])
			}
		})
	}
	for _, p := range redisPeers(b, c, 1_000_000, time.Second) {
		b.Run("Callers64/"+p.name, func(b *testing.B) {
			parallel(b, c, func(g int, i int) { p.allow(ctx, keys[(g*31+i)%len(keys)]) })
		})
	}
	for _, p := range redisPeers(b, c, 10, time.Hour) {
		if p.name == "raw-evalsha-trivial" || p.name == "guard-unpipelined" || p.name == "guard-script-batching" {
			continue
		}
		b.Run("MostlyDenied64/"+p.name, func(b *testing.B) {
			// Every caller hammers its own key, which is denied after its
			// first 10 requests.
			parallel(b, c, func(g int, i int) { p.allow(ctx, "denied:"+strconv.Itoa(g)) })
		})
	}
}

// parallel runs f from exactly 64 goroutines and reports decisions/s and
// the CPU each decision cost the client and the Redis server: on a
// machine where Redis has a core to itself, the server's CPU per decision
// bounds the throughput at 1/that.
func parallel(b *testing.B, c *goredis.Client, f func(g, i int)) {
	b.SetParallelism((callers + testingProcs() - 1) / testingProcs())
	var ids atomic.Int64
	cpu, rcpu := cpuTime(), redisCPU(b, c)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := int(ids.Add(1))
		for i := 0; pb.Next(); i++ {
			f(g, i)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e3, "client-cpu-µs/op")
	b.ReportMetric(float64(redisCPU(b, c)-rcpu)/float64(b.N)/1e3, "redis-cpu-µs/op")
}

// redisCPU is the CPU time the Redis server has used (INFO cpu).
func redisCPU(b *testing.B, c *goredis.Client) time.Duration {
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * 1e9)
}
