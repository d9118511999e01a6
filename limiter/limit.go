package limiter

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Algorithm selects how a Limit counts.
type Algorithm uint8

// Algorithms. The zero value is GCRA.
const (
	// GCRA is the generic cell rate algorithm: a token bucket that holds
	// Burst tokens and refills one token every Period/Rate, stored as a
	// single timestamp. It never admits more than Burst at once nor more
	// than Burst + Rate×t/Period over any span t.
	GCRA Algorithm = iota
	// SlidingWindow is the sliding-window counter: the count of the current
	// fixed window plus the previous window's count weighted by how much of
	// it still overlaps the sliding window. Smooth like a log, stored as
	// two counters.
	SlidingWindow
	// FixedWindow counts in windows aligned to the Unix epoch. Exactly Rate
	// per window, but up to 2×Rate across a window boundary.
	FixedWindow
)

// String returns "gcra", "sliding_window" or "fixed_window".
func (a Algorithm) String() string {
	switch a {
	case GCRA:
		return "gcra"
	case SlidingWindow:
		return "sliding_window"
	case FixedWindow:
		return "fixed_window"
	}
	return "algorithm(" + strconv.Itoa(int(a)) + ")"
}

// Bounds on limits.
const (
	// MaxRate is the largest Rate and Burst a Limit accepts (window counts
	// are stored in 32 bits).
	MaxRate = math.MaxInt32
	// MinPeriod is the shortest Period, and the time resolution of every
	// limit: all state is kept in microseconds.
	MinPeriod = time.Millisecond
	// MaxPeriod is the longest Period and the longest penalty.
	MaxPeriod = 366 * 24 * time.Hour
	// MaxPenaltyLevel caps the exponent of a penalty: a block never lasts
	// longer than Base × 2^(MaxPenaltyLevel-1), nor longer than Max.
	MaxPenaltyLevel = 40
)

// Limit is one rate limit: Rate events per Period. The zero Limit is
// invalid; build one with Per or PerSecond and friends.
//
// For GCRA, Burst is how many events may arrive at once (default Rate);
// tokens come back one every Period/Rate. For the window algorithms Burst
// must be 0 or equal to Rate: the window's count is the burst.
type Limit struct {
	Rate      int64
	Period    time.Duration
	Burst     int64 // GCRA only; 0 means Rate
	Algorithm Algorithm
	Penalty   Penalty
	// Name identifies the limit's state in the backend, so it survives
	// changes of Rate, Period or order. Default: the limit's position in
	// its list ("0", "1", ...).
	Name string
}

// Penalty blocks a key that keeps exceeding its limit, for longer each
// time: the n-th violation in a row blocks it for Base × 2^(n-1), at most
// Max. A violation is a request the limit itself denies (requests denied
// because the key is already blocked do not count). After the block ends,
// every Decay without a violation lowers n by one. The penalty level and
// the block live in the limit's own record and are updated by the same
// backend call that decides.
//
// The zero Penalty disables penalties. Max defaults to 64 × Base and Decay
// to Max.
type Penalty struct {
	Base, Max, Decay time.Duration
}

// Per returns a GCRA limit of rate events per period, with a burst of
// rate.
func Per(rate int64, period time.Duration) Limit { return Limit{Rate: rate, Period: period} }

// PerSecond returns Per(n, time.Second).
func PerSecond(n int64) Limit { return Per(n, time.Second) }

// PerMinute returns Per(n, time.Minute).
func PerMinute(n int64) Limit { return Per(n, time.Minute) }

// PerHour returns Per(n, time.Hour).
func PerHour(n int64) Limit { return Per(n, time.Hour) }

// PerDay returns Per(n, 24*time.Hour).
func PerDay(n int64) Limit { return Per(n, 24*time.Hour) }

// WithBurst returns l with burst b (GCRA only).
func (l Limit) WithBurst(b int64) Limit { l.Burst = b; return l }

// Using returns l counted with algorithm a.
func (l Limit) Using(a Algorithm) Limit { l.Algorithm = a; return l }

// WithPenalty returns l with penalty p.
func (l Limit) WithPenalty(p Penalty) Limit { l.Penalty = p; return l }

// Named returns l with name n.
func (l Limit) Named(n string) Limit { l.Name = n; return l }

// String describes l, for logs: "5 per 5m0s (gcra, burst 5)".
func (l Limit) String() string {
	s := strconv.FormatInt(l.Rate, 10) + " per " + l.Period.String() + " (" + l.Algorithm.String()
	if l.Algorithm == GCRA {
		s += ", burst " + strconv.FormatInt(l.burst(), 10)
	}
	return s + ")"
}

