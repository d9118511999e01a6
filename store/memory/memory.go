package memory

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guardsdk/guard/store"
)

var _ store.Store = (*Store)(nil)

const (
	// writeReclaimBudget is how many expired entries one write reclaims
	// from the top of its shard's heap, so reclamation keeps pace with
	// writes without ever making one write pay for a large batch.
	writeReclaimBudget = 2
	// janitorBatch bounds how long the janitor holds one shard lock.
	janitorBatch = 1024
)

// Store is a bounded, sharded, in-process store.Store. Create it with New;
// the zero value is not usable. It is safe for concurrent use.
type Store struct {
	shards  []shard
	mask    uint64
	seed    maphash.Seed
	clock   func() time.Time
	noEvict bool

	closed    atomic.Bool
	closeOnce sync.Once
	done      chan struct{}
	wg        sync.WaitGroup
}

// shard is one lock's worth of the key space. Every entry is both in m and
// in heap, which orders entries by expiry (no expiry last) and then by
// creation; its top is the next entry to expire and the next to evict.
type shard struct {
	mu   sync.RWMutex
	m    map[string]*entry
	heap []*entry
	max  int
	seq  uint64

	evicted  uint64
	expired  uint64
	examined uint64 // heap entries inspected by reclaim; tests use it

	_ [64]byte // keep neighbouring shards' locks off one cache line
}

type entry struct {
	key   string
	value []byte // owned by the store: never handed to a caller
	exp   int64  // expiry in unix nanoseconds; 0: none
	seq   uint64 // creation order, breaks ties in the heap
	idx   int    // position in shard.heap
}

// New returns an empty Store configured by opts, and starts its janitor
// unless WithJanitorInterval(0) is given. Call Close to stop the janitor.
func New(opts ...Option) (*Store, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	n := cfg.shards
	if n == 0 {
		n = maxShards
		for n > 1 && cfg.maxEntries/n < minShardEntries {
			n /= 2
		}
	}
	if n > cfg.maxEntries {
		return nil, fmt.Errorf("store/memory: %d shards cannot share %d entries", n, cfg.maxEntries)
	}
	s := &Store{
		shards:  make([]shard, n),
		mask:    uint64(n - 1),
		seed:    maphash.MakeSeed(),
		clock:   cfg.clock,
		noEvict: cfg.noEviction,
		done:    make(chan struct{}),
	}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.max = cfg.maxEntries / n
		if i < cfg.maxEntries%n {
			sh.max++
		}
		sh.m = make(map[string]*entry)
	}
	if cfg.janitor > 0 {
		s.wg.Add(1)
		go s.janitor(cfg.janitor)
	}
	return s, nil
}

// Get returns a copy of the value stored under key, or store.ErrNotFound
// (returned unwrapped, so a miss does not allocate).
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := check(ctx, "get", key); err != nil {
		return nil, err
	}
	sh := s.shardFor(key)
	sh.mu.RLock()
	if s.closed.Load() {
		sh.mu.RUnlock()
		return nil, closedErr("get")
	}
	e := sh.m[key]
	if e == nil || (e.exp != 0 && e.exp <= s.now()) {
		sh.mu.RUnlock()
		return nil, store.ErrNotFound
	}
	v := clone(e.value)
	sh.mu.RUnlock()
	return v, nil
}

// Set stores a copy of value under key with the given TTL (0: no expiry).
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := store.ValidateTTL(ttl); err != nil {
		return opErr("set", err)
	}
	sh, now, err := s.lock(ctx, "set", key)
	if err != nil {
		return err
	}
	defer sh.mu.Unlock()
	if e := sh.live(key, now); e != nil {
		e.value = assign(e.value, value)
		sh.setExp(e, expiry(now, ttl))
		return nil
	}
	if err := sh.makeRoom(now, s.noEvict); err != nil {
		return opErr("set", err)
	}
	sh.insert(key, assign(nil, value), expiry(now, ttl))
	return nil
}

// Delete removes key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	sh, now, err := s.lock(ctx, "delete", key)
	if err != nil {
		return err
	}
	defer sh.mu.Unlock()
	if e := sh.m[key]; e != nil {
		sh.remove(e)
	}
	sh.reclaim(now, writeReclaimBudget)
	return nil
}

// Incr adds delta to the decimal counter under key; see store.KV.
func (s *Store) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if err := store.ValidateTTL(ttl); err != nil {
		return 0, opErr("incr", err)
	}
	sh, now, err := s.lock(ctx, "incr", key)
	if err != nil {
		return 0, err
	}
	defer sh.mu.Unlock()
	if e := sh.live(key, now); e != nil {
		n, err := store.AddCounter(e.value, delta)
		if err != nil {
			return 0, opErr("incr", err)
		}
		e.value = strconv.AppendInt(e.value[:0], n, 10)
		return n, nil
	}
	if err := sh.makeRoom(now, s.noEvict); err != nil {
		return 0, opErr("incr", err)
	}
	sh.insert(key, strconv.AppendInt(make([]byte, 0, 20), delta, 10), expiry(now, ttl))
	return delta, nil
}

