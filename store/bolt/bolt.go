package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/guardsdk/guard/store"
)

var _ store.Store = (*Store)(nil)

// ErrLocked is wrapped by Open's error when the file lock could not be
// taken within the WithFileLockTimeout: another process, or another Open
// in this process, has the file open.
var ErrLocked = errors.New("store/bolt: database file is locked")

// FormatVersion is the on-disk layout version this package writes and
// reads; Open refuses files with another version.
const FormatVersion = 1

var (
	metaBucket   = []byte("guard.meta")
	dataBucket   = []byte("guard.data")
	expiryBucket = []byte("guard.expiry")
	versionKey   = []byte("version")
)

// Store is a store.Store kept in one bbolt file. Create it with Open; the
// zero value is not usable. It is safe for concurrent use.
type Store struct {
	db    *bbolt.DB
	path  string
	clock func() time.Time
	batch bool

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	done      chan struct{}
	wg        sync.WaitGroup
}

// Open opens or creates the database file at path (mode 0600), creates its
// buckets if needed and starts the sweeper. It fails with an error
// wrapping ErrLocked when the file is locked for longer than the
// WithFileLockTimeout.
func Open(path string, opts ...Option) (*Store, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:      cfg.lockTimeout,
		NoSync:       cfg.noSync,
		FreelistType: bbolt.FreelistMapType,
	})
	if errors.Is(err, bberrors.ErrTimeout) {
		return nil, fmt.Errorf("store/bolt: open %s: %w: still locked after %s (is another process, or another Store in this process, using it?): %w",
			path, ErrLocked, cfg.lockTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("store/bolt: open %s: %w", path, err)
	}
	if cfg.batchDelay > 0 {
		db.MaxBatchDelay = cfg.batchDelay
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		if v := meta.Get(versionKey); v != nil {
			if n, err := strconv.Atoi(string(v)); err != nil || n != FormatVersion {
				return fmt.Errorf("unsupported format version %q, want %d", v, FormatVersion)
			}
		} else if err := meta.Put(versionKey, []byte(strconv.Itoa(FormatVersion))); err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(dataBucket); err != nil {
			return err
		}
		_, err = tx.CreateBucketIfNotExists(expiryBucket)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store/bolt: open %s: %w", path, err)
	}
	s := &Store{
		db:    db,
		path:  path,
		clock: cfg.clock,
		batch: cfg.batchDelay > 0,
		done:  make(chan struct{}),
	}
	if cfg.sweep > 0 {
		s.wg.Add(1)
		go s.sweeper(cfg.sweep)
	}
	return s, nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Get returns a copy of the value stored under key, or store.ErrNotFound
// (returned unwrapped).
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.check(ctx, "get", key); err != nil {
		return nil, err
	}
	var out []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(dataBucket).Get([]byte(key))
		if v == nil || expired(v, s.now()) {
			return store.ErrNotFound
		}
		out = bytes.Clone(v[8:])
		if out == nil {
			out = []byte{}
		}
		return nil
	})
	if err == store.ErrNotFound {
		return nil, err
	}
	return out, s.wrap("get", err)
}

// Set stores value under key with the given TTL (0: no expiry), in one
// read-write transaction.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := store.ValidateTTL(ttl); err != nil {
		return opErr("set", err)
	}
	if err := s.check(ctx, "set", key); err != nil {
		return err
	}
	k := []byte(key)
	return s.wrap("set", s.write(func(tx *bbolt.Tx) error {
		if err := removeEntry(tx, k); err != nil {
			return err
		}
		return putEntry(tx, k, value, expiry(s.now(), ttl))
	}))
}

// Delete removes key, in one read-write transaction.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.check(ctx, "delete", key); err != nil {
		return err
	}
	k := []byte(key)
	return s.wrap("delete", s.write(func(tx *bbolt.Tx) error {
		return removeEntry(tx, k)
	}))
}

