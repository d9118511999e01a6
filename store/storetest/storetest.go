// Package storetest is the conformance suite for implementations of
// store.Store, in the manner of testing/fstest.TestFS: a backend's test
// calls Run with a constructor, and Run checks every behaviour the store
// package documents, in subtests named after the behaviour.
//
//	func TestConformance(t *testing.T) {
//		clk := storetest.NewClock(time.Unix(1_700_000_000, 0))
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := memory.New(memory.WithClock(clk.Now))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		}, storetest.Options{Advance: clk.Advance})
//	}
//
// Time: with an Advance hook the suite moves the backend's clock and never
// sleeps. Without one (Redis, whose clock is the server's) it uses short
// real TTLs (Options.TTL, 100ms by default) and waits for them by polling:
// to wait for d it stores a witness key with TTL d and polls until the
// backend itself reports the witness expired, so it never guesses how long
// a fixed sleep must be.
//
// Subtests run one after another (they may share one clock), each on a
// fresh store from newStore; the concurrency subtests start their own
// goroutines.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guardsdk/guard/store"
)

// Options tune Run for one backend. The zero value is valid.
type Options struct {
	// Advance moves the clock of every store newStore returns forward by
	// d. When nil, TTL subtests use real time (see the package doc).
	Advance func(d time.Duration)
	// TTL is the TTL the expiry subtests use: 1s by default with Advance,
	// 100ms without. Without Advance it should be well above the
	// backend's round-trip time, or the "still present" checks are
	// skipped (they are never failed for slowness).
	TTL time.Duration
	// SkipTime skips the subtests that wait for expiry when Advance is
	// nil, for backends too slow for real-time TTLs.
	SkipTime bool
	// Goroutines and Iterations size the concurrency subtests: each of
	// Goroutines goroutines does Iterations operations on one key
	// (defaults 8 and 200). CASRounds is the number of compare-and-swap
	// races (default 50).
	Goroutines, Iterations, CASRounds int
}

// Run runs the conformance suite. newStore must return a new, empty store
// on each call and register its own cleanup with t.Cleanup; Run also
// closes every store it gets (Close must be idempotent). At most one
// Options may be given.
func Run(t *testing.T, newStore func(t *testing.T) store.Store, opts ...Options) {
	t.Helper()
	if len(opts) > 1 {
		t.Fatalf("storetest.Run: got %d Options, want at most 1", len(opts))
	}
	var o Options
	if len(opts) == 1 {
		o = opts[0]
	}
	if o.TTL <= 0 {
		o.TTL = 100 * time.Millisecond
		if o.Advance != nil {
			o.TTL = time.Second
		}
	}
	if o.Goroutines <= 0 {
		o.Goroutines = 8
	}
	if o.Iterations <= 0 {
		o.Iterations = 200
	}
	if o.CASRounds <= 0 {
		o.CASRounds = 50
	}
	tests := []struct {
		name  string
		timed bool
		fn    func(*harness)
	}{
		{"GetSetDelete", false, testGetSetDelete},
		{"Missing", false, testMissing},
		{"EmptyValue", false, testEmptyValue},
		{"BinaryValues", false, testBinaryValues},
		{"Keys", false, testKeys},
		{"InvalidKey", false, testInvalidKey},
		{"NegativeTTL", false, testNegativeTTL},
		{"ValueIsolation", false, testValueIsolation},
		{"Expiry", true, testExpiry},
		{"Incr", false, testIncr},
		{"IncrTTL", true, testIncrTTL},
		{"IncrNotInteger", false, testIncrNotInteger},
		{"CompareAndSwap", false, testCAS},
		{"CompareAndSwapTTL", true, testCASTTL},
		{"Update", false, testUpdate},
		{"UpdateTTL", true, testUpdateTTL},
		{"Context", false, testContext},
		{"Close", false, testClose},
		{"ConcurrentIncr", false, testConcurrentIncr},
		{"ConcurrentUpdate", false, testConcurrentUpdate},
		{"CompareAndSwapRace", false, testCASRace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.timed && o.Advance == nil && o.SkipTime {
				t.Skip("storetest: no Advance hook and Options.SkipTime set")
			}
			s := newStore(t)
			if s == nil {
				t.Fatal("storetest: newStore returned nil")
			}
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(&harness{T: t, s: s, o: o, ctx: context.Background()})
		})
	}
}

