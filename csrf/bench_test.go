package csrf_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/csrf"
)

func benchCheck(b *testing.B, p *csrf.Protection, method string, h http.Header) {
	g, _, _ := setup(b)
	in := guard.Incoming{Method: method, Route: "/submit", Host: "example.com", TLS: true, Header: h, ResponseHeader: http.Header{}}
	r := g.Begin(in)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if d := p.Check(r); !d.Allowed() {
			b.Fatal(d)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	plain, _ := csrf.New(csrf.TrustedOrigins("https://partner.example"))
	b.Run("safe-method", func(b *testing.B) { benchCheck(b, plain, "GET", http.Header{}) })
	b.Run("sec-fetch-site", func(b *testing.B) {
		benchCheck(b, plain, "POST", http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {"https://example.com"}})
	})
	b.Run("origin-only", func(b *testing.B) {
		benchCheck(b, plain, "POST", http.Header{"Origin": {"https://example.com"}})
	})
	b.Run("trusted-cross-site", func(b *testing.B) {
		benchCheck(b, plain, "POST", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://partner.example"}})
	})
	b.Run("token", func(b *testing.B) {
		tp, _ := csrf.New(csrf.WithToken(csrf.TokenConfig{Key: testKey}))
		_, h, _ := setup(b, csrf.WithToken(csrf.TokenConfig{Key: testKey}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/form", nil))
		cookie, _, _ := strings.Cut(rec.Result().Header.Get("Set-Cookie"), ";")
		tok := strings.Fields(rec.Body.String())[0]
		benchCheck(b, tp, "POST", http.Header{"Cookie": {cookie}, "X-Csrf-Token": {tok}})
	})
}

// BenchmarkHandler measures the stage through the net/http adapter, in
// parallel.
func BenchmarkHandler(b *testing.B) {
	g, err := guard.New(csrf.Option(), guard.WithCorrelation(false))
	if err != nil {
		b.Fatal(err)
	}
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("POST", "https://example.com/x", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := httptest.NewRecorder()
		for pb.Next() {
			h.ServeHTTP(w, req)
		}
	})
}
