package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/getsentry/sentry-go"
	goredis "github.com/redis/go-redis/v9"

	"github.com/guardsdk/guard/store"
	"github.com/guardsdk/guard/store/bolt"
	"github.com/guardsdk/guard/store/memory"
	guardredis "github.com/guardsdk/guard/store/redis"
)

// config is the validated command line.
type config struct {
	addr           string
	store          string // memory, bolt or redis
	boltPath       string
	redis          redisTarget
	trustedProxies []string
	tlsCert        string // PEM certificate chain; with tlsKey, -addr serves HTTPS
	tlsKey         string // PEM private key
	redirectAddr   string // plain-HTTP listener redirecting to HTTPS; "" for none
	sentryDSN      string // Sentry project DSN; "" for none
}

// useTLS reports whether -addr serves HTTPS.
func (c config) useTLS() bool { return c.tlsCert != "" }

// Listen addresses with -tls-cert and -tls-key, unless given: HTTPS on
// :8443 and the redirecting plain-HTTP listener on :8080, where the
// plain-HTTP API is without them.
const (
	defaultAddr         = ":8080"
	defaultTLSAddr      = ":8443"
	defaultRedirectAddr = ":8080"
)

// errHelp: -h or -help was given; usage has been printed.
var errHelp = flag.ErrHelp

// parseFlags parses and validates args. Errors name the flag; the caller
// exits 2 on them.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var redisAddr, proxies string
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	// The flag package's own messages are replaced by one line naming the
	// flag; -h prints the usage.
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.addr, "addr", defaultAddr, "listen `address` (host:port; port 0 picks a free port); "+defaultTLSAddr+" when -tls-cert is given and -addr is not")
	fs.StringVar(&cfg.store, "store", "memory", "`backend` for users, sessions, notes and guard state: memory, bolt or redis")
	fs.StringVar(&cfg.boltPath, "bolt-path", "quickstart.db", "bolt `file` for -store bolt")
	fs.StringVar(&redisAddr, "redis-addr", "localhost:6379", "Redis `target` for -store redis: host:port, a redis:// or rediss:// URL, or a comma-separated host:port list for a Redis Cluster")
	fs.StringVar(&proxies, "trusted-proxies", "", "comma-separated `CIDRs` or addresses of reverse proxies whose X-Forwarded-For is believed")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "PEM certificate (chain) `file`; with -tls-key, -addr serves HTTPS")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "PEM private key `file` for -tls-cert")
	fs.StringVar(&cfg.redirectAddr, "http-redirect-addr", defaultRedirectAddr, "with -tls-cert: plain-HTTP listen `address` that redirects every request to HTTPS (308); \"\" for none")
	fs.StringVar(&cfg.sentryDSN, "sentry-dsn", "", "Sentry project `DSN` (https://KEY@HOST/PROJECT): panics and 5xx are reported there, and POST /sentry-tunnel relays browser SDK envelopes to that project only; \"\" for none")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "Usage: quickstart [flags]\n\nA JSON notes API protected by guard.\n\nFlags:")
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return cfg, errHelp
		}
		return cfg, fmt.Errorf("quickstart: %w (run with -h for usage)", err)
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("quickstart: unexpected argument %q: all settings are flags (run with -h for usage)", fs.Arg(0))
	}
	if err := validateTLS(&cfg, fs); err != nil {
		return cfg, err
	}
	if err := validateListenAddr(cfg.addr); err != nil {
		return cfg, fmt.Errorf("quickstart: invalid -addr %q: %v", cfg.addr, err)
	}
	if cfg.redirectAddr != "" {
		if err := validateListenAddr(cfg.redirectAddr); err != nil {
			return cfg, fmt.Errorf("quickstart: invalid -http-redirect-addr %q: %v", cfg.redirectAddr, err)
		}
		if sameListenAddr(cfg.addr, cfg.redirectAddr) {
			return cfg, fmt.Errorf("quickstart: invalid -http-redirect-addr %q: -addr %q listens there already (give one of them another port, or -http-redirect-addr \"\")", cfg.redirectAddr, cfg.addr)
		}
	}
	switch cfg.store {
	case "memory":
	case "bolt":
		if strings.TrimSpace(cfg.boltPath) == "" {
			return cfg, errors.New(`quickstart: invalid -bolt-path "": a file path is required with -store bolt`)
		}
	case "redis":
		t, err := parseRedisAddr(redisAddr)
		if err != nil {
			return cfg, fmt.Errorf("quickstart: invalid -redis-addr %q: %v", redisAddr, err)
		}
		cfg.redis = t
	default:
		return cfg, fmt.Errorf("quickstart: invalid -store %q: want memory, bolt or redis", cfg.store)
	}
	if err := validateSentryDSN(&cfg.sentryDSN); err != nil {
		return cfg, err
	}
	list, err := parseTrustedProxies(proxies)
	if err != nil {
		return cfg, fmt.Errorf("quickstart: invalid -trusted-proxies %q: %v", proxies, err)
	}
	cfg.trustedProxies = list
	return cfg, nil
}

// validateTLS checks -tls-cert, -tls-key and -http-redirect-addr and
// fills in the HTTPS defaults of -addr and -http-redirect-addr. The files
// are read later, by run.
func validateTLS(cfg *config, fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg.tlsCert, cfg.tlsKey = strings.TrimSpace(cfg.tlsCert), strings.TrimSpace(cfg.tlsKey)
	switch {
	case cfg.tlsCert != "" && cfg.tlsKey == "":
		return errors.New("quickstart: -tls-cert needs -tls-key: give both to serve HTTPS, or neither")
	case cfg.tlsKey != "" && cfg.tlsCert == "":
		return errors.New("quickstart: -tls-key needs -tls-cert: give both to serve HTTPS, or neither")
	case cfg.tlsCert == "":
		if set["http-redirect-addr"] && cfg.redirectAddr != "" {
			return fmt.Errorf("quickstart: invalid -http-redirect-addr %q: it redirects to HTTPS, which needs -tls-cert and -tls-key", cfg.redirectAddr)
		}
		cfg.redirectAddr = ""
		return nil
	}
	if !set["addr"] {
		cfg.addr = defaultTLSAddr
	}
	return nil
}

