package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/guardsdk/guard/store"
	"github.com/guardsdk/guard/store/storetest"
)

var ctx = context.Background()

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// TestMain silences go-redis's logging of the dial failures that the
// failure tests provoke on purpose.
func TestMain(m *testing.M) {
	goredis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

// The integration tests run against real servers named by environment
// variables, and skip when they are unset unless GUARD_REQUIRE_REDIS=1. A
// variable that is set but names an unreachable server always fails.
const (
	envAddr    = "GUARD_REDIS_ADDR"          // e.g. 127.0.0.1:6379
	envCluster = "GUARD_REDIS_CLUSTER_ADDRS" // e.g. 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002
	envRequire = "GUARD_REQUIRE_REDIS"
)

func skipOrFail(t *testing.T, env string) {
	t.Helper()
	msg := fmt.Sprintf("set %s to run Redis tests", env)
	if os.Getenv(envRequire) == "1" {
		t.Fatalf("%s is 1 but %s is unset", envRequire, env)
	}
	t.Skip(msg)
}

func pingClient(t *testing.T, c goredis.UniversalClient, what string) {
	t.Helper()
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		_ = c.Close()
		t.Fatalf("Redis at %s is unreachable: %v", what, err)
	}
}

func singleClient(t *testing.T) goredis.UniversalClient {
	t.Helper()
	addr := os.Getenv(envAddr)
	if addr == "" {
		skipOrFail(t, envAddr)
	}
	c := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	pingClient(t, c, envAddr+"="+addr)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func clusterClient(t *testing.T) *goredis.ClusterClient {
	t.Helper()
	addrs := os.Getenv(envCluster)
	if addrs == "" {
		skipOrFail(t, envCluster)
	}
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: strings.Split(addrs, ","), ContextTimeoutEnabled: true})
	pingClient(t, c, envCluster+"="+addrs)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newTestStore returns a Store with a unique prefix whose keys are deleted
// when the test ends.
func newTestStore(t *testing.T, c goredis.UniversalClient, opts ...Option) *Store {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "guardtest:" + hex.EncodeToString(b[:]) + ":"
	s, err := New(c, append([]Option{WithPrefix(prefix), WithTimeout(2 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		deleteKeys(t, c, prefix)
	})
	return s
}

func deleteKeys(t *testing.T, c goredis.UniversalClient, prefix string) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	scan := func(ctx context.Context, n *goredis.Client) error {
		it := n.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for it.Next(ctx) {
			if err := n.Del(ctx, it.Val()).Err(); err != nil {
				return err
			}
		}
		return it.Err()
	}
	var err error
	switch c := c.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(cctx, scan)
	case *goredis.Client:
		err = scan(cctx, c)
	}
	if err != nil {
		t.Errorf("cleanup of %s*: %v", prefix, err)
	}
}

func TestConformance(t *testing.T) {
	opts := storetest.Options{Iterations: 100}
	t.Run("single", func(t *testing.T) {
		c := singleClient(t)
		storetest.Run(t, func(t *testing.T) store.Store { return newTestStore(t, c) }, opts)
	})
	t.Run("cluster", func(t *testing.T) {
		c := clusterClient(t)
		storetest.Run(t, func(t *testing.T) store.Store { return newTestStore(t, c) }, opts)
	})
	// A client without ContextTimeoutEnabled takes the goroutine path.
	t.Run("no-context-timeouts", func(t *testing.T) {
		addr := os.Getenv(envAddr)
		if addr == "" {
			skipOrFail(t, envAddr)
		}
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		t.Cleanup(func() { _ = c.Close() })
		storetest.Run(t, func(t *testing.T) store.Store {
			s := newTestStore(t, c)
			if s.deadlines {
				t.Fatal("client without ContextTimeoutEnabled detected as honouring deadlines")
			}
			return s
		}, storetest.Options{Iterations: 50, CASRounds: 20})
	})
}