// Incr adds delta to the decimal counter under key, in one read-write
// transaction; see store.KV.
func (s *Store) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if err := store.ValidateTTL(ttl); err != nil {
		return 0, opErr("incr", err)
	}
	if err := s.check(ctx, "incr", key); err != nil {
		return 0, err
	}
	k := []byte(key)
	var n int64
	err := s.write(func(tx *bbolt.Tx) error {
		now := s.now()
		v, exp, ok := liveEntry(tx, k, now)
		if !ok {
			n = delta
			if err := removeEntry(tx, k); err != nil { // an expired entry
				return err
			}
			return putEntry(tx, k, strconv.AppendInt(nil, delta, 10), expiry(now, ttl))
		}
		var err error
		if n, err = store.AddCounter(v, delta); err != nil {
			return err
		}
		return putEntry(tx, k, strconv.AppendInt(nil, n, 10), exp)
	})
	if err != nil {
		return 0, s.wrap("incr", err)
	}
	return n, nil
}

// CompareAndSwap replaces the value under key with new if it equals old
// (old == nil: the key must be absent), in one read-write transaction.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	if err := store.ValidateTTL(ttl); err != nil {
		return false, opErr("cas", err)
	}
	if err := s.check(ctx, "cas", key); err != nil {
		return false, err
	}
	k := []byte(key)
	var swapped bool
	err := s.write(func(tx *bbolt.Tx) error {
		now := s.now()
		v, _, ok := liveEntry(tx, k, now)
		swapped = false
		if ok != (old != nil) || (ok && !bytes.Equal(v, old)) {
			return nil
		}
		if err := removeEntry(tx, k); err != nil {
			return err
		}
		swapped = true
		return putEntry(tx, k, new, expiry(now, ttl))
	})
	if err != nil {
		return false, s.wrap("cas", err)
	}
	return swapped, nil
}

// Update runs fn inside one read-write transaction (bbolt's DB.Update,
// never Batch), so fn runs exactly once and the read-modify-write is
// atomic. fn must not call the Store: bbolt has one writer at a time and
// a nested write would deadlock. cur is a copy.
func (s *Store) Update(ctx context.Context, key string, fn store.UpdateFunc) error {
	if err := s.check(ctx, "update", key); err != nil {
		return err
	}
	k := []byte(key)
	var fnErr error
	err := s.db.Update(func(tx *bbolt.Tx) error {
		now := s.now()
		v, _, ok := liveEntry(tx, k, now)
		var cur []byte
		if ok {
			cur = bytes.Clone(v)
			if cur == nil {
				cur = []byte{}
			}
		}
		next, ttl, write, err := fn(cur, ok)
		if err != nil {
			fnErr = err
			return err
		}
		if !write {
			return nil
		}
		if next == nil {
			return removeEntry(tx, k)
		}
		if err := store.ValidateTTL(ttl); err != nil {
			return err
		}
		if err := removeEntry(tx, k); err != nil {
			return err
		}
		return putEntry(tx, k, next, expiry(now, ttl))
	})
	if fnErr != nil {
		return fnErr
	}
	return s.wrap("update", err)
}

// Ping reports whether the database is open.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return opErr("ping", err)
	}
	if s.closed.Load() {
		return opErr("ping", store.ErrClosed)
	}
	return s.wrap("ping", s.db.View(func(*bbolt.Tx) error { return nil }))
}

// Close stops the sweeper and closes the database, waiting for running
// transactions. It is idempotent: later calls return the first call's
// result, and every other method returns an error wrapping store.ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		s.wg.Wait()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("store/bolt: close %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// write runs a transaction function that may safely run more than once,
// batched if WithBatchDelay asked for it.
func (s *Store) write(fn func(*bbolt.Tx) error) error {
	if s.batch {
		return s.db.Batch(fn)
	}
	return s.db.Update(fn)
}

func (s *Store) now() int64 { return s.clock().UnixNano() }

func (s *Store) check(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return opErr(op, err)
	}
	if err := store.ValidateKey(key); err != nil {
		return opErr(op, err)
	}
	if s.closed.Load() {
		return opErr(op, store.ErrClosed)
	}
	return nil
}

func (s *Store) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bberrors.ErrDatabaseNotOpen):
		return fmt.Errorf("store/bolt: %s: %w", op, errors.Join(store.ErrClosed, err))
	}
	return opErr(op, err)
}

func opErr(op string, err error) error {
	return fmt.Errorf("store/bolt: %s: %w", op, err)
}

func (s *Store) sweeper(interval time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			// An error here (a full disk, say) is retried next tick; the
			// expired entries are invisible to readers meanwhile.
			_, _ = s.sweep()
		}
	}
}

