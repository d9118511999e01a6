package limiter

import "math"

// This file is the decision engine every backend shares: pure functions
// from (spec, state, time, cost) to (result, next state). The memory and
// bolt backends run it in Go; the Redis backend runs a Lua port of it
// (store/redis), kept in step by the conformance suite (limitertest),
// which compares every backend with this code. All times are
// microseconds since the Unix epoch: small enough for Lua's doubles to
// hold exactly (2^53 µs is 285 years), fine enough for any rate.

// MaxOps is the largest number of limits one decision may check.
const MaxOps = 8

// maxRefill bounds Burst × (Period/Rate) for GCRA, so that every value
// the engine computes stays below 2^53 (exact in Lua).
const maxRefill = 10 * 366 * 24 * 3600 * 1_000_000

// Spec is a compiled Limit, as backends see it. Times are microseconds.
type Spec struct {
	Algorithm Algorithm
	// Quota is the GCRA burst, or the count per window.
	Quota int64
	// Period is the GCRA emission interval (the time one unit of cost
	// takes to come back), or the window length.
	Period int64
	// PenaltyBase is 0 when the limit has no penalty.
	PenaltyBase, PenaltyMax, PenaltyDecay int64
}

// State is the record a backend keeps per key and limit. The zero State is
// a key never seen; it is also what any state becomes once Spec.Expiry
// has passed, so backends may forget a record after its expiry.
type State struct {
	// T is the GCRA theoretical arrival time, or the start of the window
	// Cur counts.
	T int64
	// Cur and Prev are the counts of the current and previous windows.
	Cur, Prev int64
	// Level is the penalty level; Until is the end of the current block.
	Level, Until int64
}

// Op is one limit checked by a decision: the limit's compiled Spec, the
// key it is kept under and the request's cost.
//
// The key is Tag and Name: Tag identifies whose budget it is (a client
// address, a user) and is what remote backends use as a Redis Cluster
// hash tag, so the limits of one identity share a slot; Name identifies
// the limit. Neither contains '{' or '}'. Backends must not retain them.
type Op struct {
	Tag, Name string
	Spec      Spec
	Cost      int64
	// Shadow ops are decided and reported but never deny the decision.
	Shadow bool
}

// OpResult is the outcome of one Op.
type OpResult struct {
	// Allowed reports whether this limit alone admits the request.
	Allowed bool
	// Blocked reports a denial by a penalty block.
	Blocked bool
	// Remaining is what is left of the quota after the decision: after
	// consuming the cost if the decision was allowed and committed.
	Remaining int64
	// ResetAfter is the time (µs) until the quota is whole again.
	ResetAfter int64
	// RetryAfter is, when not Allowed, the time (µs) until the same request
	// could be admitted; 0 when it never can (its cost exceeds the quota).
	RetryAfter int64
}

// Batch is one decision: up to MaxOps ops decided together, all or
// nothing. Backends fill Results[:N] and Allowed.
type Batch struct {
	// Now is the local clock (µs). Backends with a clock of their own
	// (Redis: TIME) use theirs.
	Now int64
	// Peek decides without changing any state.
	Peek    bool
	N       int
	Ops     [MaxOps]Op
	Results [MaxOps]OpResult
	// Allowed is set by the backend: every non-shadow op allowed. Only
	// then is any cost consumed, and then it is consumed for every op
	// that allowed, shadow ones included.
	Allowed bool
}

// Add appends an op; it reports false when the batch is full.
func (b *Batch) Add(op Op) bool {
	if b.N == MaxOps {
		return false
	}
	b.Ops[b.N] = op
	b.N++
	return true
}

// eval is one op's evaluation before the all-or-nothing rule.
type eval struct {
	ok, blocked bool
	// base is the state if the op does not consume (decayed penalty, and
	// the new penalty on a violation); used is base with the cost
	// consumed (meaningful when ok).
	base, used           State
	remBase, remUsed     int64
	resetBase, resetUsed int64
	retry                int64
}

