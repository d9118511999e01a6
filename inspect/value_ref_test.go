package inspect

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// containsFoldRef is containsFold as it was before its byte loop for
// letters: FuzzContainsFold checks they agree.
func containsFoldRef(s, sub string) bool {
	lo, up := sub[0], sub[0]
	if 'a' <= lo && lo <= 'z' {
		up = lo - 'a' + 'A'
	}
	for i := 0; i+len(sub) <= len(s); {
		a := strings.IndexByte(s[i:], lo)
		b := strings.IndexByte(s[i:], up)
		switch {
		case a < 0 && b < 0:
			return false
		case a < 0 || b >= 0 && b < a:
			a = b
		}
		k := i + a
		if k+len(sub) > len(s) {
			return false
		}
		j := 1
		for j < len(sub) && lowerByte(s[k+j]) == sub[j] {
			j++
		}
		if j == len(sub) {
			return true
		}
		i = k + 1
	}
	return false
}

var foldSubs = []string{"'or'", "'and'", "'xor'", "${ifs", "$ifs", ".ini", "on", "location", "alert", "eval", "srcdoc", "document", "window",
	"__proto__", "globalthis", "xmlhttprequest", "localstorage", "sessionstorage", "password", "a", "'", "x"}

func FuzzContainsFold(f *testing.F) {
	for _, s := range []string{"x'OR'y", "A'And'", "$IFS", "${Ifs}", "WIN.INI", "On", "'", "''or''", "aXoR'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, sub := range foldSubs {
			if got, want := containsFold(s, sub), containsFoldRef(s, sub); got != want {
				t.Fatalf("containsFold(%q, %q) = %v, before %v", s, sub, got, want)
			}
		}
		want := containsFoldRef(s, "'or'") || containsFoldRef(s, "'and'") || containsFoldRef(s, "'xor'")
		if got := quotedBoolWord(s); got != want {
			t.Fatalf("quotedBoolWord(%q) = %v, before %v", s, got, want)
		}
	})
}

// The gates as they were before mayContain: TestGatesRef checks they agree.

func travNeededRef(v string, flags uint64) bool {
	switch {
	case flags&fCtl != 0 && strings.IndexByte(v, 0) >= 0:
		return true
	case flags&fDot != 0 && strings.Contains(v, ".."):
		return true
	case flags&(fSlash|fBackslash) != 0:
		return true
	case flags&fColon != 0 && (strings.Contains(v, "://") || strings.Contains(v, ":/")):
		return true
	case flags&fDot != 0 && containsFold(v, ".ini"):
		return true
	case flags&fZero != 0 && (strings.Contains(v, "0x") || strings.Contains(v, "0X")):
		return true
	}
	return false
}

func xssNeededRef(v string, flags uint64) bool {
	dottedJS, colonScheme := dottedJSRef, colonSchemeRef
	switch {
	case flags&(fAngle|fParen|fBacktick) != 0:
		return true
	case flags&fEq != 0 && containsFold(v, "on"):
		return true
	case flags&fBrace != 0 && (strings.Contains(v, "{{") || strings.Contains(v, "[") || strings.Contains(v, "${")):
		return true
	case flags&fColon != 0 && colonScheme(v):
		return true
	case flags&fEq != 0 && (containsFold(v, "location") || containsFold(v, "alert") || containsFold(v, "eval") || containsFold(v, "srcdoc")):
		return true
	case flags&fDot != 0 && dottedJS(v):
		return true
	case flags&fStar != 0 && strings.Contains(v, "/*") && (containsFold(v, "document") || containsFold(v, "window")):
		return true // document/*x*/.cookie: comments inside a property access
	case flags&fSpace == 0 && len(v) >= 10 && (containsFold(v, "__proto__") || containsFold(v, "globalthis") || containsFold(v, "xmlhttprequest") || containsFold(v, "localstorage") || containsFold(v, "sessionstorage")):
		return true
	}
	return false
}

