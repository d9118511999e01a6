package redis

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/guardsdk/guard/limiter"
	"github.com/guardsdk/guard/store"
)

var (
	_ limiter.Backend         = (*RateLimitBackend)(nil)
	_ limiter.BackendProvider = (*Store)(nil)
)

// DefaultPipelines is how many pipelines of rate-limit decisions a
// RateLimitBackend keeps in flight at once by default.
const DefaultPipelines = 4

var (
	rateLimitScript  = goredis.NewScript(rateLimitLua)
	rateLimitOne     = goredis.NewScript(rateLimitOneLua)
	rateRefundScript = goredis.NewScript(rateLimitRefundLua)
)

// RateLimitBackend is the limiter.Backend on Redis: one Lua script per
// decision (limiter.Decide ported to Lua), run by EVALSHA with a fallback
// to EVAL on NOSCRIPT, on the server's clock (TIME).
//
// Keys are the Store's prefix, "rl:{" + tag + "}:" + limit name: the
// limits of one identity share a Cluster slot. On a single Redis (or
// Sentinel) a decision is one script call whatever its keys. On Redis
// Cluster a decision whose limits span several identities (a per-user and
// a per-endpoint limit, say) runs one script per identity, in the same
// round trip; if one denies while another admitted, the admitted ones are
// refunded in a second round trip (limiter.Spec.Refund): never
// over-admitting, briefly under-admitting while the refund is in flight.
//
// Pipelining: a decision that finds the backend idle is sent at once, as
// a single EVALSHA. Decisions that arrive while pipelines are in flight
// queue up and leave together, as one pipeline, as soon as one of the
// pipelines in flight returns (at most WithPipelines at once). So a lone
// caller pays one round trip, and many concurrent callers share round
// trips instead of queueing for connections; no timer is involved.
type RateLimitBackend struct {
	s        *Store
	cluster  bool
	maxPipes int
	testNow  bool // send limiter.Batch.Now instead of reading TIME
	merge    bool // WithScriptBatching

	mu       sync.Mutex
	queue    []*rlCall
	inflight int
}

// A RateLimitOption configures NewRateLimitBackend.
type RateLimitOption interface {
	applyRL(*RateLimitBackend) error
}

type rlOptionFunc func(*RateLimitBackend) error

func (f rlOptionFunc) applyRL(b *RateLimitBackend) error { return f(b) }

// WithPipelines sets how many pipelines of decisions may be in flight at
// once (default DefaultPipelines); 0 turns pipelining off, so every
// decision is its own EVALSHA on its own connection.
func WithPipelines(n int) RateLimitOption {
	return rlOptionFunc(func(b *RateLimitBackend) error {
		if n < 0 || n > 1024 {
			return fmt.Errorf("store/redis: WithPipelines(%d): not in [0, 1024]", n)
		}
		b.maxPipes = n
		return nil
	})
}

// WithScriptBatching makes the decisions that leave together in one
// pipeline run as one script call instead of one call each (single Redis
// and Sentinel only; ignored on Cluster, where their keys would span
// slots). Each decision is still decided whole and atomically, in arrival
// order, on one reading of the server's clock; what is shared is the
// script invocation and the TIME call, which on a Redis short of CPU cost
// more than the decision itself. Off by default: INFO commandstats then no
// longer counts one EVALSHA per decision, and one slow decision delays
// the others of its call.
func WithScriptBatching(on bool) RateLimitOption {
	return rlOptionFunc(func(b *RateLimitBackend) error {
		b.merge = on
		return nil
	})
}

// withBatchClock makes the script decide at limiter.Batch.Now instead of
// the server's TIME: for the conformance suite, which moves time by hand.
func withBatchClock() RateLimitOption {
	return rlOptionFunc(func(b *RateLimitBackend) error {
		b.testNow = true
		return nil
	})
}

