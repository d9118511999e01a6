package limiter

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/bits"
	"runtime"
	"sync/atomic"
)

// DefaultMaxKeys is the bound on the keys of a memory backend when
// WithMaxKeys is not given: 1<<20 keys, 32 MiB.
const DefaultMaxKeys = 1 << 20

// The memory backend is a set-associative table, like a CPU cache: a key's
// 64-bit seeded hash picks two buckets of four records; the record lives
// in whichever has room. A bucket is 128 bytes, two adjacent cache lines
// of two slots each, a slot being a hash and its 24-byte state.
// Each bucket is its own lock: bit 1 of its first hash word, so that the
// lock is in the cache line a decision reads anyway, and two decisions
// contend only when their keys share a bucket. A decision reads both
// buckets' hashes without locking (one loop, so that their cache misses
// overlap), locks the bucket that holds its key and checks the hash again
// (hashes change only under their bucket's lock). A key in neither bucket
// is inserted with both locked, in ascending order. When both buckets are
// full, records move to their other bucket to make room (cuckoo hashing,
// two steps deep, only into buckets whose lock is free); only when that
// fails is the least recently active record of the two buckets evicted.
// Nothing is allocated after New: a decision hashes, scans at most eight
// hashes, locks one bucket and unlocks it. The key itself is not kept,
// only its hash (62 bits of it: bit 0 marks a full slot, bit 1 is the
// lock): two keys would share a record only if those collided, which at a
// million keys happens with probability about 10⁻⁷, and the seed is random
// per process, so it cannot be aimed at.
const ways = 4

// lockBit, in a bucket's h[0], is the bucket's lock; in every stored hash
// it is 0 (hashes are masked with it when read).
const lockBit = 2

type memRec struct {
	t   int64  // State.T
	cnt uint64 // State.Cur | State.Prev<<32
	pen uint64 // State.Level<<56 | State.Until
}

// memSlot is a key's hash (bit 0 set; 0 marks an empty slot; read and
// written atomically) and its state (read and written under the bucket's
// lock), side by side, so that the cache line where a decision finds the
// hash is the one holding the state.
type memSlot struct {
	h uint64
	r memRec
}

// memBucket is 128 bytes, two cache lines of two slots each.
type memBucket struct {
	s [ways]memSlot
}

const untilMask = 1<<56 - 1

func (k *memBucket) tag(w int) uint64 { return atomic.LoadUint64(&k.s[w].h) &^ lockBit }

// setTag stores a hash; the caller holds k's lock.
func (k *memBucket) setTag(w int, h uint64) {
	if w == 0 {
		h |= lockBit
	}
	atomic.StoreUint64(&k.s[w].h, h)
}

func (k *memBucket) tryLock() bool {
	v := atomic.LoadUint64(&k.s[0].h)
	return v&lockBit == 0 && atomic.CompareAndSwapUint64(&k.s[0].h, v, v|lockBit)
}

func (k *memBucket) lock() {
	for i := 0; !k.tryLock(); i++ {
		if i >= 32 {
			// The holder may be descheduled (GOMAXPROCS=1): let it run.
			runtime.Gosched()
		}
	}
}

func (k *memBucket) unlock() { atomic.AndUint64(&k.s[0].h, ^uint64(lockBit)) }

// MemoryBackend is the in-process Backend: bounded, allocation free, one
// lock per bucket. Create it with NewMemoryBackend; it is safe for
// concurrent use.
type MemoryBackend struct {
	seed    maphash.Seed
	b       []memBucket
	nb      uint64
	evicted atomic.Uint64
}

var _ Backend = (*MemoryBackend)(nil)