func sqlNeededRef(v string, flags uint64) bool {
	onlyApostrophes := onlyApostrophesRef
	switch {
	case flags&(fParen|fSemi|fEq|fAngle|fHash|fStar|fPipe|fBackslash|fCtl) != 0:
		return true
	case flags&fDash != 0 && strings.Contains(v, "--"):
		return true
	case flags&fAt != 0 && (strings.Contains(v, "@@") || v[0] == '@' || strings.Contains(v, " @")):
		return true
	case flags&fAmp != 0 && strings.Contains(v, "&&"):
		return true
	case flags&fColon != 0 && strings.Contains(v, "::"):
		return true // PostgreSQL casts: password::int
	case flags&fQuote != 0 && (!onlyApostrophes(v) || quotedBoolWord(v)):
		return true // a'or'a: the quotes end and open literals around OR
	case flags&fDot != 0 && (strings.Contains(v, ".e.") || strings.Contains(v, ".E.")):
		return true // MySQL's 1.e.table
	case flags&fSpace != 0:
		return wordScan(v)
	}
	return false
}

func checkGates(t testing.TB, v string) {
	t.Helper()
	f := scanBytes(v)
	if got, want := firstWordCmd(v), firstWordCmdRef(v); got != want {
		t.Fatalf("firstWordCmd(%q) = %v, before %v", v, got, want)
	}
	if got, want := travNeeded(v, f), travNeededRef(v, f); got != want {
		t.Fatalf("travNeeded(%q) = %v, before %v", v, got, want)
	}
	if got, want := xssNeeded(v, f), xssNeededRef(v, f); got != want {
		t.Fatalf("xssNeeded(%q) = %v, before %v", v, got, want)
	}
	if len(v) > 0 {
		if got, want := sqlNeeded(v, f), sqlNeededRef(v, f); got != want {
			t.Fatalf("sqlNeeded(%q) = %v, before %v", v, got, want)
		}
	}
}

func FuzzGatesRef(f *testing.F) {
	for _, s := range []string{"a.ini", "0x2e", "x=ONload", "{{x}}", "javascript:x", "a=Alert", "document.cookie", "/*x*/window", "__PROTO__x1",
		"1.E.t", "a--", "@@v", "a @b", "&&", "::int", "a'or'b", "select 1", "Ring the bell twice; the flat."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkGates(t, s)
	})
}

// gateFragments are the pieces TestGatesRef builds values from.
var gateFragments = []string{".", "..", ".ini", ".INI", "0", "0x", "0X", "x", "/", "\\", ":", "://", ":/", "\x00", "=", "on", "ON", "{", "{{", "[", "${",
	"javascript:", "data:", "location", "Alert", "eval", "srcdoc", "document", "window", ".cookie", "*", "/*", "__proto__", "globalThis",
	"XMLHttpRequest", "localStorage", "sessionStorage", " ", "-", "--", "@", "@@", " @", "&", "&&", "::", "'", "\"", "`", "'or'", "'AND'",
	"'xor'", ".e.", ".E.", "select", "union", "or", "1", "true", "a", "Z", "é", "(", ";", "<", "#", "|", "%", "+"}

// TestGatesRef compares travNeeded, xssNeeded and sqlNeeded with their
// former forms on the corpus (in three cases) and on generated values.
func TestGatesRef(t *testing.T) {
	forCorpus(t, func(row corpusRow) {
		checkGates(t, row.Payload)
		checkGates(t, strings.ToUpper(row.Payload))
		checkGates(t, strings.ToLower(row.Payload))
	})
	rng := rand.New(rand.NewPCG(53, 59))
	var b strings.Builder
	for range cases(300000) {
		b.Reset()
		for k := rng.IntN(6); k >= 0; k-- {
			b.WriteString(gateFragments[rng.IntN(len(gateFragments))])
		}
		checkGates(t, b.String())
	}
	for range cases(100000) {
		b.Reset()
		for k := rng.IntN(4); k >= 0; k-- {
			b.WriteString(cmdiFragments[rng.IntN(len(cmdiFragments))])
		}
		checkGates(t, b.String())
	}
}

