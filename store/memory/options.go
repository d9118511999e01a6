package memory

import (
	"fmt"
	"time"
)

// Defaults used when an option is not given.
const (
	// DefaultMaxEntries is the bound on the number of keys when
	// WithMaxEntries is not given.
	DefaultMaxEntries = 1_000_000
	// DefaultJanitorInterval is how often the background janitor reclaims
	// expired entries when WithJanitorInterval is not given.
	DefaultJanitorInterval = time.Second
	// maxShards is the shard count of a large store; small stores use
	// fewer shards so that each holds at least minShardEntries keys.
	maxShards       = 64
	minShardEntries = 64
)

// An Option configures a Store. Options are applied in order by New.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	maxEntries int
	clock      func() time.Time
	janitor    time.Duration
	noEviction bool
	shards     int // 0: derived from maxEntries; set by tests only
}

func defaultConfig() config {
	return config{
		maxEntries: DefaultMaxEntries,
		clock:      time.Now,
		janitor:    DefaultJanitorInterval,
	}
}

// WithMaxEntries bounds the number of keys the store holds (default
// DefaultMaxEntries). n must be at least 1. The bound is enforced per
// shard: each shard holds at most its share of n (the shares add up to
// exactly n), so the store never holds more than n keys, and may evict a
// little before it holds n when keys hash unevenly.
func WithMaxEntries(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("store/memory: WithMaxEntries(%d): must be at least 1", n)
		}
		c.maxEntries = n
		return nil
	})
}

// WithClock replaces time.Now as the store's clock, so tests can move time
// forward without sleeping. now must be safe for concurrent use and should
// not go backwards.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) error {
		if now == nil {
			return fmt.Errorf("store/memory: WithClock(nil): clock must not be nil")
		}
		c.clock = now
		return nil
	})
}

// WithJanitorInterval sets how often a background goroutine reclaims
// expired entries (default DefaultJanitorInterval). Zero disables the
// janitor: expired entries are then reclaimed only by writes and by
// eviction, and are never returned either way. Negative is an error.
func WithJanitorInterval(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d < 0 {
			return fmt.Errorf("store/memory: WithJanitorInterval(%s): must not be negative", d)
		}
		c.janitor = d
		return nil
	})
}

// WithNoEviction makes a full store refuse new keys with an error wrapping
// store.ErrFull instead of evicting live entries (expired entries are still
// reclaimed to make room). Updates of existing keys always succeed. This is
// Redis's "noeviction" policy: choose it when losing state (a lockout, a
// session) is worse than refusing new state.
func WithNoEviction() Option {
	return optionFunc(func(c *config) error {
		c.noEviction = true
		return nil
	})
}

// withShards forces the shard count (a power of two); tests use it to make
// eviction order observable.
func withShards(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 || n&(n-1) != 0 {
			return fmt.Errorf("store/memory: withShards(%d): must be a power of two", n)
		}
		c.shards = n
		return nil
	})
}
