// Package memory is guard's embedded, in-process implementation of
// store.Store: the default backend, and the right one for a single process
// that can afford to lose its state on restart.
//
// # Concurrency
//
// A Store is safe for concurrent use. Keys are spread over up to 64 shards
// (a power of two; small stores use fewer so that each shard holds at least
// 64 keys) by a seeded maphash of the key; each shard has its own
// sync.RWMutex. Get takes the read lock; every other operation takes the
// write lock of one shard, so Incr, CompareAndSwap and Update are atomic,
// and Update runs its function exactly once, with the lock held: the
// function must be quick and must not call the Store.
//
// # Durability and processes
//
// None. Entries live in this process's heap: they are lost when the
// process exits or calls Close, and other processes cannot see them. Use
// store/bolt for state that must survive a restart and store/redis for
// state shared by several processes.
//
// # Bounds, eviction and expiry
//
// A Store holds at most WithMaxEntries keys (DefaultMaxEntries, one
// million, by default), split evenly over its shards. Each shard keeps all
// its entries in a binary min-heap ordered by expiry time, with entries
// that have no TTL ordered after all others by creation. When a new key
// arrives at a full shard, the shard
//
//  1. reclaims an expired entry if the heap top has expired; otherwise
//  2. evicts the heap top: the live entry closest to expiring (Redis's
//     "volatile-ttl"), or, when no entry has a TTL, the oldest one;
//     with WithNoEviction it instead fails with an error wrapping
//     store.ErrFull.
//
// Every step is O(log n) in the size of one shard; nothing scans. Each
// eviction is counted in Stats().Evicted.
//
// Expired entries are never returned. They are reclaimed without scanning:
// each write pops up to two expired entries off its shard's heap top, an
// operation that finds its own key expired removes it, and a janitor
// goroutine (every DefaultJanitorInterval, one second, by default; see
// WithJanitorInterval) pops every expired heap top of every shard in
// batches of 1024 per lock hold. The janitor only ever inspects heap tops.
//
// # Values, counters and errors
//
// Values are copied on the way in and on the way out; Update's cur is a
// copy too. Incr parses counters exactly as Redis INCRBY does (an optional
// '-' then decimal digits without a leading zero, or "0"; at most int64)
// and fails with store.ErrNotInteger on anything else or on overflow,
// leaving the value unchanged. A missing key is store.ErrNotFound,
// returned unwrapped so a miss costs no allocation; every other error is
// wrapped as "store/memory: <op>: ..." around the store sentinels
// (ErrInvalidKey, ErrInvalidTTL, ErrClosed, ErrFull, ErrNotInteger) or
// ctx.Err(). ctx is checked before each operation; none of them blocks on
// anything but a shard lock.
//
// Time comes from WithClock (time.Now by default), so tests move time
// forward instead of sleeping.
package memory
