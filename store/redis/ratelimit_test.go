package redis

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/limiter"
	"github.com/guardsdk/guard/limiter/limitertest"
)

func rlBackend(t *testing.T, c goredis.UniversalClient, opts ...RateLimitOption) *RateLimitBackend {
	t.Helper()
	b, err := NewRateLimitBackend(newTestStore(t, c), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRateLimitConformance(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client func(*testing.T) goredis.UniversalClient
		opts   []RateLimitOption
	}{
		{"single", singleClient, nil},
		{"single-script-batching", singleClient, []RateLimitOption{WithScriptBatching(true)}},
		{"single-unpipelined", singleClient, []RateLimitOption{WithPipelines(0)}},
		{"cluster", func(t *testing.T) goredis.UniversalClient { return clusterClient(t) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := rlBackend(t, tc.client(t), append(tc.opts, withBatchClock())...)
			limitertest.Run(t, limitertest.Config{
				New:    func(*testing.T) limiter.Backend { return b },
				Checks: 50,
			})
		})
	}
}

// TestRateLimitServerClock: without an injected clock the script reads
// TIME; the decision ignores the (zero) local clock.
func TestRateLimitServerClock(t *testing.T) {
	b := rlBackend(t, singleClient(t))
	spec := limiter.SpecOf(limiter.Per(2, time.Hour).Using(limiter.FixedWindow))
	for i, want := range []bool{true, true, false} {
		var bt limiter.Batch
		bt.Add(limiter.Op{Tag: "clock", Name: "n", Spec: spec, Cost: 1})
		if err := b.Decide(context.Background(), &bt); err != nil {
			t.Fatal(err)
		}
		if bt.Allowed != want {
			t.Fatalf("request %d: %+v", i, bt.Results[0])
		}
		if !want && (bt.Results[0].RetryAfter <= 0 || bt.Results[0].RetryAfter > int64(time.Hour/time.Microsecond)) {
			t.Fatalf("retry after %d µs", bt.Results[0].RetryAfter)
		}
	}
}

// TestRateLimitThroughLimiter: a Limiter in a Guard over a Redis store
// picks this backend by itself.
func TestRateLimitThroughLimiter(t *testing.T) {
	s := newTestStore(t, singleClient(t))
	b, err := s.RateLimitBackend()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.(*RateLimitBackend); !ok {
		t.Fatalf("RateLimitBackend returned %T", b)
	}
	l, err := limiter.New(limiter.WithBackend(b), limiter.WithLimits(limiter.PerHour(2)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, want := range []bool{true, true, false, false} {
		r, err := l.Allow(ctx, "k")
		if err != nil || r.Allowed != want || r.Degraded {
			t.Fatalf("request %d: %+v, %v", i, r, err)
		}
	}
	if r, _ := l.Allow(ctx, "k"); !r.Cached {
		t.Fatalf("repeated denial not answered by the deny cache: %+v", r)
	}
}

// ownRedis starts a private redis-server on a free port and returns its
// address and a function that kills it.
func ownRedis(t *testing.T) (addr string, kill func()) {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("%s=1 but redis-server is not on PATH", envRequire)
		}
		t.Skip("redis-server not on PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	dir := t.TempDir()
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(kill)
	addr = "127.0.0.1:" + strconv.Itoa(port)
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("own redis-server did not start")
		}
		time.Sleep(10 * time.Millisecond) // waiting for a process to start, not for timing
	}
	return addr, kill
}

func commandCalls(t *testing.T, c *goredis.Client, cmd string) int64 {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "cmdstat_"+cmd+":") {
			continue
		}
		for _, f := range strings.Split(strings.TrimPrefix(line, "cmdstat_"+cmd+":"), ",") {
			if v, ok := strings.CutPrefix(f, "calls="); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
	}
	return 0
}

