package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	bbolt "go.etcd.io/bbolt"

	"github.com/guardsdk/guard/limiter"
	"github.com/guardsdk/guard/store"
)

var (
	_ limiter.Backend         = (*RateLimitBackend)(nil)
	_ limiter.BackendProvider = (*Store)(nil)
)

var (
	rlBucket    = []byte("guard.ratelimit")
	rlExpBucket = []byte("guard.ratelimit.expiry")
)

// rlSweep is how many expired records each write transaction deletes, so
// the file holds only live keys without a sweeper scanning it.
const rlSweep = 16

// RateLimitBackend is the limiter.Backend in a bolt file: limiter.Decide
// run inside write transactions, so state survives restarts.
//
// Durability and concurrency: a decision returns after the transaction
// that stored it committed (and was fsynced, unless the Store was opened
// with WithNoSync). Decisions are group-committed: one that finds no
// transaction running starts one at once; decisions arriving meanwhile
// wait and go together into the next transaction, one fsync for all, with
// no timer involved. Within a transaction decisions apply in arrival
// order, each seeing the ones before. Peek only reads. One process only:
// bbolt locks the file.
//
// Each record (key: tag, NUL, limit name) holds the 40-byte
// limiter.State and its expiry; an expiry index lets every write
// transaction delete up to 16 records whose state has expired.
type RateLimitBackend struct {
	s *Store

	mu      sync.Mutex
	queue   []*rlCall
	running bool
}

type rlCall struct {
	b    *limiter.Batch
	err  error
	done chan struct{}
	lead bool
	next []*rlCall
}

// NewRateLimitBackend returns the rate-limit backend on s, creating its
// buckets.
func NewRateLimitBackend(s *Store) (*RateLimitBackend, error) {
	if s == nil {
		return nil, errors.New("store/bolt: NewRateLimitBackend: nil store")
	}
	if s.closed.Load() {
		return nil, opErr("ratelimit", store.ErrClosed)
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(rlBucket); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(rlExpBucket)
		return err
	})
	if err != nil {
		return nil, s.wrap("ratelimit", err)
	}
	return &RateLimitBackend{s: s}, nil
}

// RateLimitBackend implements limiter.BackendProvider, so a limiter in a
// Guard using this Store keeps its state in the same file.
func (s *Store) RateLimitBackend() (limiter.Backend, error) { return NewRateLimitBackend(s) }

func rlKey(op *limiter.Op) []byte {
	k := make([]byte, 0, len(op.Tag)+1+len(op.Name))
	k = append(k, op.Tag...)
	k = append(k, 0)
	return append(k, op.Name...)
}

func (b *RateLimitBackend) check(ctx context.Context, bt *limiter.Batch) error {
	if err := ctx.Err(); err != nil {
		return opErr("ratelimit", err)
	}
	if b.s.closed.Load() {
		return opErr("ratelimit", store.ErrClosed)
	}
	for i := 0; i < bt.N; i++ {
		if n := len(bt.Ops[i].Tag) + 1 + len(bt.Ops[i].Name); n > store.MaxKeyLen {
			return opErr("ratelimit", store.ErrInvalidKey)
		}
	}
	return nil
}

// Decide implements limiter.Backend.
func (b *RateLimitBackend) Decide(ctx context.Context, bt *limiter.Batch) error {
	if err := b.check(ctx, bt); err != nil {
		return err
	}
	if bt.Peek {
		err := b.s.db.View(func(tx *bbolt.Tx) error {
			return decideTx(tx, bt, false)
		})
		return b.s.wrap("ratelimit", err)
	}
	c := &rlCall{b: bt}
	b.mu.Lock()
	if !b.running {
		b.running = true
		batch := append(b.queue, c)
		b.queue = nil
		b.mu.Unlock()
		b.commit(batch, c)
		return c.err
	}
	c.done = make(chan struct{}, 1)
	b.queue = append(b.queue, c)
	b.mu.Unlock()
	select {
	case <-c.done:
		if c.lead {
			b.commit(c.next, c)
		}
		return c.err
	case <-ctx.Done():
	}
	b.mu.Lock()
	for i, q := range b.queue {
		if q == c {
			b.queue = append(b.queue[:i:i], b.queue[i+1:]...)
			b.mu.Unlock()
			return opErr("ratelimit", fmt.Errorf("%w: %w", store.ErrUnavailable, ctx.Err()))
		}
	}
	lead := c.lead
	b.mu.Unlock()
	if lead {
		// The next transaction was handed to us as we gave up: run it
		// anyway, or the calls in it would wait for nothing.
		go func() {
			<-c.done
			b.commit(c.next, c)
		}()
	}
	return opErr("ratelimit", fmt.Errorf("%w: %w", store.ErrUnavailable, ctx.Err()))
}

