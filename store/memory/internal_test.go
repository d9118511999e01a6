package memory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/guardsdk/guard/store"
	"github.com/guardsdk/guard/store/storetest"
)

var ctx = context.Background()

func newTest(t testing.TB, opts ...Option) (*Store, *storetest.Clock) {
	t.Helper()
	clk := storetest.NewClock(time.Unix(1_700_000_000, 0))
	s, err := New(append([]Option{WithClock(clk.Now), WithJanitorInterval(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, clk
}

func (s *Store) examined() uint64 {
	var n uint64
	for i := range s.shards {
		s.shards[i].mu.RLock()
		n += s.shards[i].examined
		s.shards[i].mu.RUnlock()
	}
	return n
}

// checkHeaps verifies every shard's heap and map agree.
func (s *Store) checkHeaps(t *testing.T) {
	t.Helper()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		if len(sh.heap) != len(sh.m) {
			t.Errorf("shard %d: heap %d entries, map %d", i, len(sh.heap), len(sh.m))
		}
		if len(sh.m) > sh.max {
			t.Errorf("shard %d: %d entries, max %d", i, len(sh.m), sh.max)
		}
		for j, e := range sh.heap {
			if e.idx != j || sh.m[e.key] != e {
				t.Errorf("shard %d: heap[%d] inconsistent", i, j)
			}
			if j > 0 && sh.less(j, (j-1)/2) {
				t.Errorf("shard %d: heap order broken at %d", i, j)
			}
		}
		sh.mu.RUnlock()
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Option{WithMaxEntries(0), WithClock(nil), WithJanitorInterval(-1), withShards(3)} {
		if _, err := New(o); err == nil {
			t.Errorf("New with a bad option: nil error")
		}
	}
	for _, tc := range []struct{ max, shards int }{{1, 1}, {100, 1}, {1000, 8}, {4096, 64}, {DefaultMaxEntries, 64}} {
		s, err := New(WithMaxEntries(tc.max), WithJanitorInterval(0))
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for i := range s.shards {
			total += s.shards[i].max
		}
		if len(s.shards) != tc.shards || total != tc.max {
			t.Errorf("WithMaxEntries(%d): %d shards holding %d, want %d shards holding %d", tc.max, len(s.shards), total, tc.shards, tc.max)
		}
		_ = s.Close()
	}
}

func TestBoundNeverExceeded(t *testing.T) {
	const max = 500
	s, clk := newTest(t, WithMaxEntries(max))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20_000 {
		key := "k" + strconv.Itoa(r.IntN(5000))
		var ttl time.Duration
		if r.IntN(2) == 0 {
			ttl = time.Duration(1+r.IntN(100)) * time.Second
		}
		var err error
		switch r.IntN(4) {
		case 0:
			err = s.Set(ctx, key, []byte("v"), ttl)
		case 1:
			_, err = s.Incr(ctx, key, 1, ttl)
		case 2:
			_, err = s.CompareAndSwap(ctx, key, nil, []byte("v"), ttl)
		case 3:
			err = s.Update(ctx, key, func([]byte, bool) ([]byte, time.Duration, bool, error) {
				return []byte("u"), ttl, true, nil
			})
		}
		if err != nil && !errors.Is(err, store.ErrNotInteger) {
			t.Fatal(err)
		}
		if i%100 == 0 {
			clk.Advance(time.Second)
		}
		if n := s.Stats().Entries; n > max {
			t.Fatalf("after %d writes: %d entries > max %d", i, n, max)
		}
	}
	s.checkHeaps(t)
	st := s.Stats()
	if st.Evicted == 0 || st.Expired == 0 {
		t.Errorf("stats %+v: want both evictions and expirations", st)
	}
}

func TestEvictionOrder(t *testing.T) {
	s, clk := newTest(t, WithMaxEntries(3), withShards(1))
	_ = s.Set(ctx, "long", []byte("v"), time.Hour)
	_ = s.Set(ctx, "short", []byte("v"), time.Minute)
	_ = s.Set(ctx, "none", []byte("v"), 0)
	present := func(keys ...string) {
		t.Helper()
		for _, k := range keys {
			if _, err := s.Get(ctx, k); err != nil {
				t.Fatalf("Get(%q): %v", k, err)
			}
		}
	}
	gone := func(k string) {
		t.Helper()
		if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get(%q) = %v, want evicted", k, err)
		}
	}
	// Full: the entry nearest to expiry goes first...
	_ = s.Set(ctx, "new1", []byte("v"), 0)
	gone("short")
	present("long", "none", "new1")
	// ...then the next one with a TTL...
	_ = s.Set(ctx, "new2", []byte("v"), 0)
	gone("long")
	// ...then, with no TTLs left, the oldest.
	_ = s.Set(ctx, "new3", []byte("v"), 0)
	gone("none")
	present("new1", "new2", "new3")
	// An expired entry is reclaimed rather than a live one evicted.
	_ = s.Set(ctx, "new1", []byte("v"), time.Second)
	clk.Advance(2 * time.Second)
	_ = s.Set(ctx, "new4", []byte("v"), 0)
	present("new2", "new3", "new4")
	if st := s.Stats(); st.Evicted != 3 || st.Expired != 1 || st.Entries != 3 {
		t.Errorf("stats %+v, want 3 evicted, 1 expired, 3 entries", st)
	}
	// Overwriting an existing key never evicts.
	_ = s.Set(ctx, "new4", []byte("w"), 0)
	present("new2", "new3", "new4")
}

func TestNoEviction(t *testing.T) {
	s, clk := newTest(t, WithMaxEntries(2), withShards(1), WithNoEviction())
	_ = s.Set(ctx, "a", []byte("v"), 0)
	_ = s.Set(ctx, "b", []byte("v"), time.Second)
	if err := s.Set(ctx, "c", []byte("v"), 0); !errors.Is(err, store.ErrFull) {
		t.Fatalf("Set on a full store = %v, want store.ErrFull", err)
	}
	if _, err := s.Incr(ctx, "c", 1, 0); !errors.Is(err, store.ErrFull) {
		t.Fatalf("Incr on a full store = %v, want store.ErrFull", err)
	}
	if err := s.Set(ctx, "a", []byte("w"), 0); err != nil {
		t.Fatalf("overwrite on a full store: %v", err)
	}
	clk.Advance(2 * time.Second) // "b" expires and makes room
	if err := s.Set(ctx, "c", []byte("v"), 0); err != nil {
		t.Fatalf("Set after an expiry: %v", err)
	}
}

// TestReclaimNoScan checks that reclaiming expired entries looks only at
// heap tops: with 10,000 live entries and 50 expired ones, the janitor
// examines about 50 entries, not 10,050.
func TestReclaimNoScan(t *testing.T) {
	s, clk := newTest(t, WithMaxEntries(20_000))
	for i := range 10_000 {
		_ = s.Set(ctx, fmt.Sprintf("live%d", i), []byte("v"), time.Hour)
	}
	for i := range 50 {
		_ = s.Set(ctx, fmt.Sprintf("dying%d", i), []byte("v"), time.Second)
	}
	clk.Advance(2 * time.Second)
	before := s.examined()
	s.reclaimAll()
	examined := s.examined() - before
	st := s.Stats()
	if st.Entries != 10_000 || st.Expired != 50 {
		t.Fatalf("after reclaim: %+v, want 10000 entries and 50 expired", st)
	}
	// Each expired entry once, plus one live heap top per shard.
	if limit := uint64(50 + len(s.shards)); examined > limit {
		t.Fatalf("reclaim examined %d entries, want at most %d", examined, limit)
	}
	s.checkHeaps(t)
}

func TestJanitor(t *testing.T) {
	clk := storetest.NewClock(time.Unix(1_700_000_000, 0))
	s, err := New(WithClock(clk.Now), WithJanitorInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 100 {
		_ = s.Set(ctx, strconv.Itoa(i), []byte("v"), time.Second)
	}
	clk.Advance(2 * time.Second)
	// The janitor runs on a real ticker; poll for its effect.
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Entries != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("janitor left %d expired entries", s.Stats().Entries)
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentMixed hammers a small bounded store with every operation
// and checks its invariants survive (run with -race).
func TestConcurrentMixed(t *testing.T) {
	s, clk := newTest(t, WithMaxEntries(256))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for range 2000 {
				k := "k" + strconv.Itoa(r.IntN(1000))
				switch r.IntN(6) {
				case 0:
					_ = s.Set(ctx, k, []byte("1"), time.Duration(r.IntN(3))*time.Second)
				case 1:
					_, _ = s.Get(ctx, k)
				case 2:
					_, _ = s.Incr(ctx, k, 1, time.Second)
				case 3:
					_ = s.Delete(ctx, k)
				case 4:
					_, _ = s.CompareAndSwap(ctx, k, []byte("1"), []byte("2"), 0)
				case 5:
					clk.Advance(100 * time.Millisecond)
					s.reclaimAll()
				}
			}
		}()
	}
	wg.Wait()
	s.checkHeaps(t)
}

func TestParseCounter(t *testing.T) {
	for _, tc := range []struct {
		in string
		n  int64
		ok bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"-7", -7, true}, {"10", 10, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"18446744073709551616", 0, false}, {"", 0, false}, {"-", 0, false},
		{"-0", 0, false}, {"01", 0, false}, {"+1", 0, false}, {"1a", 0, false},
	} {
		n, ok := store.ParseCounter([]byte(tc.in))
		if n != tc.n || ok != tc.ok {
			t.Errorf("ParseCounter(%q) = %d, %v; want %d, %v", tc.in, n, ok, tc.n, tc.ok)
		}
	}
}

func FuzzParseCounter(f *testing.F) {
	for _, s := range []string{"0", "-1", "9223372036854775807", "-9223372036854775808", "01", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := store.ParseCounter([]byte(s))
		if ok && strconv.FormatInt(n, 10) != s {
			t.Fatalf("ParseCounter(%q) = %d: accepted a non-canonical form", s, n)
		}
		if want, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(want, 10) == s && (!ok || n != want) {
			t.Fatalf("ParseCounter(%q) = %d, %v; want %d", s, n, ok, want)
		}
	})
}

func benchStore(b *testing.B) *Store {
	s, err := New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

func BenchmarkGetParallel(b *testing.B) {
	s := benchStore(b)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "rl:{user" + strconv.Itoa(i) + "}:count"
		_ = s.Set(ctx, keys[i], []byte("12345"), time.Hour)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.Get(ctx, keys[i&1023]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkSetParallel(b *testing.B) {
	s := benchStore(b)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "session:" + strconv.Itoa(i)
	}
	v := []byte("0123456789abcdef0123456789abcdef")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if err := s.Set(ctx, keys[i&1023], v, time.Hour); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkIncrParallel(b *testing.B) {
	s := benchStore(b)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "rl:{ip" + strconv.Itoa(i) + "}:window"
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.Incr(ctx, keys[i&1023], 1, time.Minute); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