func TestKey(t *testing.T) {
	s := &Store{prefix: "p:"}
	for key, want := range map[string]string{
		"abc":            "p:{abc}",
		"rl:{u1}:n":      "p:rl:{u1}:n",
		"a{b}":           "p:a{b}",
		"{abc}":          "p:{{abc}}", // not "p:{abc}", which is Key("abc")
		"{u1}:n":         "p:{{u1}:n}",
		"a{}b":           "p:{a{}b}", // empty tag: no tag
		"a}b{":           "p:{a}b{}",
		"{":              "p:{{}",
		"x:{":            "p:{x:{}",
		"ключ:{юзер}":    "p:ключ:{юзер}",
		"nul\x00{t}\x00": "p:nul\x00{t}\x00",
	} {
		if got := s.Key(key); got != want {
			t.Errorf("Key(%q) = %q, want %q", key, got, want)
		}
	}
}

// FuzzKey checks Key is one-to-one and keeps existing hash tags.
func FuzzKey(f *testing.F) {
	for _, k := range []string{"abc", "{abc}", "a{b}c", "{", "}", "{}", "a}b{c}"} {
		f.Add(k, "abc")
	}
	s := &Store{prefix: "guard:"}
	f.Fuzz(func(t *testing.T, a, b string) {
		if a != b && s.Key(a) == s.Key(b) {
			t.Fatalf("Key(%q) == Key(%q) == %q", a, b, s.Key(a))
		}
		if a != "" && a[0] != '{' && hasTag(a) && s.Key(a) != "guard:"+a {
			t.Fatalf("Key(%q) = %q changed an existing tag", a, s.Key(a))
		}
	})
}

func TestPX(t *testing.T) {
	for ttl, want := range map[time.Duration]int64{
		0: 0, time.Nanosecond: 1, time.Microsecond: 1, time.Millisecond: 1,
		1500 * time.Microsecond: 2, time.Second: 1000, time.Duration(1<<63 - 1): (1<<63 - 1) / 1_000_000,
	} {
		if got := ms(ttl); got != want {
			t.Errorf("ms(%s) = %d, want %d", ttl, got, want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for _, o := range []Option{WithPrefix("app{1}:"), WithTimeout(0), WithUpdateRetries(0)} {
		if _, err := New(c, o, WithStartupPing(false)); err == nil {
			t.Error("New with a bad option succeeded")
		}
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); _ = c.Close() }()
		}
	}()
	t.Cleanup(func() { _ = l.Close(); <-done })
	return l.Addr().String()
}

func TestRedisDownAtNew(t *testing.T) {
	addr := closedPort(t)
	for _, ctxTimeouts := range []bool{true, false} {
		t.Run(fmt.Sprintf("ContextTimeoutEnabled=%v", ctxTimeouts), func(t *testing.T) {
			c := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: ctxTimeouts})
			defer c.Close()
			const timeout = 200 * time.Millisecond
			start := time.Now()
			s, err := New(c, WithTimeout(timeout))
			if err == nil {
				s.Close()
				t.Fatal("New succeeded with Redis down")
			}
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("New: %v, want store.ErrUnavailable", err)
			}
			if !strings.HasPrefix(err.Error(), "store/redis: startup ping: ") {
				t.Errorf("error %q should say what failed", err)
			}
			if d := time.Since(start); d > 5*timeout+time.Second {
				t.Errorf("New took %s with a %s timeout", d, timeout)
			}
			// Without the startup ping New succeeds and operations fail.
			s, err = New(c, WithTimeout(timeout), WithStartupPing(false))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Get(ctx, "k"); !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("Get with Redis down: %v, want store.ErrUnavailable", err)
			}
		})
	}
}