func (l Limit) burst() int64 {
	if l.Burst == 0 {
		return l.Rate
	}
	return l.Burst
}

// Capacity is the largest cost a single request can ever have under l:
// the burst for GCRA, the rate for the window algorithms.
func (l Limit) Capacity() int64 {
	if l.Algorithm == GCRA {
		return l.burst()
	}
	return l.Rate
}

// Validate reports what is wrong with l, or nil.
func (l Limit) Validate() error {
	switch {
	case l.Algorithm > FixedWindow:
		return fmt.Errorf("limiter: limit %s: unknown algorithm", l)
	case l.Rate < 1 || l.Rate > MaxRate:
		return fmt.Errorf("limiter: limit %s: rate %d not in [1, %d]", l, l.Rate, MaxRate)
	case l.Period < MinPeriod || l.Period > MaxPeriod:
		return fmt.Errorf("limiter: limit %s: period %v not in [%v, %v]", l, l.Period, MinPeriod, MaxPeriod)
	case l.Burst < 0 || l.Burst > MaxRate:
		return fmt.Errorf("limiter: limit %s: burst %d not in [0, %d]", l, l.Burst, MaxRate)
	case l.Algorithm != GCRA && l.Burst != 0 && l.Burst != l.Rate:
		return fmt.Errorf("limiter: limit %s: burst applies to GCRA only; a window's burst is its rate", l)
	case l.Algorithm == GCRA && micros(l.Period)/l.Rate < 1:
		return fmt.Errorf("limiter: limit %s: more than one event per microsecond", l)
	case l.Algorithm == GCRA && l.burst() > maxRefill/((micros(l.Period)+l.Rate-1)/l.Rate):
		return fmt.Errorf("limiter: limit %s: an empty bucket would take over 10 years to refill", l)
	}
	if err := l.Penalty.validate(); err != nil {
		return fmt.Errorf("limiter: limit %s: %w", l, err)
	}
	if l.Name != "" && !validName(l.Name) {
		return fmt.Errorf("limiter: limit %s: name %q: use 1-64 of [A-Za-z0-9_.-]", l, l.Name)
	}
	return nil
}

func (p Penalty) validate() error {
	if p == (Penalty{}) {
		return nil
	}
	switch {
	case p.Base < MinPeriod || p.Base > MaxPeriod:
		return fmt.Errorf("penalty base %v not in [%v, %v]", p.Base, MinPeriod, MaxPeriod)
	case p.Max != 0 && (p.Max < p.Base || p.Max > MaxPeriod):
		return fmt.Errorf("penalty max %v not in [base %v, %v]", p.Max, p.Base, MaxPeriod)
	case p.Decay < 0 || p.Decay > MaxPeriod:
		return fmt.Errorf("penalty decay %v not in [0, %v]", p.Decay, MaxPeriod)
	case p.Decay != 0 && p.Decay < MinPeriod:
		return fmt.Errorf("penalty decay %v shorter than %v", p.Decay, MinPeriod)
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '.' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func micros(d time.Duration) int64 { return int64(d / time.Microsecond) }

// SpecOf compiles a limit for the backends. l must be valid (Validate).
func SpecOf(l Limit) Spec { return l.spec() }

// spec compiles a validated limit for the backends.
func (l Limit) spec() Spec {
	s := Spec{Algorithm: l.Algorithm}
	p := micros(l.Period)
	if l.Algorithm == GCRA {
		s.Quota = l.burst()
		// Round the emission interval up: a limit never admits faster than
		// its rate, and at most 1µs per event slower.
		s.Period = (p + l.Rate - 1) / l.Rate
	} else {
		s.Quota = l.Rate
		s.Period = p
	}
	if l.Penalty.Base > 0 {
		s.PenaltyBase = micros(l.Penalty.Base)
		s.PenaltyMax = micros(l.Penalty.Max)
		if s.PenaltyMax == 0 {
			s.PenaltyMax = min(64*s.PenaltyBase, micros(MaxPeriod))
		}
		s.PenaltyDecay = micros(l.Penalty.Decay)
		if s.PenaltyDecay == 0 {
			s.PenaltyDecay = s.PenaltyMax
		}
	}
	return s
}

// window returns, for headers, the quota and the window in which it is
// replenished: for GCRA the burst and the time to refill it from empty.
func (s *Spec) window() (quota int64, window int64) {
	if s.Algorithm == GCRA {
		return s.Quota, s.Quota * s.Period
	}
	return s.Quota, s.Period
}
