package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/guardsdk/guard/store"
)

var _ store.Store = (*Store)(nil)

// Store is a store.Store on Redis or Redis Cluster. Create it with New;
// the zero value is not usable. It is safe for concurrent use.
type Store struct {
	client      goredis.UniversalClient
	prefix      string
	timeout     time.Duration
	retries     int
	closeClient bool
	// deadlines is true when the client applies context deadlines to its
	// socket reads and writes (ContextTimeoutEnabled). Otherwise each call
	// runs in a goroutine that the Store stops waiting for at the deadline.
	deadlines bool

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// New returns a Store that uses client: a *goredis.Client (one node, or
// Sentinel failover from goredis.NewFailoverClient), a
// *goredis.ClusterClient or a *goredis.Ring, typically from
// goredis.NewUniversalClient. Unless WithStartupPing(false) is given it
// pings Redis and fails, within the timeout, with an error wrapping
// store.ErrUnavailable if Redis does not answer.
//
// Create the client with ContextTimeoutEnabled: true. go-redis otherwise
// ignores context deadlines on the socket and waits up to its own
// ReadTimeout (3s by default); the Store still returns at its timeout, by
// running each call in a goroutine it stops waiting for, which costs a
// goroutine per call and leaves the abandoned call running until go-redis
// gives up.
func New(client goredis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("store/redis: New: nil client")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	s := &Store{
		client:      client,
		prefix:      cfg.prefix,
		timeout:     cfg.timeout,
		retries:     cfg.retries,
		closeClient: cfg.closeClient,
		deadlines:   honoursDeadlines(client),
	}
	if cfg.ping {
		if err := s.Ping(context.Background()); err != nil {
			return nil, fmt.Errorf("store/redis: startup ping: %w", err)
		}
	}
	return s, nil
}

func honoursDeadlines(c goredis.UniversalClient) bool {
	switch c := c.(type) {
	case *goredis.Client:
		return c.Options().ContextTimeoutEnabled
	case *goredis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *goredis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return false
}

// Client returns the client given to New, for commands the Store does not
// wrap. Keys it touches should come from Key.
func (s *Store) Client() goredis.UniversalClient { return s.client }

// Key returns the Redis key that the Store uses for key: the prefix, then
// key itself if it contains a Redis Cluster hash tag (a non-empty "{...}")
// and does not start with '{', or else key wrapped in braces, "{key}",
// which makes the whole key its own tag. Keys with equal tags in the same
// position therefore share a Cluster slot ("rl:{u1}:a" and "rl:{u1}:b"; or
// "{u1}:a" and "{u1}:b", which become "{{u1}:a}" and "{{u1}:b}" with tag
// "{u1"). Wrapping keys that start with '{' keeps the mapping one-to-one:
// otherwise "{abc}" and "abc" would both be "{abc}".
func (s *Store) Key(key string) string {
	if key != "" && key[0] != '{' && hasTag(key) {
		return s.prefix + key
	}
	return s.prefix + "{" + key + "}"
}

// hasTag reports whether Redis Cluster would hash only part of key: a '{'
// followed, later, by a '}' with at least one byte between them.
func hasTag(key string) bool {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return false
	}
	close := strings.IndexByte(key[open+1:], '}')
	return close > 0
}

// Run runs script with EVALSHA, falling back to EVAL when Redis answers
// NOSCRIPT (goredis.Script.Run), within the Store's timeout. keys are
// mapped with Key; in a Cluster they must share a hash tag. It is the
// primitive for one-round-trip decisions such as rate limits: the script
// should read the server's clock with TIME rather than take it from the
// caller. Errors are in cmd.Err(): invalid keys wrap store.ErrInvalidKey,
// a closed Store store.ErrClosed, and network failures and timeouts
// store.ErrUnavailable; a nil reply is goredis.Nil, as with go-redis.
// args are not copied: without ContextTimeoutEnabled a timed-out script
// may still be sent after Run returns, so do not modify a []byte argument
// afterwards.
func (s *Store) Run(ctx context.Context, script *goredis.Script, keys []string, args ...any) *goredis.Cmd {
	full := make([]string, len(keys))
	for i, k := range keys {
		if err := store.ValidateKey(k); err != nil {
			return errCmd(ctx, opErr("run", err))
		}
		full[i] = s.Key(k)
	}
	if err := s.check(ctx, "run"); err != nil {
		return errCmd(ctx, err)
	}
	var cmd *goredis.Cmd
	err, done := s.call(ctx, func(ctx context.Context) error {
		cmd = script.Run(ctx, s.client, full, args...)
		return cmd.Err()
	})
	if !done {
		return errCmd(ctx, s.fail(ctx, "run", err))
	}
	if err != nil && !errors.Is(err, goredis.Nil) {
		cmd.SetErr(s.fail(ctx, "run", err))
	}
	return cmd
}

func errCmd(ctx context.Context, err error) *goredis.Cmd {
	cmd := goredis.NewCmd(ctx)
	cmd.SetErr(err)
	return cmd
}

// Get returns the value stored under key, or store.ErrNotFound
// (returned unwrapped).
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.checkKey(ctx, "get", key); err != nil {
		return nil, err
	}
	k := s.Key(key)
	var v []byte
	err, _ := s.call(ctx, func(ctx context.Context) error {
		var err error
		v, err = s.client.Get(ctx, k).Bytes()
		return err
	})
	if err != nil {
		return nil, s.fail(ctx, "get", err)
	}
	return v, nil
}

