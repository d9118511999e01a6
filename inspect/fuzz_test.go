package inspect

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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

// FuzzJSONStrings checks the strings the walker visits against
// encoding/json's token stream (for valid UTF-8 documents): every string
// value in order, every key not made only of [A-Za-z0-9_] (cut at
// maxFieldName bytes), each with its byte flags as scanBytes computes
// them.
func FuzzJSONStrings(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,2,{"b":"c"}],"d":null}`, `{"name":"Merino wool running socks (3 pairs)","q":"a\"b\\c"}`,
		`["0123456789abcdef\u00e9","x\u0001"]`, `"abcdefgh\"ijklmnop"`, `"é€ 日本語 ok"`, `{"a-b":{"c d":["e'f"]}}`,
		`{"` + strings.Repeat("k", 100) + `-":1}`, `{"` + strings.Repeat("k", 100) + `":"v"}`,
	} {
		f.Add(s)
	}
	f.Add(benchJSON())
	f.Fuzz(func(t *testing.T, s string) {
		checkJSONStrings(t, s)
	})
}

func checkJSONStrings(t testing.TB, s string) {
	t.Helper()
	type visit struct {
		v   string
		key bool
	}
	var got []visit
	w := &jsonWalker{src: s, maxDepth: 1 << 20, maxFields: 1 << 30}
	w.visit = func(w *jsonWalker, v string, key bool) bool {
		if w.flags != scanBytes(v) {
			t.Fatalf("%q: flags of %q are %#x, scanBytes %#x", s, v, w.flags, scanBytes(v))
		}
		got = append(got, visit{strings.Clone(v), key})
		return true
	}
	if err := w.walk(); err != nil || !utf8.ValidString(s) {
		return
	}
	var want []visit
	dec := json.NewDecoder(strings.NewReader(s))
	type frame struct{ obj, wantKey bool }
	var stack []frame
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{':
				stack = append(stack, frame{obj: true, wantKey: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
				k := tok[:min(len(tok), maxFieldName)]
				if !plainFlags(scanBytes(k)) {
					want = append(want, visit{k, true})
				}
				stack[n-1].wantKey = false
				continue
			}
			want = append(want, visit{tok, false})
			valueDone()
		default:
			valueDone()
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%q: visited %+v, encoding/json %+v", s, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%q: visited %+v, encoding/json %+v", s, got, want)
		}
	}
}

// wordScanRef is wordScan as it was before its loop was split into a
// separator run and a word run: FuzzWordScan checks they agree.
func wordScanRef(s string) (sql bool) {
	var buf [20]byte
	boolOp, literal := false, false
	start := -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && charClass[s[i]]&cSQLWord != 0 {
			if start < 0 {
				start = i
			}
			continue
		}
		if start < 0 {
			continue
		}
		w := s[start:i]
		start = -1
		if w[0] <= '9' {
			literal = true // a number (digits sort before letters and '_')
			continue
		}
		if len(w) < 2 || len(w) > len(buf) || !bloomHas(&wordFilter, w[0], w[len(w)-1], len(w)) {
			continue
		}
		for k := 0; k < len(w); k++ {
			buf[k] = lowerByte(w[k])
		}
		k := wordKinds[string(buf[:len(w)])]
		sql = sql || k&wSQL != 0
		boolOp = boolOp || k&wBool != 0
		literal = literal || k&wLiteral != 0
	}
	return sql || boolOp && literal
}

func FuzzWordScan(f *testing.F) {
	for _, s := range []string{"1 union select 1", "x or true", "Ring the bell twice; the flat", "_a 9b ORDER", "a\x00or 1", "Select", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, b := wordScan(s), wordScanRef(s); a != b {
			t.Fatalf("wordScan(%q) = %v, before %v", s, a, b)
		}
	})
}

func FuzzCmdSpecial(f *testing.F) {
	for _, s := range []string{"() { :; }; echo", "$((1+1))", "cat<<<x", "${a:-b}", "${jndi:ldap://x}", "f(){ f|f& };f",
		"<!--#exec cmd=\"ls\"-->", "system('id')", "child_process", "x.child_process", "/dev/tcp/1.2.3.4/80", "$(id)", "${ifs}cat", "$ifs"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r1, ok1 := cmdSpecial(s)
		r2, ok2 := refCmdSpecial(s)
		if r1 != r2 || ok1 != ok2 {
			t.Fatalf("cmdSpecial(%q) = %q %v, before %q %v", s, r1, ok1, r2, ok2)
		}
	})
}