type harness struct {
	*testing.T
	s   store.Store
	o   Options
	ctx context.Context
	n   int // witness key counter
}

// wait makes at least d pass on the store's clock.
func (h *harness) wait(d time.Duration) {
	h.Helper()
	if h.o.Advance != nil {
		h.o.Advance(d + time.Millisecond)
		return
	}
	h.n++
	w := fmt.Sprintf("storetest:witness:%d", h.n)
	if err := h.s.Set(h.ctx, w, []byte("w"), d); err != nil {
		h.Fatalf("wait: Set witness: %v", err)
	}
	deadline := time.Now().Add(d + 2*time.Second)
	for {
		_, err := h.s.Get(h.ctx, w)
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		if err != nil {
			h.Fatalf("wait: Get witness: %v", err)
		}
		if time.Now().After(deadline) {
			h.Fatalf("wait: witness with TTL %s still present after %s", d, d+2*time.Second)
		}
		time.Sleep(d/10 + time.Millisecond)
	}
}

// fresh reports whether less than the TTL has passed since start on the
// wall clock, so a "still present" check is meaningful in real time.
func (h *harness) fresh(start time.Time) bool {
	return h.o.Advance != nil || time.Since(start) < h.o.TTL/2
}

func (h *harness) set(key string, v []byte, ttl time.Duration) {
	h.Helper()
	if err := h.s.Set(h.ctx, key, v, ttl); err != nil {
		h.Fatalf("Set(%q, %q, %s): %v", key, v, ttl, err)
	}
}

func (h *harness) want(key string, v []byte) {
	h.Helper()
	got, err := h.s.Get(h.ctx, key)
	if err != nil {
		h.Fatalf("Get(%q): %v, want %q", key, err, v)
	}
	if !bytes.Equal(got, v) {
		h.Fatalf("Get(%q) = %q, want %q", key, got, v)
	}
}

func (h *harness) wantMissing(key string) {
	h.Helper()
	got, err := h.s.Get(h.ctx, key)
	if !errors.Is(err, store.ErrNotFound) {
		h.Fatalf("Get(%q) = %q, %v; want store.ErrNotFound", key, got, err)
	}
}

func (h *harness) incr(key string, delta int64, ttl time.Duration) int64 {
	h.Helper()
	n, err := h.s.Incr(h.ctx, key, delta, ttl)
	if err != nil {
		h.Fatalf("Incr(%q, %d, %s): %v", key, delta, ttl, err)
	}
	return n
}

func (h *harness) cas(key string, old, new []byte, ttl time.Duration) bool {
	h.Helper()
	ok, err := h.s.CompareAndSwap(h.ctx, key, old, new, ttl)
	if err != nil {
		h.Fatalf("CompareAndSwap(%q, %q, %q, %s): %v", key, old, new, ttl, err)
	}
	return ok
}

// put returns an UpdateFunc that writes v with ttl.
func put(v []byte, ttl time.Duration) store.UpdateFunc {
	return func([]byte, bool) ([]byte, time.Duration, bool, error) { return v, ttl, true, nil }
}

func testGetSetDelete(h *harness) {
	h.set("k", []byte("v1"), 0)
	h.want("k", []byte("v1"))
	h.set("k", []byte("v2"), time.Hour)
	h.want("k", []byte("v2"))
	h.set("other", []byte("o"), 0)
	if err := h.s.Delete(h.ctx, "k"); err != nil {
		h.Fatalf("Delete: %v", err)
	}
	h.wantMissing("k")
	h.want("other", []byte("o"))
	if err := h.s.Delete(h.ctx, "k"); err != nil {
		h.Fatalf("Delete of a missing key: %v, want nil", err)
	}
	if err := h.s.Ping(h.ctx); err != nil {
		h.Fatalf("Ping: %v", err)
	}
}

func testMissing(h *harness) {
	h.wantMissing("never-set")
	if err := h.s.Delete(h.ctx, "never-set"); err != nil {
		h.Fatalf("Delete(missing): %v", err)
	}
	called := false
	err := h.s.Update(h.ctx, "never-set", func(cur []byte, ok bool) ([]byte, time.Duration, bool, error) {
		called = true
		if ok || cur != nil {
			h.Errorf("Update of a missing key: fn(%q, %v), want (nil, false)", cur, ok)
		}
		return nil, 0, false, nil
	})
	if err != nil || !called {
		h.Fatalf("Update(missing) = %v, called %v", err, called)
	}
	h.wantMissing("never-set")
}

