package inspect

import (
	"encoding/json"
	"strings"
	"testing"
)

// benchJSON is the body of the stage benchmark (see bench_test.go).
func benchJSON() string {
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
	return b.String()
}

// BenchmarkJSONWalk measures the walker alone, with a visitor that does
// nothing: the parsing share of the stage's cost.
func BenchmarkJSONWalk(b *testing.B) {
	src := benchJSON()
	w := &jsonWalker{maxDepth: 32, maxFields: 1000}
	w.visit = func(*jsonWalker, string, bool) bool { return true }
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		w.src, w.pos, w.fields, w.segs = src, 0, 0, w.segs[:0]
		if err := w.walk(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONValid is encoding/json.Valid on the same body, for scale.
func BenchmarkJSONValid(b *testing.B) {
	src := []byte(benchJSON())
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		json.Valid(src)
	}
}
