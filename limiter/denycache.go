package limiter

import (
	"hash/maphash"
	"math/bits"
	"sync"
)

// denyCache remembers keys a backend denied and until when, by local
// clock, so that decisions on them are answered without a backend call.
// It is a small set-associative table like the memory backend: fixed
// size, no allocation, the least useful entry is replaced.
type denyCache struct {
	seed, seed2 maphash.Seed
	shards      []denyShard
	smask       uint64
	nb          uint64
}

type denyEntry struct {
	h     uint64
	until int64 // µs, local clock
	cost  int64 // the smallest cost known denied until then
}

type denyShard struct {
	mu   sync.Mutex
	ents []denyEntry
	_    [40]byte
}

const denyWays = 4

func newDenyCache(keys int) *denyCache {
	ns := 64
	for ns > 1 && ns*denyWays*4 > keys {
		ns /= 2
	}
	nb := max((keys+ns*denyWays-1)/(ns*denyWays), 1)
	c := &denyCache{
		seed:   maphash.MakeSeed(),
		seed2:  maphash.MakeSeed(),
		shards: make([]denyShard, ns),
		smask:  uint64(ns - 1),
		nb:     uint64(nb),
	}
	for i := range c.shards {
		c.shards[i].ents = make([]denyEntry, nb*denyWays)
	}
	return c
}

func (c *denyCache) hash(op *Op) uint64 {
	h := maphash.String(c.seed, op.Tag) ^ bits.RotateLeft64(maphash.String(c.seed2, op.Name), 29)
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h | 1
}

func (c *denyCache) locate(h uint64) (*denyShard, int) {
	sh := &c.shards[h>>56&c.smask]
	return sh, int((h&0xffffffff)*c.nb>>32) * denyWays
}

// denied returns until when op is known to be denied, or 0.
func (c *denyCache) denied(op *Op, now int64) int64 {
	h := c.hash(op)
	sh, b := c.locate(h)
	var until int64
	sh.mu.Lock()
	for i := b; i < b+denyWays; i++ {
		e := &sh.ents[i]
		if e.h == h {
			if e.until > now && op.Cost >= e.cost {
				until = e.until
			}
			break
		}
	}
	sh.mu.Unlock()
	return until
}

// put records that op, at its cost, is denied until until.
func (c *denyCache) put(op *Op, until, now int64) {
	h := c.hash(op)
	sh, b := c.locate(h)
	sh.mu.Lock()
	slot := -1
	for i := b; i < b+denyWays; i++ {
		if sh.ents[i].h == h {
			slot = i
			break
		}
	}
	if slot < 0 {
		slot = b // empty and expired entries have the earliest until
		for i := b + 1; i < b+denyWays; i++ {
			if sh.ents[i].until < sh.ents[slot].until {
				slot = i
			}
		}
	}
	e := &sh.ents[slot]
	// A live entry that covers more requests for longer already says it.
	if !(e.h == h && e.until > now && e.cost <= op.Cost && e.until >= until) {
		*e = denyEntry{h: h, until: until, cost: op.Cost}
	}
	sh.mu.Unlock()
}

func (c *denyCache) forget(op *Op) {
	h := c.hash(op)
	sh, b := c.locate(h)
	sh.mu.Lock()
	for i := b; i < b+denyWays; i++ {
		if sh.ents[i].h == h {
			sh.ents[i] = denyEntry{}
		}
	}
	sh.mu.Unlock()
}

func (c *denyCache) clear() {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		clear(sh.ents)
		sh.mu.Unlock()
	}
}