func testEmptyValue(h *harness) {
	h.set("empty", []byte{}, 0)
	h.want("empty", []byte{})
	h.set("nil", nil, 0)
	h.want("nil", []byte{})
	if !h.cas("empty", []byte{}, []byte("x"), 0) {
		h.Fatal("CompareAndSwap(empty, []byte{}, ...) = false, want true: an empty value is present")
	}
	if h.cas("nil", nil, []byte("x"), 0) {
		h.Fatal("CompareAndSwap(key holding empty value, nil, ...) = true, want false: old == nil means absent")
	}
	err := h.s.Update(h.ctx, "nil", func(cur []byte, ok bool) ([]byte, time.Duration, bool, error) {
		if !ok || len(cur) != 0 {
			h.Errorf("Update of an empty value: fn(%q, %v), want (empty, true)", cur, ok)
		}
		return []byte{}, 0, true, nil // empty, not nil: stores an empty value
	})
	if err != nil {
		h.Fatal(err)
	}
	h.want("nil", []byte{})
}

func testBinaryValues(h *harness) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := bytes.Repeat([]byte("\x00\xffguard"), 64<<10/7)
	for i, v := range [][]byte{{0}, {0, 0, 0}, []byte("a\x00b"), all, big, []byte("\r\n$-1\r\n")} {
		k := fmt.Sprintf("bin:%d", i)
		h.set(k, v, 0)
		h.want(k, v)
		if !h.cas(k, v, append([]byte{0}, v...), 0) {
			h.Fatalf("CompareAndSwap with binary old value %d failed", i)
		}
		h.want(k, append([]byte{0}, v...))
	}
}

func testKeys(h *harness) {
	keys := []string{
		"{", "}", "{}", "}{", "{{}}", "a{b}c", "{tag}:x", "{tag}", "tag", "x:{tag}",
		"a:b:c", ":", "with space", "nul\x00byte", "ключ", "键:🔑", "\xff\xfe",
		strings.Repeat("k", store.MaxKeyLen), strings.Repeat("{", store.MaxKeyLen),
	}
	for i, k := range keys {
		h.set(k, []byte(strconv.Itoa(i)), 0)
	}
	// Every key is distinct: no backend may map two keys to one entry (for
	// example "{tag}" and "tag" when adding Redis hash tags).
	for i, k := range keys {
		h.want(k, []byte(strconv.Itoa(i)))
	}
	for i, k := range keys {
		if n := h.incr(k, 2, 0); n != int64(i)+2 {
			h.Fatalf("Incr(%q, 2) = %d, want %d", k, n, i+2)
		}
		if err := h.s.Delete(h.ctx, k); err != nil {
			h.Fatalf("Delete(%q): %v", k, err)
		}
		h.wantMissing(k)
	}
}

func testInvalidKey(h *harness) {
	for _, k := range []string{"", strings.Repeat("x", store.MaxKeyLen+1)} {
		ops := map[string]error{}
		_, ops["Get"] = h.s.Get(h.ctx, k)
		ops["Set"] = h.s.Set(h.ctx, k, []byte("v"), 0)
		ops["Delete"] = h.s.Delete(h.ctx, k)
		_, ops["Incr"] = h.s.Incr(h.ctx, k, 1, 0)
		_, ops["CompareAndSwap"] = h.s.CompareAndSwap(h.ctx, k, nil, []byte("v"), 0)
		ops["Update"] = h.s.Update(h.ctx, k, func([]byte, bool) ([]byte, time.Duration, bool, error) {
			h.Error("Update called fn for an invalid key")
			return nil, 0, false, nil
		})
		for op, err := range ops {
			if !errors.Is(err, store.ErrInvalidKey) {
				h.Errorf("%s(key of %d bytes) = %v, want store.ErrInvalidKey", op, len(k), err)
			}
		}
	}
}

