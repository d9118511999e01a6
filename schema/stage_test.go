package schema_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/inspect"
	"github.com/guardsdk/guard/schema"
)

const noteSchema = `{
  "type": "object",
  "required": ["title", "status"],
  "properties": {
    "id":      {"type": "string", "format": "uuid"},
    "title":   {"type": "string", "maxLength": 20},
    "status":  {"enum": ["draft", "published", "1' or '1'='1"]},
    "due":     {"type": "string", "format": "date"},
    "stars":   {"type": "integer", "minimum": 0},
    "tags":    {"type": "array", "items": {"type": "string", "maxLength": 10}},
    "labels":  {"type": "object", "patternProperties": {"^[a-z]+$": {"type": "string", "maxLength": 5}}},
    "author":  {"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}}}
  }
}`

type problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Errors []struct {
		Pointer string `json:"pointer"`
		Keyword string `json:"keyword"`
	} `json:"errors"`
}

func server(t *testing.T, withInspect bool) http.Handler {
	t.Helper()
	opts := []guard.Option{schema.Option(schema.Config{Routes: []schema.Route{{Method: "POST", Route: "/notes", Schema: []byte(noteSchema)}}})}
	if withInspect {
		opts = append(opts, inspect.Option(inspect.Config{}))
	}
	g, err := guard.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close(t.Context()) })
	mux := http.NewServeMux()
	mux.HandleFunc("/notes", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	})
	return g.Handler(mux)
}

