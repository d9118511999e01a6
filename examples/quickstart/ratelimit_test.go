package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/guardsdk/guard/limiter"
	"github.com/guardsdk/guard/store"
	"github.com/guardsdk/guard/store/memory"
)

// roomyLimits keep the rate limits out of the way of tests about other
// things.
var roomyLimits = rateLimits{
	Login:    limiter.Per(1_000_000, time.Hour),
	Register: limiter.Per(1_000_000, time.Hour),
	Default:  limiter.Per(1_000_000, time.Hour),
}

func checkRateLimited(t *testing.T, r response, policy string) {
	t.Helper()
	r.problem(t, 429, "rate_limited")
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || ra <= 0 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if reset, _ := strconv.Atoi(r.header.Get("X-Ratelimit-Reset")); reset > ra {
		t.Fatalf("Retry-After %d earlier than the reset %d", ra, reset)
	}
	if r.header.Get("X-Ratelimit-Remaining") != "0" || !strings.Contains(r.header.Get("Ratelimit-Policy"), `"`+policy+`"`) {
		t.Fatalf("rate-limit headers %v", r.header)
	}
}

// TestPlanRateLimits checks the plan's limits: register 3 an hour and
// login 5 per 5 minutes per client address.
func TestPlanRateLimits(t *testing.T) {
	srv, _ := serveApp(t, appConfig{Store: memStore(t), RateLimits: rateLimits{}.orPlan(), TrustedProxies: []string{"127.0.0.1", "::1"}}, false)
	c := newClient(t, srv)
	for i := range 3 {
		r := c.must(c.do("POST", "/api/v1/auth/register", map[string]string{"username": "user" + strconv.Itoa(i), "password": password}), 201)
		if r.header.Get("X-Ratelimit-Limit") == "" || r.header.Get("Ratelimit") == "" {
			t.Fatalf("no rate-limit headers on an admitted request: %v", r.header)
		}
	}
	checkRateLimited(t, c.do("POST", "/api/v1/auth/register", map[string]string{"username": "user3", "password": password}), "register")
	// Another client address has its own budget.
	c.must(c.do("POST", "/api/v1/auth/register", map[string]string{"username": "user3", "password": password}, "X-Forwarded-For", "198.51.100.7"), 201)

	// Five wrong guesses, then even the right password waits.
	for range 5 {
		c.do("POST", "/api/v1/auth/login", map[string]string{"username": "user0", "password": "wrong password!"}).problem(t, 401, "invalid_credentials")
	}
	checkRateLimited(t, c.do("POST", "/api/v1/auth/login", map[string]string{"username": "user0", "password": password}), "login")
	// The proxy's other clients keep their budgets.
	c.must(c.do("POST", "/api/v1/auth/login", map[string]string{"username": "user0", "password": password}, "X-Forwarded-For", "198.51.100.7"), 200)
}

// TestRateLimitSpoofedForwardedFor: without trusted proxies, a client
// cannot buy a fresh budget by sending X-Forwarded-For.
func TestRateLimitSpoofedForwardedFor(t *testing.T) {
	srv, _ := serveApp(t, appConfig{Store: memStore(t), RateLimits: rateLimits{}.orPlan()}, false)
	c := newClient(t, srv)
	for i := range 3 {
		c.must(c.do("POST", "/api/v1/auth/register", map[string]string{"username": "user" + strconv.Itoa(i), "password": password}, "X-Forwarded-For", "198.51.100."+strconv.Itoa(i)), 201)
	}
	for _, xff := range []string{"198.51.100.99", "10.0.0.1, 198.51.100.98", "for=198.51.100.97"} {
		checkRateLimited(t, c.do("POST", "/api/v1/auth/register", map[string]string{"username": "user9", "password": password}, "X-Forwarded-For", xff, "X-Real-Ip", xff, "Forwarded", xff), "register")
	}
}

// TestDefaultRateLimitPerUser checks the default budget: per user when
// authenticated, so one user's traffic does not exhaust another's.
func TestDefaultRateLimitPerUser(t *testing.T) {
	limits := roomyLimits
	limits.Default = limiter.PerHour(6)
	srv, _ := serveApp(t, appConfig{Store: memStore(t), RateLimits: limits}, false)
	alice, bob := newClient(t, srv), newClient(t, srv)
	alice.signup("alice", password) // register and login: 2 anonymous requests
	bob.signup("bob", password)     // 2 more from the same address: 4 of 6
	for range 6 {
		alice.must(alice.do("GET", "/api/v1/notes", nil), 200)
	}
	checkRateLimited(t, alice.do("GET", "/api/v1/notes", nil), "default")
	bob.must(bob.do("GET", "/api/v1/notes", nil), 200)
}

// The test stores wrap a real one; the limiter finds its backend through
// them.
func rateLimitBackend(s store.Store) (limiter.Backend, error) {
	if p, ok := s.(limiter.BackendProvider); ok {
		return p.RateLimitBackend()
	}
	if _, ok := s.(*memory.Store); ok {
		return limiter.NewMemoryBackend(10_000)
	}
	return nil, fmt.Errorf("%T has no rate-limit backend", s)
}

func (s *spyStore) RateLimitBackend() (limiter.Backend, error)   { return rateLimitBackend(s.Store) }
func (s *flakyStore) RateLimitBackend() (limiter.Backend, error) { return rateLimitBackend(s.Store) }
func (s *panicStore) RateLimitBackend() (limiter.Backend, error) { return rateLimitBackend(s.Store) }