func testNegativeTTL(h *harness) {
	h.set("k", []byte("v"), 0)
	if err := h.s.Set(h.ctx, "k", []byte("new"), -time.Second); !errors.Is(err, store.ErrInvalidTTL) {
		h.Errorf("Set(ttl<0) = %v, want store.ErrInvalidTTL", err)
	}
	if _, err := h.s.Incr(h.ctx, "n", 1, -1); !errors.Is(err, store.ErrInvalidTTL) {
		h.Errorf("Incr(ttl<0) = %v, want store.ErrInvalidTTL", err)
	}
	if _, err := h.s.CompareAndSwap(h.ctx, "k", []byte("v"), []byte("new"), -1); !errors.Is(err, store.ErrInvalidTTL) {
		h.Errorf("CompareAndSwap(ttl<0) = %v, want store.ErrInvalidTTL", err)
	}
	if err := h.s.Update(h.ctx, "k", put([]byte("new"), -time.Minute)); !errors.Is(err, store.ErrInvalidTTL) {
		h.Errorf("Update returning ttl<0 = %v, want store.ErrInvalidTTL", err)
	}
	h.want("k", []byte("v"))
	h.wantMissing("n")
}

func testValueIsolation(h *harness) {
	v := []byte("original")
	h.set("k", v, 0)
	v[0] = 'X'
	h.want("k", []byte("original"))

	got, err := h.s.Get(h.ctx, "k")
	if err != nil {
		h.Fatal(err)
	}
	got[0] = 'Y'
	h.want("k", []byte("original"))

	nv := []byte("swapped")
	if !h.cas("k", []byte("original"), nv, 0) {
		h.Fatal("CompareAndSwap failed")
	}
	nv[0] = 'Z'
	h.want("k", []byte("swapped"))

	next := []byte("updated")
	if err := h.s.Update(h.ctx, "k", put(next, 0)); err != nil {
		h.Fatal(err)
	}
	next[0] = 'W'
	h.want("k", []byte("updated"))

	// Mutating cur inside fn and not writing leaves the value alone.
	err = h.s.Update(h.ctx, "k", func(cur []byte, _ bool) ([]byte, time.Duration, bool, error) {
		for i := range cur {
			cur[i] = '!'
		}
		return nil, 0, false, nil
	})
	if err != nil {
		h.Fatal(err)
	}
	h.want("k", []byte("updated"))
}

func testExpiry(h *harness) {
	ttl := h.o.TTL
	start := time.Now()
	h.set("short", []byte("v"), ttl)
	h.set("forever", []byte("v"), 0)
	h.set("cleared", []byte("v"), ttl)
	h.set("cleared", []byte("v2"), 0) // Set replaces the TTL...
	h.set("added", []byte("v"), 0)
	h.set("added", []byte("v2"), ttl) // ...in both directions.
	if h.o.Advance != nil {
		h.o.Advance(ttl / 2)
	}
	if h.fresh(start) {
		h.want("short", []byte("v"))
	}
	h.wait(ttl)
	h.wantMissing("short")
	h.wantMissing("added")
	h.want("forever", []byte("v"))
	h.want("cleared", []byte("v2"))
	// An expired key behaves as missing for every operation.
	if h.cas("short", []byte("v"), []byte("x"), 0) {
		h.Error("CompareAndSwap matched an expired value")
	}
	if !h.cas("added", nil, []byte("new"), 0) {
		h.Error("CompareAndSwap(old=nil) on an expired key = false, want true")
	}
	h.want("added", []byte("new"))
	if err := h.s.Delete(h.ctx, "short"); err != nil {
		h.Errorf("Delete(expired): %v", err)
	}
}

func testIncr(h *harness) {
	if n := h.incr("n", 5, 0); n != 5 {
		h.Fatalf("Incr(missing, 5) = %d, want 5", n)
	}
	if n := h.incr("n", -7, 0); n != -2 {
		h.Fatalf("Incr(5, -7) = %d, want -2", n)
	}
	if n := h.incr("n", 0, 0); n != -2 {
		h.Fatalf("Incr(-2, 0) = %d, want -2", n)
	}
	h.want("n", []byte("-2"))
	if n := h.incr("neg", -3, 0); n != -3 {
		h.Fatalf("Incr(missing, -3) = %d, want -3", n)
	}
	h.set("s", []byte("41"), 0)
	if n := h.incr("s", 1, 0); n != 42 {
		h.Fatalf("Incr(\"41\", 1) = %d, want 42", n)
	}
	h.want("s", []byte("42"))

	// Limits: results up to the int64 bounds are fine, past them an error.
	if n := h.incr("max", math.MaxInt64, 0); n != math.MaxInt64 {
		h.Fatalf("Incr(missing, MaxInt64) = %d", n)
	}
	if _, err := h.s.Incr(h.ctx, "max", 1, 0); !errors.Is(err, store.ErrNotInteger) {
		h.Fatalf("Incr(MaxInt64, 1) = %v, want store.ErrNotInteger (overflow)", err)
	}
	h.want("max", []byte(strconv.FormatInt(math.MaxInt64, 10)))
	h.set("min", []byte(strconv.FormatInt(math.MinInt64+1, 10)), 0)
	if n := h.incr("min", -1, 0); n != math.MinInt64 {
		h.Fatalf("Incr(MinInt64+1, -1) = %d, want MinInt64", n)
	}
	if _, err := h.s.Incr(h.ctx, "min", -1, 0); !errors.Is(err, store.ErrNotInteger) {
		h.Fatalf("Incr(MinInt64, -1) = %v, want store.ErrNotInteger (overflow)", err)
	}
	h.want("min", []byte(strconv.FormatInt(math.MinInt64, 10)))
}