// Set stores value under key with SET (PX ttl when ttl > 0).
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := store.ValidateTTL(ttl); err != nil {
		return opErr("set", err)
	}
	if err := s.checkKey(ctx, "set", key); err != nil {
		return err
	}
	k, v := s.Key(key), s.own(value)
	err, _ := s.call(ctx, func(ctx context.Context) error {
		return s.client.Set(ctx, k, v, px(ttl)).Err()
	})
	return s.fail(ctx, "set", err)
}

// Delete removes key with DEL.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.checkKey(ctx, "delete", key); err != nil {
		return err
	}
	k := s.Key(key)
	err, _ := s.call(ctx, func(ctx context.Context) error {
		return s.client.Del(ctx, k).Err()
	})
	return s.fail(ctx, "delete", err)
}

// incrScript is INCRBY plus PEXPIRE on creation, atomically in one round
// trip. It returns the counter with GET, as a string, because a Lua number
// is a double and would round counters beyond 2^53.
var incrScript = goredis.NewScript(`
local created = redis.call('EXISTS', KEYS[1]) == 0
redis.call('INCRBY', KEYS[1], ARGV[1])
if created and ARGV[2] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('GET', KEYS[1])
`)

// Incr runs INCRBY in a Lua script that sets the TTL (PX, in
// milliseconds) only when INCRBY created the key; see store.KV.
func (s *Store) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if err := store.ValidateTTL(ttl); err != nil {
		return 0, opErr("incr", err)
	}
	if err := s.checkKey(ctx, "incr", key); err != nil {
		return 0, err
	}
	k := []string{s.Key(key)}
	var out string
	err, _ := s.call(ctx, func(ctx context.Context) error {
		var err error
		out, err = incrScript.Run(ctx, s.client, k, delta, ms(ttl)).Text()
		return err
	})
	if err != nil {
		if isNotInteger(err) {
			return 0, opErr("incr", errors.Join(store.ErrNotInteger, err))
		}
		return 0, s.fail(ctx, "incr", err)
	}
	n, err := strconv.ParseInt(out, 10, 64)
	if err != nil {
		return 0, opErr("incr", err)
	}
	return n, nil
}

func isNotInteger(err error) bool {
	var re goredis.Error
	if !errors.As(err, &re) {
		return false
	}
	msg := re.Error()
	return strings.Contains(msg, "not an integer") || strings.Contains(msg, "overflow")
}

// casScript: ARGV[1] is "1" to compare with ARGV[2] or "0" for "must be
// absent"; ARGV[3] is the new value and ARGV[4] the TTL in ms (0: none).
var casScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if cur then return 0 end
elseif cur ~= ARGV[2] then
  return 0