// NewMemoryBackend returns a memory backend for at most maxKeys keys (one
// key per identity and limit), which reserves 32 bytes per key up front
// (the pages are touched as keys arrive). maxKeys must be in [1, 1<<32].
func NewMemoryBackend(maxKeys int) (*MemoryBackend, error) {
	if maxKeys < 1 || maxKeys > 1<<32 {
		return nil, fmt.Errorf("limiter: memory backend: %d keys not in [1, %d]", maxKeys, 1<<32)
	}
	nb := max((maxKeys+ways-1)/ways, 2)
	return &MemoryBackend{seed: maphash.MakeSeed(), b: make([]memBucket, nb), nb: uint64(nb)}, nil
}

// Evicted reports how many live records were evicted to make room.
func (m *MemoryBackend) Evicted() uint64 { return m.evicted.Load() }

// Cap returns the number of records the backend holds at most.
func (m *MemoryBackend) Cap() int { return len(m.b) * ways }

func (m *MemoryBackend) hash(op *Op) uint64 { return m.hashKey(op.Tag, nameHash(op.Name)) }

// nameHash is the part of a key's hash that depends on the limit's name, a
// constant of the configuration: a plain FNV-1a. The tag, which clients
// choose, gets the seeded hash.
func nameHash(name string) uint64 { return bits.RotateLeft64(fnv(name), 29) }

