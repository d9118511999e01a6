package limiter

import (
	"context"
	"errors"
)

// Backend keeps the state of rate limits. The Limiter owns the policy
// (limits, failure policy, deny cache); a Backend only runs decisions
// atomically. Implementations: NewMemoryBackend here, and the ones
// store/bolt and store/redis return from RateLimitBackend.
//
// A Backend is safe for concurrent use.
type Backend interface {
	// Decide runs the batch against the stored state as one atomic step,
	// with the semantics of Decide in this package (the Redis backend runs
	// a Lua port of it), fills b.Results[:b.N] and b.Allowed, and stores
	// the new states unless b.Peek. An error means nothing was decided
	// (the Limiter then applies its failure policy); errors wrapping
	// store.ErrUnavailable are the backend being unreachable or too slow.
	Decide(ctx context.Context, b *Batch) error
	// Reset deletes the state of every op in b (only Tag and Name count).
	Reset(ctx context.Context, b *Batch) error
}

// BackendProvider is implemented by stores that carry a rate-limit
// backend: store/bolt and store/redis. When a Limiter runs in a Guard
// without WithBackend, it uses the Guard's store: its RateLimitBackend
// if it has one, a memory backend for a store/memory store.
type BackendProvider interface {
	RateLimitBackend() (Backend, error)
}

// Errors.
var (
	// ErrCost: a request's cost is not positive or exceeds what one of
	// its limits can ever admit (Limit.Capacity).
	ErrCost = errors.New("limiter: invalid cost")
	// ErrClosed: the Limiter was closed.
	ErrClosed = errors.New("limiter: closed")
	// ErrTimeout is wrapped (with store.ErrUnavailable) by the error a
	// backend call reports when it did not answer within WithTimeout.
	ErrTimeout = errors.New("limiter: backend timeout")
)