// CompareAndSwap replaces the value under key with new if it equals old
// (old == nil: the key must be absent); see store.KV.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	if err := store.ValidateTTL(ttl); err != nil {
		return false, opErr("cas", err)
	}
	sh, now, err := s.lock(ctx, "cas", key)
	if err != nil {
		return false, err
	}
	defer sh.mu.Unlock()
	e := sh.live(key, now)
	switch {
	case e == nil && old != nil, e != nil && (old == nil || !bytes.Equal(e.value, old)):
		return false, nil
	case e != nil:
		e.value = assign(e.value, new)
		sh.setExp(e, expiry(now, ttl))
		return true, nil
	}
	if err := sh.makeRoom(now, s.noEvict); err != nil {
		return false, opErr("cas", err)
	}
	sh.insert(key, assign(nil, new), expiry(now, ttl))
	return true, nil
}

// Update runs fn with the shard lock held, so the read-modify-write is
// atomic with respect to every other operation on the store; fn runs
// exactly once. fn must not call the Store (it would deadlock on keys that
// share its shard). cur is a copy: fn may modify it.
func (s *Store) Update(ctx context.Context, key string, fn store.UpdateFunc) error {
	sh, now, err := s.lock(ctx, "update", key)
	if err != nil {
		return err
	}
	defer sh.mu.Unlock()
	e := sh.live(key, now)
	var cur []byte
	if e != nil {
		cur = clone(e.value)
	}
	next, ttl, write, err := fn(cur, e != nil)
	if err != nil {
		return err
	}
	if !write {
		return nil
	}
	if next == nil {
		if e != nil {
			sh.remove(e)
		}
		return nil
	}
	if err := store.ValidateTTL(ttl); err != nil {
		return opErr("update", err)
	}
	if e != nil {
		e.value = assign(e.value, next)
		sh.setExp(e, expiry(now, ttl))
		return nil
	}
	if err := sh.makeRoom(now, s.noEvict); err != nil {
		return opErr("update", err)
	}
	sh.insert(key, assign(nil, next), expiry(now, ttl))
	return nil
}

// Ping reports store.ErrClosed after Close, and nil otherwise.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return opErr("ping", err)
	}
	if s.closed.Load() {
		return closedErr("ping")
	}
	return nil
}

// Close stops the janitor and drops every entry. It is idempotent; every
// other method returns an error wrapping store.ErrClosed afterwards.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		s.wg.Wait()
		for i := range s.shards {
			sh := &s.shards[i]
			sh.mu.Lock()
			sh.m, sh.heap = nil, nil
			sh.mu.Unlock()
		}
	})
	return nil
}

// Stats is a snapshot of a Store's counters.
type Stats struct {
	// Entries is the number of keys held, including expired keys not yet
	// reclaimed (they are never returned).
	Entries int
	// Evicted counts live entries removed to make room for new keys.
	Evicted uint64
	// Expired counts expired entries reclaimed.
	Expired uint64
}

// Stats returns the store's counters. Each shard is read under its lock,
// so the totals are exact per shard but not one atomic snapshot.
func (s *Store) Stats() Stats {
	var st Stats
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		st.Entries += len(sh.m)
		st.Evicted += sh.evicted
		st.Expired += sh.expired
		sh.mu.RUnlock()
	}
	return st
}

func (s *Store) shardFor(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)&s.mask]
}

func (s *Store) now() int64 { return s.clock().UnixNano() }

// lock validates the call, write-locks key's shard and returns it with the
// current time, after reclaiming a few expired entries. The caller unlocks.
func (s *Store) lock(ctx context.Context, op, key string) (*shard, int64, error) {
	if err := check(ctx, op, key); err != nil {
		return nil, 0, err
	}
	sh := s.shardFor(key)
	sh.mu.Lock()
	if s.closed.Load() {
		sh.mu.Unlock()
		return nil, 0, closedErr(op)
	}
	now := s.now()
	sh.reclaim(now, writeReclaimBudget)
	return sh, now, nil
}

func (s *Store) janitor(interval time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.reclaimAll()
		}
	}
}

