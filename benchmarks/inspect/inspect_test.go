package inspect

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	txhttp "github.com/corazawaf/coraza/v3/http"
	"github.com/corazawaf/coraza/v3/types"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/inspect"
)

// query is ten typical parameters.
const query = "q=running+shoes&category=sport&page=3&per_page=50&sort=price_asc" +
	"&color=blue&size=42&brand=acme&in_stock=true&session=7f3c2a9e-4b1d-4c8e-9f2a-1b3c5d7e9f01"

// body is a typical ~2 KB JSON order.
func body() []byte {
	var b strings.Builder
	b.WriteString(`{"order_id":"5b0e2c3a-8f1d-4e2a-9c7b-3d4e5f6a7b8c","created":"2026-11-29T19:20:00Z",`)
	b.WriteString(`"customer":{"id":48213,"name":"Maria O'Connor","email":"maria.oconnor@example.com","phone":"+44 20 7946 0958",`)
	b.WriteString(`"address":{"line1":"221B Baker Street","line2":"Flat 2","city":"London","postcode":"NW1 6XE","country":"GB"}},`)
	b.WriteString(`"items":[`)
	for i := range 8 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"sku":"SKU-10`)
		b.WriteByte(byte('0' + i))
		b.WriteString(`","name":"Trail running shoe, size 42","qty":1,"price":89.95,"gift":false,"note":"Please wrap it - it's a present."}`)
	}
	b.WriteString(`],"comment":"Leave the parcel with the neighbour at number 12 if nobody answers. Thanks!",`)
	b.WriteString(`"coupon":"WINTER-2026","newsletter":true,"tags":["priority","gift","repeat-customer"]}`)
	return []byte(b.String())
}

const target = "/orders/5b0e2c3a-8f1d-4e2a-9c7b-3d4e5f6a7b8c?" + query

// crsWAF builds Coraza with the recommended configuration and the whole
// CRS at its default paranoia level 1, blocking.
func crsWAF(tb testing.TB) coraza.WAF {
	waf, err := coraza.NewWAF(coraza.NewWAFConfig().
		WithRootFS(coreruleset.FS).
		WithDirectives(`
Include @coraza.conf-recommended
Include @crs-setup.conf.example
Include @owasp_crs/*.conf
SecRuleEngine On
SecRequestBodyAccess On
`))
	if err != nil {
		tb.Fatal(err)
	}
	return waf
}