func testIncrTTL(h *harness) {
	ttl := h.o.TTL
	start := time.Now()
	h.incr("created", 1, ttl)
	h.incr("created", 1, 100*ttl) // an existing key keeps its TTL
	h.incr("created", 1, 0)
	h.set("persistent", []byte("1"), 0)
	h.incr("persistent", 1, ttl) // and a key without TTL does not get one
	if h.o.Advance != nil {
		h.o.Advance(ttl / 2)
	}
	if h.fresh(start) {
		h.want("created", []byte("3"))
	}
	h.wait(ttl)
	h.wantMissing("created")
	h.want("persistent", []byte("2"))
	// After expiry the counter starts again from zero.
	if n := h.incr("created", 1, ttl); n != 1 {
		h.Fatalf("Incr after expiry = %d, want 1", n)
	}
}

func testIncrNotInteger(h *harness) {
	bad := []string{"", "abc", "1.5", "12abc", " 1", "1 ", "+1", "01", "-0", "-", "0x10", "1e3",
		"9223372036854775808", "-9223372036854775809", "99999999999999999999999", "\x001"}
	for _, v := range bad {
		h.set("bad", []byte(v), 0)
		if n, err := h.s.Incr(h.ctx, "bad", 1, 0); !errors.Is(err, store.ErrNotInteger) {
			h.Errorf("Incr(%q, 1) = %d, %v; want store.ErrNotInteger", v, n, err)
		}
		h.want("bad", []byte(v))
	}
	for _, v := range []string{"0", "-1", "9223372036854775806", "-9223372036854775808"} {
		h.set("good", []byte(v), 0)
		want, _ := strconv.ParseInt(v, 10, 64)
		if n := h.incr("good", 1, 0); n != want+1 {
			h.Errorf("Incr(%q, 1) = %d, want %d", v, n, want+1)
		}
	}
}

func testCAS(h *harness) {
	if !h.cas("k", nil, []byte("a"), 0) {
		h.Fatal("CompareAndSwap(absent, old=nil) = false, want true")
	}
	h.want("k", []byte("a"))
	if h.cas("k", nil, []byte("b"), 0) {
		h.Fatal("CompareAndSwap(present, old=nil) = true, want false")
	}
	if h.cas("k", []byte("x"), []byte("b"), 0) {
		h.Fatal("CompareAndSwap(mismatch) = true, want false")
	}
	if h.cas("k", []byte("a\x00"), []byte("b"), 0) {
		h.Fatal("CompareAndSwap(old with extra byte) = true, want false")
	}
	h.want("k", []byte("a"))
	if !h.cas("k", []byte("a"), []byte("b"), 0) {
		h.Fatal("CompareAndSwap(match) = false, want true")
	}
	h.want("k", []byte("b"))
	if h.cas("missing", []byte("b"), []byte("c"), 0) {
		h.Fatal("CompareAndSwap(absent, old non-nil) = true, want false")
	}
	h.wantMissing("missing")
}

