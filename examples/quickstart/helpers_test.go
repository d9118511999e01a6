package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/guardsdk/guard/store"
	"github.com/guardsdk/guard/store/bolt"
	"github.com/guardsdk/guard/store/memory"
	guardredis "github.com/guardsdk/guard/store/redis"
)

// testHash keeps argon2id cheap under -race; production uses
// defaultHashParams.
var testHash = hashParams{Time: 1, Memory: 64, Threads: 1}

// backend opens a fresh, empty store for one test.
type backend struct {
	name string
	open func(t *testing.T) store.Store
}

// backends are the stores every end-to-end test runs on: memory and bolt
// always; redis and a Redis Cluster when GUARD_REDIS_ADDR and
// GUARD_REDIS_CLUSTER_ADDRS name them.
var backends = []backend{
	{"memory", func(t *testing.T) store.Store {
		st, err := memory.New()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}},
	{"bolt", func(t *testing.T) store.Store {
		st, err := bolt.Open(filepath.Join(t.TempDir(), "quickstart.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}},
	{"redis", func(t *testing.T) store.Store { return openRedis(t, "GUARD_REDIS_ADDR") }},
	{"redis-cluster", func(t *testing.T) store.Store { return openRedis(t, "GUARD_REDIS_CLUSTER_ADDRS") }},
}

// forEachBackend runs fn as a subtest on every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, st store.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.open(t))
		})
	}
}

// openRedis connects to the Redis named by the environment variable env
// (anything -redis-addr accepts), under a key prefix of its own that is
// deleted afterwards. Without the variable the test is skipped; when Redis
// does not answer it is skipped too, unless GUARD_REQUIRE_REDIS=1.
func openRedis(t *testing.T, env string) store.Store {
	t.Helper()
	addr := os.Getenv(env)
	if addr == "" {
		t.Skipf("%s is not set: skipping the Redis run (set it to host:port, a redis:// URL or a cluster seed list)", env)
	}
	target, err := parseRedisAddr(addr)
	if err != nil {
		t.Fatalf("%s=%q: %v", env, addr, err)
	}
	client := target.client()
	prefix := "qstest:" + rand.Text()[:12] + ":"
	// A generous timeout: these tests check the application's logic, and
	// a machine loaded by parallel -race runs can stall a loopback Redis
	// past the 250 ms default, which the app then rightly answers with 503.
	st, err := guardredis.New(client, guardredis.WithPrefix(prefix), guardredis.WithTimeout(2*time.Second))
	if err != nil {
		_ = client.Close()
		if os.Getenv("GUARD_REQUIRE_REDIS") == "1" {
			t.Fatalf("GUARD_REQUIRE_REDIS=1 but Redis at %s (%s) is unreachable: %v", addr, env, err)
		}
		t.Skipf("Redis at %s (%s) is unreachable, skipping (set GUARD_REQUIRE_REDIS=1 to fail instead): %v", addr, env, err)
	}
	t.Cleanup(func() {
		_ = st.Close()
		deleteKeys(t, client, prefix)
		_ = client.Close()
	})
	return st
}

// deleteKeys removes what a test wrote, one key at a time so that it also
// works across Cluster slots.
func deleteKeys(t *testing.T, client goredis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	del := func(ctx context.Context, c goredis.UniversalClient) error {
		it := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for it.Next(ctx) {
			if err := c.Del(ctx, it.Val()).Err(); err != nil {
				return err
			}
		}
		return it.Err()
	}
	var err error
	if cc, ok := client.(*goredis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error { return del(ctx, c) })
	} else {
		err = del(ctx, client)
	}
	if err != nil {
		t.Logf("cleaning up Redis keys %s*: %v", prefix, err)
	}
}

// startApp serves newApp on st over a real listener.
func startApp(t *testing.T, st store.Store) *httptest.Server {
	t.Helper()
	srv, _ := serveApp(t, appConfig{Store: st}, false)
	return srv
}

// serveApp serves newApp(cfg) (with testHash) over a real listener, over
// TLS with useTLS (srv.Client() trusts its certificate).
func serveApp(t *testing.T, cfg appConfig, useTLS bool) (*httptest.Server, *app) {
	t.Helper()
	cfg.Hash = testHash
	if cfg.RateLimits == (rateLimits{}) {
		// The plan's limits (3 registrations an hour per address) would
		// trip tests that sign up many users from 127.0.0.1; the
		// rate-limit tests pass the plan's limits explicitly.
		cfg.RateLimits = roomyLimits
	}
	a, err := newApp(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a)
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("app.Close: %v", err)
		}
	})
	return srv, a
}

// writeTestCert writes a self-signed ECDSA certificate for hosts (DNS
// names or IP addresses), valid for a day, and its key as PEM files in a
// temporary directory. The certificate is its own CA, so a pool holding
// it verifies it.
func writeTestCert(t testing.TB, hosts ...string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "quickstart test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// client is a small API client for the tests.
type client struct {
	t     testing.TB
	base  string
	hc    *http.Client
	token string
}

func newClient(t testing.TB, srv *httptest.Server) *client {
	return &client{t: t, base: srv.URL, hc: srv.Client()}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into v, failing the test if it is not JSON.
func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response body %q: %v", r.body, err)
	}
}

// problem checks that r is an RFC 9457 problem with the status and code.
func (r response) problem(t testing.TB, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	r.json(t, &p)
	if p.Status != status || p.Code != code || p.Title == "" || p.Detail == "" {
		t.Fatalf("problem %+v, want status %d code %q", p, status, code)
	}
}

// do sends a request. body is marshalled to JSON unless it is a string or
// []byte, which are sent as is; hdr is pairs of header names and values.
func (c *client) do(method, path string, body any, hdr ...string) response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// must checks the status of r.
func (c *client) must(r response, status int) response {
	c.t.Helper()
	if r.status != status {
		c.t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	return r
}

// signup registers username and logs in, keeping the token.
func (c *client) signup(username, password string) {
	c.t.Helper()
	creds := map[string]string{"username": username, "password": password}
	c.must(c.do("POST", "/api/v1/auth/register", creds), http.StatusCreated)
	c.login(username, password)
}

func (c *client) login(username, password string) {
	c.t.Helper()
	var tok struct {
		Token     string `json:"token"`
		TokenType string `json:"token_type"`
	}
	c.must(c.do("POST", "/api/v1/auth/login", map[string]string{"username": username, "password": password}), http.StatusOK).json(c.t, &tok)
	if len(tok.Token) != 43 || tok.TokenType != "Bearer" {
		c.t.Fatalf("login: token %q (type %q), want 43 base64url characters", tok.Token, tok.TokenType)
	}
	c.token = tok.Token
}

func (c *client) createNote(title, body string) note {
	c.t.Helper()
	var n note
	c.must(c.do("POST", "/api/v1/notes", map[string]string{"title": title, "body": body}), http.StatusCreated).json(c.t, &n)
	return n
}

func (c *client) listNotes(path string) []note {
	c.t.Helper()
	var out struct {
		Notes []note `json:"notes"`
	}
	c.must(c.do("GET", path, nil), http.StatusOK).json(c.t, &out)
	if out.Notes == nil {
		c.t.Fatalf("GET %s: notes is null, want a list", path)
	}
	return out.Notes
}