// TestRateLimitOneScriptPerDecision counts script executions with INFO
// commandstats on a private server, with 64 concurrent callers (so
// decisions are pipelined), and after SCRIPT FLUSH (NOSCRIPT fallback).
func TestRateLimitOneScriptPerDecision(t *testing.T) {
	addr, _ := ownRedis(t)
	c := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	b := rlBackend(t, c)
	spec := limiter.SpecOf(limiter.PerSecond(1_000_000))
	const callers, each = 64, 50
	var wg sync.WaitGroup
	var failed atomic.Int64
	for g := 0; g < callers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				var bt limiter.Batch
				bt.Add(limiter.Op{Tag: "u" + strconv.Itoa(g), Name: "n", Spec: spec, Cost: 1})
				if err := b.Decide(context.Background(), &bt); err != nil || !bt.Allowed {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d decisions failed", failed.Load())
	}
	evalsha, eval := commandCalls(t, c, "evalsha"), commandCalls(t, c, "eval")
	// The first decisions load the script: EVALSHAs answered NOSCRIPT
	// (failed calls, not executions), then one EVAL per pipeline in flight.
	if evalsha+eval < callers*each || eval > DefaultPipelines {
		t.Fatalf("%d EVALSHA + %d EVAL for %d decisions", evalsha, eval, callers*each)
	}
	if execs := evalsha + eval - failedCalls(t, c, "evalsha"); execs != callers*each {
		t.Fatalf("%d script executions for %d decisions", execs, callers*each)
	}
	if err := c.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	var bt limiter.Batch
	bt.Add(limiter.Op{Tag: "after-flush", Name: "n", Spec: spec, Cost: 1})
	if err := b.Decide(context.Background(), &bt); err != nil || !bt.Allowed {
		t.Fatalf("after SCRIPT FLUSH: %v %+v", err, bt.Results[0])
	}
}

func failedCalls(t *testing.T, c *goredis.Client, cmd string) int64 {
	info, _ := c.Info(context.Background(), "commandstats").Result()
	for _, line := range strings.Split(info, "\n") {
		if !strings.HasPrefix(line, "cmdstat_"+cmd+":") {
			continue
		}
		var n int64
		for _, f := range strings.Split(strings.TrimSpace(line), ",") {
			if v, ok := strings.CutPrefix(f, "failed_calls="); ok {
				x, _ := strconv.ParseInt(v, 10, 64)
				n += x
			}
			if v, ok := strings.CutPrefix(f, "rejected_calls="); ok {
				x, _ := strconv.ParseInt(v, 10, 64)
				n += x
			}
		}
		return n
	}
	return 0
}

const childEnv = "GUARD_RL_CHILD"

// TestRateLimitFourProcesses: four OS processes hammer one key on one
// Redis, on the server's clock; together they admit exactly the burst.
func TestRateLimitFourProcesses(t *testing.T) {
	if spec := os.Getenv(childEnv); spec != "" {
		rateLimitChild(t, spec)
		return
	}
	addr := os.Getenv(envAddr)
	if addr == "" {
		skipOrFail(t, envAddr)
	}
	prefix := "guardtest:procs:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	t.Cleanup(func() {
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		deleteKeys(t, c, prefix)
		_ = c.Close()
	})
	const procs = 4
	outs := make([]strings.Builder, procs)
	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestRateLimitFourProcesses$", "-test.v")
		cmds[i].Env = append(os.Environ(), childEnv+"="+addr+","+prefix)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	var total int64
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i].String())
		}
		var n int64
		for _, line := range strings.Split(outs[i].String(), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "admitted="); ok {
				n, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		t.Logf("process %d admitted %d", i, n)
		total += n
	}
	if total != 100 {
		t.Fatalf("4 processes admitted %d, want exactly 100", total)
	}
}

