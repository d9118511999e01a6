package limiter

import (
	"fmt"
	"time"

	"github.com/guardsdk/guard"
)

// Defaults used when a setting is not given.
const (
	// DefaultTimeout bounds each call to a backend other than memory.
	DefaultTimeout = 100 * time.Millisecond
	// DefaultBreakerFailures is how many consecutive backend failures open
	// the circuit breaker.
	DefaultBreakerFailures = 3
	// DefaultProbeInterval is how long an open breaker waits before it
	// lets one decision probe the backend again.
	DefaultProbeInterval = time.Second
	// DefaultDenyCacheKeys is the deny cache's size for backends other
	// than memory.
	DefaultDenyCacheKeys = 1 << 16
	// DefaultFallbackKeys bounds the local limiter of FailLocal.
	DefaultFallbackKeys = 1 << 16
)

// FailurePolicy says what a Limiter decides when its backend fails or
// times out.
type FailurePolicy uint8

// Failure policies.
const (
	// FailLocal decides with an in-process memory limiter with the same
	// limits: every process enforces them alone, so a fleet of n processes
	// admits up to n times the limit while the backend is down, but no
	// client gets unlimited access. The default.
	FailLocal FailurePolicy = iota
	// FailOpen admits every request.
	FailOpen
	// FailClosed denies every request (the HTTP stage answers 503).
	FailClosed
)

// String returns "fail_local", "fail_open" or "fail_closed".
func (p FailurePolicy) String() string {
	switch p {
	case FailLocal:
		return "fail_local"
	case FailOpen:
		return "fail_open"
	case FailClosed:
		return "fail_closed"
	}
	return fmt.Sprintf("policy(%d)", uint8(p))
}

// HeaderMode selects the rate-limit headers the HTTP stage writes; combine
// with |.
type HeaderMode uint8

// Header modes.
const (
	// HeadersXRateLimit writes X-RateLimit-Limit, X-RateLimit-Remaining and
	// X-RateLimit-Reset (the default).
	HeadersXRateLimit HeaderMode = 1 << iota
	// HeadersDraft writes the IETF draft's structured fields
	// RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers).
	HeadersDraft
	// HeadersResetEpoch makes X-RateLimit-Reset a Unix time in seconds
	// instead of delta seconds.
	HeadersResetEpoch
	// HeadersNone writes no rate-limit headers (Retry-After on a 429 is
	// always written).
	HeadersNone HeaderMode = 0
)

// A Setting configures New, Stage and Option. Settings are sealed: they
// come only from the With functions of this package.
type Setting interface {
	apply(*config) error
}

type settingFunc func(*config) error

func (f settingFunc) apply(c *config) error { return f(c) }

type config struct {
	limits          []Limit
	backend         Backend
	maxKeys         int
	now             func() time.Time
	failure         FailurePolicy
	timeout         time.Duration
	breakerFailures int
	probe           time.Duration
	denyKeys        int // -1: default for the backend
	fallbackKeys    int
	shadow          bool
	publish         func(guard.Event)
	rules           []Rule
	headers         HeaderMode
	headersSet      bool
}

func defaultConfig() config {
	return config{
		maxKeys:         DefaultMaxKeys,
		failure:         FailLocal,
		timeout:         DefaultTimeout,
		breakerFailures: DefaultBreakerFailures,
		probe:           DefaultProbeInterval,
		denyKeys:        -1,
		fallbackKeys:    DefaultFallbackKeys,
		headers:         HeadersXRateLimit,
	}
}

// WithLimits sets the limits Allow, AllowN, Peek and Reset apply to a key,
// decided together (all or nothing). At most MaxOps.
func WithLimits(limits ...Limit) Setting {
	return settingFunc(func(c *config) error {
		if _, err := compile(limits); err != nil {
			return fmt.Errorf("limiter: WithLimits: %w", err)
		}
		c.limits = append([]Limit(nil), limits...)
		return nil
	})
}

// WithBackend sets the backend explicitly. Without it, a Limiter made by
// New uses a memory backend (WithMaxKeys), and one made by Option or
// Stage inside a Guard follows the Guard's store.
func WithBackend(b Backend) Setting {
	return settingFunc(func(c *config) error {
		if b == nil {
			return fmt.Errorf("limiter: WithBackend: nil backend")
		}
		c.backend = b
		return nil
	})
}

// WithMaxKeys bounds the memory backend the Limiter creates (default
// DefaultMaxKeys): one key per identity and limit, 32 bytes each.
func WithMaxKeys(n int) Setting {
	return settingFunc(func(c *config) error {
		if n < 1 || n > 1<<32 {
			return fmt.Errorf("limiter: WithMaxKeys: %d not in [1, %d]", n, 1<<32)
		}
		c.maxKeys = n
		return nil
	})
}

