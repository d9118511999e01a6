package redis

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// TestServerCost sends batches of one script to the Redis named by
// GUARD_REDIS_COST_ADDR, pipelined 500 at a time, so that the Redis
// server's work per call can be counted with callgrind (see
// benchmarks/ratelimit/redis-server-cost.sh, which starts that Redis under
// valgrind). GUARD_REDIS_COST_SCRIPT picks the script, GUARD_REDIS_COST_ROUNDS
// the number of batches. Skipped unless GUARD_REDIS_COST_ADDR is set.
func TestServerCost(t *testing.T) {
	addr := os.Getenv("GUARD_REDIS_COST_ADDR")
	if addr == "" {
		t.Skip("GUARD_REDIS_COST_ADDR is not set (benchmarks/ratelimit/redis-server-cost.sh sets it)")
	}
	rounds, err := strconv.Atoi(os.Getenv("GUARD_REDIS_COST_ROUNDS"))
	if err != nil {
		t.Fatalf("GUARD_REDIS_COST_ROUNDS: %v", err)
	}
	var specs []byte
	for _, v := range [8]int64{0, 1000000, 1000, 1, 0, 0, 0, 0} { // GCRA, never denying
		specs = binary.LittleEndian.AppendUint64(specs, math.Float64bits(float64(v)))
	}
	guardArgs := []any{"", "0", specs} // the server's clock
	scripts := map[string]struct {
		src  string
		args []any
	}{
		"trivial": {"return 1", nil},
		// What any script deciding on the server's clock must do: TIME,
		// GET and SET with a TTL, and nothing else.
		"floor": {"local t = redis.call('TIME') local r = redis.call('GET', KEYS[1]) " +
			"redis.call('SET', KEYS[1], 'abcdefghabcdefghabcdefghabcdefghabcdefgh', 'PX', 60000) return 1", nil},
		"guard-one":     {rateLimitOneLua, guardArgs},
		"guard-general": {rateLimitLua, guardArgs},
		"ulule":         {ululeLua, []any{1, 1000}},
		"redis_rate":    {redisRateLua, []any{1000000, 1000000, 1, 1}},
	}
	name := os.Getenv("GUARD_REDIS_COST_SCRIPT")
	sc, ok := scripts[name]
	if !ok {
		t.Fatalf("GUARD_REDIS_COST_SCRIPT=%q: not one of trivial, floor, guard-one, guard-general, ulule, redis_rate", name)
	}
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	ctx := context.Background()
	s := goredis.NewScript(sc.src)
	if err := s.Load(ctx, c).Err(); err != nil {
		t.Fatal(err)
	}
	for range rounds {
		p := c.Pipeline()
		for i := range 500 {
			s.EvalSha(ctx, p, []string{"cost:" + name + ":{" + strconv.Itoa(i) + "}:x"}, sc.args...)
		}
		if _, err := p.Exec(ctx); err != nil && !strings.Contains(err.Error(), "nil") {
			t.Fatal(err)
		}
	}
}

// ululeLua is github.com/ulule/limiter/v3 v3.11.2's Redis script
// (drivers/store/redis, luaIncrScript; MIT licence), for comparison only.
const ululeLua = `
local key = KEYS[1]
local count = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local ret = redis.call("incrby", key, ARGV[1])
if ret == count then
	if ttl > 0 then
		redis.call("pexpire", key, ARGV[2])
	end
	return {ret, ttl}
end
ttl = redis.call("pttl", key)
return {ret, ttl}
`

// redisRateLua is github.com/go-redis/redis_rate/v10 v10.0.1's allowN
// script (BSD-2-Clause licence), for comparison only.
const redisRateLua = `
-- this script has side-effects, so it requires replicate commands mode
redis.replicate_commands()

local rate_limit_key = KEYS[1]
local burst = ARGV[1]
local rate = ARGV[2]
local period = ARGV[3]
local cost = tonumber(ARGV[4])

local emission_interval = period / rate
local increment = emission_interval * cost
local burst_offset = emission_interval * burst

-- redis returns time as an array containing two integers: seconds of the epoch
-- time (10 digits) and microseconds (6 digits). for convenience we need to
-- convert them to a floating point number. the resulting number is 16 digits,
-- bordering on the limits of a 64-bit double-precision floating point number.
-- adjust the epoch to be relative to Jan 1, 2017 00:00:00 GMT to avoid floating
-- point problems. this approach is good until "now" is 2,483,228,799 (Wed, 09
-- Sep 2048 01:46:39 GMT), when the adjusted value is 16 digits.
local jan_1_2017 = 1483228800
local now = redis.call("TIME")
now = (now[1] - jan_1_2017) + (now[2] / 1000000)

local tat = redis.call("GET", rate_limit_key)

if not tat then
  tat = now
else
  tat = tonumber(tat)
end

tat = math.max(tat, now)

local new_tat = tat + increment
local allow_at = new_tat - burst_offset

local diff = now - allow_at
local remaining = diff / emission_interval

if remaining < 0 then
  local reset_after = tat - now
  local retry_after = diff * -1
  return {
    0, -- allowed
    0, -- remaining
    tostring(retry_after),
    tostring(reset_after),
  }
end

local reset_after = new_tat - now
if reset_after > 0 then
  redis.call("SET", rate_limit_key, new_tat, "EX", math.ceil(reset_after))
end
local retry_after = -1
return {cost, remaining, tostring(retry_after), tostring(reset_after)}
`