// dottedJSRef reports whether s has a property access whose object or
// property is one of jsDotWords (document.cookie, x.innerHTML).
func dottedJSRef(s string) bool {
	var buf [16]byte
	word := func(w string) bool {
		if len(w) < 3 || len(w) > len(buf) {
			return false
		}
		for k := 0; k < len(w); k++ {
			buf[k] = lowerByte(w[k])
		}
		return jsDotWords[string(buf[:len(w)])]
	}
	for i := strings.IndexByte(s, '.'); i >= 0; {
		l := i
		for l > 0 && (isAlpha(lowerByte(s[l-1])) || s[l-1] == '_') {
			l--
		}
		r := i + 1
		for r < len(s) && (isAlpha(lowerByte(s[r])) || s[r] == '_') {
			r++
		}
		if l < i && r > i+1 && (word(s[l:i]) || word(s[i+1:r])) {
			return true
		}
		n := strings.IndexByte(s[i+1:], '.')
		if n < 0 {
			return false
		}
		i += 1 + n
	}
	return false
}

// colonSchemeRef reports whether a ':' in s ends a scheme or CSS property
// that runs script: javascript:, vbscript:, data:, mocha:, behavior:,
// -moz-binding:. Whitespace and control bytes inside the name are
// skipped, as browsers skip them.
func colonSchemeRef(s string) bool {
	var buf [12]byte
	for i := strings.IndexByte(s, ':'); i >= 0; {
		n := 0
		for k := i - 1; k >= 0 && n < len(buf); k-- {
			c := lowerByte(s[k])
			if c <= ' ' {
				continue
			}
			if !isAlpha(c) {
				break
			}
			n++
			buf[len(buf)-n] = c
		}
		w := string(buf[len(buf)-n:])
		if strings.HasSuffix(w, "script") || strings.HasSuffix(w, "data") || strings.HasSuffix(w, "mocha") ||
			strings.HasSuffix(w, "vbs") || strings.HasSuffix(w, "behavior") || strings.HasSuffix(w, "behaviour") ||
			strings.HasSuffix(w, "binding") {
			return true
		}
		m := strings.IndexByte(s[i+1:], ':')
		if m < 0 {
			return false
		}
		i += 1 + m
	}
	return false
}

// firstWordCmdRef is firstWordCmd before its byte table.
func firstWordCmdRef(s string) bool {
	var buf [20]byte
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	// The word, without the quotes and backslashes a shell would drop
	// (ti''me, c\at), and without a version suffix (python3.10).
	n := 0
	for j := i; j < len(s) && n < len(buf); j++ {
		c := s[j]
		if c == '\'' || c == '"' || c == '\\' || c == '`' {
			continue
		}
		if !isWordCharASCII(c) {
			break
		}
		buf[n] = lowerByte(c)
		n++
	}
	for n > 2 && ('0' <= buf[n-1] && buf[n-1] <= '9' || buf[n-1] == '.') {
		n--
	}
	if n < 2 || !bloomHas(&cmdFilter, buf[0], buf[n-1], n) {
		return false
	}
	return firstWords[string(buf[:n])]
}

// The path checks before their gates: FuzzPathRef checks they agree.
// interestingPathRef reports whether v has a segment that sensitive paths
// go through, a sensitive file name, a '%' left after decoding, or a
// scheme separator.
func interestingPathRef(v string) bool {
	var buf [16]byte
	seg := func(w string) bool {
		if len(w) == 0 || len(w) > len(buf) {
			return false
		}
		for k := 0; k < len(w); k++ {
			buf[k] = lowerByte(w[k])
		}
		lw := buf[:len(w)]
		if lw[0] == '.' || pathAnchors[string(lw)] {
			return true // a dot file (.ssh, .env, .htaccess) or an anchor
		}
		return bytes.HasSuffix(lw, []byte(".ini")) || bytes.HasSuffix(lw, []byte(".conf")) ||
			bytes.HasSuffix(lw, []byte(".cnf")) || bytes.HasSuffix(lw, []byte(".log")) ||
			bytes.HasSuffix(lw, []byte("_log")) || bytes.HasSuffix(lw, []byte(".php")) ||
			bytes.HasSuffix(lw, []byte(".bat")) || bytes.HasSuffix(lw, []byte(".sys")) ||
			bytes.HasPrefix(lw, []byte("id_rsa")) || bytes.HasPrefix(lw, []byte("passwd")) ||
			bytes.HasPrefix(lw, []byte("shadow"))
	}
	if strings.IndexByte(v, '%') >= 0 || strings.Contains(v, ":/") || strings.Contains(v, ":\\") {
		return true
	}
	start := 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || v[i] == '/' || v[i] == '\\' || v[i] == ' ' || v[i] == ':' {
			if seg(v[start:i]) {
				return true
			}
			start = i + 1
		}
	}
	return false
}

