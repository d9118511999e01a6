package inspect

import (
	"encoding/json"
	"strings"
	"testing"
)

// benchJSON is the body of the stage benchmark (see bench_test.go): a
// typical order of about 2 KB, with a customer, addresses, payment and
// delivery details, eight line items and free text.
func benchJSON() string {
	var b strings.Builder
	b.WriteString(`{"order_id":"5b0e2c3a-8f1d-4e2a-9c7b-3d4e5f6a7b8c","created":"2026-11-29T19:20:00Z","status":"pending","currency":"GBP",`)
	b.WriteString(`"customer":{"id":48213,"name":"Maria O'Connor","email":"maria.oconnor@example.com","phone":"+44 20 7946 0958","locale":"en-GB",`)
	b.WriteString(`"address":{"line1":"221B Baker Street","line2":"Flat 2","city":"London","postcode":"NW1 6XE","country":"GB"}},`)
	b.WriteString(`"billing":{"name":"Maria O'Connor","line1":"14 Elm Grove","city":"Reading","postcode":"RG1 7QT","country":"GB"},`)
	b.WriteString(`"payment":{"method":"card","brand":"visa","last4":"4242","token":"tok_1Qx8ZkLm3nP4rS5tUv6W"},`)
	b.WriteString(`"delivery":{"method":"standard","carrier":"Royal Mail","date":"2026-12-03","instructions":"Ring the bell twice; the flat is on the second floor."},`)
	b.WriteString(`"items":[`)
	items := [...]struct{ name, colour, note string }{
		{"Trail running shoe, size 42", "blue", "Please wrap it - it's a present."},
		{"Merino wool running socks (3 pairs)", "grey", ""},
		{"Waterproof shell jacket", "green", "Size M, or L if M is out of stock."},
		{"Insulated water bottle, 750 ml", "black", ""},
		{"Reflective arm band", "yellow", ""},
		{"Head torch, 400 lumens", "red", "For my brother's birthday on 5 December."},
		{"Foam roller", "purple", ""},
		{"Energy gel, lemon (box of 24)", "", ""},
	}
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"sku":"SKU-10`)
		b.WriteByte(byte('0' + i))
		b.WriteString(`","name":"`)
		b.WriteString(it.name)
		b.WriteString(`","colour":"`)
		b.WriteString(it.colour)
		b.WriteString(`","qty":1,"price":24.95,"gift":`)
		if it.note != "" {
			b.WriteString(`true,"note":"`)
			b.WriteString(it.note)
			b.WriteString(`"}`)
		} else {
			b.WriteString(`false}`)
		}
	}
	b.WriteString(`],"totals":{"subtotal":199.60,"shipping":4.99,"discount":20.00,"tax":30.77,"total":215.36},`)
	b.WriteString(`"comment":"Leave the parcel with the neighbour at number 12 if nobody answers. Thanks!",`)
	b.WriteString(`"gift_message":"Happy birthday, Tom! Love from Maria and the kids.","coupon":"WINTER-2026","newsletter":true,"channel":"web","referrer":"email","tags":["priority","gift","repeat-customer"]}`)
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
