package inspect

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/corazawaf/libinjection-go"
)

// scanJSRef is scanJS as it was before jsMask and the anchored searches:
// FuzzScanJS and TestScanJSRef check they agree.
//
// scanJSRef finds script syntax: sink calls in lower (where the name must be
// glued to its parenthesis: prose says "please confirm (yes)") and DOM
// objects in compact, both with JS comments removed.
func scanJSRef(lower, compact string) (string, bool) {
	s := lower
	if strings.Contains(s, "/*") {
		s = stripBlockComments(s)
	}
	// A trigram filter over s spares the search for most names: a name
	// (three bytes or more) that occurs in s has its first and last
	// trigrams in s.
	var tg trigrams
	tg.add(s)
	for _, name := range jsSinks {
		if !tg.mayHave(name) {
			continue
		}
		for i := strings.Index(s, name); i >= 0; i = nextIndex(s, name, i+len(name)) {
			if i > 0 && (isAlnum(s[i-1]) || s[i-1] == '_') {
				continue
			}
			k := i + len(name)
			if k >= len(s) {
				break
			}
			c := s[k]
			switch {
			case c == '(' || c == '`':
				if name == "open" || name == "write" || name == "writeln" || name == "execute" || name == "import" || name == "function" || name == "constructor" || name == "fetch" {
					// Common words: need a dot before or code after.
					if !(i > 0 && s[i-1] == '.') && !jsArgs(s[k:]) {
						continue
					}
				}
				return ReasonXSSSink, true
			case c == ')' && k+1 < len(s) && s[k+1] == '(': // (alert)(1)
				return ReasonXSSSink, true
			case c == '?' && strings.HasPrefix(s[k:], "?.(") || c == '?' && strings.HasPrefix(s[k:], "?.call"): // alert?.(1)
				return ReasonXSSSink, true
			case c == '.' && (strings.HasPrefix(s[k:], ".call") || strings.HasPrefix(s[k:], ".apply") || strings.HasPrefix(s[k:], ".bind")):
				return ReasonXSSSink, true
			case c == '[' || c == ';' && i > 0 && s[i-1] == '=':
				return ReasonXSSSink, true
			}
		}
	}
	if compact != lower {
		s = compact
		if strings.Contains(s, "/*") {
			s = stripBlockComments(s)
		}
		tg = trigrams{}
		tg.add(s)
	}
	for _, o := range jsObjects {
		if tg.mayHave(o) && strings.Contains(s, o) {
			if o[0] == '.' || o == "$on" || o == ".prototype." || o == "location=" || o == "opener." || o == "localstorage" || o == "sessionstorage" || o == "(document)" {
				// Plain-text risk: require other script syntax too.
				if !strings.ContainsAny(s, "();=[]`") {
					continue
				}
				if o == ".apply(" || o == ".call(" {
					continue // only meaningful with a sink, handled above
				}
			}
			return ReasonXSSSink, true
		}
	}
	if jsFuck(s) {
		return ReasonXSSSink, true
	}
	if strings.Contains(s, "{{") && (strings.Contains(s, "constructor") || strings.Contains(s, "$eval") || strings.Contains(s, "$on") || strings.Contains(s, "alert")) {
		return ReasonXSSTemplate, true
	}
	if cssScript(s) && strings.ContainsAny(s, ":(") {
		return ReasonXSSCSS, true
	}
	return "", false
}

// trigrams is a 4096-bit set of the hashed three-byte substrings of a
// string: a needle of three bytes or more can occur in the string only if
// its first and last trigrams are in the set (no false negatives).
type trigrams [64]uint64

func trigramHash(a, b, c byte) uint { return (uint(a)*0x3bd + uint(b)*0x4f + uint(c)) & 4095 }

func (t *trigrams) add(s string) {
	for i := 0; i+2 < len(s); i++ {
		h := trigramHash(s[i], s[i+1], s[i+2])
		t[h>>6] |= 1 << (h & 63)
	}
}