func testCASTTL(h *harness) {
	ttl := h.o.TTL
	start := time.Now()
	if !h.cas("k", nil, []byte("a"), ttl) {
		h.Fatal("CompareAndSwap(absent) = false")
	}
	h.set("p", []byte("a"), ttl)
	if !h.cas("p", []byte("a"), []byte("b"), 0) { // success sets the TTL: none
		h.Fatal("CompareAndSwap(match) = false")
	}
	h.set("q", []byte("a"), 0)
	if h.cas("q", []byte("x"), []byte("b"), ttl) { // failure leaves it alone
		h.Fatal("CompareAndSwap(mismatch) = true")
	}
	if h.o.Advance != nil {
		h.o.Advance(ttl / 2)
	}
	if h.fresh(start) {
		h.want("k", []byte("a"))
	}
	h.wait(ttl)
	h.wantMissing("k")
	h.want("p", []byte("b"))
	h.want("q", []byte("a"))
	if !h.cas("k", nil, []byte("again"), 0) {
		h.Fatal("CompareAndSwap(old=nil) after expiry = false, want true")
	}
}

var errFn = errors.New("storetest: fn failed")

func testUpdate(h *harness) {
	// Create.
	err := h.s.Update(h.ctx, "k", func(cur []byte, ok bool) ([]byte, time.Duration, bool, error) {
		if ok || cur != nil {
			h.Errorf("fn(%q, %v) for a missing key", cur, ok)
		}
		return []byte("1"), 0, true, nil
	})
	if err != nil {
		h.Fatal(err)
	}
	h.want("k", []byte("1"))
	// Modify.
	err = h.s.Update(h.ctx, "k", func(cur []byte, ok bool) ([]byte, time.Duration, bool, error) {
		if !ok || string(cur) != "1" {
			h.Errorf("fn(%q, %v), want (\"1\", true)", cur, ok)
		}
		return append(cur, '2'), 0, true, nil
	})
	if err != nil {
		h.Fatal(err)
	}
	h.want("k", []byte("12"))
	// write=false leaves the key untouched, whatever next is.
	if err := h.s.Update(h.ctx, "k", func([]byte, bool) ([]byte, time.Duration, bool, error) {
		return []byte("ignored"), 0, false, nil
	}); err != nil {
		h.Fatal(err)
	}
	h.want("k", []byte("12"))
	// fn's error is returned as is and nothing is written.
	err = h.s.Update(h.ctx, "k", func([]byte, bool) ([]byte, time.Duration, bool, error) {
		return []byte("ignored"), 0, true, errFn
	})
	if err != errFn {
		h.Fatalf("Update returned %v, want fn's error unchanged", err)
	}
	h.want("k", []byte("12"))
	// nil next with write=true deletes.
	if err := h.s.Update(h.ctx, "k", put(nil, 0)); err != nil {
		h.Fatal(err)
	}
	h.wantMissing("k")
	// Deleting a missing key through Update is fine.
	if err := h.s.Update(h.ctx, "k", put(nil, 0)); err != nil {
		h.Fatal(err)
	}
}

func testUpdateTTL(h *harness) {
	ttl := h.o.TTL
	start := time.Now()
	if err := h.s.Update(h.ctx, "k", put([]byte("v"), ttl)); err != nil {
		h.Fatal(err)
	}
	h.set("p", []byte("v"), ttl)
	if err := h.s.Update(h.ctx, "p", put([]byte("w"), 0)); err != nil {
		h.Fatal(err)
	}
	if h.o.Advance != nil {
		h.o.Advance(ttl / 2)
	}
	if h.fresh(start) {
		h.want("k", []byte("v"))
	}
	h.wait(ttl)
	h.wantMissing("k")
	h.want("p", []byte("w"))
	err := h.s.Update(h.ctx, "k", func(cur []byte, ok bool) ([]byte, time.Duration, bool, error) {
		if ok || cur != nil {
			h.Errorf("fn(%q, %v) for an expired key, want (nil, false)", cur, ok)
		}
		return nil, 0, false, nil
	})
	if err != nil {
		h.Fatal(err)
	}
}