// sweep deletes every expired entry, seeking from the start of the expiry
// index and stopping at the first entry that has not expired, in
// transactions of at most sweepBatch deletions. It reads live data only
// at the boundary, never scanning the data bucket. It returns how many
// entries it deleted.
func (s *Store) sweep() (int, error) {
	total := 0
	for {
		now := s.now()
		// A read transaction first, so an idle sweep costs no write
		// transaction and no fsync.
		var due bool
		if err := s.db.View(func(tx *bbolt.Tx) error {
			k, _ := tx.Bucket(expiryBucket).Cursor().First()
			due = k != nil && int64(binary.BigEndian.Uint64(k)) <= now
			return nil
		}); err != nil || !due {
			return total, err
		}
		n, seen := 0, 0
		err := s.db.Update(func(tx *bbolt.Tx) error {
			n, seen = 0, 0
			data := tx.Bucket(dataBucket)
			c := tx.Bucket(expiryBucket).Cursor()
			// Each pass deletes the first index entry, so First finds the
			// next one (Next after Delete can skip entries in bbolt).
			for k, _ := c.First(); k != nil && seen < sweepBatch; k, _ = c.First() {
				seen++
				exp := binary.BigEndian.Uint64(k)
				if int64(exp) > now {
					break
				}
				// Writers keep the index exact; checking the entry's own
				// expiry anyway means a stale index entry can never delete
				// live data.
				if v := data.Get(k[8:]); v != nil && binary.BigEndian.Uint64(v) == exp {
					if err := data.Delete(k[8:]); err != nil {
						return err
					}
					n++
				}
				if err := c.Delete(); err != nil {
					return err
				}
			}
			return nil
		})
		total += n
		if err != nil || seen < sweepBatch {
			return total, err
		}
	}
}

// An entry in the data bucket is its expiry (big-endian Unix nanoseconds,
// 0: none) followed by the value. The expiry bucket holds one empty-valued
// key per expiring entry: its expiry followed by its key, so its order is
// the order of expiry.

func expired(v []byte, now int64) bool {
	exp := int64(binary.BigEndian.Uint64(v))
	return exp != 0 && exp <= now
}

// liveEntry returns key's value (valid only during tx) and expiry if it is
// present and not expired. A writer that replaces an entry calls
// removeEntry first, so that no stale expiry-index entry survives it.
func liveEntry(tx *bbolt.Tx, k []byte, now int64) ([]byte, int64, bool) {
	v := tx.Bucket(dataBucket).Get(k)
	if v == nil {
		return nil, 0, false
	}
	if expired(v, now) {
		return nil, 0, false
	}
	return v[8:], int64(binary.BigEndian.Uint64(v)), true
}

func putEntry(tx *bbolt.Tx, k, value []byte, exp int64) error {
	buf := make([]byte, 8+len(value))
	binary.BigEndian.PutUint64(buf, uint64(exp))
	copy(buf[8:], value)
	if err := tx.Bucket(dataBucket).Put(k, buf); err != nil {
		return err
	}
	if exp == 0 {
		return nil
	}
	return tx.Bucket(expiryBucket).Put(indexKey(exp, k), []byte{})
}

// removeEntry deletes key and its expiry-index entry, if any.
func removeEntry(tx *bbolt.Tx, k []byte) error {
	data := tx.Bucket(dataBucket)
	v := data.Get(k)
	if v == nil {
		return nil
	}
	if exp := int64(binary.BigEndian.Uint64(v)); exp != 0 {
		if err := tx.Bucket(expiryBucket).Delete(indexKey(exp, k)); err != nil {
			return err
		}
	}
	return data.Delete(k)
}

func indexKey(exp int64, k []byte) []byte {
	ik := make([]byte, 8+len(k))
	binary.BigEndian.PutUint64(ik, uint64(exp))
	copy(ik[8:], k)
	return ik
}

// expiry converts a TTL into an absolute deadline (0: none), saturating
// for absurdly long TTLs and never producing a negative or zero deadline.
func expiry(now int64, ttl time.Duration) int64 {
	if ttl == 0 {
		return 0
	}
	if now < 0 {
		now = 0
	}
	if int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(ttl)
}