func post(h http.Handler, ctype, body string) (*httptest.ResponseRecorder, problem) {
	req := httptest.NewRequest("POST", "/notes", strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var p problem
	json.Unmarshal(rec.Body.Bytes(), &p)
	return rec, p
}

func TestStage(t *testing.T) {
	t.Parallel()
	h := server(t, false)
	type fe struct{ pointer, keyword string }
	cases := []struct {
		name, ctype, body string
		status            int
		code              string
		errs              []fe
	}{
		{"valid", "application/json", `{"title":"hello","status":"draft","id":"5b0e2c3a-8f1d-4e2a-9c7b-3d4e5f6a7b8c","due":"2026-12-01","stars":3,"tags":["a"],"labels":{"x":"y"}}`, 200, "", nil},
		{"too long", "application/json", `{"title":"` + strings.Repeat("SECRET", 5) + `","status":"draft"}`, 400, "invalid_body", []fe{{"/title", "maxLength"}}},
		{"missing", "application/json", `{"status":"draft"}`, 400, "invalid_body", []fe{{"/title", "required"}}},
		{"enum", "application/json", `{"title":"x","status":"SECRET"}`, 400, "invalid_body", []fe{{"/status", "enum"}}},
		{"format uuid", "application/json", `{"title":"x","status":"draft","id":"SECRET"}`, 400, "invalid_body", []fe{{"/id", "format"}}},
		{"format date", "application/json", `{"title":"x","status":"draft","due":"2026-13-45"}`, 400, "invalid_body", []fe{{"/due", "format"}}},
		{"format email", "application/json", `{"title":"x","status":"draft","author":{"email":"SECRET"}}`, 400, "invalid_body", []fe{{"/author/email", "format"}}},
		{"type", "application/json", `{"title":"x","status":"draft","stars":"SECRET"}`, 400, "invalid_body", []fe{{"/stars", "type"}}},
		{"array item", "application/json", `{"title":"x","status":"draft","tags":["ok","SECRETSECRET"]}`, 400, "invalid_body", []fe{{"/tags/1", "maxLength"}}},
		{"client key hidden", "application/json", `{"title":"x","status":"draft","labels":{"secret":"SECRETSECRET"}}`, 400, "invalid_body", []fe{{"/labels/*", "maxLength"}}},
		{"unknown field", "application/json", `{"title":"x","status":"draft","SECRET":1}`, 400, "invalid_body", []fe{{"", "additionalProperties"}}},
		{"unknown nested field", "application/json", `{"title":"x","status":"draft","author":{"SECRET":1}}`, 400, "invalid_body", []fe{{"/author", "additionalProperties"}}},
		{"several", "application/json", `{"title":"` + strings.Repeat("x", 30) + `","status":"SECRET"}`, 400, "invalid_body", []fe{{"/status", "enum"}, {"/title", "maxLength"}}},
		{"duplicate key", "application/json", `{"title":"x","status":"draft","title":"SECRET"}`, 400, "malformed_body", []fe{{"", "duplicateKey"}}},
		{"nested duplicate", "application/json", `{"title":"x","status":"draft","author":{"name":"a","name":"SECRET"}}`, 400, "malformed_body", []fe{{"/author", "duplicateKey"}}},
		{"trailing", "application/json", `{"title":"x","status":"draft"} {"SECRET":1}`, 400, "malformed_body", nil},
		{"trailing garbage", "application/json", `{"title":"x","status":"draft"}SECRET`, 400, "malformed_body", nil},
		{"syntax", "application/json", `{"title":"SECRET",`, 400, "malformed_body", nil},
		{"empty", "application/json", ``, 400, "body_required", nil},
		{"deep", "application/json", `{"title":"x","status":"draft","tags":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`, 400, "body_too_deep", nil},
		{"not json", "text/plain", `{"title":"x","status":"draft"}`, 415, "unsupported_media", nil},
		{"json suffix", "application/merge-patch+json", `{"title":"x","status":"draft"}`, 200, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, p := post(h, tc.ctype, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == 200 {
				if rec.Body.String() != tc.body {
					t.Fatalf("handler read %q", rec.Body)
				}
				return
			}
			if strings.Contains(rec.Body.String(), "SECRET") || strings.Contains(rec.Body.String(), "secret") {
				t.Fatalf("problem body echoes input: %s", rec.Body)
			}
			if p.Code != tc.code {
				t.Fatalf("code = %q, want %q", p.Code, tc.code)
			}
			var got []fe
			for _, e := range p.Errors {
				got = append(got, fe{e.Pointer, e.Keyword})
			}
			if !slices.Equal(got, tc.errs) {
				t.Fatalf("errors = %v, want %v (%s)", got, tc.errs, rec.Body)
			}
		})
	}
}

func TestTypedFieldsSkipInspection(t *testing.T) {
	t.Parallel()
	h := server(t, true)
	// The enum admits a string inspection would flag: the schema has
	// proved the field, so inspection skips it.
	if rec, _ := post(h, "application/json", `{"title":"x","status":"1' or '1'='1"}`); rec.Code != 200 {
		t.Fatalf("typed field: status = %d: %s", rec.Code, rec.Body)
	}
	// The same string in a free-text field is still inspected.
	if rec, _ := post(h, "application/json", `{"title":"1' or '1'='1","status":"draft"}`); rec.Code != 403 {
		t.Fatalf("free field: status = %d: %s", rec.Code, rec.Body)
	}
}

func TestTypedFields(t *testing.T) {
	t.Parallel()
	sch, err := schema.Compile([]byte(`{
	  "type":"object",
	  "properties":{
	    "id":{"type":"string","format":"uuid"},
	    "name":{"type":"string"},
	    "kind":{"$ref":"#/$defs/kind"},
	    "when":{"allOf":[{"type":"string"},{"format":"date-time"}]},
	    "either":{"anyOf":[{"format":"uuid"},{"type":"string"}]},
	    "items":{"type":"array","prefixItems":[{"const":"a"}],"items":{"type":"string"}},
	    "all":{"type":"array","items":{"properties":{"at":{"format":"date"}}}}
	  },
	  "$defs":{"kind":{"enum":["x","y"]}}
	}`), schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := sch.TypedFields([]byte(`{"id":"5b0e2c3a-8f1d-4e2a-9c7b-3d4e5f6a7b8c","name":"n","kind":"x","when":"2026-01-01T00:00:00Z",
		"either":"e","items":["a","b"],"all":[{"at":"2026-01-01"},{"at":"2026-01-02"}]}`))
	slices.Sort(got)
	want := []string{"body.all[].at", "body.id", "body.kind", "body.when"}
	if !slices.Equal(got, want) {
		t.Fatalf("typed = %v, want %v", got, want)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	bad := []schema.Config{
		{Routes: []schema.Route{{Route: "/x", Schema: []byte(`{`)}}},
		{Routes: []schema.Route{{Route: "/x", Schema: []byte(`{"type":"nope"}`)}}},
		{Routes: []schema.Route{{Route: "/x", Schema: []byte(`{"$ref":"file:///etc/passwd"}`)}}},
		{Routes: []schema.Route{{Route: "/x", Schema: []byte(`{"$ref":"https://example.com/s.json"}`)}}},
		{Routes: []schema.Route{{Route: "", Schema: []byte(`{}`)}}},
		{Routes: []schema.Route{{Route: "/x", Schema: []byte(`{}`)}, {Route: "/x", Schema: []byte(`{}`)}}},
		{MaxBodyBytes: -1},
		{Options: schema.Options{MaxDepth: -1}, Routes: []schema.Route{{Route: "/x", Schema: []byte(`{}`)}}},
	}
	for i, c := range bad {
		if _, err := schema.New(c); err == nil || !strings.HasPrefix(err.Error(), "schema: ") {
			t.Errorf("config %d: err = %v", i, err)
		}
		if _, err := guard.New(schema.Option(c)); err == nil {
			t.Errorf("config %d: guard.New accepted it", i)
		}
	}
}

func TestAllowUnknownAndComposition(t *testing.T) {
	t.Parallel()
	// allOf branches stay open: closing each would reject the other's
	// members.
	sch, err := schema.Compile([]byte(`{"allOf":[{"properties":{"a":{}}},{"properties":{"b":{}}}]}`), schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if errs, err := sch.Validate([]byte(`{"a":1,"b":2}`)); err != nil || errs != nil {
		t.Fatalf("allOf: %v %v", errs, err)
	}
	open, err := schema.Compile([]byte(`{"properties":{"a":{}}}`), schema.Options{AllowUnknown: true})
	if err != nil {
		t.Fatal(err)
	}
	if errs, err := open.Validate([]byte(`{"a":1,"b":2}`)); err != nil || errs != nil {
		t.Fatalf("AllowUnknown: %v %v", errs, err)
	}
}
