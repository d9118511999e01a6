package limiter_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/limiter"
)

// fixedClock returns a clock that examples move by hand.
func fixedClock() (now func() time.Time, advance func(time.Duration)) {
	t := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	return func() time.Time { return t }, func(d time.Duration) { t = t.Add(d) }
}

func ExampleNew() {
	now, _ := fixedClock()
	l, err := limiter.New(limiter.WithLimits(limiter.PerMinute(2)), limiter.WithClock(now))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		res, _ := l.Allow(ctx, "tenant:7")
		fmt.Println(res.Allowed, res.Remaining, res.RetryAfter)
	}
	// Output:
	// true 1 0s
	// true 0 0s
	// false 0 30s
}

// Burst versus rate: ten per second with a burst of 10 admits ten at
// once, then one every 100ms; with a burst of 1 it paces strictly.
func ExampleLimit_WithBurst() {
	now, advance := fixedClock()
	ctx := context.Background()
	for _, lim := range []limiter.Limit{limiter.PerSecond(10), limiter.PerSecond(10).WithBurst(1)} {
		l, _ := limiter.New(limiter.WithLimits(lim), limiter.WithClock(now))
		admitted := 0
		for i := 0; i < 20; i++ { // 20 requests at once
			if res, _ := l.Allow(ctx, "k"); res.Allowed {
				admitted++
			}
		}
		advance(100 * time.Millisecond)
		res, _ := l.Allow(ctx, "k")
		fmt.Printf("%v: %d at once, then after 100ms: %v\n", lim, admitted, res.Allowed)
	}
	// Output:
	// 10 per 1s (gcra, burst 10): 10 at once, then after 100ms: true
	// 10 per 1s (gcra, burst 1): 1 at once, then after 100ms: true
}

func ExampleLimiter_AllowN() {
	now, _ := fixedClock()
	l, _ := limiter.New(limiter.WithLimits(limiter.PerHour(100).Using(limiter.FixedWindow)), limiter.WithClock(now))
	ctx := context.Background()
	res, _ := l.AllowN(ctx, "export:acme", 60)
	fmt.Println(res.Allowed, res.Remaining)
	res, _ = l.AllowN(ctx, "export:acme", 60)
	fmt.Println(res.Allowed, res.Remaining, res.RetryAfter)
	// Output:
	// true 40
	// false 40 1h0m0s
}

func ExampleLimiter_Peek() {
	now, _ := fixedClock()
	l, _ := limiter.New(limiter.WithLimits(limiter.PerMinute(3)), limiter.WithClock(now))
	ctx := context.Background()
	_, _ = l.Allow(ctx, "k")
	p, _ := l.Peek(ctx, "k")
	fmt.Println(p.Allowed, p.Remaining)
	p, _ = l.Peek(ctx, "k")
	fmt.Println(p.Allowed, p.Remaining)
	// Output:
	// true 2
	// true 2
}

func ExampleLimiter_Reset() {
	now, _ := fixedClock()
	l, _ := limiter.New(limiter.WithLimits(limiter.PerHour(1)), limiter.WithClock(now))
	ctx := context.Background()
	_, _ = l.Allow(ctx, "k")
	res, _ := l.Allow(ctx, "k")
	fmt.Println(res.Allowed)
	_ = l.Reset(ctx, "k")
	res, _ = l.Allow(ctx, "k")
	fmt.Println(res.Allowed)
	// Output:
	// false
	// true
}

// Several limits decide together: the request is admitted, and charged to
// both, only when both admit it.
func ExampleWithLimits() {
	now, _ := fixedClock()
	l, _ := limiter.New(limiter.WithClock(now), limiter.WithLimits(
		limiter.PerSecond(5).Named("second"),
		limiter.PerDay(3).Using(limiter.FixedWindow).Named("day"),
	))
	for i := 0; i < 4; i++ {
		res, _ := l.Allow(context.Background(), "user:1")
		fmt.Println(res.Allowed, res.Limit, res.Remaining)
	}
	// Output:
	// true 3 2
	// true 3 1
	// true 3 0
	// false 3 0
}

func ExamplePenalty() {
	now, advance := fixedClock()
	l, _ := limiter.New(limiter.WithClock(now), limiter.WithLimits(
		limiter.PerSecond(1).WithPenalty(limiter.Penalty{Base: 10 * time.Second, Max: time.Minute}),
	))
	ctx := context.Background()
	for round := 0; round < 3; round++ {
		var res limiter.Result
		for res.Allowed || res.RetryAfter == 0 { // exceed the limit
			res, _ = l.Allow(ctx, "k")
		}
		fmt.Println("blocked for", res.RetryAfter)
		advance(res.RetryAfter)
	}
	// Output:
	// blocked for 10s
	// blocked for 20s
	// blocked for 40s
}

func ExampleOption() {
	now, _ := fixedClock()
	g, err := guard.New(
		guard.WithClock(now),
		limiter.Option(
			limiter.WithHeaders(limiter.HeadersXRateLimit|limiter.HeadersDraft),
			limiter.WithRules(limiter.Rule{
				Name: "login", Method: "POST", Route: "/login",
				Key: limiter.ByIP(), Limits: []limiter.Limit{limiter.Per(2, time.Minute)},
			}),
		),
	)
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {})
	h := g.Handler(mux)
	for i := 0; i < 3; i++ {
		req := httptest.NewRequest("POST", "/login", nil)
		req.RemoteAddr = "203.0.113.7:5555"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		fmt.Println(w.Code, w.Header().Get("X-RateLimit-Remaining"), w.Header().Get("Retry-After"), w.Header().Get("RateLimit"))
	}
	// Output:
	// 200 1  "login";r=1;t=30
	// 200 0  "login";r=0;t=60
	// 429 0 30 "login";r=0;t=30
}

func ExampleStage() {
	l, _ := limiter.New()
	st := limiter.Stage(l, limiter.Rule{Name: "all", Limits: []limiter.Limit{limiter.PerSecond(100)}})
	g, err := guard.New(guard.WithStage(st))
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())
	fmt.Println(g.Stages())
	// Output: [correlate rate_limit]
}
