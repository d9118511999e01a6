package store

import "math"

// AddCounter parses cur as Redis INCRBY does (an optional '-', then
// digits with no leading zero, or exactly "0") and adds delta, reporting
// ErrNotInteger on a malformed value or int64 overflow. Backends that
// implement Incr themselves (memory, bolt) share it, so they agree with
// Redis and with each other.
func AddCounter(cur []byte, delta int64) (int64, error) {
	n, ok := ParseCounter(cur)
	if !ok {
		return 0, ErrNotInteger
	}
	if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
		return 0, ErrNotInteger
	}
	return n + delta, nil
}

// ParseCounter parses a counter value as AddCounter does.
func ParseCounter(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true // -(1<<63) wraps to MinInt64, as intended
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}
