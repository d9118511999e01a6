package bolt

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/limiter"
	"github.com/guardsdk/guard/limiter/limitertest"
)

func openRL(t *testing.T, path string) (*Store, *RateLimitBackend) {
	t.Helper()
	s, err := Open(path, WithNoSync(true))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRateLimitBackend(s)
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

func TestRateLimitConformance(t *testing.T) {
	s, b := openRL(t, filepath.Join(t.TempDir(), "rl.db"))
	defer s.Close()
	limitertest.Run(t, limitertest.Config{New: func(*testing.T) limiter.Backend { return b }, Checks: 50})
}

// TestRateLimitSurvivesRestart: state is on disk, so a reopened file
// still knows a key's usage and penalty.
func TestRateLimitSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rl.db")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	lim := limiter.PerHour(2).WithPenalty(limiter.Penalty{Base: time.Minute})
	for round, want := range [][]bool{{true, true, false}, {false}} {
		s, b := openRL(t, path)
		l, err := limiter.New(limiter.WithBackend(b), limiter.WithClock(clock), limiter.WithLimits(lim), limiter.WithDenyCache(0))
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range want {
			r, err := l.Allow(context.Background(), "k")
			if err != nil || r.Allowed != w || r.Degraded {
				t.Fatalf("round %d request %d: %+v %v", round, i, r, err)
			}
			if round == 1 && !r.Blocked {
				t.Fatalf("after restart the penalty block is lost: %+v", r)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRateLimitSweep: records whose state expired are deleted by later
// writes, with their index entries.
func TestRateLimitSweep(t *testing.T) {
	s, b := openRL(t, filepath.Join(t.TempDir(), "rl.db"))
	defer s.Close()
	spec := limiter.SpecOf(limiter.PerSecond(10))
	now := int64(1_767_225_600_000_000)
	for i := 0; i < 10; i++ {
		var bt limiter.Batch
		bt.Now = now
		bt.Add(limiter.Op{Tag: "k" + string(rune('a'+i)), Name: "n", Spec: spec, Cost: 1})
		if err := b.Decide(context.Background(), &bt); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (n int) {
		_ = s.db.View(func(tx *bbolt.Tx) error {
			n = tx.Bucket(rlBucket).Stats().KeyN + tx.Bucket(rlExpBucket).Stats().KeyN
			return nil
		})
		return n
	}
	if n := count(); n != 20 {
		t.Fatalf("%d records and index entries, want 20", n)
	}
	var bt limiter.Batch
	bt.Now = now + int64(time.Hour/time.Microsecond)
	bt.Add(limiter.Op{Tag: "late", Name: "n", Spec: spec, Cost: 1})
	if err := b.Decide(context.Background(), &bt); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d records and index entries after the sweep, want 2", n)
	}
}

func TestRateLimitThroughGuardStore(t *testing.T) {
	s, _ := openRL(t, filepath.Join(t.TempDir(), "rl.db"))
	defer s.Close()
	b, err := s.RateLimitBackend()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.(*RateLimitBackend); !ok {
		t.Fatalf("%T", b)
	}
	_ = s.Close()
	var bt limiter.Batch
	bt.Add(limiter.Op{Tag: "k", Name: "n", Spec: limiter.SpecOf(limiter.PerSecond(1)), Cost: 1})
	if err := b.Decide(context.Background(), &bt); err == nil {
		t.Fatal("decision on a closed store succeeded")
	}
}

// TestRateLimitGuardStore: a Guard on a bolt store keeps its limits in the
// same file without being told to.
func TestRateLimitGuardStore(t *testing.T) {
	s, _ := openRL(t, filepath.Join(t.TempDir(), "rl.db"))
	defer s.Close()
	g, err := guard.New(guard.WithStore(s), limiter.Option(limiter.WithRules(
		limiter.Rule{Name: "all", Limits: []limiter.Limit{limiter.Per(2, time.Hour)}},
	)))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for i, want := range []int{200, 200, 429} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != want {
			t.Fatalf("request %d: %d, want %d", i, w.Code, want)
		}
	}
	var n int
	_ = s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(rlBucket).Stats().KeyN
		return nil
	})
	if n != 1 {
		t.Fatalf("%d rate-limit records in the file, want 1", n)
	}
}
