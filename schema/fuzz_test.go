package schema_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/guardsdk/guard/schema"
)

// FuzzValidate feeds arbitrary bodies to strict decoding, validation and
// the typed-field walk: no panic, a body accepted is valid JSON, and no
// field error quotes the body.
func FuzzValidate(f *testing.F) {
	sch, err := schema.Compile([]byte(noteSchema), schema.Options{MaxDepth: 16})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"title":"x","status":"draft"}`, `{"a":1,"a":2}`, `[`, `{}{}`, `"\ud800"`, `{"tags":[[[[]]]]}`,
		`{"labels":{"zz":"toolongvalue"}}`, `{"title":1e999,"status":null}`, strings.Repeat("[", 100),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		errs, err := sch.Validate(body)
		if err == nil && !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		for _, e := range errs {
			for _, seg := range strings.Split(e.Pointer, "/") {
				if len(seg) > 64 && seg != "*" {
					t.Fatalf("long pointer segment %q", seg)
				}
			}
		}
		sch.TypedFields(body)
	})
}
