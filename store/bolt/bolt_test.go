package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/guardsdk/guard/store"
	"github.com/guardsdk/guard/store/storetest"
)

var ctx = context.Background()

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"sync", nil},
		{"batched", []Option{WithBatchDelay(time.Millisecond)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := storetest.NewClock(time.Unix(1_700_000_000, 0))
			storetest.Run(t, func(t *testing.T) store.Store {
				opts := append([]Option{WithClock(clk.Now)}, tc.opts...)
				s, err := Open(filepath.Join(t.TempDir(), "guard.db"), opts...)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				return s
			}, storetest.Options{Advance: clk.Advance, Iterations: 100})
		})
	}
}

func open(t *testing.T, path string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guard.db")
	clk := storetest.NewClock(time.Unix(1_700_000_000, 0))
	s := open(t, path, WithClock(clk.Now))
	_ = s.Set(ctx, "session", []byte("alice\x00"), 0)
	_ = s.Set(ctx, "otp", []byte("used"), time.Minute)
	if _, err := s.Incr(ctx, "fails", 3, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path, WithClock(clk.Now))
	for k, want := range map[string]string{"session": "alice\x00", "otp": "used", "fails": "3"} {
		got, err := s.Get(ctx, k)
		if err != nil || string(got) != want {
			t.Errorf("after reopen Get(%q) = %q, %v; want %q", k, got, err, want)
		}
	}
	// TTLs are stored as wall-clock deadlines and keep running.
	clk.Advance(2 * time.Minute)
	if _, err := s.Get(ctx, "otp"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(otp) after its TTL = %v, want ErrNotFound", err)
	}
	if n, _ := s.Incr(ctx, "fails", 1, 0); n != 4 {
		t.Errorf("Incr after reopen = %d, want 4", n)
	}
}

func TestFileLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guard.db")
	first := open(t, path)
	start := time.Now()
	second, err := Open(path, WithFileLockTimeout(100*time.Millisecond))
	if err == nil {
		second.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(err, ErrLocked) || !errors.Is(err, bberrors.ErrTimeout) {
		t.Errorf("second Open: %v, want ErrLocked wrapping bbolt's timeout", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "100ms") {
		t.Errorf("error %q should name the path and the timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open took %s with a 100ms lock timeout", d)
	}
	// Once the first Store closes, the file opens again.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	open(t, path, WithFileLockTimeout(time.Second))
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []Option{WithFileLockTimeout(0), WithClock(nil), WithSweepInterval(-1), WithBatchDelay(-1)} {
		if _, err := Open(filepath.Join(dir, "x.db"), o); err == nil {
			t.Error("Open with a bad option: nil error")
		}
	}
	if _, err := Open(filepath.Join(dir, "missing", "dir", "x.db")); err == nil || !strings.HasPrefix(err.Error(), "store/bolt: open ") {
		t.Errorf("Open in a missing directory: %v", err)
	}
	// A file of another format version is refused.
	path := filepath.Join(dir, "v2.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Update(func(tx *bbolt.Tx) error {
		b, _ := tx.CreateBucket(metaBucket)
		return b.Put(versionKey, []byte("2"))
	})
	_ = db.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "format version") {
		t.Errorf("Open of a version-2 file: %v", err)
	}
	// Garbage is refused too.
	junk := filepath.Join(dir, "junk.db")
	_ = os.WriteFile(junk, []byte(strings.Repeat("not a bolt file", 1000)), 0o600)
	if _, err := Open(junk); err == nil {
		t.Error("Open of a junk file succeeded")
	}
}

