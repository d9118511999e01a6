package bolt

import (
	"fmt"
	"time"
)

// Defaults used when an option is not given.
const (
	// DefaultFileLockTimeout is how long Open waits for the file lock.
	DefaultFileLockTimeout = time.Second
	// DefaultSweepInterval is how often expired entries are deleted.
	DefaultSweepInterval = time.Minute
	// sweepBatch bounds the entries one sweep transaction deletes, so the
	// sweeper never holds the single writer lock for long.
	sweepBatch = 1000
)

// An Option configures Open.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	lockTimeout time.Duration
	clock       func() time.Time
	noSync      bool
	sweep       time.Duration
	batchDelay  time.Duration
}

func defaultConfig() config {
	return config{
		lockTimeout: DefaultFileLockTimeout,
		clock:       time.Now,
		sweep:       DefaultSweepInterval,
	}
}

// WithFileLockTimeout bounds how long Open waits for the exclusive file
// lock another process (or another Open in this process) holds (default
// DefaultFileLockTimeout). d must be positive: bbolt's "wait forever" is
// deliberately not offered, so a second process fails fast with ErrLocked
// instead of hanging.
func WithFileLockTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("store/bolt: WithFileLockTimeout(%s): must be positive", d)
		}
		c.lockTimeout = d
		return nil
	})
}

// WithClock replaces time.Now as the source of time for TTLs, so tests
// can move time forward without sleeping. Expiry times are stored as wall
// clock Unix nanoseconds, so the clock must agree across restarts.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) error {
		if now == nil {
			return fmt.Errorf("store/bolt: WithClock(nil): clock must not be nil")
		}
		c.clock = now
		return nil
	})
}

// WithNoSync(true) skips the fdatasync calls after each commit. Writes
// then survive a crash of the process (they are in the operating system's
// page cache) but acknowledged writes may be lost, and the file may be
// corrupted, on a power loss or an operating-system crash. bbolt marks
// the setting unsafe for normal use; it is meant for tests and bulk
// loads. The default, false, syncs every commit.
func WithNoSync(noSync bool) Option {
	return optionFunc(func(c *config) error {
		c.noSync = noSync
		return nil
	})
}

// WithSweepInterval sets how often a background goroutine deletes expired
// entries (default DefaultSweepInterval). Zero disables it: expired
// entries are then never returned but stay on disk until overwritten.
// Negative is an error.
func WithSweepInterval(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d < 0 {
			return fmt.Errorf("store/bolt: WithSweepInterval(%s): must not be negative", d)
		}
		c.sweep = d
		return nil
	})
}

// WithBatchDelay, with d > 0, runs Set, Delete, Incr and CompareAndSwap
// through bbolt's DB.Batch, which lets up to 1000 concurrent writers share
// one transaction and one fsync, waiting at most d for the batch to fill.
// It raises throughput under many concurrent writers at the price of up
// to d more latency for each write. Each call still returns only after
// its batch committed, so durability is unchanged. Batch may run a
// transaction function more than once; these four are safe to re-run
// because each run starts from the rolled-back state. Update never
// batches. Zero, the default, gives every write its own transaction.
func WithBatchDelay(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d < 0 {
			return fmt.Errorf("store/bolt: WithBatchDelay(%s): must not be negative", d)
		}
		c.batchDelay = d
		return nil
	})
}
