// Package ratelimit benchmarks guard's limiter side by side with the
// libraries a Go user would otherwise pick: golang.org/x/time/rate (a map
// of limiters, as users build it), github.com/ulule/limiter/v3 (memory and
// Redis stores), github.com/go-redis/redis_rate/v10,
// github.com/throttled/throttled/v2 (GCRA) and
// github.com/sethvargo/go-limiter. See benchmarks/README.md for the
// commands and the results.
package ratelimit

import (
	"runtime"
	"syscall"
	"time"
)

func testingProcs() int { return runtime.GOMAXPROCS(0) }

// cpuTime is the CPU time this process has used (all threads, user and
// system). Per operation it is a steadier measure than wall time on a
// machine shared with other work: it does not count the time others' work
// took from us.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
