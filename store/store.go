// Package store defines the small storage interfaces that guard's stateful
// capabilities (rate limiting, lockout, sessions, refresh-token families,
// TOTP replay state, audit records) are written against, and the errors
// every backend returns.
//
// Three backends implement them, each as one value that can serve every
// stateful part of a Guard:
//
//   - store/memory: in-process, bounded, the embedded default;
//   - store/bolt: one BoltDB file, durable, one process;
//   - store/redis: Redis or Redis Cluster, many processes.
//
// store/storetest is the conformance suite all three pass.
//
// Keys are opaque strings chosen by the capability. A key may contain a
// Redis Cluster hash tag ("{...}"); backends that do not shard ignore it.
// Values are byte slices: a backend never retains a slice passed to it, and
// a slice it returns belongs to the caller.
//
// A TTL of zero means "no expiry". A negative TTL is an error
// (ErrInvalidTTL). Expired entries are never returned, whatever the
// backend's reclamation schedule.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors every backend returns, wrapped with backend detail; callers test
// them with errors.Is.
var (
	// ErrNotFound: the key does not exist or has expired.
	ErrNotFound = errors.New("store: key not found")
	// ErrInvalidTTL: a negative TTL was passed.
	ErrInvalidTTL = errors.New("store: negative ttl")
	// ErrInvalidKey: the key is empty or longer than MaxKeyLen.
	ErrInvalidKey = errors.New("store: invalid key")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrUnavailable: the backend could not be reached or did not answer
	// within its timeout. Capabilities apply their failure policy on it.
	ErrUnavailable = errors.New("store: backend unavailable")
	// ErrConflict: an optimistic transaction kept losing races and gave up.
	ErrConflict = errors.New("store: too much contention on key")
	// ErrFull: a bounded store could not make room for a new key.
	ErrFull = errors.New("store: full")
	// ErrNotInteger: Incr found a value that is not a signed 64-bit
	// decimal integer, or adding delta would overflow int64. The stored
	// value is left unchanged (Redis INCRBY behaves the same way).
	ErrNotInteger = errors.New("store: value is not an integer or out of range")
)

// MaxKeyLen is the longest key any backend accepts, in bytes.
const MaxKeyLen = 1024

// KV is the primitive key-value interface every backend implements. All
// methods are safe for concurrent use and honour ctx cancellation and
// deadlines.
type KV interface {
	// Get returns the value stored under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key with the given TTL (0: no expiry),
	// replacing any previous value and TTL.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Incr atomically adds delta to the signed 64-bit decimal counter under
	// key and returns the new value. A missing key starts at 0 and gets the
	// TTL ttl (0: no expiry); an existing key keeps its TTL. A value that is
	// not a decimal integer, or a result that would overflow int64, is an
	// error wrapping ErrNotInteger and leaves the value unchanged.
	Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
	// CompareAndSwap atomically replaces the value under key with new if
	// the current value equals old, and reports whether it did. old == nil
	// means "the key must not exist". On success the TTL becomes ttl.
	CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error)
}

// UpdateFunc computes a key's next state from its current one. cur is nil
// and exists false when the key is missing. It returns the new value and
// TTL; write false leaves the key untouched, and a nil next with write true
// deletes it. It may be called more than once (optimistic backends retry
// it), so it must not have side effects; cur must not be retained.
type UpdateFunc func(cur []byte, exists bool) (next []byte, ttl time.Duration, write bool, err error)

// Updater runs a read-modify-write of one key as one atomic transaction:
// under a lock in memory, in one bolt transaction, with WATCH/MULTI/EXEC in
// Redis. An error returned by fn aborts the update and is returned as is.
type Updater interface {
	Update(ctx context.Context, key string, fn UpdateFunc) error
}

// Store is what a backend value passed to guard.WithStore implements.
type Store interface {
	KV
	Updater
	// Ping reports whether the backend is reachable, within ctx.
	Ping(ctx context.Context) error
	// Close releases the backend's resources. It is idempotent.
	Close() error
}

// ValidateKey returns ErrInvalidKey for an empty or over-long key.
func ValidateKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return ErrInvalidKey
	}
	return nil
}

// ValidateTTL returns ErrInvalidTTL for a negative TTL.
func ValidateTTL(ttl time.Duration) error {
	if ttl < 0 {
		return ErrInvalidTTL
	}
	return nil
}