// Decide runs the engine on b with states[i] holding the current state of
// b.Ops[i] (zero for a missing key). It fills b.Results and b.Allowed and
// replaces states[i] by the state to store wherever write[i] is set.
// states and write must have at least b.N elements.
func Decide(b *Batch, states []State, write []bool) {
	if b.N == 1 { // the common case, without the array of evaluations
		op := &b.Ops[0]
		var e eval
		op.Spec.eval(&e, states[0], b.Now, op.Cost)
		b.Allowed = e.ok || op.Shadow
		states[0], write[0] = commit(b.Peek, &e, states[0], &b.Results[0], b.Allowed)
		return
	}
	var ev [MaxOps]eval
	allowed := true
	for i := 0; i < b.N; i++ {
		op := &b.Ops[i]
		op.Spec.eval(&ev[i], states[i], b.Now, op.Cost)
		if !ev[i].ok && !op.Shadow {
			allowed = false
		}
	}
	b.Allowed = allowed
	for i := 0; i < b.N; i++ {
		states[i], write[i] = commit(b.Peek, &ev[i], states[i], &b.Results[i], allowed)
	}
}

// commit fills one op's result and returns the state to store, if any.
func commit(peek bool, e *eval, cur State, r *OpResult, allowed bool) (State, bool) {
	*r = OpResult{Allowed: e.ok, Blocked: e.blocked}
	if !e.ok {
		r.RetryAfter = e.retry
	}
	if allowed && e.ok && !peek {
		r.Remaining, r.ResetAfter = e.remUsed, e.resetUsed
		return e.used, true
	}
	r.Remaining, r.ResetAfter = e.remBase, e.resetBase
	if !peek && e.base != cur {
		return e.base, true
	}
	return cur, false
}

// Peek semantics: the evaluation is the same, nothing is written, and
// Remaining is the current remaining quota.

func (s *Spec) hasPenalty() bool { return s.PenaltyBase > 0 }

// block returns the block duration at penalty level n ≥ 1.
func (s *Spec) block(n int64) int64 {
	d := s.PenaltyBase
	for i := int64(1); i < n && d < s.PenaltyMax; i++ {
		d *= 2
	}
	return min(d, s.PenaltyMax)
}

func (s *Spec) eval(e *eval, st State, now, cost int64) {
	// Penalty decay: each Decay after the block ended lowers the level.
	if s.hasPenalty() && st.Level > 0 && now >= st.Until {
		k := (now - st.Until) / s.PenaltyDecay
		if k >= st.Level {
			st.Level, st.Until = 0, 0
		} else if k > 0 {
			st.Level -= k
			st.Until += k * s.PenaltyDecay
		}
	}
	if !s.hasPenalty() && (st.Level != 0 || st.Until != 0) {
		st.Level, st.Until = 0, 0 // penalty removed from the limit
	}
	e.base = st
	impossible := cost > s.Quota
	switch s.Algorithm {
	case GCRA:
		s.gcra(e, st, now, cost, impossible)
	case FixedWindow:
		s.fixed(e, st, now, cost, impossible)
	default:
		s.sliding(e, st, now, cost, impossible)
	}
	if s.hasPenalty() && now < st.Until {
		e.ok, e.blocked = false, true
		e.retry = st.Until - now
		e.remBase = 0
		e.resetBase = max(e.resetBase, e.retry)
		return
	}
	if !e.ok && !impossible && s.hasPenalty() {
		lvl := min(st.Level+1, MaxPenaltyLevel)
		d := s.block(lvl)
		e.base.Level, e.base.Until = lvl, now+d
		e.retry = max(e.retry, d)
		e.resetBase = max(e.resetBase, d)
	}
	if impossible {
		e.retry = 0
	}
}

// gcraStep is GCRA's decision for a key whose theoretical arrival time is
// t0: the time tat it starts from (at least now), the arrival time next
// after admitting cost, and whether cost is admitted.
func gcraStep(t0, now, cost, t, tau int64) (tat, next int64, allowed bool) {
	tat = max(t0, now)
	next = tat + cost*t
	return tat, next, next-now <= tau
}

func (s *Spec) gcra(e *eval, st State, now, cost int64, impossible bool) {
	t, tau := s.Period, s.Quota*s.Period
	tat, next, ok := gcraStep(st.T, now, cost, t, tau)
	e.remBase = max((tau-(tat-now))/t, 0)
	e.resetBase = tat - now
	if impossible {
		return
	}
	if ok {
		e.ok = true
		e.used = e.base
		e.used.T = next
		e.remUsed = max((tau-(next-now))/t, 0)
		e.resetUsed = next - now
		return
	}
	e.retry = next - tau - now
}