// NewRateLimitBackend returns the rate-limit backend on s.
func NewRateLimitBackend(s *Store, opts ...RateLimitOption) (*RateLimitBackend, error) {
	if s == nil {
		return nil, errors.New("store/redis: NewRateLimitBackend: nil store")
	}
	b := &RateLimitBackend{s: s, maxPipes: DefaultPipelines}
	_, b.cluster = s.client.(*goredis.ClusterClient)
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.applyRL(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// RateLimitBackend implements limiter.BackendProvider: the Store's
// rate-limit backend with default settings, which a limiter in a Guard
// using this Store picks up by itself.
func (s *Store) RateLimitBackend() (limiter.Backend, error) { return NewRateLimitBackend(s) }

// rlCall is one script call: a decision, or one slot's share of it.
type rlCall struct {
	script *goredis.Script // rateLimitOne for one key, else rateLimitScript
	keys   []string
	args   []any
	reply  []int64
	err    error
	done   chan struct{}
	// set under the backend's mu when a finishing pipeline hands the next
	// one to this call's goroutine
	lead  bool
	batch []*rlCall

	// Backing for the common one-limit call, so that it allocates the
	// call, its key and its spec argument and nothing else.
	key1   [1]string
	args3  [3]any
	spec1  [64]byte
	reply1 [9]int64
}

func (c *rlCall) setReply(cmd *goredis.Cmd) {
	var s string
	if s, c.err = cmd.Text(); c.err == nil {
		c.reply, c.err = decodeReply(s, c.reply1[:0])
	}
}

func (b *RateLimitBackend) key(op *limiter.Op) string {
	return b.s.prefix + "rl:{" + op.Tag + "}:" + op.Name
}

// newCall builds the script call for ops (indexes into bt.Ops).
func (b *RateLimitBackend) newCall(bt *limiter.Batch, idx []int) *rlCall {
	c := &rlCall{script: rateLimitScript}
	c.args = c.args3[:]
	specs := c.spec1[:0]
	if len(idx) == 1 {
		c.script = rateLimitOne
		c.keys = c.key1[:]
	} else {
		c.keys = make([]string, len(idx))
		specs = make([]byte, 0, 64*len(idx))
	}
	if b.testNow {
		c.args[0] = strconv.FormatInt(bt.Now, 10)
	} else {
		c.args[0] = ""
	}
	c.args[1] = "0"
	if bt.Peek {
		c.args[1] = "1"
	}
	for j, i := range idx {
		op := &bt.Ops[i]
		c.keys[j] = b.key(op)
		var sh int64
		if op.Shadow {
			sh = 1
		}
		sp := &op.Spec
		for _, v := range [8]int64{int64(sp.Algorithm), sp.Quota, sp.Period, op.Cost, sh, sp.PenaltyBase, sp.PenaltyMax, sp.PenaltyDecay} {
			specs = binary.LittleEndian.AppendUint64(specs, math.Float64bits(float64(v)))
		}
	}
	c.args[2] = specs
	return c
}

func (b *RateLimitBackend) check(ctx context.Context, bt *limiter.Batch) error {
	if err := b.s.check(ctx, "ratelimit"); err != nil {
		return err
	}
	for i := 0; i < bt.N; i++ {
		if len(bt.Ops[i].Tag)+len(bt.Ops[i].Name)+len(b.s.prefix)+6 > store.MaxKeyLen {
			return fmt.Errorf("store/redis: ratelimit: %w", store.ErrInvalidKey)
		}
	}
	return nil
}

// Decide implements limiter.Backend.
func (b *RateLimitBackend) Decide(ctx context.Context, bt *limiter.Batch) error {
	if err := b.check(ctx, bt); err != nil {
		return err
	}
	var all [limiter.MaxOps]int
	for i := range bt.N {
		all[i] = i
	}
	groups := [][]int{all[:bt.N]}
	if b.cluster {
		groups = groupByTag(bt)
	}
	if len(groups) == 1 {
		c := b.newCall(bt, groups[0])
		if err := b.do(ctx, c); err != nil {
			return err
		}
		return fill(bt, groups[0], c.reply, nil)
	}
	// Several slots: one script per identity, in one round trip.
	calls := make([]*rlCall, len(groups))
	errs := make(chan error, len(groups))
	for g := range groups {
		calls[g] = b.newCall(bt, groups[g])
	}
	for g := range groups {
		go func() { errs <- b.do(ctx, calls[g]) }()
	}
	var err error
	for range groups {
		err = errors.Join(err, <-errs)
	}
	allowed := true
	for g := range groups {
		if calls[g].err == nil && calls[g].reply[0] == 0 {
			allowed = false
		}
	}
	// A slot that admitted committed its ops; when the decision as a whole
	// is denied (or failed), give them back.
	var refund []*rlCall
	var refunded [limiter.MaxOps]bool
	if (!allowed || err != nil) && !bt.Peek {
		for g := range groups {
			c := calls[g]
			if c.err != nil || c.reply[0] == 0 {
				continue
			}
			rc := &rlCall{args: []any{c.reply[1]}}
			for j, i := range groups[g] {
				if c.reply[2+7*j] == 1 {
					op := &bt.Ops[i]
					rc.keys = append(rc.keys, b.key(op))
					rc.args = append(rc.args, int(op.Spec.Algorithm), op.Spec.Period, op.Cost)
					refunded[i] = true
				}
			}
			if len(rc.keys) > 0 {
				refund = append(refund, rc)
			}
		}
	}
	for _, rc := range refund {
		// Best effort within the caller's deadline: a refund that fails
		// leaves the limit stricter than it should be until the keys
		// expire, never looser.
		_ = b.s.call2(ctx, func(ctx context.Context) error {
			return rateRefundScript.Run(ctx, b.s.client, rc.keys, rc.args...).Err()
		})
	}
	if err != nil {
		return err
	}
	for g := range groups {
		if e := fill(bt, groups[g], calls[g].reply, refunded[:]); e != nil {
			return e
		}
	}
	bt.Allowed = allowed
	return nil
}

// groupByTag splits a batch's ops by tag (Cluster slot), in order.
func groupByTag(bt *limiter.Batch) [][]int {
	var groups [][]int
	var tags []string
outer:
	for i := 0; i < bt.N; i++ {
		for g, t := range tags {
			if t == bt.Ops[i].Tag {
				groups[g] = append(groups[g], i)
				continue outer
			}
		}
		tags = append(tags, bt.Ops[i].Tag)
		groups = append(groups, []int{i})
	}
	return groups
}

// decodeReply reads the script's reply: little-endian doubles, each an
// integer below 2^53.
// The values are appended to out.
func decodeReply(s string, out []int64) ([]int64, error) {
	if len(s)%8 != 0 {
		return nil, fmt.Errorf("store/redis: ratelimit: reply of %d bytes", len(s))
	}
	for i := 0; i+8 <= len(s); i += 8 {
		out = append(out, int64(math.Float64frombits(binary.LittleEndian.Uint64([]byte(s[i:i+8])))))
	}
	return out, nil
}

// fill copies a script reply into the batch's results for ops idx.
// refunded[i] marks ops whose consumption was given back: they report
// the numbers of a decision that did not consume.
func fill(bt *limiter.Batch, idx []int, reply []int64, refunded []bool) error {
	if len(reply) != 2+7*len(idx) {
		return fmt.Errorf("store/redis: ratelimit: script replied %d values for %d limits", len(reply), len(idx))
	}
	bt.Allowed = reply[0] == 1
	for j, i := range idx {
		v := reply[2+7*j:]
		r := limiter.OpResult{Allowed: v[0] == 1, Blocked: v[1] == 1, Remaining: v[2], ResetAfter: v[3], RetryAfter: v[4]}
		if refunded != nil && refunded[i] {
			r.Remaining, r.ResetAfter = v[5], v[6]
		}
		bt.Results[i] = r
	}
	return nil
}

// Reset implements limiter.Backend.
func (b *RateLimitBackend) Reset(ctx context.Context, bt *limiter.Batch) error {
	if err := b.check(ctx, bt); err != nil {
		return err
	}
	for i := 0; i < bt.N; i++ {
		key := b.key(&bt.Ops[i])
		if err := b.s.call2(ctx, func(ctx context.Context) error {
			return b.s.client.Del(ctx, key).Err()
		}); err != nil {
			return err
		}
	}
	return nil
}

// call2 runs f under the Store's timeout and maps its error.
func (s *Store) call2(ctx context.Context, f func(context.Context) error) error {
	err, done := s.call(ctx, f)
	if !done {
		return s.fail(ctx, "ratelimit", err)
	}
	if err != nil {
		return s.fail(ctx, "ratelimit", err)
	}
	return nil
}

// do runs c: at once when fewer than maxPipes pipelines are in flight
// (together with whatever queued meanwhile), else queued for the next
// pipeline to leave. It returns when c has its reply or ctx ends.
func (b *RateLimitBackend) do(ctx context.Context, c *rlCall) error {
	if b.maxPipes == 0 {
		err, done := b.s.call(ctx, func(ctx context.Context) error {
			b.exec(ctx, []*rlCall{c})
			return nil
		})
		if !done {
			return b.s.fail(ctx, "ratelimit", err)
		}
		return c.err
	}
	b.mu.Lock()
	if b.inflight < b.maxPipes {
		b.inflight++
		batch := append(b.queue, c)
		b.queue = nil
		b.mu.Unlock()
		return b.lead(ctx, c, batch)
	}
	c.done = make(chan struct{}, 1)
	b.queue = append(b.queue, c)
	b.mu.Unlock()
	select {
	case <-c.done:
		if c.lead {
			return b.lead(ctx, c, c.batch)
		}
		return c.err
	case <-ctx.Done():
	}
	b.mu.Lock()
	for i, q := range b.queue {
		if q == c {
			b.queue = append(b.queue[:i:i], b.queue[i+1:]...)
			b.mu.Unlock()
			return b.s.fail(ctx, "ratelimit", ctx.Err())
		}
	}
	lead := c.lead
	b.mu.Unlock()
	if lead {
		// Our pipeline was handed to us as we gave up: someone must send
		// it, or the calls in it would wait for nothing.
		go func() {
			<-c.done
			_ = b.lead(context.WithoutCancel(ctx), c, c.batch)
		}()
	}
	return b.s.fail(ctx, "ratelimit", ctx.Err())
}

// lead sends batch (which contains c), delivers the replies, and hands
// the queue that built up meanwhile to one of its callers.
func (b *RateLimitBackend) lead(ctx context.Context, c *rlCall, batch []*rlCall) error {
	err, done := b.s.call(ctx, func(ctx context.Context) error {
		b.exec(ctx, batch)
		for _, o := range batch {
			if o != c && o.done != nil {
				o.done <- struct{}{}
			}
		}
		b.handOff()
		return nil
	})
	if !done {
		// The client ignores deadlines and the batch is still running: it
		// will deliver the others' replies itself; ours is abandoned.
		return b.s.fail(ctx, "ratelimit", err)
	}
	return c.err
}

// handOff passes the queued calls to the first of them, whose goroutine
// sends them as the next pipeline; or frees the pipeline slot.
func (b *RateLimitBackend) handOff() {
	b.mu.Lock()
	if len(b.queue) == 0 {
		b.inflight--
		b.mu.Unlock()
		return
	}
	next := b.queue
	b.queue = nil
	first := next[0]
	first.lead, first.batch = true, next
	b.mu.Unlock()
	first.done <- struct{}{}
}

// exec sends calls: one EVALSHA, or a pipeline of them. Calls answered
// NOSCRIPT (a restarted or flushed Redis) are sent again with EVAL, which
// loads the script.
func (b *RateLimitBackend) exec(ctx context.Context, calls []*rlCall) {
	client := b.s.client
	if len(calls) == 1 {
		c := calls[0]
		c.setReply(c.script.Run(ctx, client, c.keys, c.args...))
		if c.err != nil {
			c.err = b.s.fail(ctx, "ratelimit", c.err)
		}
		return
	}
	if b.merge && !b.cluster {
		b.execMerged(ctx, calls)
		return
	}
	cmds := make([]*goredis.Cmd, len(calls))
	pipe := client.Pipeline()
	for i, c := range calls {
		cmds[i] = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx)
	var retry []int
	for i, c := range calls {
		c.setReply(cmds[i])
		if c.err != nil && goredis.HasErrorPrefix(c.err, "NOSCRIPT") {
			retry = append(retry, i)
		} else if c.err != nil {
			c.err = b.s.fail(ctx, "ratelimit", c.err)
		}
	}
	if len(retry) > 0 {
		pipe := client.Pipeline()
		for _, i := range retry {
			cmds[i] = calls[i].script.Eval(ctx, pipe, calls[i].keys, calls[i].args...)
		}
		_, _ = pipe.Exec(ctx)
		for _, i := range retry {
			c := calls[i]
			c.setReply(cmds[i])
			if c.err != nil {
				c.err = b.s.fail(ctx, "ratelimit", c.err)
			}
		}
	}
}

// execMerged sends calls as one script call (WithScriptBatching): the
// keys and specs of all, and a header with each one's clock, peek flag
// and number of ops; the reply is theirs, concatenated.
func (b *RateLimitBackend) execMerged(ctx context.Context, calls []*rlCall) {
	var keys []string
	var specs, hdr []byte
	for _, c := range calls {
		keys = append(keys, c.keys...)
		specs = append(specs, c.args[2].([]byte)...)
		at := -1.0
		if s, _ := c.args[0].(string); s != "" {
			n, _ := strconv.ParseInt(s, 10, 64)
			at = float64(n)
		}
		peek := 0.0
		if c.args[1] == "1" {
			peek = 1
		}
		for _, v := range [3]float64{at, peek, float64(len(c.keys))} {
			hdr = binary.LittleEndian.AppendUint64(hdr, math.Float64bits(v))
		}
	}
	s, err := rateLimitScript.Run(ctx, b.s.client, keys, "", "0", specs, hdr).Text()
	if err != nil {
		err = b.s.fail(ctx, "ratelimit", err)
		for _, c := range calls {
			c.err = err
		}
		return
	}
	for _, c := range calls {
		n := 8 * (2 + 7*len(c.keys))
		if len(s) < n {
			c.err = fmt.Errorf("store/redis: ratelimit: short reply for a batched decision")
			continue
		}
		c.reply, c.err = decodeReply(s[:n], c.reply1[:0])
		s = s[n:]
	}
}
