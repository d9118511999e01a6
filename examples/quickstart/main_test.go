package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	ok := []struct {
		args []string
		want func(config) bool
	}{
		{nil, func(c config) bool {
			return c.addr == ":8080" && c.store == "memory" && c.boltPath == "quickstart.db" && len(c.trustedProxies) == 0
		}},
		{[]string{"-addr", "127.0.0.1:0", "-store", "bolt", "-bolt-path", "x.db"}, func(c config) bool { return c.store == "bolt" && c.boltPath == "x.db" }},
		{[]string{"-store", "redis"}, func(c config) bool { return c.redis.single.Addr == "localhost:6379" }},
		{[]string{"-store=redis", "-redis-addr", "redis://:secret@10.1.2.3:6380/2"}, func(c config) bool {
			return c.redis.single.Addr == "10.1.2.3:6380" && c.redis.single.DB == 2 && c.redis.single.Password == "secret" && !strings.Contains(c.redis.describe(), "secret")
		}},
		{[]string{"-store", "redis", "-redis-addr", "a:7000, b:7001,c:7002"}, func(c config) bool {
			return c.redis.cluster != nil && strings.Join(c.redis.cluster.Addrs, " ") == "a:7000 b:7001 c:7002"
		}},
		{[]string{"-trusted-proxies", " 10.0.0.0/8, 192.168.1.1 ,::1,,fd00::/8"}, func(c config) bool {
			return strings.Join(c.trustedProxies, " ") == "10.0.0.0/8 192.168.1.1 ::1 fd00::/8"
		}},
	}
	for _, tc := range ok {
		cfg, err := parseFlags(tc.args, io.Discard)
		if err != nil || !tc.want(cfg) {
			t.Errorf("parseFlags(%q) = %+v, %v", tc.args, cfg, err)
		}
	}

	bad := []struct {
		args []string
		flag string
	}{
		{[]string{"-store", "postgres"}, "-store"},
		{[]string{"-addr", "8080"}, "-addr"},
		{[]string{"-addr", ":99999"}, "-addr"},
		{[]string{"-store", "bolt", "-bolt-path", " "}, "-bolt-path"},
		{[]string{"-store", "redis", "-redis-addr", "localhost"}, "-redis-addr"},
		{[]string{"-store", "redis", "-redis-addr", "http://x"}, "-redis-addr"},
		{[]string{"-store", "redis", "-redis-addr", "a:1,b"}, "-redis-addr"},
		{[]string{"-store", "redis", "-redis-addr", ""}, "-redis-addr"},
		{[]string{"-trusted-proxies", "10.0.0.0/33"}, "-trusted-proxies"},
		{[]string{"-trusted-proxies", "proxy.internal"}, "-trusted-proxies"},
		{[]string{"-trusted-proxies", "::ffff:10.0.0.0/8"}, "-trusted-proxies"},
		{[]string{"-nope"}, "-nope"},
		{[]string{"extra"}, "extra"},
	}
	for _, tc := range bad {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("parseFlags(%q) error %v, want one naming %s", tc.args, err, tc.flag)
		}
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, errHelp) {
		t.Errorf("-h: %v", err)
	}
}