// detectPathEncodingRef inspects a raw (still escaped) request path for the
// encodings that smuggle traversal past routers: encoded dots and
// slashes, double encoding, overlong UTF-8, %u escapes, backslashes and
// NUL bytes.
func detectPathEncodingRef(raw string) (string, bool) {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '\\':
			return ReasonBackslash, true
		case 0:
			return ReasonNUL, true
		case '%':
			if i+2 >= len(raw) {
				continue
			}
			h, l := lowerByte(raw[i+1]), lowerByte(raw[i+2])
			switch {
			case h == '0' && l == '0':
				return ReasonNUL, true
			case h == '2' && l == '5':
				if i+4 < len(raw) {
					if _, ok := unhex(raw[i+3]); ok {
						if _, ok := unhex(raw[i+4]); ok {
							return ReasonDoubleEncoded, true
						}
					}
				}
			case h == '5' && l == 'c':
				return ReasonBackslash, true
			case h == 'c' && (l == '0' || l == '1'), h == 'e' && l == '0' && strings.HasPrefix(lowerASCII(raw[i+3:min(len(raw), i+6)]), "%80"):
				return ReasonOverlongUTF8, true
			case h == 'u':
				return ReasonOverEncoded, true
			}
		}
	}
	return "", false
}

func checkPathRef(t testing.TB, v string) {
	t.Helper()
	if got, want := interestingPath(v), interestingPathRef(v); got != want {
		t.Fatalf("interestingPath(%q) = %v, before %v", v, got, want)
	}
	r1, ok1 := detectPathEncoding(v)
	r2, ok2 := detectPathEncodingRef(v)
	if r1 != r2 || ok1 != ok2 {
		t.Fatalf("detectPathEncoding(%q) = %q %v, before %q %v", v, r1, ok1, r2, ok2)
	}
}

func FuzzPathRef(f *testing.F) {
	for _, s := range []string{"/etc/passwd", "/orders/5b0e2c3a", "C:\\Windows\\win.ini", "%2e%2e/", "/var/log/x.LOG", "/ID_RSA", "a_log", ".env", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkPathRef(t, s)
	})
}

// TestPathRef compares interestingPath and detectPathEncoding with their
// former forms on the corpus and on paths built from anchors and names.
func TestPathRef(t *testing.T) {
	forCorpus(t, func(row corpusRow) {
		checkPathRef(t, row.Payload)
		checkPathRef(t, strings.ToUpper(row.Payload))
	})
	parts := []string{"/", "\\", " ", ":", "%", ".", "_", "..", "id_rsa", "passwd", "shadow", "x.ini", "a.conf", "b.cnf", "c.log", "d_log", "e.php", "f.bat",
		"g.sys", "ID_RSA", "Passwd", "orders", "5b0e2c3a-8f1d", "%2e", "%25", "%c0", "%e0%80", "%u002e", "\x00", "%00", "%5c"}
	for a := range pathAnchors {
		parts = append(parts, a, strings.ToUpper(a))
	}
	sortStrings(parts)
	rng := rand.New(rand.NewPCG(71, 73))
	var b strings.Builder
	for range cases(200000) {
		b.Reset()
		for k := rng.IntN(6); k >= 0; k-- {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		checkPathRef(t, b.String())
	}
}

// onlyApostrophesRef is onlyApostrophes before it looked for quotes with
// IndexByte.
func onlyApostrophesRef(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '`':
			return false
		case '\'':
			if i == 0 || i+1 >= len(s) || !isAlpha(lowerByte(s[i-1])) || !isAlpha(lowerByte(s[i+1])) {
				return false
			}
		}
	}
	return true
}
