package inspect_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/inspect"
)

func ExampleOption() {
	events := make(chan guard.Event, 1)
	g, err := guard.New(
		inspect.Option(inspect.Config{}),
		guard.WithSink(guard.SinkFunc(func(ev guard.Event) { events <- ev }), guard.KindInjectionBlocked),
	)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) {})
	h := g.Handler(mux)

	req := httptest.NewRequest("POST", "/notes", strings.NewReader(`{"user":{"name":"<script>alert(1)</script>"}}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())

	g.Close(context.Background())
	ev := <-events
	for _, a := range ev.Attrs {
		fmt.Printf("%s=%s ", a.Key, a.Value)
	}
	fmt.Println()
	// Output:
	// 403 {"type":"about:blank","title":"Forbidden","status":403,"code":"input_rejected","detail":"The request contains input that is not allowed."}
	// class=xss field=body.user.name reason=html_script_tag mode=block decoded=false
}

func ExampleCheck() {
	// Only the classes asked for are checked.
	_, sqli := inspect.Check("<script>alert(1)</script>", 1<<inspect.ClassSQLi)
	f, xss := inspect.Check("<script>alert(1)</script>", 1<<inspect.ClassXSS)
	fmt.Println(sqli, xss, f.Class)
	// Output: false true xss
}

func ExampleBodyField() {
	fmt.Println(inspect.BodyField("items", "", "note"))
	fmt.Println(inspect.BodyField("user", "<name>"))
	// Output:
	// body.items[].note
	// body.user._name_
}

func ExampleSkipFields() {
	// A stage that proved "body.id" harmless, running before inspection.
	proven := guard.StageFunc("prove", guard.PhaseInspect-1, func(r *guard.Request) guard.Decision {
		inspect.SkipFields(r, "body.id")
		return guard.Allow()
	})
	g, _ := guard.New(guard.WithStage(proven), inspect.Option(inspect.Config{}))
	defer g.Close(context.Background())
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, body := range []string{`{"id":"1' or '1'='1"}`, `{"other":"1' or '1'='1"}`} {
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// 200
	// 403
}
