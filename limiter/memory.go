package limiter

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/bits"
	"sync"
)

// DefaultMaxKeys is the bound on the keys of a memory backend when
// WithMaxKeys is not given: 1<<20 keys, 32 MiB.
const DefaultMaxKeys = 1 << 20

// The memory backend is a set-associative table, like a CPU cache: a key's
// 64-bit seeded hash picks a shard (one mutex) and two buckets of four
// records in it; the record lives in whichever has room. A bucket is 128
// bytes, two adjacent cache lines (which CPUs fetch together): its four
// hashes, then the 24-byte states, so a lookup costs one memory access per
// bucket, and both buckets are read in one loop so that the two overlap.
// When both buckets are full, records move to their other bucket to make
// room (cuckoo hashing, two steps deep); only when that fails is the least
// recently active record of the two buckets evicted. Nothing is
// allocated after New: a decision hashes, locks, scans at most sixteen
// records and unlocks. The key itself is not kept, only its hash: two
// keys would share a record only if their 64-bit hashes collided, which
// at a million keys happens with probability about 3×10⁻⁸, and the seed
// is random per process, so it cannot be aimed at.
const ways = 4

type memRec struct {
	t   int64  // State.T
	cnt uint64 // State.Cur | State.Prev<<32
	pen uint64 // State.Level<<56 | State.Until
}

// memBucket is 128 bytes: its hashes (key hash | 1; 0 marks an empty
// slot), then its states.
type memBucket struct {
	h   [ways]uint64
	rec [ways]memRec
}

const untilMask = 1<<56 - 1

type memShard struct {
	mu      sync.Mutex
	b       []memBucket
	evicted uint64
	_       [32]byte // keep neighbouring shards' locks off one cache line
}

// MemoryBackend is the in-process Backend: bounded, sharded, allocation
// free. Create it with NewMemoryBackend; it is safe for concurrent use.
type MemoryBackend struct {
	seed   maphash.Seed
	shards []memShard
	smask  uint64
	nb     uint64 // buckets per shard
}

var _ Backend = (*MemoryBackend)(nil)

// NewMemoryBackend returns a memory backend for at most maxKeys keys (one
// key per identity and limit), which reserves 32 bytes per key up front
// (the pages are touched as keys arrive). maxKeys must be in [1, 1<<32].
func NewMemoryBackend(maxKeys int) (*MemoryBackend, error) {
	if maxKeys < 1 || maxKeys > 1<<32 {
		return nil, fmt.Errorf("limiter: memory backend: %d keys not in [1, %d]", maxKeys, 1<<32)
	}
	ns := 256
	for ns > 1 && ns*ways*4 > maxKeys {
		ns /= 2
	}
	nb := (maxKeys + ns*ways - 1) / (ns * ways)
	if nb < 2 {
		nb = 2
	}
	m := &MemoryBackend{
		seed:   maphash.MakeSeed(),
		shards: make([]memShard, ns),
		smask:  uint64(ns - 1),
		nb:     uint64(nb),
	}
	for i := range m.shards {
		m.shards[i].b = make([]memBucket, nb)
	}
	return m, nil
}

// Evicted reports how many live records were evicted to make room.
func (m *MemoryBackend) Evicted() uint64 {
	var n uint64
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += sh.evicted
		sh.mu.Unlock()
	}
	return n
}

// Cap returns the number of records the backend holds at most.
func (m *MemoryBackend) Cap() int { return len(m.shards) * int(m.nb) * ways }

func (m *MemoryBackend) hash(op *Op) uint64 { return m.hashKey(op.Tag, op.Name) }

