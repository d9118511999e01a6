package memory_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/guardsdk/guard/store"
	"github.com/guardsdk/guard/store/memory"
)

func Example() {
	ctx := context.Background()
	s, err := memory.New(memory.WithMaxEntries(10_000))
	if err != nil {
		panic(err)
	}
	defer s.Close()

	// A fixed-window counter: the first Incr creates the key with a TTL.
	n, _ := s.Incr(ctx, "login:{alice}:failures", 1, time.Minute)
	n, _ = s.Incr(ctx, "login:{alice}:failures", 1, time.Minute)
	fmt.Println("failures:", n)

	_ = s.Set(ctx, "session:42", []byte("alice"), time.Hour)
	v, _ := s.Get(ctx, "session:42")
	fmt.Println("session:", string(v))

	_, err = s.Get(ctx, "session:missing")
	fmt.Println("missing:", errors.Is(err, store.ErrNotFound))
	// Output:
	// failures: 2
	// session: alice
	// missing: true
}

// A fake clock makes TTLs testable without sleeping.
func ExampleWithClock() {
	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	ctx := context.Background()
	s, _ := memory.New(memory.WithClock(clock))
	defer s.Close()
	_ = s.Set(ctx, "otp:used:123456", []byte{1}, 30*time.Second)

	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	_, err := s.Get(ctx, "otp:used:123456")
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output: true
}
