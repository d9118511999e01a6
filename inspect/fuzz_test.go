package inspect

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/corazawaf/libinjection-go"
)

// FuzzValue runs every detector on arbitrary values: no panic, and
// bounded time even for long, pathological input.
func FuzzValue(f *testing.F) {
	for _, s := range []string{
		"1' or '1'='1", "<script>alert(1)</script>", "../../etc/passwd", ";cat /etc/passwd",
		"%25%32%65%25%32%65%25%32%66", "%c0%ae%c0%ae/", "&#x3c;svg/onload=alert(1)&#x3e;",
		"\\u003cscript\\u003e", "${jndi:ldap://x}", "() { :; }; id", strings.Repeat("'", 300),
		strings.Repeat("/*", 200), strings.Repeat("%25", 100) + "2e", "{,ls,-la}", "$(id)`id`",
		"\xc0\xae\xe0\x80\xae\xf0\x80\x80\xae", "union/**/select", strings.Repeat("<a ", 500),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start := time.Now()
		f1, ok1 := Value(s)
		if ok1 && (f1.Class == 0 || f1.Reason == "") {
			t.Fatalf("finding without class or reason: %+v", f1)
		}
		if ok1 && strings.Contains(s, f1.Reason) && len(f1.Reason) > 0 && !isReason(f1.Reason) {
			t.Fatalf("reason %q is not a constant", f1.Reason)
		}
		if d := time.Since(start); d > time.Second && len(s) < 1<<16 {
			t.Fatalf("Value took %v on %d bytes", d, len(s))
		}
	})
}

// isReason reports whether r is one of the package's reason constants.
func isReason(r string) bool {
	for _, c := range allReasons {
		if r == c {
			return true
		}
	}
	return false
}

var allReasons = []string{
	ReasonSQLFingerprint, ReasonSQLUnion, ReasonSQLStacked, ReasonSQLTautology, ReasonSQLComment,
	ReasonSQLFunction, ReasonSQLTimeDelay, ReasonSQLExecComment, ReasonSQLTypeCast, ReasonSQLSelect,
	ReasonSQLClause, ReasonSQLExec, ReasonSQLFileAccess, ReasonSQLSystemObject,
	ReasonXSSFingerprint, ReasonXSSTag, ReasonXSSEvent, ReasonXSSScheme, ReasonXSSSink, ReasonXSSCSS,
	ReasonXSSTemplate, ReasonXSSEntity,
	ReasonDotDot, ReasonNUL, ReasonSensitivePath, ReasonFileScheme, ReasonOverEncoded, ReasonBackslash,
	ReasonDoubleEncoded, ReasonOverlongUTF8,
	ReasonShellCommand, ReasonShellSubst, ReasonShellGlobPath, ReasonShellFunction, ReasonWindowsCommand,
	ReasonCodeExec, ReasonJNDI,
}

// FuzzDecoders runs the normalisers alone: no panic, output bounded by the
// input's size.
func FuzzDecoders(f *testing.F) {
	for _, s := range []string{"%41%u0041%", "&#x41;&amp;&lt", "\\x41\\u0041\\u{1F600}\\", "\xc0", "+%2B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		outs := []string{}
		d, _ := percentDecode(s, true)
		outs = append(outs, d)
		d, _ = fold(s)
		outs = append(outs, d)
		d, _ = entityDecode(s)
		outs = append(outs, d)
		d, _ = escapeDecode(s)
		outs = append(outs, d)
		outs = append(outs, shellForm(s), pathForm(s), compactForm(s), formUnescape(s), stripBlockComments(s))
		for i, o := range outs {
			if len(o) > 4*len(s)+16 {
				t.Fatalf("decoder %d grew %d bytes to %d", i, len(s), len(o))
			}
		}
		toks := sqlLex(strings.ToLower(s), nil)
		if len(toks) > maxSQLTokens {
			t.Fatalf("%d tokens", len(toks))
		}
		detectPathEncoding(s)
	})
}

// FuzzJSONWalk checks the walker against encoding/json: it accepts
// exactly the documents json.Valid accepts (within the depth and field
// limits), and visits no more strings than the input can hold.
func FuzzJSONWalk(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,2,{"b":"c"}],"d":null}`, `[]`, `{}`, `"\u00e9\ud83d\ude00"`, `{"a":1}x`, `[1,]`, `{"a" 1}`,
		`-0.5e+10`, `01`, `"\x"`, strings.Repeat("[", 50) + strings.Repeat("]", 50), `{"a":"\u0000"}`, " \t\n[ ] ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		visits := 0
		w := &jsonWalker{src: s, maxDepth: 1 << 20, maxFields: 1 << 30}
		w.visit = func(w *jsonWalker, v string, key bool) bool {
			visits++
			w.appendName(nil)
			return true
		}
		err := w.walk()
		if (err == nil) != json.Valid([]byte(s)) {
			t.Fatalf("walker err=%v, json.Valid=%v for %q", err, json.Valid([]byte(s)), s)
		}
		if visits > len(s) {
			t.Fatalf("%d visits for %d bytes", visits, len(s))
		}
		// With small limits it must stop with the limit error, not panic.
		w2 := &jsonWalker{src: s, maxDepth: 3, maxFields: 5, visit: func(*jsonWalker, string, bool) bool { return true }}
		w2.walk()
	})
}

// FuzzXSSGate checks the premise detectXSS relies on to skip
// libinjection.IsXSS: it never fires on a value with neither '<' nor '='.
func FuzzXSSGate(f *testing.F) {
	for _, s := range []string{"x onerror=alert(1)", "\" onload=x", "a b c", "'><svg", "style", "`", "x/ y z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if libinjection.IsXSS(s) && !strings.ContainsAny(s, "<=") {
			t.Fatalf("IsXSS(%q) without '<' or '='", s)
		}
	})
}