func (t *trigrams) mayHave(w string) bool {
	if len(w) < 3 {
		return true
	}
	h := trigramHash(w[0], w[1], w[2])
	n := len(w)
	g := trigramHash(w[n-3], w[n-2], w[n-1])
	return t[h>>6]&(1<<(h&63)) != 0 && t[g>>6]&(1<<(g&63)) != 0
}

// detectXSSRef is detectXSS before it skipped scanSchemes and
// scanEventAttr on values without ':' and '=', with scanJSRef.
func detectXSSRef(v, lower, compact string) (string, bool) {
	hasLT := strings.IndexByte(lower, '<') >= 0
	if hasLT {
		if r, ok := scanTags(lower); ok {
			return r, true
		}
	}
	if r, ok := scanSchemes(lower, compact); ok {
		return r, true
	}
	if r, ok := scanEventAttr(lower, hasLT); ok {
		return r, true
	}
	if r, ok := scanJSRef(lower, compact); ok {
		return r, true
	}
	if (hasLT || strings.IndexByte(v, '=') >= 0 && strings.ContainsAny(lower, "\"'`")) && libinjection.IsXSS(v) {
		if !xmlPrologOnly(lower) {
			return ReasonXSSFingerprint, true
		}
	}
	return "", false
}

func checkScanJS(t testing.TB, v string) {
	t.Helper()
	lower := lowerASCII(v)
	compact := compactForm(lower)
	r1, ok1 := scanJS(lower, nil)
	r2, ok2 := scanJSRef(lower, compact)
	if r1 != r2 || ok1 != ok2 {
		t.Fatalf("scanJS(%q) = %q %v, before %q %v", v, r1, ok1, r2, ok2)
	}
	r1, ok1 = detectXSS(v, lower, scanBytes(v), nil)
	r2, ok2 = detectXSSRef(v, lower, compact)
	if r1 != r2 || ok1 != ok2 {
		t.Fatalf("detectXSS(%q) = %q %v, before %q %v", v, r1, ok1, r2, ok2)
	}
}

func FuzzScanJS(f *testing.F) {
	for _, s := range []string{"alert(1)", "x=eval;", "document.cookie", "a.innerHTML=1", "(alert)(1)", "alert?.(1)", "top[x]", "![]+![]",
		"{{constructor.constructor('x')()}}", "style=expression(1)", "Energy gel, lemon (box of 24)", "open (the door)", "$.get('x')", "exec/**/ute(1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkScanJS(t, s)
	})
}

// scanJSFragments are the pieces TestScanJSRef builds values from: the
// names and objects scanJS looks for, cut and whole, and the bytes around
// them.
var scanJSFragments = func() []string {
	fs := []string{"(", ")", "`", "?", ".", "[", "]", ";", "=", "{", "}", "{{", "$", "_", "!", ":", "'", "\"", "/*", "*/", " ", "\t", "x", "1", "a", "é", ".call", ".apply(", ".bind", "?.(", "?.call", "-moz-binding", "@import", "url(", "javascript", "expression(", "behavior:", "behaviour:", "$eval", "$on", "constructor"}
	for _, l := range [][]string{jsSinks, jsObjects} {
		for _, w := range l {
			fs = append(fs, w, w[:len(w)/2], w[len(w)/2:])
		}
	}
	return fs
}()

// TestScanJSRef compares scanJS with scanJSRef on the corpus and on values
// generated from scanJSFragments.
func TestScanJSRef(t *testing.T) {
	forCorpus(t, func(row corpusRow) {
		checkScanJS(t, row.Payload)
	})
	rng := rand.New(rand.NewPCG(13, 17))
	var b strings.Builder
	for range cases(300000) {
		b.Reset()
		for k := rng.IntN(6); k >= 0; k-- {
			b.WriteString(scanJSFragments[rng.IntN(len(scanJSFragments))])
		}
		checkScanJS(t, b.String())
	}
}
