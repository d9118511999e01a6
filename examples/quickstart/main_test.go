package main

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
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
			return c.addr == ":8080" && c.store == "memory" && c.boltPath == "quickstart.db" && len(c.trustedProxies) == 0 &&
				!c.useTLS() && c.redirectAddr == ""
		}},
		// HTTPS: :8443, redirecting from :8080, unless told otherwise.
		{[]string{"-tls-cert", "c.pem", "-tls-key", "k.pem"}, func(c config) bool {
			return c.useTLS() && c.tlsCert == "c.pem" && c.tlsKey == "k.pem" && c.addr == ":8443" && c.redirectAddr == ":8080"
		}},
		{[]string{"-tls-cert", "c.pem", "-tls-key", "k.pem", "-addr", "127.0.0.1:443", "-http-redirect-addr", "127.0.0.1:80"}, func(c config) bool {
			return c.addr == "127.0.0.1:443" && c.redirectAddr == "127.0.0.1:80"
		}},
		{[]string{"-tls-cert", "c.pem", "-tls-key", "k.pem", "-http-redirect-addr", ""}, func(c config) bool {
			return c.useTLS() && c.addr == ":8443" && c.redirectAddr == ""
		}},
		{[]string{"-tls-cert", "c.pem", "-tls-key", "k.pem", "-addr", "127.0.0.1:0", "-http-redirect-addr", "127.0.0.1:0"}, func(c config) bool {
			return c.addr == "127.0.0.1:0" && c.redirectAddr == "127.0.0.1:0"
		}},
		{[]string{"-tls-cert", "c.pem", "-tls-key", "k.pem", "-addr", "127.0.0.1:8080", "-http-redirect-addr", "127.0.0.2:8080"}, func(c config) bool {
			return c.addr == "127.0.0.1:8080" && c.redirectAddr == "127.0.0.2:8080"
		}},
		{[]string{"-http-redirect-addr", ""}, func(c config) bool { return !c.useTLS() && c.redirectAddr == "" }},
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
		{nil, func(c config) bool { return c.sentryDSN == "" }},
		{[]string{"-sentry-dsn", " https://abc123@o1.ingest.sentry.io/42 "}, func(c config) bool {
			return c.sentryDSN == "https://abc123@o1.ingest.sentry.io/42"
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
		{[]string{"-tls-cert", "c.pem"}, "-tls-key"},
		{[]string{"-tls-cert", "c.pem", "-tls-key", " "}, "-tls-key"},
		{[]string{"-tls-key", "k.pem"}, "-tls-cert"},
		{[]string{"-http-redirect-addr", ":8081"}, "-http-redirect-addr"},
		{[]string{"-tls-cert", "c.pem", "-tls-key", "k.pem", "-http-redirect-addr", "8081"}, "-http-redirect-addr"},
		{[]string{"-tls-cert", "c.pem", "-tls-key", "k.pem", "-addr", ":8080"}, "-http-redirect-addr"},
		{[]string{"-tls-cert", "c.pem", "-tls-key", "k.pem", "-http-redirect-addr", "127.0.0.1:8443"}, "-http-redirect-addr"},
		{[]string{"-tls-cert", "c.pem", "-tls-key", "k.pem", "-addr", "nope"}, "-addr"},
		{[]string{"-sentry-dsn", "nope"}, "-sentry-dsn"},
		{[]string{"-sentry-dsn", "ftp://key@sentry.example/1"}, "-sentry-dsn"},
		{[]string{"-sentry-dsn", "https://sentry.example/1"}, "-sentry-dsn"},
		{[]string{"-sentry-dsn", "https://key@sentry.example/"}, "-sentry-dsn"},
		{[]string{"-sentry-dsn", "https://key:hunter2@sentry.example:99x/1"}, "-sentry-dsn"},
	}
	for _, tc := range bad {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("parseFlags(%q) error %v, want one naming %s", tc.args, err, tc.flag)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("parseFlags(%q) error %v shows the DSN's secret", tc.args, err)
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
		if got := p.get(t, "/health/ready", ""); !strings.Contains(string(got), `"status":"up"`) {
			t.Fatalf("GET /health/ready: %s", got)
		}
		if got := p.get(t, "/metrics", ""); !strings.Contains(string(got), "# TYPE http_server_active_requests") {
			t.Fatalf("GET /metrics: %.300s", got)
		}
		p.stop(t)
		// stderr: one JSON line per request (the stop drained them), the
		// plain shutdown message.
		var requests []string
		for _, line := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
			if line == "quickstart: shutting down" {
				continue
			}
			var l struct{ Msg, Route, Correlation_ID string }
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Errorf("stderr line %q is not JSON", line)
			}
			if l.Msg == "request" && l.Correlation_ID != "" {
				requests = append(requests, l.Route)
			}
		}
		if want := []string{"/{$}", "/health/ready", "/metrics"}; !slices.Equal(requests, want) {
			t.Errorf("request lines for %q, want %q; stderr:\n%s", requests, want, p.stderr)
		}
	})

	t.Run("sentry", func(t *testing.T) {
		t.Parallel()
		ingest := newFakeSentry(t)
		p := start(t, bin, "memory", "-addr", "127.0.0.1:0", "-sentry-dsn", ingest.dsn())
		env := `{"dsn":"` + ingest.dsn() + `"}` + "\n" + `{"type":"event"}` + "\n{}\n"
		p.post(t, "/sentry-tunnel", "", env, 200)
		p.post(t, "/sentry-tunnel", "", strings.Replace(env, "/42", "/7", 1), 403)
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

	t.Run("https", func(t *testing.T) {
		t.Parallel()
		certFile, keyFile, cert := writeTestCert(t, "localhost", "127.0.0.1", "::1")
		p := start(t, bin, "memory", "-addr", "127.0.0.1:0", "-tls-cert", certFile, "-tls-key", keyFile, "-http-redirect-addr", "127.0.0.1:0")
		if !strings.HasPrefix(p.url, "https://") {
			t.Fatalf("listening on %s, want https", p.url)
		}
		m := regexp.MustCompile(`^quickstart: redirecting (http://127\.0\.0\.1:[0-9]+) to (.*)$`).FindStringSubmatch(p.line(t))
		if m == nil || m[2] != p.url {
			t.Fatalf("second line %q, want the redirect listener's, to %s", m, p.url)
		}
		plain := m[1]
		roots := x509.NewCertPool()
		roots.AddCert(cert)
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
		t.Cleanup(tr.CloseIdleConnections)
		p.hc = &http.Client{Transport: tr, Timeout: 10 * time.Second}

		// The API over TLS (HTTP/2), with HSTS.
		res, err := p.hc.Get(p.url + "/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.ProtoMajor != 2 || res.Header.Get("Strict-Transport-Security") != hsts {
			t.Fatalf("GET / over TLS: %d %s, HSTS %q", res.StatusCode, res.Proto, res.Header.Get("Strict-Transport-Security"))
		}
		checkHeaders(t, "GET / over TLS", res.Header, true)
		creds := `{"username":"judy","password":"` + password + `"}`
		p.post(t, "/api/v1/auth/register", "", creds, 201)

		// The plain listener: 308 to the same host on the HTTPS port.
		noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		_, httpsPort, _ := strings.Cut(strings.TrimPrefix(p.url, "https://"), ":")
		for _, host := range []string{"", "localhost", "LOCALHOST:1234"} {
			req, _ := http.NewRequest("POST", plain+"/api/v1/notes?x=1", strings.NewReader("{}"))
			req.Host = host
			res, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			wantHost := cmp.Or(strings.ToLower(strings.Split(host, ":")[0]), "127.0.0.1")
			want := "https://" + wantHost + ":" + httpsPort + "/api/v1/notes?x=1"
			if res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != want || res.Header.Get("Strict-Transport-Security") != "" {
				t.Fatalf("Host %q: %d Location %q HSTS %q, want 308 %q and no HSTS", host, res.StatusCode, res.Header.Get("Location"), res.Header.Get("Strict-Transport-Security"), want)
			}
		}
		for _, host := range []string{"evil.example", "evil.example:" + httpsPort, "localhost@evil.example"} {
			req, _ := http.NewRequest("GET", plain+"/", nil)
			req.Host = host
			res, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 400 || res.Header.Get("Location") != "" || strings.Contains(string(b), "evil") {
				t.Fatalf("Host %q: %d Location %q %s, want 400", host, res.StatusCode, res.Header.Get("Location"), b)
			}
		}
		// A client following the redirect ends on the HTTPS index.
		res, err = p.hc.Get(plain + "/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Request.URL.String() != p.url+"/" {
			t.Fatalf("following the redirect: %d at %s", res.StatusCode, res.Request.URL)
		}
		p.stop(t)
		// Both listeners are closed.
		for _, u := range []string{p.url, plain} {
			if res, err := p.hc.Get(u + "/"); err == nil {
				res.Body.Close()
				t.Errorf("%s still answers after shutdown", u)
			}
		}
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
			{[]string{"-tls-cert", "cert.pem"}, "-tls-key"},
			{[]string{"-tls-key", "key.pem"}, "-tls-cert"},
			{[]string{"-http-redirect-addr", ":8081"}, "-http-redirect-addr"},
			{[]string{"-sentry-dsn", "sentry.example/1"}, "-sentry-dsn"},
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
		// A port that is taken, a Redis that is not there, a certificate
		// that cannot be read, a redirect port that is taken.
		p := start(t, bin, "memory", "-addr", "127.0.0.1:0")
		defer p.stop(t)
		taken := strings.TrimPrefix(p.url, "http://")
		missing := filepath.Join(t.TempDir(), "missing.pem")
		certFile, keyFile, _ := writeTestCert(t, "localhost")
		for _, tc := range []struct {
			args []string
			flag string
		}{
			{[]string{"-addr", taken}, "-addr"},
			{[]string{"-store", "redis", "-redis-addr", "127.0.0.1:1"}, "-store redis"},
			{[]string{"-tls-cert", missing, "-tls-key", missing}, "-tls-cert"},
			{[]string{"-tls-cert", certFile, "-tls-key", keyFile, "-addr", "127.0.0.1:0", "-http-redirect-addr", taken}, "-http-redirect-addr"},
		} {
			args := tc.args
			cmd := exec.Command(bin, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), tc.flag) {
				t.Errorf("%q: %v, stderr %q; want exit status 1 and a message naming %s", args, err, stderr.String(), tc.flag)
			}
		}
	})
}

// proc is a running quickstart.
type proc struct {
	cmd    *exec.Cmd
	url    string
	hc     *http.Client // for url; http.DefaultClient unless set
	lines  chan string
	stderr *syncBuffer
	done   chan error
}

var listening = regexp.MustCompile(`^quickstart: listening on (https?://127\.0\.0\.1:[0-9]+) \(store: ([a-z]+)\)$`)

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

// line returns the next stdout line.
func (p *proc) line(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			t.Fatalf("stdout closed; stderr:\n%s", p.stderr)
		}
		return line
	case <-time.After(10 * time.Second):
		t.Fatalf("no stdout line within 10s; stderr:\n%s", p.stderr)
	}
	return ""
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
	hc := p.hc
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
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
