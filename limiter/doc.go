// Package limiter is guard's rate limiter: GCRA, sliding-window and
// fixed-window limits keyed by client address, user, endpoint, API key or
// any combination, decided together in one atomic backend call, with
// penalties, shadow mode, a deny cache and a failure policy, on memory,
// BoltDB or Redis (and Redis Cluster).
//
// Inside a Guard:
//
//	g, err := guard.New(limiter.Option(limiter.WithRules(
//		limiter.Rule{Name: "login", Method: "POST", Route: "/api/v1/auth/login",
//			Key: limiter.ByIP(), Limits: []limiter.Limit{limiter.Per(5, 5*time.Minute)}},
//		limiter.Rule{Name: "default", Key: limiter.ByPrincipalOrIP(),
//			Limits: []limiter.Limit{limiter.PerHour(1000)}},
//	)))
//
// Directly (jobs, gRPC, queues):
//
//	l, err := limiter.New(limiter.WithLimits(limiter.PerMinute(100)))
//	res, err := l.AllowN(ctx, "tenant:7", 5) // res.Allowed, res.RetryAfter
//
// # Rate and burst
//
// A Limit is Rate events per Period. With GCRA, the default, it is a token
// bucket: it holds Burst tokens (default Rate), each event takes its cost
// in tokens, and a token comes back every Period/Rate. So:
//
//   - PerSecond(10): ten requests at once, then one every 100ms. Over any
//     span t at most 10 + 10×t/s are admitted.
//   - PerSecond(10).WithBurst(1): strict pacing, one request every 100ms,
//     never two within 100ms.
//   - PerMinute(60).WithBurst(10): sustained one per second; a client that
//     was idle for ten seconds may send ten at once.
//   - Per(5, 5*time.Minute): five login attempts at once, then one more
//     every minute: a guesser gets 5 + t/1min tries, never a fresh five
//     every five minutes.
//
// The window algorithms count instead. FixedWindow admits Rate per window
// aligned to the Unix epoch (PerHour(3): three from 10:00:00 to
// 10:59:59), and so up to 2×Rate across a boundary (three at 10:59, three
// at 11:00). SlidingWindow weights the previous window's count by how much
// of it the sliding window still covers (at 11:15 the 10:00 window counts
// for 3/4), which smooths the boundary at the price of being an estimate.
// Burst does not apply to them.
//
// Time is kept in microseconds, so periods are at least MinPeriod (1ms),
// GCRA's Period/Rate at least 1µs (rounded up: a limit never admits
// faster than its rate), and counts at most MaxRate. A Limiter made by
// New without WithClock reads the monotonic clock (anchored to the wall
// clock when it was made), so steps of the wall clock do not move it;
// inside a Guard it uses the Guard's clock; the Redis backend uses the
// Redis server's.
//
// # Decisions
//
// All limits that apply to a request (several Limits of a Rule, several
// Rules matching a request, or WithLimits for the direct API) are decided
// together, in one call to the backend: the request is admitted, and its
// cost consumed from every limit, only if every limit admits it. At most
// MaxOps limits take part in one decision. A denial is a Result, not an
// error; Result.RetryAfter is exactly when the same request would be
// admitted (for the sliding window within a microsecond), unless other
// requests spend the budget first.
//
// Limits change at run time (Limiter.SetLimits, HTTPStage.SetRules). State
// is kept per rule and limit name, so it survives the change: a window's
// count carries over to the new rate; GCRA's state is time owed, so a full
// bucket stays full and refills at the new rate. Changing a limit's
// algorithm or window length starts its count afresh.
//
// Shadow mode (WithShadow, Rule.Shadow) decides, stores and reports
// (Result.Shadow, a rate_limited event with shadow=true) but never denies
// and sets no headers. A shadow limit that would deny does not veto the
// others.
//
// # Penalties
//
// A Limit's Penalty blocks a key that keeps exceeding it: the n-th
// violation blocks it for Base×2^(n-1), at most Max (default 64×Base);
// after the block ends, each Decay (default Max) without a violation
// lowers n by one. With Penalty{Base: 10s, Max: 40s, Decay: 1m}, a client
// that keeps hammering a limit is blocked for 10s, 20s, 40s, 40s, ...;
// each minute without a violation after a block ends lowers its level by
// one, and once back at level 0 its next violation blocks for 10s again.
// Requests during a block are denied (Result.Blocked) without raising the
// level. The level and the block are kept in the limit's own record and
// updated by the same call that decides.
//
// # HTTP
//
// The stage (Option, Stage) runs in guard.PhaseRateLimit. A denial is a
// 429 application/problem+json body with code "rate_limited", a
// Retry-After header and a rate_limited event carrying the rule and limit
// names; backend failures under FailClosed are a 503 with code
// "rate_limit_unavailable". Headers (WithHeaders) describe the binding
// limit, the one with the least remaining: X-RateLimit-Limit (for GCRA the
// burst), X-RateLimit-Remaining and X-RateLimit-Reset (delta seconds, or
// Unix seconds with HeadersResetEpoch), and, with HeadersDraft, the IETF
// draft's structured fields
//
//	RateLimit-Policy: "login";q=5;w=300
//	RateLimit: "login";r=0;t=60
//
// (draft-ietf-httpapi-ratelimit-headers: q is the quota, w the window in
// seconds, r the remaining quota, t the seconds until it resets; for GCRA
// the window is the time to refill the whole burst). On a 429 the reset
// and Retry-After are the same number, rounded up, so Retry-After is never
// earlier than the reset.
//
// Keys: ByIP groups IPv6 clients by /64 (ByIPPrefix to change it);
// ByPrincipal and ByAPIKey skip requests without a principal or key;
// ByAPIKey stores only a SHA-256 digest. Identities are escaped so that
// they never contain a Redis Cluster hash tag delimiter.
//
// # Backends
//
// Without WithBackend, a Limiter inside a Guard follows the Guard's store:
// store/memory gives the memory backend, store/bolt and store/redis give
// theirs (BackendProvider). Limiter.New alone uses the memory backend.
//
//   - Memory (NewMemoryBackend): a fixed table of 32-byte records, at most
//     WithMaxKeys keys (DefaultMaxKeys: about a million, 32 MiB reserved
//     up front), one lock per bucket. A key may live in two buckets of
//     four; when both are full, records move to their other bucket to
//     make room (cuckoo hashing), and only when that fails is the least
//     recently active of the eight evicted: at a million keys in the
//     default table about 0.3% are. Keys themselves are not stored, only
//     62 bits of a seeded hash. No allocation per decision. Lost on restart;
//     one process.
//   - Bolt (store/bolt): durable across restarts in one file, one process
//     (bbolt holds an exclusive file lock); concurrent decisions share a
//     write transaction (bbolt's Batch), so each waits for one fsync.
//   - Redis (store/redis): one Lua script per decision, loaded once and run
//     with EVALSHA (EVAL on NOSCRIPT), reading the server's clock with
//     TIME, so processes with skewed clocks agree. The keys of one identity
//     share a hash tag and so a Cluster slot. Concurrent decisions are
//     pipelined automatically: one that finds the backend idle goes out
//     at once, the ones arriving meanwhile leave together in the next
//     pipeline. On Cluster, a decision whose limits span several
//     identities runs one script per slot in the same round trip and
//     refunds the slots that admitted when another denied (never
//     over-admitting). To configure it (pipelines, script batching), pass
//     WithBackend(redis.NewRateLimitBackend(store, ...)).
//
// # Failures
//
// Backend calls other than memory are bounded by WithTimeout
// (DefaultTimeout). A failed or timed-out call applies the failure policy
// (WithFailurePolicy: FailLocal, the default, decides with an in-process
// memory limiter; FailOpen admits; FailClosed denies) and the Result says
// Degraded. The first failure publishes a backend_degraded event, the next
// success backend_recovered. After DefaultBreakerFailures consecutive
// failures a circuit breaker stops calling the backend; once per
// DefaultProbeInterval one decision probes it (WithBreaker). A dead Redis
// therefore costs one timeout per probe interval, not one per request.
//
// The deny cache (WithDenyCache, on by default for remote backends)
// remembers a key denied until T and answers it locally until T
// (Result.Cached), so a client hammering a blocked key costs no backend
// traffic.
//
// Errors are returned only for misuse (ErrCost, an empty key, ErrClosed)
// or a cancelled context; they are prefixed "limiter: ". Nothing in the
// request path panics.
//
// # Concurrency
//
// Limiter, HTTPStage and the backends are safe for concurrent use.
package limiter
