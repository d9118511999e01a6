package health_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/health"
	"github.com/guardsdk/guard/store/redis"
)

// startRedis runs a throwaway redis-server on a free loopback port. It
// skips the test when redis-server is not installed, unless
// GUARD_REQUIRE_REDIS=1.
func startRedis(t *testing.T) (addr string, stop func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("GUARD_REQUIRE_REDIS") == "1" {
			t.Fatal("redis-server not on PATH and GUARD_REQUIRE_REDIS=1")
		}
		t.Skip("redis-server not on PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return addr, stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedisStopped(t *testing.T) {
	t.Parallel()
	addr, stop := startRedis(t)
	client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	defer client.Close()
	st, err := redis.New(client, redis.WithTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	evs := &events{}
	g, err := guard.New(guard.WithStore(st), guard.WithSink(evs, guard.KindDependencyChanged))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	h, err := health.New(g, health.WithStoreCheck(), health.WithCacheTTL(0), health.WithDetail(health.AllowAll))
	if err != nil {
		t.Fatal(err)
	}
	srv := g.Handler(h.Handler())

	if r := get(t, srv, "/health/ready"); r.code != 200 {
		t.Fatalf("ready with redis up: %+v", r)
	}
	stop()
	if r := get(t, srv, "/health/live"); r.code != 200 {
		t.Errorf("live with redis stopped: %+v", r)
	}
	if r := get(t, srv, "/health/ready"); r.code != 503 {
		t.Errorf("ready with redis stopped: %+v", r)
	}
	r := get(t, srv, "/health/dependencies")
	body := toJSON(r.body)
	if r.code != 503 || !strings.Contains(body, `"name":"store"`) || !strings.Contains(body, `"status":"down"`) ||
		!strings.Contains(body, "unavailable") {
		t.Errorf("dependencies with redis stopped: %d %s", r.code, body)
	}
	t.Logf("dependencies: %s", body)
	g.Close(context.Background())
	evs.mu.Lock()
	defer evs.mu.Unlock()
	if len(evs.evs) != 1 || evs.evs[0].Reason != health.StatusDown || evs.evs[0].Err == nil {
		t.Errorf("events %+v", evs.evs)
	}
}
