package inspect_test

import (
	"testing"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/inspect"
)

// staticBody is a BodyReader over fixed bytes.
type staticBody []byte

func (b staticBody) ReadBody(limit int64) ([]byte, error) {
	if int64(len(b)) > limit {
		return nil, guard.ErrBodyTooLarge
	}
	return b, nil
}

// BenchQuery is a typical query string of ten parameters.
const BenchQuery = "q=running+shoes&category=sport&page=3&per_page=50&sort=price_asc" +
	"&color=blue&size=42&brand=acme&in_stock=true&session=7f3c2a9e-4b1d-4c8e-9f2a-1b3c5d7e9f01"

// BenchBody is a typical ~2 KB JSON body: an order with a customer,
// addresses, payment and delivery details, line items and free text.
func BenchBody() []byte { return []byte(inspect.BenchJSON()) }

func benchRequest(b *testing.B) (*inspect.Stage, *guard.Request) {
	st, err := inspect.New(inspect.Config{})
	if err != nil {
		b.Fatal(err)
	}
	g, err := guard.New(guard.WithStage(st), guard.WithCorrelation(false))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.Close(b.Context()) })
	body := BenchBody()
	r := g.Begin(guard.Incoming{
		Method: "POST", Route: "/orders/{id}", Path: "/orders/5b0e2c3a-8f1d-4e2a-9c7b-3d4e5f6a7b8c",
		RawQuery: BenchQuery, Header: headerMap{"Content-Type": "application/json"},
		Body: staticBody(body), ContentLength: int64(len(body)),
	})
	return st, r
}

type headerMap map[string]string

func (h headerMap) Get(k string) string      { return h[k] }
func (h headerMap) Values(k string) []string { return []string{h[k]} }

// BenchmarkStage inspects a request with ten query parameters and a 2 KB
// JSON body (the measure).
func BenchmarkStage(b *testing.B) {
	st, r := benchRequest(b)
	if d := st.Check(r); !d.Allowed() {
		b.Fatalf("benign request denied: %+v", d)
	}
	b.SetBytes(int64(len(BenchBody()) + len(BenchQuery)))
	b.ReportAllocs()
	stop := cpuTimer(b)
	for b.Loop() {
		st.Check(r)
	}
	stop()
}

func BenchmarkStageParallel(b *testing.B) {
	st, _ := benchRequest(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		_, r := benchRequest(b)
		for pb.Next() {
			st.Check(r)
		}
	})
}

func BenchmarkValue(b *testing.B) {
	for _, v := range []struct{ name, s string }{
		{"word", "running"},
		{"text", "Leave the parcel with the neighbour at number 12 if nobody answers."},
		{"sqli", "1' UNION SELECT username, password FROM users--"},
		{"xss", "<img src=x onerror=alert(document.cookie)>"},
		{"encoded", "%252e%252e%252f%252e%252e%252fetc%252fpasswd"},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			stop := cpuTimer(b)
			for b.Loop() {
				inspect.Value(v.s)
			}
			stop()
		})
	}
}
