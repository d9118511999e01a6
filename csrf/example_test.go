package csrf_test

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/csrf"
)

func ExampleOption() {
	g, err := guard.New(csrf.Option(
		csrf.TrustedOrigins("https://app.example.com"),
		csrf.Bypass("POST", "/webhooks/{provider}"),
	))
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())

	mux := http.NewServeMux()
	mux.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "created") })
	mux.HandleFunc("POST /webhooks/{provider}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hook") })
	h := g.Handler(mux)

	send := func(path, site, origin string) {
		req := httptest.NewRequest("POST", "https://api.example.com"+path, nil)
		req.Header.Set("Sec-Fetch-Site", site)
		req.Header.Set("Origin", origin)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	send("/notes", "same-origin", "https://api.example.com")
	send("/notes", "same-site", "https://app.example.com") // trusted
	send("/notes", "cross-site", "https://evil.example")
	send("/webhooks/stripe", "cross-site", "https://evil.example") // bypassed
	// Output:
	// 200 created
	// 200 created
	// 403 {"type":"about:blank","title":"Forbidden","status":403,"code":"cross_origin","detail":"The request was refused as a possible cross-site request forgery."}
	// 200 hook
}

func ExampleNew() {
	_, err := csrf.New(csrf.TrustedOrigins("https://app.example.com/"))
	fmt.Println(err)
	// Output: csrf: TrustedOrigins: invalid origin "https://app.example.com/": origin is not scheme://host[:port]
}

// A page embeds the masked token in its form; browsers that send neither
// Sec-Fetch-Site nor Origin must post it back.
func ExampleToken() {
	key := []byte("use 32+ random bytes from a secret store")
	g, err := guard.New(csrf.Option(csrf.WithToken(csrf.TokenConfig{Key: key})))
	if err != nil {
		panic(err)
	}
	defer g.Close(context.Background())

	form := template.Must(template.New("").Parse(
		`<form method="post" action="/notes"><input type="hidden" name="csrf_token" value="{{.}}"></form>`))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /notes/new", func(w http.ResponseWriter, r *http.Request) {
		_ = form.Execute(w, csrf.Token(r.Context())) // before the first write
	})
	mux.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "created") })
	h := g.Handler(mux)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/notes/new", nil))
	cookie := rec.Result().Cookies()[0]
	body := rec.Body.String()
	i := strings.Index(body, `value="`) + len(`value="`)
	token := body[i : i+128]
	fmt.Println(cookie.Name, cookie.HttpOnly, cookie.Secure, cookie.SameSite == http.SameSiteLaxMode)

	post := func(tok string) {
		req := httptest.NewRequest("POST", "https://example.com/notes", strings.NewReader("csrf_token="+tok))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	post(token)
	post("forged")
	// Output:
	// __Host-csrf true true true
	// 200
	// 403
}

func Example_events() {
	g, err := guard.New(
		csrf.Option(),
		guard.WithSink(guard.SinkFunc(func(ev guard.Event) {
			fmt.Fprintln(os.Stdout, ev.Kind, ev.Reason, ev.Attrs)
		}), guard.KindCSRFRejected),
	)
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest("DELETE", "https://example.com/notes/1", nil)
	req.Header.Set("Origin", "https://user@example.com")
	g.Handler(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), req)
	_ = g.Close(context.Background())
	// Output: csrf_rejected invalid_origin [{reason invalid_origin} {signal origin}]
}