func windowStart(now, w int64) int64 {
	if now < 0 {
		return now - (w+now%w)%w
	}
	return now - now%w
}

func (s *Spec) fixed(e *eval, st State, now, cost int64, impossible bool) {
	w := s.Period
	start := windowStart(now, w)
	if st.T > start {
		// Another decision read a later clock and already opened a later
		// window: decide in it rather than reopen an old one.
		now, start = st.T, st.T
	}
	var cur int64
	if st.T == start {
		cur = st.Cur
	}
	e.remBase = max(s.Quota-cur, 0)
	e.resetBase = start + w - now
	if impossible {
		return
	}
	if cur+cost <= s.Quota {
		e.ok = true
		e.used = e.base
		e.used.T, e.used.Cur, e.used.Prev = start, cur+cost, 0
		e.remUsed = s.Quota - cur - cost
		e.resetUsed = e.resetBase
		return
	}
	e.retry = start + w - now
}

// slidingEstimate is prev's weighted share plus cur, computed the same way
// (IEEE doubles, no fused multiply-add) in Go and in Lua.
func slidingEstimate(prev, cur, w, elapsed int64) float64 {
	weight := float64(w-elapsed) / float64(w)
	est := float64(float64(prev) * weight)
	return float64(est + float64(cur))
}

func (s *Spec) sliding(e *eval, st State, now, cost int64, impossible bool) {
	w := s.Period
	start := windowStart(now, w)
	if st.T > start { // as in fixed
		now, start = st.T, st.T
	}
	var cur, prev int64
	switch st.T {
	case start:
		cur, prev = st.Cur, st.Prev
	case start - w:
		prev = st.Cur
	}
	el := now - start
	q := float64(s.Quota)
	est := slidingEstimate(prev, cur, w, el)
	e.remBase = max(int64(math.Floor(q-est)), 0)
	e.resetBase = slidingReset(cur, prev, w, el)
	if impossible {
		return
	}
	estUsed := slidingEstimate(prev, cur+cost, w, el)
	if estUsed <= q {
		e.ok = true
		e.used = e.base
		e.used.T, e.used.Cur, e.used.Prev = start, cur+cost, prev
		e.remUsed = max(int64(math.Floor(q-estUsed)), 0)
		e.resetUsed = slidingReset(cur+cost, prev, w, el)
		return
	}
	if cur+cost > s.Quota {
		// Not in this window: in the next one, cur becomes the previous
		// count and must have decayed enough for cost to fit.
		need := 1 - float64(s.Quota-cost)/float64(cur)
		e.retry = w - el + int64(math.Ceil(need*float64(w)))
	} else {
		need := 1 - float64(s.Quota-cost-cur)/float64(prev)
		e.retry = int64(math.Ceil(need*float64(w))) - el
	}
	e.retry = max(e.retry, 1)
}

func slidingReset(cur, prev, w, el int64) int64 {
	switch {
	case cur > 0:
		return 2*w - el
	case prev > 0:
		return w - el
	}
	return 0
}

// Expiry returns the time (µs) after which st is equivalent to the zero
// State under s: backends may drop the record then (Redis: PXAT).
func (s *Spec) Expiry(st State) int64 {
	var e int64
	switch s.Algorithm {
	case GCRA:
		e = st.T
	case FixedWindow:
		e = st.T + s.Period
	default:
		e = st.T + 2*s.Period
	}
	if st.Level > 0 && s.hasPenalty() {
		e = max(e, st.Until+st.Level*s.PenaltyDecay)
	}
	return max(e, st.Until)
}

// Refund undoes the consumption of cost committed at time at (µs), for
// remote backends that must compensate an op committed in one Redis
// Cluster slot when an op in another slot denied. Other requests may have
// run in between; the refund only ever gives back what was taken, so it
// can briefly under-admit but never over-admit.
func (s *Spec) Refund(st State, cost, at int64) State {
	switch s.Algorithm {
	case GCRA:
		st.T -= cost * s.Period
	default:
		start := windowStart(at, s.Period)
		switch st.T {
		case start:
			st.Cur = max(st.Cur-cost, 0)
		case start + s.Period:
			if s.Algorithm == SlidingWindow {
				st.Prev = max(st.Prev-cost, 0)
			}
		}
	}
	return st
}