// commit runs one write transaction for calls, delivers the outcome, and
// hands the calls queued meanwhile to the first of them.
func (b *RateLimitBackend) commit(calls []*rlCall, self *rlCall) {
	err := b.s.db.Update(func(tx *bbolt.Tx) error {
		var now int64
		for _, c := range calls {
			if err := decideTx(tx, c.b, true); err != nil {
				return err
			}
			now = max(now, c.b.Now)
		}
		sweepTx(tx, now) // on the limiter's clock, like the expiries
		return nil
	})
	err = b.s.wrap("ratelimit", err)
	for _, c := range calls {
		c.err = err
		if c != self {
			c.done <- struct{}{}
		}
	}
	b.mu.Lock()
	if len(b.queue) == 0 {
		b.running = false
		b.mu.Unlock()
		return
	}
	next := b.queue
	b.queue = nil
	first := next[0]
	first.lead, first.next = true, next
	b.mu.Unlock()
	first.done <- struct{}{}
}

// decideTx runs one batch inside tx.
func decideTx(tx *bbolt.Tx, bt *limiter.Batch, write bool) error {
	bk, ek := tx.Bucket(rlBucket), tx.Bucket(rlExpBucket)
	if bk == nil || ek == nil {
		return errors.New("rate-limit buckets missing")
	}
	var (
		keys   [limiter.MaxOps][]byte
		states [limiter.MaxOps]limiter.State
		olds   [limiter.MaxOps]int64 // stored expiry, -1 when absent
		wr     [limiter.MaxOps]bool
	)
	for i := 0; i < bt.N; i++ {
		keys[i] = rlKey(&bt.Ops[i])
		olds[i] = -1
		if v := bk.Get(keys[i]); len(v) == 48 {
			states[i] = decodeState(v)
			olds[i] = int64(binary.BigEndian.Uint64(v[40:]))
			if olds[i] <= bt.Now {
				states[i] = limiter.State{} // expired: a fresh key
			}
		}
	}
	limiter.Decide(bt, states[:bt.N], wr[:bt.N])
	if !write {
		return nil
	}
	for i := 0; i < bt.N; i++ {
		if !wr[i] {
			continue
		}
		exp := bt.Ops[i].Spec.Expiry(states[i])
		if olds[i] >= 0 {
			if err := ek.Delete(expKey(olds[i], keys[i])); err != nil {
				return err
			}
		}
		if exp <= bt.Now {
			if err := bk.Delete(keys[i]); err != nil {
				return err
			}
			continue
		}
		var v [48]byte
		encodeState(v[:], &states[i], exp)
		if err := bk.Put(keys[i], v[:]); err != nil {
			return err
		}
		if err := ek.Put(expKey(exp, keys[i]), nil); err != nil {
			return err
		}
	}
	return nil
}

// sweepTx deletes up to rlSweep records that expired before now (µs).
func sweepTx(tx *bbolt.Tx, now int64) {
	bk, ek := tx.Bucket(rlBucket), tx.Bucket(rlExpBucket)
	c := ek.Cursor()
	var dead [][]byte
	for k, _ := c.First(); k != nil && len(dead) < rlSweep; k, _ = c.Next() {
		if len(k) < 8 || int64(binary.BigEndian.Uint64(k)) > now {
			break
		}
		dead = append(dead, bytes.Clone(k))
	}
	for _, k := range dead {
		_ = ek.Delete(k)
		if v := bk.Get(k[8:]); len(v) == 48 && int64(binary.BigEndian.Uint64(v[40:])) <= now {
			_ = bk.Delete(k[8:])
		}
	}
}

func expKey(exp int64, key []byte) []byte {
	k := make([]byte, 8+len(key))
	binary.BigEndian.PutUint64(k, uint64(exp))
	copy(k[8:], key)
	return k
}

func encodeState(v []byte, s *limiter.State, exp int64) {
	binary.BigEndian.PutUint64(v[0:], uint64(s.T))
	binary.BigEndian.PutUint64(v[8:], uint64(s.Cur))
	binary.BigEndian.PutUint64(v[16:], uint64(s.Prev))
	binary.BigEndian.PutUint64(v[24:], uint64(s.Level))
	binary.BigEndian.PutUint64(v[32:], uint64(s.Until))
	binary.BigEndian.PutUint64(v[40:], uint64(exp))
}

func decodeState(v []byte) limiter.State {
	return limiter.State{
		T:     int64(binary.BigEndian.Uint64(v[0:])),
		Cur:   int64(binary.BigEndian.Uint64(v[8:])),
		Prev:  int64(binary.BigEndian.Uint64(v[16:])),
		Level: int64(binary.BigEndian.Uint64(v[24:])),
		Until: int64(binary.BigEndian.Uint64(v[32:])),
	}
}

// Reset implements limiter.Backend.
func (b *RateLimitBackend) Reset(ctx context.Context, bt *limiter.Batch) error {
	if err := b.check(ctx, bt); err != nil {
		return err
	}
	err := b.s.db.Update(func(tx *bbolt.Tx) error {
		bk, ek := tx.Bucket(rlBucket), tx.Bucket(rlExpBucket)
		for i := 0; i < bt.N; i++ {
			k := rlKey(&bt.Ops[i])
			if v := bk.Get(k); len(v) == 48 {
				if err := ek.Delete(expKey(int64(binary.BigEndian.Uint64(v[40:])), k)); err != nil {
					return err
				}
			}
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return b.s.wrap("ratelimit", err)
}

// String is for debugging.
func (b *RateLimitBackend) String() string { return fmt.Sprintf("bolt rate limits in %s", b.s.path) }