func (m *MemoryBackend) hashKey(tag, name string) uint64 {
	// The tag, which clients choose, gets the seeded hash; the limit's
	// name, a constant of the configuration, a plain FNV-1a.
	h := maphash.String(m.seed, tag) ^ bits.RotateLeft64(fnv(name), 29)
	// Finalise (murmur3 fmix64) so that every bit depends on both parts.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h | 1
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func (m *MemoryBackend) shardOf(h uint64) int { return int(h >> 56 & m.smask) }

// buckets returns the two candidate buckets of h.
func (m *MemoryBackend) buckets(h uint64) (int, int) {
	b1 := (h & 0xffffffff) * m.nb >> 32
	b2 := (h >> 24 & 0xffffffff) * m.nb >> 32
	if b2 == b1 {
		b2 = (b1 + 1) % m.nb
	}
	return int(b1), int(b2)
}

// A slot is bucket*ways + way.
func (sh *memShard) hash(i int) *uint64    { return &sh.b[i/ways].h[i%ways] }
func (sh *memShard) rec(i int) *memRec     { return &sh.b[i/ways].rec[i%ways] }
func (sh *memShard) clear(i int, h uint64) { *sh.hash(i), *sh.rec(i) = h, memRec{} }

func (m *MemoryBackend) find(sh *memShard, h uint64) int {
	b1, b2 := m.buckets(h)
	hs1, hs2 := &sh.b[b1].h, &sh.b[b2].h
	// Both lines in one loop, so that their cache misses overlap rather
	// than follow each other.
	for w := 0; w < ways; w++ {
		if hs1[w] == h {
			return b1*ways + w
		}
		if hs2[w] == h {
			return b2*ways + w
		}
	}
	return -1
}

func score(r *memRec) int64 { return max(r.t, int64(r.pen&untilMask)) }

// insert finds a slot for h: an empty one in the emptier of its two
// buckets (the "power of two choices", which keeps buckets even, so that
// a table at 95% load evicts almost nothing), else the least recently
// active record not in use by the current decision.
func (m *MemoryBackend) insert(sh *memShard, h uint64, inUse []int) int {
	b1, b2 := m.buckets(h)
	e1, e2 := -1, -1
	n1, n2 := 0, 0
	for w := 0; w < ways; w++ {
		if sh.b[b1].h[w] == 0 {
			if e1 < 0 {
				e1 = b1*ways + w
			}
			n1++
		}
		if sh.b[b2].h[w] == 0 {
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
		sh.clear(i, h)
		return i
	}
	// Both buckets are full: make room by moving a record to its other
	// bucket, or one of that bucket's records to its other bucket first
	// (cuckoo hashing, two steps deep; the stored hash tells where a
	// record may live). Records in use by this decision stay put.
	if i := m.cuckoo(sh, b1, b2, inUse); i >= 0 {
		sh.clear(i, h)
		return i
	}
	victim, best := -1, int64(0)
	for _, b := range [2]int{b1, b2} {
		for w := 0; w < ways; w++ {
			i := b*ways + w
			if used(inUse, i) {
				continue
			}
			if s := score(&sh.b[b].rec[w]); victim < 0 || s < best {
				victim, best = i, s
			}
		}
	}
	if victim < 0 { // cannot happen with MaxOps < 2*ways
		return -1
	}
	sh.evicted++
	sh.clear(victim, h)
	return victim
}

// alt returns the other bucket of the record in slot (b, w).
func (m *MemoryBackend) alt(sh *memShard, b, w int) int {
	c1, c2 := m.buckets(sh.b[b].h[w])
	if c1 == b {
		return c2
	}
	return c1
}

func (sh *memShard) empty(b int) int {
	for v := 0; v < ways; v++ {
		if sh.b[b].h[v] == 0 {
			return v
		}
	}
	return -1
}

func (sh *memShard) move(from, to int) {
	*sh.hash(to), *sh.rec(to) = *sh.hash(from), *sh.rec(from)
	*sh.hash(from) = 0
}

// cuckoo frees a slot in bucket b1 or b2 and returns it, or -1.
func (m *MemoryBackend) cuckoo(sh *memShard, b1, b2 int, inUse []int) int {
	for depth := 1; depth <= 2; depth++ {
		for _, b := range [2]int{b1, b2} {
			for w := 0; w < ways; w++ {
				i := b*ways + w
				if used(inUse, i) {
					continue
				}
				a := m.alt(sh, b, w)
				if v := sh.empty(a); v >= 0 {
					sh.move(i, a*ways+v)
					return i
				}
				if depth == 1 {
					continue
				}
				for x := 0; x < ways; x++ {
					j := a*ways + x
					if used(inUse, j) {
						continue
					}
					a2 := m.alt(sh, a, x)
					if a2 == b {
						continue
					}
					if v := sh.empty(a2); v >= 0 {
						sh.move(j, a2*ways+v)
						sh.move(i, j)
						return i
					}
				}
			}
		}
	}
	return -1
}

func used(inUse []int, i int) bool {
	for _, j := range inUse {
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

// lockSet locks the distinct shards of a decision in ascending order, so
// that decisions spanning several shards cannot deadlock.
type lockSet struct {
	n   int
	idx [MaxOps]int
}

func (ls *lockSet) add(s int) {
	for i := 0; i < ls.n; i++ {
		if ls.idx[i] == s {
			return
		}
	}
	j := ls.n
	for j > 0 && ls.idx[j-1] > s {
		ls.idx[j] = ls.idx[j-1]
		j--
	}
	ls.idx[j] = s
	ls.n++
}

// Decide implements Backend. It never fails and ignores ctx: it does not
// block on anything but a shard lock.
func (m *MemoryBackend) Decide(_ context.Context, b *Batch) error {
	n := b.N
	if n == 1 { // the common case, without the lock-ordering bookkeeping
		op := &b.Ops[0]
		h := m.hash(op)
		sh := &m.shards[m.shardOf(h)]
		var st [1]State
		var wr [1]bool
		sh.mu.Lock()
		i := m.find(sh, h)
		if i >= 0 {
			st[0] = unpack(sh.rec(i))
		}
		Decide(b, st[:], wr[:])
		if wr[0] {
			if i < 0 {
				i = m.insert(sh, h, nil)
			}
			pack(sh.rec(i), &st[0])
		}
		sh.mu.Unlock()
		return nil
	}
	var (
		hs    [MaxOps]uint64
		shs   [MaxOps]int
		idx   [MaxOps]int
		st    [MaxOps]State
		wr    [MaxOps]bool
		locks lockSet
	)
	for i := 0; i < n; i++ {
		hs[i] = m.hash(&b.Ops[i])
		shs[i] = m.shardOf(hs[i])
		locks.add(shs[i])
	}
	for i := 0; i < locks.n; i++ {
		m.shards[locks.idx[i]].mu.Lock()
	}
	for i := 0; i < n; i++ {
		sh := &m.shards[shs[i]]
		idx[i] = m.find(sh, hs[i])
		if idx[i] >= 0 {
			st[i] = unpack(sh.rec(idx[i]))
		}
	}
	Decide(b, st[:n], wr[:n])
	for i := 0; i < n; i++ {
		if !wr[i] {
			continue
		}
		sh := &m.shards[shs[i]]
		if idx[i] < 0 {
			var inUse [MaxOps]int
			k := 0
			for j := 0; j < n; j++ {
				if shs[j] == shs[i] && idx[j] >= 0 {
					inUse[k] = idx[j]
					k++
				}
			}
			idx[i] = m.insert(sh, hs[i], inUse[:k])
			if idx[i] < 0 {
				continue
			}
		}
		pack(sh.rec(idx[i]), &st[i])
	}
	for i := locks.n - 1; i >= 0; i-- {
		m.shards[locks.idx[i]].mu.Unlock()
	}
	return nil
}

// decide1 is Decide for a batch of one op, without the batch: the
// direct API's fast path. It fills r and reports whether the request is
// admitted (always, for a shadow op).
func (m *MemoryBackend) decide1(tag, name string, sp *Spec, cost, now int64, peek, shadow bool, r *OpResult) bool {
	h := m.hashKey(tag, name)
	sh := &m.shards[m.shardOf(h)]
	var e eval
	var st State
	sh.mu.Lock()
	i := m.find(sh, h)
	if i >= 0 {
		st = unpack(sh.rec(i))
	}
	sp.eval(&e, st, now, cost)
	allowed := e.ok || shadow
	if next, write := commit(peek, &e, st, r, allowed); write {
		if i < 0 {
			i = m.insert(sh, h, nil)
		}
		pack(sh.rec(i), &next)
	}
	sh.mu.Unlock()
	return allowed
}

// Reset implements Backend.
func (m *MemoryBackend) Reset(_ context.Context, b *Batch) error {
	for i := 0; i < b.N; i++ {
		h := m.hash(&b.Ops[i])
		sh := &m.shards[m.shardOf(h)]
		sh.mu.Lock()
		if j := m.find(sh, h); j >= 0 {
			sh.clear(j, 0)
		}
		sh.mu.Unlock()
	}
	return nil
}