func TestSlowRedis(t *testing.T) {
	addr := silentServer(t)
	for _, ctxTimeouts := range []bool{true, false} {
		t.Run(fmt.Sprintf("ContextTimeoutEnabled=%v", ctxTimeouts), func(t *testing.T) {
			c := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: ctxTimeouts, MaxRetries: -1})
			defer c.Close()
			const timeout = 100 * time.Millisecond
			start := time.Now()
			if _, err := New(c, WithTimeout(timeout)); !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("New against a silent server: %v, want store.ErrUnavailable", err)
			}
			s, err := New(c, WithTimeout(timeout), WithStartupPing(false))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ops := map[string]func() error{
				"Get":  func() error { _, err := s.Get(ctx, "k"); return err },
				"Set":  func() error { return s.Set(ctx, "k", []byte("v"), time.Second) },
				"Incr": func() error { _, err := s.Incr(ctx, "k", 1, time.Second); return err },
				"CompareAndSwap": func() error {
					_, err := s.CompareAndSwap(ctx, "k", nil, []byte("v"), 0)
					return err
				},
				"Update": func() error {
					return s.Update(ctx, "k", func([]byte, bool) ([]byte, time.Duration, bool, error) {
						return []byte("v"), 0, true, nil
					})
				},
				"Run": func() error {
					return s.Run(ctx, goredis.NewScript("return 1"), []string{"k"}).Err()
				},
			}
			for name, op := range ops {
				opStart := time.Now()
				err := op()
				if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
					t.Errorf("%s against a silent server: %v, want store.ErrUnavailable from a timeout", name, err)
				}
				if d := time.Since(opStart); d > 5*timeout+time.Second {
					t.Errorf("%s took %s with a %s timeout", name, d, timeout)
				}
			}
			t.Logf("all operations returned in %s", time.Since(start))
		})
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// A caller's cancellation is reported as context.Canceled, not as
// ErrUnavailable. (go-redis only applies deadlines to a socket read in
// flight, so the call itself ends at the Store's timeout.)
func TestCancelledContext(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: silentServer(t), ContextTimeoutEnabled: true})
	defer c.Close()
	s, err := New(c, WithStartupPing(false), WithTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = s.Get(cctx, "k")
	if !errors.Is(err, context.Canceled) || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Get cancelled mid-flight: %v, want context.Canceled only", err)
	}
}

func TestCloseLeavesClient(t *testing.T) {
	c := singleClient(t)
	s := newTestStore(t, c)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("client unusable after Store.Close: %v", err)
	}
	if err := s.Run(ctx, goredis.NewScript("return 1"), nil).Err(); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Run after Close: %v, want store.ErrClosed", err)
	}

	own := goredis.NewClient(&goredis.Options{Addr: os.Getenv(envAddr), ContextTimeoutEnabled: true})
	s2, err := New(own, WithCloseClient(true))
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := own.Ping(ctx).Err(); !errors.Is(err, goredis.ErrClosed) {
		t.Fatalf("client after Close with WithCloseClient(true): %v, want closed", err)
	}
}