// WithClock replaces the clock, for tests. The default is the monotonic
// clock anchored to the wall clock when the Limiter is made (inside a
// Guard: the Guard's clock). The Redis backend uses the Redis server's
// clock and ignores it.
func WithClock(now func() time.Time) Setting {
	return settingFunc(func(c *config) error {
		if now == nil {
			return fmt.Errorf("limiter: WithClock: nil function")
		}
		c.now = now
		return nil
	})
}

// WithFailurePolicy sets what happens when the backend fails (default
// FailLocal).
func WithFailurePolicy(p FailurePolicy) Setting {
	return settingFunc(func(c *config) error {
		if p > FailClosed {
			return fmt.Errorf("limiter: WithFailurePolicy: unknown policy %d", p)
		}
		c.failure = p
		return nil
	})
}

// WithTimeout bounds each backend call (default DefaultTimeout; the
// memory backend never waits and ignores it). A call that times out
// counts as a failure.
func WithTimeout(d time.Duration) Setting {
	return settingFunc(func(c *config) error {
		if d <= 0 || d > time.Minute {
			return fmt.Errorf("limiter: WithTimeout: %v not in (0, 1m]", d)
		}
		c.timeout = d
		return nil
	})
}

// WithBreaker sets the circuit breaker: after failures consecutive backend
// failures (default DefaultBreakerFailures) the Limiter stops calling the
// backend and applies its failure policy at once; every probe interval
// (default DefaultProbeInterval) one decision tries the backend again, and
// its success closes the breaker. A dead backend so costs at most one
// timeout per probe interval.
func WithBreaker(failures int, probe time.Duration) Setting {
	return settingFunc(func(c *config) error {
		if failures < 1 {
			return fmt.Errorf("limiter: WithBreaker: failures %d must be at least 1", failures)
		}
		if probe < time.Millisecond || probe > time.Hour {
			return fmt.Errorf("limiter: WithBreaker: probe interval %v not in [1ms, 1h]", probe)
		}
		c.breakerFailures, c.probe = failures, probe
		return nil
	})
}

// WithDenyCache sizes the local deny cache (0 disables it). A key found
// denied until T is denied locally until T without asking the backend, so
// a client hammering a blocked key costs no backend traffic. The default
// is DefaultDenyCacheKeys for remote backends and off for memory, where
// it would gain nothing. Reset and SetLimits clear it; a Reset by another
// process is seen here only when the cached denial ends.
func WithDenyCache(keys int) Setting {
	return settingFunc(func(c *config) error {
		if keys < 0 || keys > 1<<24 {
			return fmt.Errorf("limiter: WithDenyCache: %d not in [0, %d]", keys, 1<<24)
		}
		c.denyKeys = keys
		return nil
	})
}

// WithFallbackKeys bounds the local limiter FailLocal uses (default
// DefaultFallbackKeys).
func WithFallbackKeys(n int) Setting {
	return settingFunc(func(c *config) error {
		if n < 1 || n > 1<<32 {
			return fmt.Errorf("limiter: WithFallbackKeys: %d not in [1, %d]", n, 1<<32)
		}
		c.fallbackKeys = n
		return nil
	})
}

// WithShadow turns shadow mode on for every limit: decisions are made,
// stored and reported (Result.Shadow, rate_limited events with
// shadow=true) but never deny. Rules can also be shadowed one by one.
func WithShadow(on bool) Setting {
	return settingFunc(func(c *config) error {
		c.shadow = on
		return nil
	})
}

// WithEvents sets where a Limiter used outside a Guard publishes
// backend_degraded and backend_recovered events. Inside a Guard, events go
// to the Guard's sinks.
func WithEvents(publish func(guard.Event)) Setting {
	return settingFunc(func(c *config) error {
		if publish == nil {
			return fmt.Errorf("limiter: WithEvents: nil function")
		}
		c.publish = publish
		return nil
	})
}

// WithRules adds HTTP rules, for Option.
func WithRules(rules ...Rule) Setting {
	return settingFunc(func(c *config) error {
		c.rules = append(c.rules, rules...)
		return nil
	})
}

// WithHeaders selects the response headers of the HTTP stage (default
// HeadersXRateLimit).
func WithHeaders(m HeaderMode) Setting {
	return settingFunc(func(c *config) error {
		if m&^(HeadersXRateLimit|HeadersDraft|HeadersResetEpoch) != 0 {
			return fmt.Errorf("limiter: WithHeaders: unknown mode %#x", uint8(m))
		}
		c.headers, c.headersSet = m, true
		return nil
	})
}
