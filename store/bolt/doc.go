// Package bolt is guard's durable, single-process implementation of
// store.Store, kept in one file with bbolt (go.etcd.io/bbolt), an embedded
// copy-on-write B+tree with serializable transactions.
//
// # Durability
//
// Every Set, Delete, Incr, CompareAndSwap and Update is one bbolt
// read-write transaction. When it returns nil the transaction has
// committed: bbolt has written the changed pages and called fdatasync
// (fsync where fdatasync does not exist), then written the meta page that
// makes them current and synced again. The write therefore survives a
// crash of the process, of the operating system and a power loss, as far
// as the disk honours fsync. A write that returns an error did not happen.
// A crash mid-commit leaves the previous state: bbolt needs no recovery.
//
// WithNoSync(true) skips both syncs. Acknowledged writes then survive a
// process crash (they are in the page cache) but the latest of them may
// be lost, and bbolt does not promise the file is intact, after a power
// loss or an operating-system crash. Use it for tests only.
//
// WithBatchDelay(d) lets concurrent writers share one transaction and one
// sync through DB.Batch; each call still returns only after its batch has
// committed and synced, so durability is the same, and latency grows by up
// to d.
//
// Reads (Get) run in read-only transactions, which never block and are
// never blocked by the writer.
//
// # Processes and concurrency
//
// One process at a time. Open takes an exclusive flock(2) on the file
// (LockFileEx on Windows) and holds it until Close; a second Open of the
// same file, from another process or from this one, waits up to
// WithFileLockTimeout (DefaultFileLockTimeout, one second) and then fails
// with an error wrapping ErrLocked that names the path. The lock is
// advisory and unreliable on network file systems: keep the file on a
// local disk. Use store/redis to share state between processes.
//
// Within the process a Store is safe for concurrent use. bbolt allows one
// read-write transaction at a time, so writes are serialised (each pays
// for its own sync unless batched) while reads run in parallel. Update
// runs its function exactly once inside the write transaction: the
// function must be quick and must not call the Store, or it deadlocks.
// ctx is checked before a transaction starts; a transaction that has
// started is not interrupted.
//
// # Layout, expiry and limits
//
// The file holds three buckets: "guard.meta" (the FormatVersion),
// "guard.data" (key → 8-byte big-endian expiry in Unix nanoseconds, 0 for
// none, followed by the value) and "guard.expiry" (8-byte big-endian
// expiry followed by the key → empty), the index of expiring entries in
// expiry order. Expired entries are never returned. A sweeper goroutine
// (every DefaultSweepInterval, one minute; see WithSweepInterval) seeks to
// the start of the index and deletes expired entries until it meets one
// that has not expired, at most 1000 per transaction; it never scans the
// data. Expiry uses WithClock (time.Now by default), stored as wall-clock
// time, so TTLs keep running while the process is down.
//
// bbolt reuses freed pages but never shrinks the file. Keys are at most
// store.MaxKeyLen bytes; values at most about 2 GiB, though large values
// are slow because every write copies its pages. The store is not
// bounded: it grows until the disk is full, when writes fail.
//
// # Errors
//
// A missing or expired key is store.ErrNotFound, returned unwrapped. Other
// errors read "store/bolt: <op>: ..." and wrap the store sentinels
// (ErrInvalidKey, ErrInvalidTTL, ErrClosed, ErrNotInteger), ctx.Err() or
// bbolt's error; Open's errors name the path. Incr parses counters as
// Redis INCRBY does and leaves a malformed or overflowing counter
// unchanged.
package bolt