// reclaimAll removes every expired entry, popping each shard's heap top
// in bounded batches: it never looks at a live entry except the one at the
// top of each heap.
func (s *Store) reclaimAll() {
	for i := range s.shards {
		sh := &s.shards[i]
		for {
			sh.mu.Lock()
			if s.closed.Load() {
				sh.mu.Unlock()
				return
			}
			n := sh.reclaim(s.now(), janitorBatch)
			sh.mu.Unlock()
			if n < janitorBatch {
				break
			}
		}
	}
}

// live returns key's entry, or nil if it is missing or expired (an expired
// entry is reclaimed on the spot).
func (sh *shard) live(key string, now int64) *entry {
	e := sh.m[key]
	if e != nil && e.exp != 0 && e.exp <= now {
		sh.remove(e)
		sh.expired++
		return nil
	}
	return e
}

// reclaim pops up to budget expired entries off the heap top and returns
// how many it removed.
func (sh *shard) reclaim(now int64, budget int) int {
	n := 0
	for n < budget && len(sh.heap) > 0 {
		top := sh.heap[0]
		sh.examined++
		if top.exp == 0 || top.exp > now {
			break
		}
		sh.remove(top)
		sh.expired++
		n++
	}
	return n
}

// makeRoom ensures the shard can take one more key: it reclaims an expired
// entry, or else evicts the heap top (the entry nearest to expiry, or the
// oldest entry without expiry when none has one), or, with noEvict, fails.
func (sh *shard) makeRoom(now int64, noEvict bool) error {
	if len(sh.m) < sh.max {
		return nil
	}
	if sh.reclaim(now, 1) == 1 {
		return nil
	}
	if noEvict {
		return store.ErrFull
	}
	sh.remove(sh.heap[0])
	sh.evicted++
	return nil
}

func (sh *shard) insert(key string, value []byte, exp int64) {
	sh.seq++
	// Clone the key: it may be a slice of a large request buffer.
	e := &entry{key: strings.Clone(key), value: value, exp: exp, seq: sh.seq, idx: len(sh.heap)}
	sh.m[e.key] = e
	sh.heap = append(sh.heap, e)
	sh.up(e.idx)
}

func (sh *shard) remove(e *entry) {
	delete(sh.m, e.key)
	i, last := e.idx, len(sh.heap)-1
	if i != last {
		sh.swap(i, last)
	}
	sh.heap[last] = nil
	sh.heap = sh.heap[:last]
	if i != last {
		sh.fix(i)
	}
}

func (sh *shard) setExp(e *entry, exp int64) {
	if e.exp != exp {
		e.exp = exp
		sh.fix(e.idx)
	}
}

// heapKey orders entries without expiry after all others.
func heapKey(e *entry) int64 {
	if e.exp == 0 {
		return math.MaxInt64
	}
	return e.exp
}

func (sh *shard) less(i, j int) bool {
	a, b := sh.heap[i], sh.heap[j]
	ka, kb := heapKey(a), heapKey(b)
	if ka != kb {
		return ka < kb
	}
	return a.seq < b.seq
}

func (sh *shard) swap(i, j int) {
	sh.heap[i], sh.heap[j] = sh.heap[j], sh.heap[i]
	sh.heap[i].idx = i
	sh.heap[j].idx = j
}

func (sh *shard) fix(i int) {
	if !sh.down(i) {
		sh.up(i)
	}
}

func (sh *shard) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !sh.less(j, i) {
			break
		}
		sh.swap(i, j)
		j = i
	}
}

func (sh *shard) down(i0 int) bool {
	i, n := i0, len(sh.heap)
	for {
		j := 2*i + 1
		if j >= n {
			break
		}
		if r := j + 1; r < n && sh.less(r, j) {
			j = r
		}
		if !sh.less(j, i) {
			break
		}
		sh.swap(i, j)
		i = j
	}
	return i > i0
}

// expiry converts a TTL into an absolute deadline (0: none), saturating
// instead of overflowing for absurdly long TTLs.
func expiry(now int64, ttl time.Duration) int64 {
	if ttl == 0 {
		return 0
	}
	if int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(ttl)
}

// assign copies src into dst, reusing dst's array when it fits without
// wasting much. The result is never nil, so empty values stay present.
func assign(dst, src []byte) []byte {
	if cap(dst) >= len(src) && cap(dst) <= 2*len(src)+64 {
		dst = dst[:len(src)]
		copy(dst, src)
		return dst
	}
	d := make([]byte, len(src))
	copy(d, src)
	return d
}

func clone(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

func check(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return opErr(op, err)
	}
	if err := store.ValidateKey(key); err != nil {
		return opErr(op, err)
	}
	return nil
}

func opErr(op string, err error) error {
	return fmt.Errorf("store/memory: %s: %w", op, err)
}

func closedErr(op string) error { return opErr(op, store.ErrClosed) }
