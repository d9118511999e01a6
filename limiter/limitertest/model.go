// Package limitertest is the conformance suite of limiter.Backend
// implementations, modelled on testing/fstest: Run checks a backend
// against Model, an independent reference implementation of the
// decision semantics, with property tests (pgregory.net/rapid) over random
// sequences of (time, cost), and checks exact admission under concurrency.
package limitertest

import (
	"math"

	"github.com/guardsdk/guard/limiter"
)

// Model is a reference implementation of limiter.Decide, written
// differently on purpose: GCRA as a leaky bucket of debt, windows as a map
// of per-window counters, penalty decay as a loop. It is not safe for
// concurrent use.
type Model struct {
	keys map[string]*modelKey
}

type modelKey struct {
	debt    int64 // GCRA: µs of emission still owed
	at      int64 // GCRA: when debt was measured
	windows map[int64]int64
	level   int64
	until   int64
}

// NewModel returns an empty model.
func NewModel() *Model { return &Model{keys: map[string]*modelKey{}} }

func keyOf(op *limiter.Op) string { return op.Tag + "\x00" + op.Name }

// Reset forgets the ops' keys.
func (m *Model) Reset(b *limiter.Batch) {
	for i := 0; i < b.N; i++ {
		delete(m.keys, keyOf(&b.Ops[i]))
	}
}

type modelEval struct {
	ok, blocked bool
	violation   bool
	remBase     int64
	remUsed     int64
	resetBase   int64
	resetUsed   int64
	retry       int64
	commit      func()
	penalise    func()
}

// Decide decides b at b.Now like limiter.Decide and applies it to the
// model's state.
func (m *Model) Decide(b *limiter.Batch) {
	var ev [limiter.MaxOps]modelEval
	allowed := true
	for i := 0; i < b.N; i++ {
		op := &b.Ops[i]
		k := m.keys[keyOf(op)]
		if k == nil {
			k = &modelKey{windows: map[int64]int64{}}
			m.keys[keyOf(op)] = k
		}
		ev[i] = m.eval(k, &op.Spec, b.Now, op.Cost, b.Peek)
		if !ev[i].ok && !op.Shadow {
			allowed = false
		}
	}
	b.Allowed = allowed
	for i := 0; i < b.N; i++ {
		e := &ev[i]
		r := limiter.OpResult{Allowed: e.ok, Blocked: e.blocked}
		if !e.ok {
			r.RetryAfter = e.retry
		}
		if allowed && e.ok && !b.Peek {
			r.Remaining, r.ResetAfter = e.remUsed, e.resetUsed
			e.commit()
		} else {
			r.Remaining, r.ResetAfter = e.remBase, e.resetBase
			if e.violation && !b.Peek {
				e.penalise()
			}
		}
		b.Results[i] = r
	}
}

func (m *Model) eval(k *modelKey, s *limiter.Spec, now, cost int64, peek bool) modelEval {
	var e modelEval
	hasPen := s.PenaltyBase > 0
	level, until := k.level, k.until
	if hasPen {
		for level > 0 && now >= until+s.PenaltyDecay {
			level--
			until += s.PenaltyDecay
		}
	} else {
		level, until = 0, 0
	}
	if !peek {
		k.level, k.until = level, until
		if level == 0 {
			k.until = until
		}
	}
	impossible := cost > s.Quota
	switch s.Algorithm {
	case limiter.GCRA:
		t := s.Period
		capacity := s.Quota * t
		debt := max(k.debt-(now-k.at), 0)
		if now < k.at {
			debt = k.debt
		}
		e.remBase = (capacity - debt) / t
		e.resetBase = debt
		if !impossible {
			if debt+cost*t <= capacity {
				e.ok = true
				e.remUsed = (capacity - debt - cost*t) / t
				e.resetUsed = debt + cost*t
				e.commit = func() { k.debt, k.at = debt+cost*t, now }
			} else {
				e.retry = debt + cost*t - capacity
			}
		}
	case limiter.FixedWindow:
		w := s.Period
		idx := floorDiv(now, w)
		cur := k.windows[idx]
		end := (idx+1)*w - now
		e.remBase, e.resetBase = s.Quota-cur, end
		if !impossible {
			if cur+cost <= s.Quota {
				e.ok = true
				e.remUsed, e.resetUsed = s.Quota-cur-cost, end
				e.commit = func() { k.windows = map[int64]int64{idx: cur + cost} }
			} else {
				e.retry = end
			}
		}
	default:
		w := s.Period
		idx := floorDiv(now, w)
		cur, prev := k.windows[idx], k.windows[idx-1]
		el := now - idx*w
		q := float64(s.Quota)
		est := func(c int64) float64 {
			weight := float64(w-el) / float64(w)
			x := float64(float64(prev) * weight)
			return float64(x + float64(c))
		}
		reset := func(c int64) int64 {
			if c > 0 {
				return 2*w - el
			}
			if prev > 0 {
				return w - el
			}
			return 0
		}
		e.remBase = max(int64(math.Floor(q-est(cur))), 0)
		e.resetBase = reset(cur)
		if !impossible {
			if est(cur+cost) <= q {
				e.ok = true
				e.remUsed = max(int64(math.Floor(q-est(cur+cost))), 0)
				e.resetUsed = reset(cur + cost)
				e.commit = func() { k.windows = map[int64]int64{idx: cur + cost, idx - 1: prev} }
			} else if cur+cost > s.Quota {
				need := 1 - float64(s.Quota-cost)/float64(cur)
				e.retry = max(w-el+int64(math.Ceil(need*float64(w))), 1)
			} else {
				need := 1 - float64(s.Quota-cost-cur)/float64(prev)
				e.retry = max(int64(math.Ceil(need*float64(w)))-el, 1)
			}
		}
	}
	if hasPen && now < until {
		return modelEval{blocked: true, retry: until - now, remBase: 0, resetBase: max(e.resetBase, until-now)}
	}
	if !e.ok && !impossible && hasPen {
		nl := min(level+1, limiter.MaxPenaltyLevel)
		d := s.PenaltyBase
		for i := int64(1); i < nl; i++ {
			d = min(d*2, s.PenaltyMax)
		}
		d = min(d, s.PenaltyMax)
		e.violation = true
		e.penalise = func() { k.level, k.until = nl, now+d }
		e.retry = max(e.retry, d)
		e.resetBase = max(e.resetBase, d)
	}
	if impossible {
		e.retry = 0
	}
	return e
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