func rateLimitChild(t *testing.T, spec string) {
	addr, prefix, _ := strings.Cut(spec, ",")
	c := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer c.Close()
	s, err := New(c, WithPrefix(prefix), WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRateLimitBackend(s)
	if err != nil {
		t.Fatal(err)
	}
	// GCRA, burst 100, one more every 36s: within the test's seconds
	// exactly 100 are admitted however the processes interleave.
	l, err := limiter.New(limiter.WithBackend(b), limiter.WithLimits(limiter.PerHour(100)), limiter.WithDenyCache(0), limiter.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				r, err := l.Allow(context.Background(), "hot")
				if err != nil || r.Degraded {
					t.Errorf("decision failed: %+v %v", r, err)
					return
				}
				if r.Allowed {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("admitted=%d\n", admitted.Load())
}

// TestRateLimitRedisStopped kills Redis in the middle of a run: every
// failure policy behaves as documented, no decision waits longer than
// the timeout, and once the breaker is open none waits at all.
func TestRateLimitRedisStopped(t *testing.T) {
	const timeout = 100 * time.Millisecond
	for _, policy := range []limiter.FailurePolicy{limiter.FailOpen, limiter.FailClosed, limiter.FailLocal} {
		t.Run(policy.String(), func(t *testing.T) {
			addr, kill := ownRedis(t)
			c := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1, DialTimeout: time.Second})
			defer c.Close()
			s, err := New(c, WithPrefix("stop:"))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := NewRateLimitBackend(s)
			var mu sync.Mutex
			var kinds []string
			l, err := limiter.New(limiter.WithBackend(b), limiter.WithFailurePolicy(policy), limiter.WithTimeout(timeout),
				limiter.WithLimits(limiter.PerHour(3)), limiter.WithBreaker(2, time.Hour),
				limiter.WithEvents(func(ev guard.Event) { mu.Lock(); kinds = append(kinds, ev.Kind.String()); mu.Unlock() }))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for i := 0; i < 2; i++ {
				if r, err := l.Allow(ctx, "k"); err != nil || !r.Allowed || r.Degraded {
					t.Fatalf("healthy request %d: %+v %v", i, r, err)
				}
			}
			kill()
			var slowest time.Duration
			var results []limiter.Result
			for i := 0; i < 50; i++ {
				start := time.Now()
				r, err := l.Allow(ctx, "k")
				if d := time.Since(start); d > slowest {
					slowest = d
				}
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				results = append(results, r)
			}
			if slowest > timeout+200*time.Millisecond {
				t.Errorf("a decision took %v with a %v timeout", slowest, timeout)
			}
			for i, r := range results {
				if !r.Degraded {
					t.Fatalf("request %d after the stop not degraded: %+v", i, r)
				}
				switch policy {
				case limiter.FailOpen:
					if !r.Allowed {
						t.Fatalf("fail open denied request %d", i)
					}
				case limiter.FailClosed:
					if r.Allowed {
						t.Fatalf("fail closed admitted request %d", i)
					}
				case limiter.FailLocal:
					// The local limiter starts empty: 3 more, then denials.
					if r.Allowed != (i < 3) {
						t.Fatalf("fail local request %d: %+v", i, r)
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(kinds) != 1 || kinds[0] != "backend_degraded" {
				t.Fatalf("events %v", kinds)
			}
		})
	}
}

func TestRateLimitBadInput(t *testing.T) {
	b := rlBackend(t, singleClient(t))
	var bt limiter.Batch
	bt.Add(limiter.Op{Tag: strings.Repeat("x", 2000), Name: "n", Spec: limiter.SpecOf(limiter.PerSecond(1)), Cost: 1})
	if err := b.Decide(context.Background(), &bt); err == nil {
		t.Fatal("over-long key accepted")
	}
}

// TestRateLimitGuardStore: a Guard on a Redis store limits through this
// backend without being told to, and two Guards (two processes, say)
// share the budget.
func TestRateLimitGuardStore(t *testing.T) {
	s := newTestStore(t, singleClient(t))
	newGuard := func() http.Handler {
		g, err := guard.New(guard.WithStore(s), limiter.Option(limiter.WithRules(
			limiter.Rule{Name: "login", Method: "POST", Route: "/login", Limits: []limiter.Limit{limiter.Per(3, time.Hour)}},
		)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = g.Close(context.Background()) })
		mux := http.NewServeMux()
		mux.HandleFunc("POST /login", func(http.ResponseWriter, *http.Request) {})
		return g.Handler(mux)
	}
	a, b := newGuard(), newGuard()
	for i, h := range []http.Handler{a, b, a, b} {
		req := httptest.NewRequest("POST", "/login", nil)
		req.RemoteAddr = "198.51.100.4:1234"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if want := map[bool]int{true: 200, false: 429}[i < 3]; w.Code != want {
			t.Fatalf("request %d: %d, want %d (%v)", i, w.Code, want, w.Header())
		}
	}
}
