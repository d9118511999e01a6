#!/bin/sh
# redis-server-cost.sh: instructions the Redis server executes per script
# call, pipelined 500 at a time, counted by callgrind: the slope between
# 2 and 6 batches of 500 calls, so start-up and loading cancel out.
# Needs valgrind and redis-server; run from the repository root.
#   benchmarks/ratelimit/redis-server-cost.sh [script...]
set -eu
port=${PORT:-6391}
scripts=${*:-trivial floor guard-one guard-general ulule redis_rate}
bin=$(mktemp -d)/redis.test
go test -c -o "$bin" ./store/redis/
count() { # script rounds -> instructions
	out=$(mktemp)
	valgrind --tool=callgrind --callgrind-out-file="$out" redis-server --port "$port" \
		--bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
	vg=$!
	i=0
	until redis-cli -p "$port" ping >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 150 ] || { echo "redis under valgrind did not start" >&2; exit 1; }
		sleep 0.2
	done
	GUARD_REDIS_COST_ADDR=127.0.0.1:$port GUARD_REDIS_COST_SCRIPT=$1 GUARD_REDIS_COST_ROUNDS=$2 \
		"$bin" -test.run '^TestServerCost$' >/dev/null
	redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
	wait $vg || true
	awk '/^(summary|totals):/ {print $2; exit}' "$out"
	rm -f "$out"
}
for s in $scripts; do
	a=$(count "$s" 2)
	b=$(count "$s" 6)
	echo "$s $(( (b - a) / 2000 ))"
done
