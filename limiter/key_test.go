package limiter_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/limiter"
)

// FuzzKeys feeds client-controlled strings (a principal, an API key, a
// route) to the keys: they never panic, never produce a Redis Cluster
// hash tag delimiter or a control byte, are deterministic, and keep
// distinct principals apart.
func FuzzKeys(f *testing.F) {
	for _, s := range []string{"alice", "{x}", "a|b", "%7B", "#abc", "\x00\n", strings.Repeat("z", 300), "ü"} {
		f.Add(s, s+"x")
	}
	keys := []limiter.Key{
		limiter.ByPrincipal(), limiter.ByPrincipalOrIP(), limiter.ByEndpoint(), limiter.ByAPIKey("X-Key"),
		limiter.Composite(limiter.ByPrincipal(), limiter.ByEndpoint()), limiter.ByIP(), limiter.ByIPPrefix(24, 48),
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		req := func(s string) *guard.Request {
			r := &guard.Request{Method: "GET", Route: s, Header: http.Header{"X-Key": {s}}, ClientIP: netip.MustParseAddr("2001:db8::1")}
			r.SetPrincipal(s)
			return r
		}
		for i, k := range keys {
			ida, oka := k(req(a), nil)
			again, _ := k(req(a), nil)
			if string(ida) != string(again) {
				t.Fatalf("key %d not deterministic", i)
			}
			if strings.ContainsAny(string(ida), "{}\x00\r\n") {
				t.Fatalf("key %d of %q: %q", i, a, ida)
			}
			if i == 0 && a != "" && a != b {
				idb, okb := k(req(b), nil)
				if oka && okb && string(ida) == string(idb) {
					t.Fatalf("principals %q and %q share the identity %q", a, b, ida)
				}
			}
		}
	})
}
