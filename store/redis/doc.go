// Package redis is guard's shared implementation of store.Store, on a
// single Redis, Redis with Sentinel failover, or Redis Cluster, through
// go-redis v9 (imported here as goredis). It is the backend for state that
// several processes must see: rate limits, lockouts and sessions of a
// service that runs more than one replica.
//
//	client := goredis.NewUniversalClient(&goredis.UniversalOptions{
//		Addrs:                 []string{"127.0.0.1:6379"},
//		ContextTimeoutEnabled: true, // let WithTimeout bound socket I/O
//	})
//	defer client.Close()
//	s, err := redis.New(client, redis.WithPrefix("myapp:"))
//
// # Keys
//
// Every key gets the prefix (DefaultPrefix, "guard:"; WithPrefix) and a
// Redis Cluster hash tag: a key that already carries one ("rl:{user42}:n")
// keeps it, any other key is wrapped whole ("{key}"); see Store.Key for
// the exact rule. Capabilities that touch several keys in one script give
// them the same tag, so the keys share a Cluster slot.
//
// # Atomicity and round trips
//
// Get, Set, Delete and Ping are one command each. Incr is one Lua script
// (INCRBY, and PEXPIRE only when the key was created), CompareAndSwap is
// one Lua script (GET, compare, SET): both atomic in one round trip.
// Update is optimistic: WATCH, GET, fn, MULTI/SET or DEL/EXEC, retried up
// to WithUpdateRetries times (DefaultUpdateRetries, 16) when another
// client changed the key, then store.ErrConflict; fn may therefore run
// several times. Store.Run runs any script by EVALSHA with a fallback to
// EVAL on NOSCRIPT, for capabilities that need one-round-trip decisions.
//
// # Timeouts and failures
//
// Every operation runs under context.WithTimeout(ctx, WithTimeout)
// (DefaultTimeout, 250ms). Network errors, timeouts and Redis's transient
// states (LOADING, CLUSTERDOWN, TRYAGAIN, MASTERDOWN, READONLY, OOM, BUSY,
// max clients, a closed client) return an error wrapping both
// store.ErrUnavailable and the underlying error; capabilities apply their
// failure policy on it. A write that failed this way may or may not have
// been applied. A cancelled caller context is reported as
// context.Canceled; go-redis applies deadlines, not cancellation, to a
// socket read already in flight, so such a call still ends by the
// timeout. New pings Redis within the timeout unless
// WithStartupPing(false).
//
// The timeout bounds socket I/O only when the client was built with
// ContextTimeoutEnabled: true. For other clients the Store waits for each
// call in a goroutine and abandons it at the deadline (see New).
//
// # TTLs and values
//
// TTLs are set with PX, in milliseconds, measured by the Redis server's
// clock; a TTL that is not a whole number of milliseconds is rounded up,
// so sub-millisecond TTLs become 1ms. Expired keys are never returned:
// Redis expires them itself. Values are binary-safe strings. Incr follows
// Redis INCRBY: a non-integer value or an int64 overflow is an error
// wrapping store.ErrNotInteger.
//
// # Durability and processes
//
// As durable as the Redis deployment: an acknowledged write is in the
// primary's memory, and survives a Redis restart only through RDB
// snapshots or the AOF (with appendfsync always for every write,
// everysec for all but up to a second of them). Replication is
// asynchronous, so a failover can lose writes the old primary
// acknowledged. Any number of processes may share one Redis: the
// operations above are atomic across all of them.
//
// # Rate-limit decisions and their cost on the server
//
// RateLimitBackend decides with one script call per decision: a decision
// under one limit runs a script written for one key, a decision under
// several limits the general one (they share arguments, state and reply,
// and are checked against each other on random sequences). Concurrent
// decisions share round trips (pipelines), not script calls.
//
// What a call costs the Redis server, in instructions (callgrind, Redis
// 7.0.15, 500 calls per pipeline, so system calls are spread thin;
// benchmarks/ratelimit/redis-server-cost.sh prints this table):
//
//	EVALSHA of "return 1"                           11,900
//	TIME + GET + SET PX, nothing else (the floor)   37,500
//	guard, one limit                                62,400
//	guard, several limits (general script, 1 key)   76,900
//	ulule/limiter v3 (INCRBY, PEXPIRE or PTTL)      34,000
//	go-redis/redis_rate v10 (TIME, GET, SET)        72,400
//
// Each redis.call costs the server several thousand instructions (the
// command's arguments and reply are converted between Lua and Redis
// objects; TIME about 6,700 of them), so any script deciding on the
// server's clock costs at least the floor, more than ulule's script,
// which trusts the client's clock. Pipelining saves the server the
// system calls of one command per round trip, which is about what the
// larger script costs: per decision, guard's pipelined script and
// ulule's unpipelined command cost the server about the same CPU (15 µs
// on the 2-core machine of benchmarks/README.md, whether or not Redis has
// a core of its own). So where the server is the bottleneck, no design
// with one script call and a TIME per decision answers many more
// decisions than ulule; where it is not, every caller waits its own
// round trip with either. WithScriptBatching shares the call and the
// TIME between the decisions of a pipeline (about 11 µs of server CPU per
// decision), at the price of one script call per pipeline instead of per
// decision. WithPipelines(16) keeps a Redis on a dedicated core busier
// than the default 4 (+10 to 20% decisions per second there) but costs
// more client CPU, and throughput where clients and Redis share cores.
//
// # Ownership and errors
//
// The Store does not close the client given to New unless
// WithCloseClient(true); after Close every method returns an error
// wrapping store.ErrClosed. A missing key is store.ErrNotFound, returned
// unwrapped; other errors read "store/redis: <op>: ...", wrapping the
// store sentinels (ErrInvalidKey, ErrInvalidTTL, ErrClosed,
// ErrUnavailable, ErrConflict, ErrNotInteger) and the go-redis error.
package redis