// validateSentryDSN trims -sentry-dsn and checks it the way sentry-go
// (and guardsentry.WithDSN) will. The message leaves the value out: an
// old-style DSN holds a secret key.
func validateSentryDSN(dsn *string) error {
	*dsn = strings.TrimSpace(*dsn)
	if *dsn == "" {
		return nil
	}
	if _, err := sentry.NewDsn(*dsn); err != nil {
		// sentry-go's "invalid url" message quotes the URL; say why only.
		why := strings.TrimPrefix(err.Error(), "[Sentry] DsnParseError: ")
		if strings.HasPrefix(why, "invalid url") {
			why = "not a URL"
		}
		return fmt.Errorf("quickstart: invalid -sentry-dsn: %s (want https://PUBLIC_KEY@HOST/PROJECT_ID, the project's DSN under Client Keys)", why)
	}
	return nil
}

// sameListenAddr reports whether two valid listen addresses would
// collide: the same fixed port on the same or a wildcard host.
func sameListenAddr(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	na, _ := strconv.Atoi(pa)
	nb, _ := strconv.Atoi(pb)
	if na == 0 || na != nb {
		return false
	}
	wild := func(h string) bool {
		ip, err := netip.ParseAddr(h)
		return h == "" || err == nil && ip.IsUnspecified()
	}
	return wild(ha) || wild(hb) || strings.EqualFold(ha, hb)
}

func validateListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port, such as :8080 or 127.0.0.1:0")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("the port must be a number from 0 to 65535")
	}
	return nil
}

// parseTrustedProxies splits a comma-separated list of CIDRs and single
// addresses, checking each the way guard.WithTrustedProxies does.
func parseTrustedProxies(s string) ([]string, error) {
	var out []string
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", item)
			}
			if p.Addr().Is4In6() && p.Bits() < 96 {
				return nil, fmt.Errorf("IPv4-mapped prefix %q is shorter than /96", item)
			}
		} else if _, err := netip.ParseAddr(item); err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR", item)
		}
		out = append(out, item)
	}
	return out, nil
}

// redisTarget is a parsed -redis-addr: one server or a cluster.
type redisTarget struct {
	single  *goredis.Options
	cluster *goredis.ClusterOptions
}

// parseRedisAddr accepts host:port, a redis://, rediss:// or unix:// URL
// (go-redis's ParseURL: user, password, database number and options), or
// a comma-separated list of host:port seeds of a Redis Cluster.
func parseRedisAddr(s string) (redisTarget, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return redisTarget{}, errors.New("an address is required with -store redis")
	case strings.Contains(s, "://"):
		opt, err := goredis.ParseURL(s)
		if err != nil {
			return redisTarget{}, errors.New("not a valid redis:// URL (redis://[user:password@]host:port[/db])")
		}
		return redisTarget{single: opt}, nil
	case strings.Contains(s, ","):
		var seeds []string
		for _, a := range strings.Split(s, ",") {
			a = strings.TrimSpace(a)
			if a == "" {
				continue
			}
			if err := validateHostPort(a); err != nil {
				return redisTarget{}, fmt.Errorf("cluster seed %q: %v", a, err)
			}
			seeds = append(seeds, a)
		}
		if len(seeds) == 0 {
			return redisTarget{}, errors.New("no cluster seed address")
		}
		return redisTarget{cluster: &goredis.ClusterOptions{Addrs: seeds}}, nil
	default:
		if err := validateHostPort(s); err != nil {
			return redisTarget{}, err
		}
		return redisTarget{single: &goredis.Options{Addr: s}}, nil
	}
}

func validateHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return errors.New("want host:port, a redis:// URL, or a comma-separated host:port list for a cluster")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return errors.New("the port must be a number from 1 to 65535")
	}
	return nil
}

// client builds the go-redis client for t. ContextTimeoutEnabled lets the
// store's short per-operation deadlines reach the socket.
func (t redisTarget) client() goredis.UniversalClient {
	if t.cluster != nil {
		opt := *t.cluster
		opt.ContextTimeoutEnabled = true
		return goredis.NewClusterClient(&opt)
	}
	opt := *t.single
	opt.ContextTimeoutEnabled = true
	return goredis.NewClient(&opt)
}

// describe names the target without credentials, for messages.
func (t redisTarget) describe() string {
	if t.cluster != nil {
		return "cluster " + strings.Join(t.cluster.Addrs, ",")
	}
	if t.single != nil {
		return t.single.Addr
	}
	return ""
}

// openStore opens the backend cfg names. The caller closes it after
// guard. A redis store closes its client with it.
func openStore(cfg config) (store.Store, error) {
	switch cfg.store {
	case "bolt":
		st, err := bolt.Open(cfg.boltPath)
		if err != nil {
			return nil, err
		}
		return st, nil
	case "redis":
		client := cfg.redis.client()
		st, err := guardredis.New(client, guardredis.WithPrefix("guard:"), guardredis.WithCloseClient(true))
		if err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("redis at %s: %w", cfg.redis.describe(), err)
		}
		return st, nil
	default:
		st, err := memory.New()
		if err != nil {
			return nil, err
		}
		return st, nil
	}
}
