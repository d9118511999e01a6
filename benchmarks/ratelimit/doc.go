// Package ratelimit benchmarks guard's limiter side by side with the
// libraries a Go user would otherwise pick: golang.org/x/time/rate (a map
// of limiters, as users build it), github.com/ulule/limiter/v3 (memory and
// Redis stores), github.com/go-redis/redis_rate/v10,
// github.com/throttled/throttled/v2 (GCRA) and
// github.com/sethvargo/go-limiter. See benchmarks/README.md for the
// commands and the results.
package ratelimit

import "runtime"

func testingProcs() int { return runtime.GOMAXPROCS(0) }
