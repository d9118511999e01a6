package inspect

import (
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
