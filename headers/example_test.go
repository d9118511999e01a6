package headers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"time"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/csp"
	"github.com/guardsdk/guard/headers"
)

func printHeaders(h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		if k != "X-Request-Id" && k != "Content-Type" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Printf("%s: %s\n", k, h.Get(k))
	}
}

func ExampleOption() {
	g, err := guard.New(headers.Option())
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())

	mux := http.NewServeMux()
	mux.HandleFunc("GET /notes", func(w http.ResponseWriter, r *http.Request) {})
	rec := httptest.NewRecorder()
	g.Handler(mux).ServeHTTP(rec, httptest.NewRequest("GET", "https://api.example.com/notes", nil))
	printHeaders(rec.Header())
	// Output:
	// Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
	// Cross-Origin-Opener-Policy: same-origin
	// Cross-Origin-Resource-Policy: same-origin
	// Permissions-Policy: accelerometer=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), serial=(), usb=()
	// Referrer-Policy: strict-origin-when-cross-origin
	// Strict-Transport-Security: max-age=31536000; includeSubDomains
	// X-Content-Type-Options: nosniff
	// X-Frame-Options: DENY
	// X-Xss-Protection: 0
}

func ExampleNew() {
	_, err := headers.New(headers.WithHSTS(headers.HSTS{
		MaxAge:            180 * 24 * time.Hour,
		IncludeSubDomains: true,
		Preload:           true,
	}))
	fmt.Println(err)
	// Output: headers: WithHSTS: preload needs max-age of at least 31536000 seconds (1 year), got 15552000
}

func ExampleForRoute() {
	g, err := guard.New(headers.Option(
		// Pages get the nonce-based HTML policy; the widget may be framed
		// by one partner and embedded cross-origin.
		headers.ForRoute("GET /{$}", headers.WithCSP(csp.HTML())),
		headers.ForRoute("GET /widget", headers.WithCSP(
			csp.HTML().Set(csp.FrameAncestors, csp.Host("https://partner.example")),
		), headers.WithCORP(headers.CORPCrossOrigin)),
	))
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())

	mux := http.NewServeMux()
	mux.HandleFunc("GET /widget", func(w http.ResponseWriter, r *http.Request) {})
	rec := httptest.NewRecorder()
	g.Handler(mux).ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/widget", nil))
	fmt.Printf("X-Frame-Options: %q\n", rec.Header().Get("X-Frame-Options"))
	fmt.Println("Cross-Origin-Resource-Policy:", rec.Header().Get("Cross-Origin-Resource-Policy"))
	// Output:
	// X-Frame-Options: ""
	// Cross-Origin-Resource-Policy: cross-origin
}

func ExampleWithXSSProtection() {
	g, err := guard.New(headers.Option(headers.WithXSSProtection(headers.XSSFilterBlock)))
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())
	rec := httptest.NewRecorder()
	g.Handler(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Header().Get("X-XSS-Protection"))
	// Output: 1; mode=block
}

func ExamplePermissionsPolicy_Allow() {
	p := headers.DefaultPermissionsPolicy().
		Allow(headers.Geolocation, headers.AllowSelf, headers.AllowOrigin("https://maps.example.com")).
		Allow(headers.Fullscreen, headers.AllowAll)
	fmt.Println(p.Validate())
	fmt.Println(p)
	// Output:
	// <nil>
	// accelerometer=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(self "https://maps.example.com"), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), serial=(), usb=(), fullscreen=*
}

func ExampleStripLeaks() {
	g, err := guard.New(headers.Option())
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Powered-By", "legacy-framework/1.0") // set after the stage ran
	})
	rec := httptest.NewRecorder()
	headers.StripLeaks(g.Handler(mux)).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Printf("%q\n", rec.Header().Get("X-Powered-By"))
	// Output: ""
}

func ExampleWithCSP() {
	s, err := headers.New(headers.WithCSP(csp.HTML().Set(csp.ScriptSrc, csp.Self, csp.UnsafeInline, "'nonce-static'")))
	fmt.Println(s == nil, err)
	// Output: true headers: WithCSP: csp: script-src: invalid source "'nonce-static'": a fixed nonce protects nothing; use NonceSource for a fresh nonce per request
}

func ExampleWithHSTS() {
	g, err := guard.New(headers.Option(headers.WithHSTS(headers.HSTS{
		MaxAge:            2 * 365 * 24 * time.Hour,
		IncludeSubDomains: true,
		Preload:           true,
	})))
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())
	h := g.Handler(http.NotFoundHandler())
	for _, url := range []string{"https://example.com/", "http://example.com/"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
		fmt.Printf("%s %q\n", url, rec.Header().Get("Strict-Transport-Security"))
	}
	// Output:
	// https://example.com/ "max-age=63072000; includeSubDomains; preload"
	// http://example.com/ ""
}