end
if ARGV[4] == '0' then
  redis.call('SET', KEYS[1], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
end
return 1
`)

// CompareAndSwap compares and sets in one Lua script; see store.KV.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	if err := store.ValidateTTL(ttl); err != nil {
		return false, opErr("cas", err)
	}
	if err := s.checkKey(ctx, "cas", key); err != nil {
		return false, err
	}
	k := []string{s.Key(key)}
	mode := "1"
	if old == nil {
		mode = "0"
	}
	o, n := s.own(old), s.own(new)
	var swapped int64
	err, _ := s.call(ctx, func(ctx context.Context) error {
		var err error
		swapped, err = casScript.Run(ctx, s.client, k, mode, o, n, ms(ttl)).Int64()
		return err
	})
	if err != nil {
		return false, s.fail(ctx, "cas", err)
	}
	return swapped == 1, nil
}

// fnError carries an UpdateFunc's error through go-redis untouched.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// Update is optimistic: WATCH key, GET it, call fn, then MULTI/SET (or
// DEL)/EXEC, which fails if the key changed meanwhile; it then retries, up
// to WithUpdateRetries attempts, so fn may run several times. When every
// attempt lost a race it returns an error wrapping store.ErrConflict. The
// timeout covers all attempts. fn must not call the Store.
func (s *Store) Update(ctx context.Context, key string, fn store.UpdateFunc) error {
	if err := s.checkKey(ctx, "update", key); err != nil {
		return err
	}
	k := s.Key(key)
	err, _ := s.call(ctx, func(ctx context.Context) error {
		txf := func(tx *goredis.Tx) error {
			cur, err := tx.Get(ctx, k).Bytes()
			exists := err == nil
			if errors.Is(err, goredis.Nil) {
				cur, err = nil, nil
			}
			if err != nil {
				return err
			}
			next, ttl, write, err := fn(cur, exists)
			if err != nil {
				return fnError{err}
			}
			if !write {
				return nil
			}
			if next != nil {
				if err := store.ValidateTTL(ttl); err != nil {
					return err
				}
			}
			_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				if next == nil {
					p.Del(ctx, k)
				} else {
					p.Set(ctx, k, next, px(ttl))
				}
				return nil
			})
			return err
		}
		for range s.retries {
			err := s.client.Watch(ctx, txf, k)
			if !errors.Is(err, goredis.TxFailedErr) {
				return err
			}
		}
		return fmt.Errorf("%w: gave up after %d attempts", store.ErrConflict, s.retries)
	})
	var fe fnError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return fe.err
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrInvalidTTL):
		return opErr("update", err)
	}
	return s.fail(ctx, "update", err)
}

// Ping sends PING within the timeout.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx, "ping"); err != nil {
		return err
	}
	err, _ := s.call(ctx, func(ctx context.Context) error {
		return s.client.Ping(ctx).Err()
	})
	return s.fail(ctx, "ping", err)
}

// Close marks the Store closed: every method then returns an error
// wrapping store.ErrClosed. It closes the client only if WithCloseClient
// asked for it. It is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.closeClient {
			if err := s.client.Close(); err != nil {
				s.closeErr = fmt.Errorf("store/redis: close client: %w", err)
			}
		}
	})
	return s.closeErr
}

// call runs f under the Store's timeout. It reports whether f finished:
// when the client does not honour context deadlines, call stops waiting
// at the deadline and f's results must not be read.
func (s *Store) call(ctx context.Context, f func(context.Context) error) (err error, done bool) {
	// A caller's deadline at least as near as the Store's timeout already
	// bounds the call: no second timer (the limiter gives every decision
	// its own, shorter, timeout).
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > s.timeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	if s.deadlines {
		return f(ctx), true
	}
	ch := make(chan error, 1)
	go func() { ch <- f(ctx) }()
	select {
	case err := <-ch:
		return err, true
	case <-ctx.Done():
		return ctx.Err(), false
	}
}

// own copies b when calls may outlive the method (no deadline support):
// the caller may reuse b as soon as the method returns.
func (s *Store) own(b []byte) []byte {
	if s.deadlines || b == nil {
		return b
	}
	return append([]byte{}, b...)
}

func (s *Store) check(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return opErr(op, err)
	}
	if s.closed.Load() {
		return opErr(op, store.ErrClosed)
	}
	return nil
}

func (s *Store) checkKey(ctx context.Context, op, key string) error {
	if err := store.ValidateKey(key); err != nil {
		return opErr(op, err)
	}
	return s.check(ctx, op)
}

// fail maps a go-redis error: goredis.Nil is store.ErrNotFound; a
// cancelled caller context is reported as such; network failures, timeouts
// and Redis's transient states wrap store.ErrUnavailable.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, goredis.Nil):
		return store.ErrNotFound
	case errors.Is(ctx.Err(), context.Canceled):
		if errors.Is(err, context.Canceled) {
			return opErr(op, err)
		}
		return opErr(op, errors.Join(ctx.Err(), err))
	case unavailable(err):
		return fmt.Errorf("store/redis: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	return opErr(op, err)
}

func unavailable(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, goredis.ErrClosed), errors.Is(err, goredis.ErrPoolTimeout), errors.Is(err, goredis.ErrPoolExhausted),
		goredis.IsLoadingError(err), goredis.IsClusterDownError(err), goredis.IsTryAgainError(err),
		goredis.IsMasterDownError(err), goredis.IsMaxClientsError(err), goredis.IsReadOnlyError(err),
		goredis.IsOOMError(err), goredis.HasErrorPrefix(err, "BUSY"):
		return true
	}
	return false
}

func opErr(op string, err error) error {
	return fmt.Errorf("store/redis: %s: %w", op, err)
}

// px rounds a TTL up to whole milliseconds, Redis's PX resolution, so a
// key never expires before its TTL; sub-millisecond TTLs become 1ms.
func px(ttl time.Duration) time.Duration {
	return time.Duration(ms(ttl)) * time.Millisecond
}

func ms(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	n := int64(ttl / time.Millisecond)
	if ttl%time.Millisecond != 0 && n < math.MaxInt64/int64(time.Millisecond) {
		n++
	}
	return n
}