func testContext(h *harness) {
	h.set("k", []byte("v"), 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ops := map[string]error{}
	_, ops["Get"] = h.s.Get(ctx, "k")
	ops["Set"] = h.s.Set(ctx, "k", []byte("x"), 0)
	ops["Delete"] = h.s.Delete(ctx, "k")
	_, ops["Incr"] = h.s.Incr(ctx, "n", 1, 0)
	_, ops["CompareAndSwap"] = h.s.CompareAndSwap(ctx, "k", []byte("v"), []byte("x"), 0)
	ops["Update"] = h.s.Update(ctx, "k", put([]byte("x"), 0))
	ops["Ping"] = h.s.Ping(ctx)
	for op, err := range ops {
		if !errors.Is(err, context.Canceled) {
			h.Errorf("%s(cancelled ctx) = %v, want context.Canceled", op, err)
		}
	}
	h.want("k", []byte("v"))
	h.wantMissing("n")
}

func testClose(h *harness) {
	h.set("k", []byte("v"), 0)
	if err := h.s.Close(); err != nil {
		h.Fatalf("Close: %v", err)
	}
	if err := h.s.Close(); err != nil {
		h.Fatalf("second Close: %v, want nil", err)
	}
	ops := map[string]error{}
	_, ops["Get"] = h.s.Get(h.ctx, "k")
	ops["Set"] = h.s.Set(h.ctx, "k", []byte("x"), 0)
	ops["Delete"] = h.s.Delete(h.ctx, "k")
	_, ops["Incr"] = h.s.Incr(h.ctx, "n", 1, 0)
	_, ops["CompareAndSwap"] = h.s.CompareAndSwap(h.ctx, "k", []byte("v"), []byte("x"), 0)
	ops["Update"] = h.s.Update(h.ctx, "k", put([]byte("x"), 0))
	ops["Ping"] = h.s.Ping(h.ctx)
	for op, err := range ops {
		if !errors.Is(err, store.ErrClosed) {
			h.Errorf("%s after Close = %v, want store.ErrClosed", op, err)
		}
	}
}

// parallel runs fn(g) in h.o.Goroutines goroutines released together and
// waits for them.
func (h *harness) parallel(fn func(g int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range h.o.Goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(g)
		}()
	}
	close(start)
	wg.Wait()
}

func testConcurrentIncr(h *harness) {
	g, it := h.o.Goroutines, h.o.Iterations
	seen := make([][]int64, g)
	errs := make(chan error, g)
	h.parallel(func(i int) {
		for range it {
			n, err := h.s.Incr(h.ctx, "c", 1, time.Hour)
			if err != nil {
				errs <- err
				return
			}
			seen[i] = append(seen[i], n)
		}
	})
	close(errs)
	for err := range errs {
		h.Fatalf("Incr: %v", err)
	}
	h.want("c", []byte(strconv.Itoa(g*it)))
	// Atomicity: every value from 1 to g*it was returned exactly once.
	got := make([]bool, g*it+1)
	for _, vs := range seen {
		for _, n := range vs {
			if n < 1 || n > int64(g*it) || got[n] {
				h.Fatalf("Incr returned %d twice or out of range", n)
			}
			got[n] = true
		}
	}
}

func testConcurrentUpdate(h *harness) {
	g, it := h.o.Goroutines, h.o.Iterations
	incr := func(cur []byte, ok bool) ([]byte, time.Duration, bool, error) {
		n := 0
		if ok {
			var err error
			if n, err = strconv.Atoi(string(cur)); err != nil {
				return nil, 0, false, err
			}
		}
		return []byte(strconv.Itoa(n + 1)), time.Hour, true, nil
	}
	errs := make(chan error, g)
	h.parallel(func(int) {
		for range it {
			// Optimistic backends may give up under contention with
			// ErrConflict; the caller's retry must still count once.
			for attempt := 0; ; attempt++ {
				err := h.s.Update(h.ctx, "u", incr)
				if err == nil {
					break
				}
				if !errors.Is(err, store.ErrConflict) || attempt == 100 {
					errs <- err
					return
				}
			}
		}
	})
	close(errs)
	for err := range errs {
		h.Fatalf("Update: %v", err)
	}
	h.want("u", []byte(strconv.Itoa(g*it)))
}

func testCASRace(h *harness) {
	var cur []byte // nil: round 0 races to create the key
	for r := range h.o.CASRounds {
		var (
			mu      sync.Mutex
			winners []int
			errs    []error
		)
		h.parallel(func(g int) {
			ok, err := h.s.CompareAndSwap(h.ctx, "cas", cur, fmt.Appendf(nil, "%d:%d", r, g), time.Hour)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				winners = append(winners, g)
			}
		})
		if len(errs) > 0 {
			h.Fatalf("round %d: CompareAndSwap: %v", r, errs[0])
		}
		if len(winners) != 1 {
			h.Fatalf("round %d: %d winners %v, want exactly 1", r, len(winners), winners)
		}
		cur = fmt.Appendf(nil, "%d:%d", r, winners[0])
		h.want("cas", cur)
	}
}
