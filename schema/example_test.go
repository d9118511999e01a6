package schema_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/schema"
)

func ExampleSchema_Validate() {
	sch, err := schema.Compile([]byte(`{
	  "type": "object",
	  "required": ["title"],
	  "properties": {
	    "title": {"type": "string", "maxLength": 10},
	    "status": {"enum": ["draft", "published"]}
	  }
	}`), schema.Options{})
	if err != nil {
		panic(err)
	}
	errs, err := sch.Validate([]byte(`{"title": "far too long a title", "status": "gone", "extra": 1}`))
	fmt.Println(err)
	for _, e := range errs {
		fmt.Printf("%q %s\n", e.Pointer, e.Keyword)
	}
	_, err = sch.Validate([]byte(`{"title": "a", "title": "b"}`))
	fmt.Println(err)
	// Output:
	// <nil>
	// "" additionalProperties
	// "/status" enum
	// "/title" maxLength
	// schema: duplicate object key
}

func ExampleSchema_TypedFields() {
	sch, _ := schema.Compile([]byte(`{"properties": {
	  "id": {"type": "string", "format": "uuid"},
	  "note": {"type": "string"}}}`), schema.Options{})
	fmt.Println(sch.TypedFields([]byte(`{"id": "5b0e2c3a-8f1d-4e2a-9c7b-3d4e5f6a7b8c", "note": "hi"}`)))
	// Output: [body.id]
}

func ExampleOption() {
	g, err := guard.New(schema.Option(schema.Config{Routes: []schema.Route{{
		Method: "POST", Route: "/notes",
		Schema: []byte(`{"type":"object","required":["title"],"properties":{"title":{"type":"string","maxLength":5}}}`),
	}}}))
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("POST /notes", func(http.ResponseWriter, *http.Request) {})
	req := httptest.NewRequest("POST", "/notes", strings.NewReader(`{"title":"far too long","x":1}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	g.Handler(mux).ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 400 {"type":"about:blank","title":"Bad Request","status":400,"code":"invalid_body","detail":"The request body does not match its schema.","errors":[{"pointer":"","keyword":"additionalProperties"},{"pointer":"/title","keyword":"maxLength"}]}
}
