package csp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/csp"
	"github.com/guardsdk/guard/headers"
)

func ExampleAPI() {
	fmt.Println(csp.API())
	// Output: default-src 'none'; frame-ancestors 'none'
}

func ExampleHTML() {
	for _, d := range strings.Split(csp.HTML().String(), "; ") {
		fmt.Println(d)
	}
	// Output:
	// default-src 'none'
	// script-src 'nonce-{nonce}' 'strict-dynamic'
	// style-src 'self' 'nonce-{nonce}'
	// img-src 'self'
	// font-src 'self'
	// connect-src 'self'
	// manifest-src 'self'
	// form-action 'self'
	// base-uri 'none'
	// object-src 'none'
	// frame-ancestors 'none'
}

func ExamplePolicy_Set() {
	p := csp.HTML().
		Set(csp.ImgSrc, csp.Self, csp.Host("https://images.example.com")).
		Set(csp.ConnectSrc, csp.Self, csp.Host("wss://live.example.com")).
		Remove(csp.ManifestSrc).
		ReportURI("/csp-report").
		ReportTo("csp", "/csp-report")
	fmt.Println(p.Validate())

	bad := csp.HTML().Set(csp.ScriptSrc, csp.Self, csp.UnsafeInline, "'nonce-1234'")
	fmt.Println(bad.Validate())
	// Output:
	// <nil>
	// csp: script-src: invalid source "'nonce-1234'": a fixed nonce protects nothing; use NonceSource for a fresh nonce per request
}

func ExampleHashOf() {
	p := csp.API().Set(csp.ScriptSrc, csp.HashOf(`console.log("hi")`))
	fmt.Println(p)
	// Output: default-src 'none'; frame-ancestors 'none'; script-src 'sha256-TMFma7PHrBUjZEUKY/MwBLuX3/HrQe2+A1FmjMS7ppA='
}

// The headers stage draws a nonce per request; the handler puts it on its
// script elements.
func ExampleNonce() {
	g, err := guard.New(headers.Option(headers.WithCSP(csp.HTML())))
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<script nonce="%s" src="/app.js"></script>`, csp.Nonce(r.Context()))
	})
	rec := httptest.NewRecorder()
	g.Handler(mux).ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))

	body := rec.Body.String()
	start := strings.Index(body, `nonce="`) + len(`nonce="`)
	nonce := body[start : start+22]
	fmt.Println(strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src 'nonce-"+nonce+"' 'strict-dynamic'"))
	// Output: true
}

func ExampleNewReportHandler() {
	// The sink runs on its own goroutine: it collects, and the example
	// prints once Close has drained it.
	var seen strings.Builder
	g, err := guard.New(guard.WithSink(guard.SinkFunc(func(ev guard.Event) {
		for _, a := range ev.Attrs {
			fmt.Fprintf(&seen, "%s=%s ", a.Key, a.Value)
		}
	}), guard.KindCSPViolation))
	if err != nil {
		panic(err)
	}
	reports, err := csp.NewReportHandler(g, csp.ReportConfig{}) // 64 KiB, 10/s, burst 50
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /csp-report", reports)

	body := `{"csp-report":{"document-uri":"https://example.com/a?token=secret","effective-directive":"script-src-elem","blocked-uri":"inline","disposition":"enforce"}}`
	req := httptest.NewRequest("POST", "https://example.com/csp-report", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/csp-report")
	rec := httptest.NewRecorder()
	g.Handler(mux).ServeHTTP(rec, req)
	fmt.Println(rec.Code)

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = g.Close(ctx) // drains the sink
	fmt.Println(strings.TrimSpace(seen.String()))
	// Output:
	// 204
	// format=report-uri directive=script-src-elem blocked=inline document=https://example.com/a disposition=enforce
}

func ExampleParseReports() {
	reports, err := csp.ParseReports("application/reports+json", []byte(`[
	  {"type":"csp-violation","body":{"documentURL":"https://example.com/p?q=1","blockedURL":"https://cdn.evil/x.js?k=v","effectiveDirective":"script-src-elem","disposition":"enforce"}},
	  {"type":"deprecation","body":{}}]`), 0)
	fmt.Println(err, len(reports), reports[0].Document, reports[0].Blocked)
	// Output: <nil> 1 https://example.com/p https://cdn.evil/x.js
}

func ExamplePolicy_Compile() {
	c, err := csp.HTML().ReportTo("csp", "/csp-report").Compile()
	if err != nil {
		panic(err)
	}
	v := c.Value("R4nd0mN0nce")
	fmt.Println(c.NeedsNonce(), strings.Contains(v, "script-src 'nonce-R4nd0mN0nce' 'strict-dynamic'"))
	fmt.Println(c.ReportingEndpoints())
	// Output:
	// true true
	// csp="/csp-report"
}

func ExampleRequestNonce() {
	g, _ := guard.New()
	defer g.Close(context.Background())
	r := g.Begin(guard.Incoming{Method: "GET", Route: "/"})
	n := csp.RequestNonce(r) // drawn once per request
	fmt.Println(len(n), n == csp.RequestNonce(r), n == csp.Nonce(r.Context()))
	// Output: 22 true true
}