// TestIncrTTLOnCreate checks, through the server's PTTL, that Incr sets the
// TTL only when it creates the key.
func TestIncrTTLOnCreate(t *testing.T) {
	c := singleClient(t)
	s := newTestStore(t, c)
	if _, err := s.Incr(ctx, "n", 1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "n", 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	if d := c.PTTL(ctx, s.Key("n")).Val(); d <= 0 || d > 10*time.Second {
		t.Fatalf("PTTL after two Incr = %s, want at most the first TTL, 10s", d)
	}
	_ = s.Set(ctx, "tiny", []byte("v"), time.Microsecond) // rounds up to 1ms
	_ = s.Set(ctx, "p", []byte("v"), 1500*time.Microsecond)
	if d := c.PTTL(ctx, s.Key("p")).Val(); d > 2*time.Millisecond {
		t.Fatalf("PTTL of a 1.5ms TTL = %s, want at most 2ms", d)
	}
}

func TestUpdateConflict(t *testing.T) {
	c := singleClient(t)
	s := newTestStore(t, c, WithUpdateRetries(3))
	calls := 0
	err := s.Update(ctx, "k", func(cur []byte, _ bool) ([]byte, time.Duration, bool, error) {
		calls++
		// Another client writes between WATCH and EXEC, every time.
		_ = c.Set(ctx, s.Key("k"), fmt.Sprint(calls), 0).Err()
		return []byte("mine"), 0, true, nil
	})
	if !errors.Is(err, store.ErrConflict) || calls != 3 {
		t.Fatalf("Update losing every race: %v after %d calls, want store.ErrConflict after 3", err, calls)
	}
	if v, _ := s.Get(ctx, "k"); string(v) != "3" {
		t.Fatalf("value %q, want the other client's \"3\"", v)
	}
}

func TestRun(t *testing.T) {
	for name, client := range map[string]func(*testing.T) goredis.UniversalClient{
		"single":  singleClient,
		"cluster": func(t *testing.T) goredis.UniversalClient { return clusterClient(t) },
	} {
		t.Run(name, func(t *testing.T) {
			c := client(t)
			s := newTestStore(t, c)
			// A script body no server has seen: EVALSHA answers NOSCRIPT and
			// Run falls back to EVAL.
			var b [8]byte
			_, _ = rand.Read(b[:])
			script := goredis.NewScript("-- " + hex.EncodeToString(b[:]) + `
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
local t = redis.call('TIME')
return {KEYS[1], KEYS[2], redis.call('GET', KEYS[1]), t[1]}`)
			keys := []string{"rl:{user7}:tokens", "rl:{user7}:ts"}
			res, err := s.Run(ctx, script, keys, "10", "20").Slice()
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res[0] != s.Key(keys[0]) || res[1] != s.Key(keys[1]) || res[2] != "10" {
				t.Fatalf("Run saw %v, want prefixed keys and the value", res)
			}
			if v, _ := s.Get(ctx, keys[1]); string(v) != "20" {
				t.Fatalf("Get after Run = %q", v)
			}
			if err := s.Run(ctx, goredis.NewScript("return nil"), keys).Err(); !errors.Is(err, goredis.Nil) {
				t.Fatalf("nil reply: %v, want goredis.Nil", err)
			}
			if err := s.Run(ctx, script, []string{""}).Err(); !errors.Is(err, store.ErrInvalidKey) {
				t.Fatalf("Run with an empty key: %v, want store.ErrInvalidKey", err)
			}
		})
	}
}

func TestClusterHashTags(t *testing.T) {
	c := clusterClient(t)
	s := newTestStore(t, c)
	slot := func(key string) int64 {
		t.Helper()
		n, err := c.ClusterKeySlot(ctx, s.Key(key)).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	groups := [][]string{
		{"rl:{user42}:tokens", "rl:{user42}:ts", "lockout:{user42}"},
		{"{u7}:a", "{u7}:b"},
	}
	for _, g := range groups {
		for _, k := range g[1:] {
			if slot(k) != slot(g[0]) {
				t.Errorf("%q (slot %d) and %q (slot %d) share a tag but not a slot", k, slot(k), g[0], slot(g[0]))
			}
		}
	}
	// Untagged keys are their own tag: spread over slots, and the slot is
	// the one of the bare key.
	seen := map[int64]bool{}
	for i := range 20 {
		k := fmt.Sprintf("session:%d", i)
		seen[slot(k)] = true
		want, _ := c.ClusterKeySlot(ctx, k).Result()
		if slot(k) != want {
			t.Errorf("slot of Key(%q) = %d, want the bare key's %d", k, slot(k), want)
		}
	}
	if len(seen) < 10 {
		t.Errorf("20 untagged keys fell into only %d slots", len(seen))
	}
}

func BenchmarkIncrParallel(b *testing.B) {
	addr := os.Getenv(envAddr)
	if addr == "" {
		b.Skip("set GUARD_REDIS_ADDR to run Redis benchmarks")
	}
	c := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer c.Close()
	s, err := New(c, WithPrefix("guardbench:"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = c.Del(ctx, s.Key("rl:{bench}:n")).Err() }()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Incr(ctx, "rl:{bench}:n", 1, time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
}
