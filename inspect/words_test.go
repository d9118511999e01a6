package inspect

import (
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// TestWordMap checks wordMap lookups against the map's on every key, the
// keys changed in case and cut, and random words.
func TestWordMap(t *testing.T) {
	words := []string{"", "a", "A", "_", "@", "@@version", "1", "x1", "$x", "abcdefghijklmnopqrstuvwxyz"}
	boolMaps := []map[string]bool{cmdStrong, cmdWeak, cmdPrefix, jsDotWords, sqlObjects, sqlFuncs, sqlTypes, sqlStatements, sqlDDLObjects, sqlGlueWords, sqlExprWords}
	for _, m := range boolMaps {
		for k := range m {
			words = append(words, k, strings.ToUpper(k), k[:len(k)/2], k+"s", "x"+k)
		}
	}
	rng := rand.New(rand.NewPCG(43, 47))
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.$@"
	for range cases(100000) {
		b := make([]byte, 1+rng.IntN(22))
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		words = append(words, string(b))
	}
	for _, m := range boolMaps {
		wm := newWordMap(m)
		for _, w := range words {
			v, ok := m[w]
			if gv, gok := wm.get(w); gv != v || gok != ok {
				t.Fatalf("get(%q) = %v %v, map %v %v", w, gv, gok, v, ok)
			}
		}
	}
}

// TestBloomHoldsKeys checks every filter answers yes for each word of its
// set, in lower, upper and title case: the filters may only let words
// through that their sets then reject.
func TestBloomHoldsKeys(t *testing.T) {
	check := func(name string, f *bloom, words []string) {
		for _, w := range words {
			for _, v := range []string{w, strings.ToUpper(w), strings.ToUpper(w[:1]) + w[1:]} {
				if !bloomHas(f, v[0], v[len(v)-1], len(v)) {
					t.Fatalf("%s: bloomHas(%q) = false", name, v)
				}
			}
		}
	}
	keys := func(m map[string]bool) (ks []string) {
		for k := range m {
			ks = append(ks, k)
		}
		return ks
	}
	var kinds []string
	for k := range wordKinds {
		kinds = append(kinds, k)
	}
	check("wordFilter", &wordFilter, kinds)
	check("cmdFilter", &cmdFilter, keys(firstWords))
	check("cmdStrong", &cmdStrongWords.f, keys(cmdStrong))
	check("cmdWeak", &cmdWeakWords.f, keys(cmdWeak))
	check("cmdPrefix", &cmdPrefixWords.f, keys(cmdPrefix))
	check("jsDotWords", &jsDotWordSet.f, keys(jsDotWords))
	check("sqlObjects", &sqlObjectSet.f, keys(sqlObjects))
	check("sqlFuncs", &sqlFuncSet.f, keys(sqlFuncs))
	check("sqlTypes", &sqlTypeSet.f, keys(sqlTypes))
	check("sqlStatements", &sqlStatementSet.f, keys(sqlStatements))
	check("sqlDDLObjects", &sqlDDLObjectSet.f, keys(sqlDDLObjects))
	check("sqlGlueWords", &sqlGlueWordSet.f, keys(sqlGlueWords))
	check("sqlExprWords", &sqlExprWordSet.f, keys(sqlExprWords))
	check("pathAnchors", &pathAnchorSet.f, keys(pathAnchors))
}

func sortStrings(s []string) { sort.Strings(s) }

// cases returns n, or a tenth of it under the race detector: the number of
// generated values a reference test checks.
func cases(n int) int {
	if raceEnabled {
		return n / 10
	}
	return n
}
