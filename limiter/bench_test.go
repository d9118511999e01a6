package limiter_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/limiter"
)

func BenchmarkAllow(b *testing.B) {
	ctx := context.Background()
	keys := make([]string, 100_000)
	for i := range keys {
		keys[i] = "client:" + strconv.Itoa(i)
	}
	// Limiters are made once, outside the timed runs: a new table per run
	// would time page faults of its 32 MiB.
	hot := mustNew(b, limiter.WithLimits(limiter.PerSecond(1_000_000)))
	many := mustNew(b, limiter.WithLimits(limiter.PerSecond(1000)), limiter.WithMaxKeys(1<<18))
	two := mustNew(b, limiter.WithLimits(limiter.PerSecond(1_000_000), limiter.PerDay(1_000_000_000).Using(limiter.SlidingWindow)), limiter.WithMaxKeys(1<<18))
	for _, k := range keys {
		_, _ = many.Allow(ctx, k)
		_, _ = two.Allow(ctx, k)
	}
	b.Run("HotKey", func(b *testing.B) {
		l := hot
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_, _ = l.Allow(ctx, "hot")
		}
	})
	b.Run("Keys100kParallel", func(b *testing.B) {
		l := many
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				_, _ = l.Allow(ctx, keys[i%len(keys)])
				i += 7919
			}
		})
	})
	b.Run("TwoLimits", func(b *testing.B) {
		l := two
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_, _ = l.Allow(ctx, keys[i%len(keys)])
		}
	})
}

// BenchmarkStage is one request through guard's net/http adapter with the
// quickstart's rules, headers in both styles.
func BenchmarkStage(b *testing.B) {
	g, err := guard.New(limiter.Option(
		limiter.WithHeaders(limiter.HeadersXRateLimit|limiter.HeadersDraft),
		limiter.WithRules(quickstartRules()...),
	))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/notes/{id}", func(http.ResponseWriter, *http.Request) {})
	h := g.Handler(mux)
	req := httptest.NewRequest("GET", "/api/v1/notes/1", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		req.RemoteAddr = "10.0.0." + strconv.Itoa(i%200) + ":1234"
		clear(w.Header())
		h.ServeHTTP(w, req)
	}
}