// TestBinary builds the command and runs it the way a user or a script
// does: start, wait for the listening line, use it, SIGTERM, exit 0.
func TestBinary(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("sends SIGTERM")
	}
	bin := filepath.Join(t.TempDir(), "quickstart")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		p := start(t, bin, "memory", "-addr", "127.0.0.1:0")
		var idx struct {
			Endpoints []endpoint `json:"endpoints"`
		}
		res := p.get(t, "/", "")
		if err := json.Unmarshal(res, &idx); err != nil || len(idx.Endpoints) == 0 {
			t.Fatalf("GET /: %s (%v)", res, err)
		}
		p.stop(t)
	})

	t.Run("bolt restart", func(t *testing.T) {
		t.Parallel()
		db := filepath.Join(t.TempDir(), "qs.db")
		p := start(t, bin, "bolt", "-addr", "127.0.0.1:0", "-store", "bolt", "-bolt-path", db)
		creds := `{"username":"ivan","password":"` + password + `"}`
		p.post(t, "/api/v1/auth/register", "", creds, 201)
		var tok struct{ Token string }
		_ = json.Unmarshal(p.post(t, "/api/v1/auth/login", "", creds, 200), &tok)
		p.post(t, "/api/v1/notes", tok.Token, `{"title":"kept","body":"across restarts"}`, 201)
		p.stop(t)

		p = start(t, bin, "bolt", "-addr", "127.0.0.1:0", "-store", "bolt", "-bolt-path", db)
		if got := p.get(t, "/api/v1/search?q=RESTART", tok.Token); !strings.Contains(string(got), `"kept"`) {
			t.Fatalf("after restart: %s", got)
		}
		p.stop(t)
	})

	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		openRedis(t, "GUARD_REDIS_ADDR") // skips unless a Redis is there
		p := start(t, bin, "redis", "-addr", "127.0.0.1:0", "-store", "redis", "-redis-addr", os.Getenv("GUARD_REDIS_ADDR"))
		p.get(t, "/", "")
		p.stop(t)
	})

	t.Run("bad flags exit 2", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			args []string
			flag string
		}{
			{[]string{"-store", "nope"}, "-store"},
			{[]string{"-addr", "nope"}, "-addr"},
			{[]string{"-trusted-proxies", "10.0.0.0/99"}, "-trusted-proxies"},
			{[]string{"-store", "redis", "-redis-addr", "no-port"}, "-redis-addr"},
			{[]string{"-no-such-flag"}, "-no-such-flag"},
		} {
			cmd := exec.Command(bin, tc.args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Errorf("%q: %v, want exit status 2", tc.args, err)
			}
			if len(out) != 0 || !strings.Contains(stderr.String(), tc.flag) || strings.Contains(stderr.String(), "goroutine") {
				t.Errorf("%q: stdout %q, stderr %q: want a message naming %s", tc.args, out, stderr.String(), tc.flag)
			}
		}
	})

	t.Run("runtime failures exit 1", func(t *testing.T) {
		t.Parallel()
		// A port that is taken, and a Redis that is not there.
		p := start(t, bin, "memory", "-addr", "127.0.0.1:0")
		defer p.stop(t)
		for _, args := range [][]string{
			{"-addr", strings.TrimPrefix(p.url, "http://")},
			{"-store", "redis", "-redis-addr", "127.0.0.1:1"},
		} {
			cmd := exec.Command(bin, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 || stderr.Len() == 0 {
				t.Errorf("%q: %v, stderr %q; want exit status 1 and a message", args, err, stderr.String())
			}
		}
	})
}

// proc is a running quickstart.
type proc struct {
	cmd    *exec.Cmd
	url    string
	lines  chan string
	stderr *syncBuffer
	done   chan error
}

var listening = regexp.MustCompile(`^quickstart: listening on (http://127\.0\.0\.1:[0-9]+) \(store: ([a-z]+)\)$`)

func start(t *testing.T, bin, storeName string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), lines: make(chan string, 16), stderr: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	select {
	case line, ok := <-p.lines:
		m := listening.FindStringSubmatch(line)
		if !ok || m == nil || m[2] != storeName {
			t.Fatalf("first stdout line %q, want the listening line for store %s; stderr:\n%s", line, storeName, p.stderr)
		}
		p.url = m[1]
	case <-time.After(60 * time.Second):
		t.Fatalf("no listening line within 60s; stderr:\n%s", p.stderr)
	}
	return p
}

// stop sends SIGTERM and expects a clean exit and nothing more on stdout.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit: %v; stderr:\n%s", err, p.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after SIGTERM; stderr:\n%s", p.stderr)
	}
	for line := range p.lines {
		t.Errorf("unexpected stdout line %q", line)
	}
}

func (p *proc) request(t *testing.T, method, path, token, body string, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(method, p.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want || res.Header.Get("X-Request-Id") == "" {
		t.Fatalf("%s %s: %d (X-Request-Id %q) %s, want %d", method, path, res.StatusCode, res.Header.Get("X-Request-Id"), b, want)
	}
	return b
}

func (p *proc) get(t *testing.T, path, token string) []byte {
	t.Helper()
	return p.request(t, "GET", path, token, "", 200)
}

func (p *proc) post(t *testing.T, path, token, body string, want int) []byte {
	t.Helper()
	return p.request(t, "POST", path, token, body, want)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