func guardStage(tb testing.TB) *inspect.Stage {
	st, err := inspect.New(inspect.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

type staticBody []byte

func (b staticBody) ReadBody(limit int64) ([]byte, error) {
	if int64(len(b)) > limit {
		return nil, guard.ErrBodyTooLarge
	}
	return b, nil
}

type headers map[string]string

func (h headers) Get(k string) string      { return h[k] }
func (h headers) Values(k string) []string { return []string{h[k]} }

// BenchmarkDecision compares the decision alone: guard's stage Check on a
// request view, and Coraza's transaction phases 1 and 2 on the same URI,
// headers and body.
func BenchmarkDecision(b *testing.B) {
	bd := body()
	b.Run("guard", func(b *testing.B) {
		st := guardStage(b)
		g, err := guard.New(guard.WithStage(st), guard.WithCorrelation(false))
		if err != nil {
			b.Fatal(err)
		}
		defer g.Close(b.Context())
		r := g.Begin(guard.Incoming{
			Method: "POST", Route: "/orders/{id}", Path: "/orders/5b0e2c3a-8f1d-4e2a-9c7b-3d4e5f6a7b8c",
			RawQuery: query, Header: headers{"Content-Type": "application/json"},
			Body: staticBody(bd), ContentLength: int64(len(bd)),
		})
		if d := st.Check(r); !d.Allowed() {
			b.Fatalf("denied: %+v", d)
		}
		b.ReportAllocs()
		stop := cpuTimer(b)
		for b.Loop() {
			st.Check(r)
		}
		stop()
	})
	b.Run("coraza-crs", func(b *testing.B) {
		waf := crsWAF(b)
		run := func() *types.Interruption {
			tx := waf.NewTransaction()
			defer tx.Close()
			tx.ProcessConnection("192.0.2.1", 51000, "192.0.2.2", 443)
			tx.ProcessURI(target, "POST", "HTTP/1.1")
			tx.AddRequestHeader("Host", "shop.example.com")
			tx.AddRequestHeader("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0")
			tx.AddRequestHeader("Accept", "application/json")
			tx.AddRequestHeader("Content-Type", "application/json")
			tx.AddRequestHeader("Content-Length", "1544")
			if it := tx.ProcessRequestHeaders(); it != nil {
				return it
			}
			if it, _, err := tx.WriteRequestBody(bd); it != nil || err != nil {
				return it
			}
			it, _ := tx.ProcessRequestBody()
			return it
		}
		if it := run(); it != nil {
			b.Fatalf("benign request interrupted by rule %d", it.RuleID)
		}
		b.ReportAllocs()
		stop := cpuTimer(b)
		for b.Loop() {
			run()
		}
		stop()
	})
}

// BenchmarkMiddleware compares the whole net/http path: guard.Handler with
// the inspect stage, and Coraza's txhttp.WrapHandler with the CRS, around
// a handler that reads the body.
func BenchmarkMiddleware(b *testing.B) {
	bd := body()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	bench := func(b *testing.B, h http.Handler) {
		req := func() *http.Request {
			r := httptest.NewRequest("POST", target, bytes.NewReader(bd))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0")
			r.Header.Set("Accept", "application/json")
			return r
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req())
		if rec.Code != http.StatusNoContent {
			b.Fatalf("benign request: status %d", rec.Code)
		}
		b.ReportAllocs()
		stop := cpuTimer(b)
		for b.Loop() {
			h.ServeHTTP(httptest.NewRecorder(), req())
		}
		stop()
	}
	b.Run("guard", func(b *testing.B) {
		g, err := guard.New(inspect.Option(inspect.Config{}), guard.WithCorrelation(false))
		if err != nil {
			b.Fatal(err)
		}
		defer g.Close(b.Context())
		bench(b, g.Handler(handler))
	})
	b.Run("coraza-crs", func(b *testing.B) {
		bench(b, txhttp.WrapHandler(crsWAF(b), handler))
	})
}

// TestSameVerdicts checks that both block the same obvious attacks and
// pass the benchmark request, so the benchmark compares like with like.
func TestSameVerdicts(t *testing.T) {
	waf := crsWAF(t)
	st := guardStage(t)
	g, err := guard.New(guard.WithStage(st))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(t.Context())
	for _, c := range []struct {
		q     string
		block bool
	}{
		{query, false},
		{"q=1%27+OR+%271%27%3D%271", true},
		{"q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", true},
		{"file=..%2F..%2F..%2Fetc%2Fpasswd", true},
		{"host=127.0.0.1%3Bcat+%2Fetc%2Fpasswd", true},
	} {
		tx := waf.NewTransaction()
		tx.ProcessURI("/search?"+c.q, "GET", "HTTP/1.1")
		tx.AddRequestHeader("Host", "shop.example.com")
		tx.AddRequestHeader("User-Agent", "Mozilla/5.0")
		tx.AddRequestHeader("Accept", "*/*")
		it := tx.ProcessRequestHeaders()
		if it == nil {
			it, _ = tx.ProcessRequestBody()
		}
		tx.Close()
		r := g.Begin(guard.Incoming{Method: "GET", Route: "/search", Path: "/search", RawQuery: c.q})
		d := st.Check(r)
		if (it != nil) != c.block || d.Allowed() == c.block {
			t.Errorf("%s: coraza blocked=%v guard blocked=%v, want %v", c.q, it != nil, !d.Allowed(), c.block)
		}
	}
}
