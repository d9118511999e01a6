package redis_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/guardsdk/guard/store"
	"github.com/guardsdk/guard/store/redis"
)

// Runs only with a Redis at 127.0.0.1:6379, so it has no Output line.
func Example() {
	client := goredis.NewUniversalClient(&goredis.UniversalOptions{
		Addrs:                 []string{"127.0.0.1:6379"}, // several addresses: Cluster
		ContextTimeoutEnabled: true,
	})
	defer client.Close() // the Store does not close a client it was given

	s, err := redis.New(client, redis.WithPrefix("myapp:"), redis.WithTimeout(100*time.Millisecond))
	if errors.Is(err, store.ErrUnavailable) {
		fmt.Println("redis is down:", err)
		return
	}
	if err != nil {
		panic(err)
	}
	defer s.Close()

	ctx := context.Background()
	n, err := s.Incr(ctx, "login:{alice}:failures", 1, 15*time.Minute)
	fmt.Println(n, err, s.Key("login:{alice}:failures")) // 1 <nil> myapp:login:{alice}:failures
}

// Run executes a script in one round trip; keys sharing a hash tag share
// a Cluster slot, so one script may touch them all.
func ExampleStore_Run() {
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	s, err := redis.New(client)
	if err != nil {
		fmt.Println(err)
		return
	}
	window := goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)
	n, err := s.Run(context.Background(), window, []string{"rl:{ip:203.0.113.9}:60s"}, 60_000).Int64()
	fmt.Println(n, err)
}
