package redis

import (
	"fmt"
	"strings"
	"time"
)

// Defaults used when an option is not given.
const (
	// DefaultPrefix starts every key the Store writes.
	DefaultPrefix = "guard:"
	// DefaultTimeout bounds every operation, including New's ping.
	DefaultTimeout = 250 * time.Millisecond
	// DefaultUpdateRetries is how many optimistic attempts Update makes
	// before it gives up with store.ErrConflict.
	DefaultUpdateRetries = 16
)

// An Option configures New.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	prefix      string
	timeout     time.Duration
	ping        bool
	retries     int
	closeClient bool
}

func defaultConfig() config {
	return config{
		prefix:  DefaultPrefix,
		timeout: DefaultTimeout,
		ping:    true,
		retries: DefaultUpdateRetries,
	}
}

// WithPrefix sets the string every Redis key starts with (default
// DefaultPrefix), so that several applications, or several Guards, can
// share one Redis. It may be empty. It must not contain '{' or '}': a brace
// in the prefix would become every key's Cluster hash tag and put all keys
// in one slot.
func WithPrefix(prefix string) Option {
	return optionFunc(func(c *config) error {
		if strings.ContainsAny(prefix, "{}") {
			return fmt.Errorf("store/redis: WithPrefix(%q): must not contain '{' or '}'", prefix)
		}
		c.prefix = prefix
		return nil
	})
}

// WithTimeout sets the deadline of every operation (default
// DefaultTimeout), applied with context.WithTimeout on top of the caller's
// context: an operation returns within about d whether or not Redis
// answers, and a timeout is an error wrapping store.ErrUnavailable. For
// Update the deadline covers all its attempts. d must be positive.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("store/redis: WithTimeout(%s): must be positive", d)
		}
		c.timeout = d
		return nil
	})
}

// WithStartupPing controls whether New pings Redis (default true) and
// fails, within the timeout, with an error wrapping store.ErrUnavailable
// when it does not answer. Turn it off to start while Redis is down and
// let the capabilities' failure policies handle it.
func WithStartupPing(ping bool) Option {
	return optionFunc(func(c *config) error {
		c.ping = ping
		return nil
	})
}

// WithUpdateRetries sets how many WATCH/MULTI/EXEC attempts Update makes
// before returning an error wrapping store.ErrConflict (default
// DefaultUpdateRetries). n must be at least 1.
func WithUpdateRetries(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("store/redis: WithUpdateRetries(%d): must be at least 1", n)
		}
		c.retries = n
		return nil
	})
}

// WithCloseClient(true) makes Close close the client given to New. By
// default the caller keeps ownership of the client and closes it.
func WithCloseClient(close bool) Option {
	return optionFunc(func(c *config) error {
		c.closeClient = close
		return nil
	})
}