func (m *MemoryBackend) hashKey(tag string, nh uint64) uint64 {
	h := maphash.String(m.seed, tag) ^ nh
	// Finalise (murmur3 fmix64) so that every bit depends on both parts.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return (h | 1) &^ lockBit
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// buckets returns the two candidate buckets of h, which differ.
func (m *MemoryBackend) buckets(h uint64) (int, int) {
	b1 := (h & 0xffffffff) * m.nb >> 32
	b2 := (h >> 32) * m.nb >> 32
	if b2 == b1 {
		b2 = (b1 + 1) % m.nb
	}
	return int(b1), int(b2)
}

// locate finds h's record and locks what a decision on it needs: when
// found (w ≥ 0), the bucket k that holds it; when not (w < 0), both of
// h's buckets. Release with m.release.
func (m *MemoryBackend) locate(h uint64) (k *memBucket, w int) {
	b1, b2 := m.buckets(h)
	k1, k2 := &m.b[b1], &m.b[b2]
	for {
		// All four lines in one loop, so that their cache misses overlap
		// rather than follow each other; the line holding the hash found
		// holds its state too.
		k, w = nil, -1
		for i := 0; i < ways; i++ {
			if atomic.LoadUint64(&k1.s[i].h)&^lockBit == h {
				k, w = k1, i
				break
			}
			if atomic.LoadUint64(&k2.s[i].h)&^lockBit == h {
				k, w = k2, i
				break
			}
		}
		if w < 0 {
			break
		}
		k.lock()
		if k.tag(w) == h {
			return k, w
		}
		k.unlock() // moved or evicted meanwhile
	}
	if b1 < b2 {
		k1.lock()
		k2.lock()
	} else {
		k2.lock()
		k1.lock()
	}
	for i := 0; i < ways; i++ {
		if k1.tag(i) == h {
			k2.unlock()
			return k1, i
		}
		if k2.tag(i) == h {
			k1.unlock()
			return k2, i
		}
	}
	return nil, -1
}

// release undoes locate.
func (m *MemoryBackend) release(h uint64, k *memBucket, w int) {
	if w >= 0 {
		k.unlock()
		return
	}
	b1, b2 := m.buckets(h)
	m.b[b1].unlock()
	m.b[b2].unlock()
}

// A slot is bucket*ways + way.
func (m *MemoryBackend) rec(i int) *memRec { return &m.b[i/ways].s[i%ways].r }

func (m *MemoryBackend) clear(i int, h uint64) {
	k := &m.b[i/ways]
	k.setTag(i%ways, h)
	k.s[i%ways].r = memRec{}
}

func score(r *memRec) int64 { return max(r.t, int64(r.pen&untilMask)) }

// insert finds a slot for h, with both of h's buckets locked by the
// caller, as are the buckets in held: an empty one in the emptier of its
// two buckets (the "power of two choices", which keeps buckets even, so
// that a table at 95% load evicts almost nothing), else the least
// recently active record not in use by the current decision.
func (m *MemoryBackend) insert(h uint64, inUse, held []int) int {
	b1, b2 := m.buckets(h)
	e1, e2 := -1, -1
	n1, n2 := 0, 0
	for w := 0; w < ways; w++ {
		if m.b[b1].tag(w) == 0 {
			if e1 < 0 {
				e1 = b1*ways + w
			}
			n1++
		}
		if m.b[b2].tag(w) == 0 {
			if e2 < 0 {
				e2 = b2*ways + w
			}
			n2++
		}
	}
	if e1 >= 0 || e2 >= 0 {
		i := e1
		if n2 > n1 {
			i = e2
		}
		m.clear(i, h)
		return i
	}
	// Both buckets are full: make room by moving a record to its other
	// bucket, or one of that bucket's records to its other bucket first
	// (cuckoo hashing, two steps deep; the stored hash tells where a
	// record may live). Records in use by this decision stay put.
	if i := m.cuckoo(b1, b2, inUse, held); i >= 0 {
		m.clear(i, h)
		return i
	}
	victim, best := -1, int64(0)
	for _, b := range [2]int{b1, b2} {
		for w := 0; w < ways; w++ {
			i := b*ways + w
			if used(inUse, i) {
				continue
			}
			if s := score(&m.b[b].s[w].r); victim < 0 || s < best {
				victim, best = i, s
			}
		}
	}
	if victim < 0 { // cannot happen with MaxOps < 2*ways
		return -1
	}
	m.evicted.Add(1)
	m.clear(victim, h)
	return victim
}

// alt returns the other bucket of the record in slot (b, w).
func (m *MemoryBackend) alt(b, w int) int {
	c1, c2 := m.buckets(m.b[b].tag(w))
	if c1 == b {
		return c2
	}
	return c1
}

func (m *MemoryBackend) empty(b int) int {
	for v := 0; v < ways; v++ {
		if m.b[b].tag(v) == 0 {
			return v
		}
	}
	return -1
}

func (m *MemoryBackend) move(from, to int) {
	kf, kt := &m.b[from/ways], &m.b[to/ways]
	kt.setTag(to%ways, kf.tag(from%ways))
	kt.s[to%ways].r = kf.s[from%ways].r
	kf.setTag(from%ways, 0)
}

// grab locks bucket b for a move unless the decision holds it already; it
// reports whether b may be used and whether to unlock it afterwards.
func (m *MemoryBackend) grab(b int, held []int) (ok, unlock bool) {
	if used(held, b) {
		return true, false
	}
	if m.b[b].tryLock() {
		return true, true
	}
	return false, false
}

// cuckoo frees a slot in bucket b1 or b2 and returns it, or -1.
func (m *MemoryBackend) cuckoo(b1, b2 int, inUse, held []int) int {
	for depth := 1; depth <= 2; depth++ {
		for _, b := range [2]int{b1, b2} {
			for w := 0; w < ways; w++ {
				i := b*ways + w
				if used(inUse, i) {
					continue
				}
				a := m.alt(b, w)
				okA, unA := m.grab(a, held)
				if !okA {
					continue
				}
				if v := m.empty(a); v >= 0 {
					m.move(i, a*ways+v)
					if unA {
						m.b[a].unlock()
					}
					return i
				}
				if depth == 1 {
					if unA {
						m.b[a].unlock()
					}
					continue
				}
				for x := 0; x < ways; x++ {
					j := a*ways + x
					if used(inUse, j) {
						continue
					}
					a2 := m.alt(a, x)
					if a2 == b {
						continue
					}
					okA2, unA2 := m.grab(a2, held)
					if !okA2 {
						continue
					}
					v := m.empty(a2)
					if v >= 0 {
						m.move(j, a2*ways+v)
						m.move(i, j)
					}
					if unA2 {
						m.b[a2].unlock()
					}
					if v >= 0 {
						if unA {
							m.b[a].unlock()
						}
						return i
					}
				}
				if unA {
					m.b[a].unlock()
				}
			}
		}
	}
	return -1
}

func used(s []int, i int) bool {
	for _, j := range s {
		if j == i {
			return true
		}
	}
	return false
}

func unpack(r *memRec) State {
	return State{
		T:     r.t,
		Cur:   int64(uint32(r.cnt)),
		Prev:  int64(uint32(r.cnt >> 32)),
		Level: int64(r.pen >> 56),
		Until: int64(r.pen & untilMask),
	}
}

func pack(r *memRec, s *State) {
	r.t = s.T
	r.cnt = uint64(uint32(s.Cur)) | uint64(uint32(s.Prev))<<32
	r.pen = uint64(s.Level)<<56 | uint64(s.Until)&untilMask
}

// bucketSet is the sorted set of buckets a decision of several ops
// locks, in ascending order, so that decisions cannot deadlock.
type bucketSet struct {
	n   int
	idx [2 * MaxOps]int
}

func (bs *bucketSet) add(b int) {
	for i := 0; i < bs.n; i++ {
		if bs.idx[i] == b {
			return
		}
	}
	j := bs.n
	for j > 0 && bs.idx[j-1] > b {
		bs.idx[j] = bs.idx[j-1]
		j--
	}
	bs.idx[j] = b
	bs.n++
}

// Decide implements Backend. It never fails and ignores ctx: it does not
// block on anything but bucket locks.
func (m *MemoryBackend) Decide(_ context.Context, b *Batch) error {
	n := b.N
	if n == 1 { // the common case, without the lock-ordering bookkeeping
		op := &b.Ops[0]
		h := m.hash(op)
		var st [1]State
		var wr [1]bool
		k, w := m.locate(h)
		if w >= 0 {
			st[0] = unpack(&k.s[w].r)
		}
		Decide(b, st[:], wr[:])
		if wr[0] {
			m.store(h, k, w, &st[0])
		}
		m.release(h, k, w)
		return nil
	}
	var (
		hs    [MaxOps]uint64
		idx   [MaxOps]int
		st    [MaxOps]State
		wr    [MaxOps]bool
		locks bucketSet
	)
	for i := 0; i < n; i++ {
		hs[i] = m.hash(&b.Ops[i])
		b1, b2 := m.buckets(hs[i])
		locks.add(b1)
		locks.add(b2)
	}
	for i := 0; i < locks.n; i++ {
		m.b[locks.idx[i]].lock()
	}
	for i := 0; i < n; i++ {
		idx[i] = m.find(hs[i])
		if idx[i] >= 0 {
			st[i] = unpack(m.rec(idx[i]))
		}
	}
	Decide(b, st[:n], wr[:n])
	for i := 0; i < n; i++ {
		if !wr[i] {
			continue
		}
		if idx[i] < 0 {
			var inUse [MaxOps]int
			k := 0
			for j := 0; j < n; j++ {
				if idx[j] >= 0 {
					inUse[k] = idx[j]
					k++
				}
			}
			idx[i] = m.insert(hs[i], inUse[:k], locks.idx[:locks.n])
			if idx[i] < 0 {
				continue
			}
		}
		pack(m.rec(idx[i]), &st[i])
	}
	for i := locks.n - 1; i >= 0; i-- {
		m.b[locks.idx[i]].unlock()
	}
	return nil
}

// find returns h's slot, or -1, with h's buckets locked.
func (m *MemoryBackend) find(h uint64) int {
	b1, b2 := m.buckets(h)
	for w := 0; w < ways; w++ {
		if m.b[b1].tag(w) == h {
			return b1*ways + w
		}
		if m.b[b2].tag(w) == h {
			return b2*ways + w
		}
	}
	return -1
}

// store writes s as h's record after locate returned (k, w).
func (m *MemoryBackend) store(h uint64, k *memBucket, w int, s *State) {
	if w >= 0 {
		pack(&k.s[w].r, s)
		return
	}
	b1, b2 := m.buckets(h)
	if i := m.insert(h, nil, []int{b1, b2}); i >= 0 {
		pack(m.rec(i), s)
	}
}

// storeT is store for a state whose only non-zero field is T.
func (m *MemoryBackend) storeT(h uint64, k *memBucket, w int, t int64) {
	if w >= 0 {
		k.s[w].r.t = t // the counts, if any (from a window limit once under this name), stay as eval keeps them
		return
	}
	b1, b2 := m.buckets(h)
	if i := m.insert(h, nil, []int{b1, b2}); i >= 0 {
		*m.rec(i) = memRec{t: t}
	}
}

// gcra1 decides one GCRA limit without penalty (emission interval t,
// burst tolerance tau) for the key hashed to h: the Limiter's path for
// its default limit. tat is the key's theoretical arrival time before the
// decision (at least now), next the one after admitting cost. It changes
// nothing and reports handled false when the key's record holds penalty
// state, left by an earlier limit under the same name, which decide1
// handles.
func (m *MemoryBackend) gcra1(h uint64, t, tau, cost, now int64, peek bool) (allowed, handled bool, tat, next int64) {
	// locate's first step, written out for the common case: the key is
	// there and stays put while we lock its bucket.
	b1, b2 := m.buckets(h)
	k1, k2 := &m.b[b1], &m.b[b2]
	for i := 0; i < ways; i++ {
		var k *memBucket
		if atomic.LoadUint64(&k1.s[i].h)&^lockBit == h {
			k = k1
		} else if atomic.LoadUint64(&k2.s[i].h)&^lockBit == h {
			k = k2
		} else {
			continue
		}
		if !k.tryLock() {
			k.lock()
		}
		r := &k.s[i].r
		if k.tag(i) != h || r.pen != 0 {
			k.unlock() // moved or evicted meanwhile, or penalty state
			break
		}
		if tat, next, allowed = gcraStep(r.t, now, cost, t, tau); allowed && !peek {
			r.t = next // the counts, if any (from a window limit once under this name), stay as eval keeps them
		}
		k.unlock()
		return allowed, true, tat, next
	}
	// Not found (or moved meanwhile): locate, which inserts too.
	k, w := m.locate(h)
	t0 := now // a new key
	if w >= 0 {
		r := &k.s[w].r
		if r.pen != 0 {
			m.release(h, k, w)
			return false, false, 0, 0
		}
		t0 = r.t
	}
	tat, next, allowed = gcraStep(t0, now, cost, t, tau)
	if allowed && !peek { // a denial writes nothing
		m.storeT(h, k, w, next)
	}
	m.release(h, k, w)
	return allowed, true, tat, next
}

// decide1 is Decide for a batch of one op, without the batch: the direct
// API's path for a single limit that gcra1 does not take. nh is nameHash
// of the limit's name. It fills r and reports whether the request is
// admitted (always, for a shadow op).
func (m *MemoryBackend) decide1(tag string, nh uint64, sp *Spec, cost, now int64, peek, shadow bool, r *OpResult) bool {
	h := m.hashKey(tag, nh)
	k, w := m.locate(h)
	var st State
	if w >= 0 {
		st = unpack(&k.s[w].r)
	}
	var e eval
	sp.eval(&e, st, now, cost)
	allowed := e.ok || shadow
	if next, write := commit(peek, &e, st, r, allowed); write {
		m.store(h, k, w, &next)
	}
	m.release(h, k, w)
	return allowed
}

// Reset implements Backend.
func (m *MemoryBackend) Reset(_ context.Context, b *Batch) error {
	for i := 0; i < b.N; i++ {
		h := m.hash(&b.Ops[i])
		k, w := m.locate(h)
		if w >= 0 {
			k.setTag(w, 0)
			k.s[w].r = memRec{}
		}
		m.release(h, k, w)
	}
	return nil
}