// count returns the number of keys in the data and expiry buckets.
func count(t *testing.T, s *Store) (data, index int) {
	t.Helper()
	err := s.db.View(func(tx *bbolt.Tx) error {
		data = tx.Bucket(dataBucket).Stats().KeyN
		index = tx.Bucket(expiryBucket).Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return data, index
}

func TestSweep(t *testing.T) {
	clk := storetest.NewClock(time.Unix(1_700_000_000, 0))
	s := open(t, filepath.Join(t.TempDir(), "guard.db"), WithClock(clk.Now), WithSweepInterval(0), WithNoSync(true))
	for i := range 2500 {
		_ = s.Set(ctx, fmt.Sprintf("short%d", i), []byte("v"), time.Second)
	}
	for i := range 100 {
		_ = s.Set(ctx, fmt.Sprintf("long%d", i), []byte("v"), time.Hour)
		_ = s.Set(ctx, fmt.Sprintf("forever%d", i), []byte("v"), 0)
	}
	// Re-setting with another TTL moves the index entry; no stale one stays.
	_ = s.Set(ctx, "short0", []byte("v"), time.Hour)
	_ = s.Set(ctx, "short1", []byte("v"), 0)
	if d, i := count(t, s); d != 2700 || i != 2599 {
		t.Fatalf("before sweep: %d data, %d index entries; want 2700, 2599", d, i)
	}
	if n, err := s.sweep(); n != 0 || err != nil {
		t.Fatalf("sweep before anything expired = %d, %v", n, err)
	}
	clk.Advance(2 * time.Second)
	n, err := s.sweep()
	if err != nil || n != 2498 {
		t.Fatalf("sweep = %d, %v; want 2498 (in three batches)", n, err)
	}
	if d, i := count(t, s); d != 202 || i != 101 {
		t.Fatalf("after sweep: %d data, %d index entries; want 202, 101", d, i)
	}
	for _, k := range []string{"short0", "short1", "long5", "forever5"} {
		if _, err := s.Get(ctx, k); err != nil {
			t.Errorf("Get(%q) after sweep: %v", k, err)
		}
	}
}

// A stale index entry (which writers never leave) must not delete live
// data with a different expiry.
func TestSweepStaleIndex(t *testing.T) {
	clk := storetest.NewClock(time.Unix(1_700_000_000, 0))
	s := open(t, filepath.Join(t.TempDir(), "guard.db"), WithClock(clk.Now), WithSweepInterval(0))
	_ = s.Set(ctx, "k", []byte("v"), time.Hour)
	err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(expiryBucket).Put(indexKey(clk.Now().UnixNano(), []byte("k")), []byte{})
	})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if n, err := s.sweep(); n != 0 || err != nil {
		t.Fatalf("sweep = %d, %v; want 0 deleted", n, err)
	}
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Fatalf("live key deleted by a stale index entry: %v", err)
	}
	if _, i := count(t, s); i != 1 {
		t.Fatalf("%d index entries, want the stale one removed", i)
	}
}

func TestSweeperBackground(t *testing.T) {
	clk := storetest.NewClock(time.Unix(1_700_000_000, 0))
	s := open(t, filepath.Join(t.TempDir(), "guard.db"), WithClock(clk.Now), WithSweepInterval(5*time.Millisecond))
	for i := range 20 {
		_ = s.Set(ctx, fmt.Sprint(i), []byte("v"), time.Second)
	}
	clk.Advance(2 * time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if d, i := count(t, s); d == 0 && i == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("background sweeper did not delete expired entries")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestIndexLayout(t *testing.T) {
	clk := storetest.NewClock(time.Unix(1_700_000_000, 0))
	s := open(t, filepath.Join(t.TempDir(), "guard.db"), WithClock(clk.Now), WithSweepInterval(0))
	_ = s.Set(ctx, "k", []byte("value"), time.Second)
	_ = s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(dataBucket).Get([]byte("k"))
		exp := clk.Now().Add(time.Second).UnixNano()
		if int64(binary.BigEndian.Uint64(v)) != exp || string(v[8:]) != "value" {
			t.Errorf("data entry %x, want expiry %d then the value", v, exp)
		}
		k, _ := tx.Bucket(expiryBucket).Cursor().First()
		if int64(binary.BigEndian.Uint64(k)) != exp || string(k[8:]) != "k" {
			t.Errorf("index key %x, want expiry %d then the key", k, exp)
		}
		return nil
	})
}

func TestPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guard.db")
	if s := open(t, path); s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
}

func BenchmarkGetParallel(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "guard.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	_ = s.Set(ctx, "k", []byte("12345"), time.Hour)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Get(ctx, "k"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkIncr(b *testing.B) {
	for _, noSync := range []bool{false, true} {
		b.Run(fmt.Sprintf("nosync=%v", noSync), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "guard.db"), WithNoSync(noSync))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Incr(ctx, "k", 1, time.Minute); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
