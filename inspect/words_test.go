package inspect

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestWordMap checks wordMap lookups against the map's on every key, the
// keys changed in case and cut, and random words.
func TestWordMap(t *testing.T) {
	words := []string{"", "a", "A", "_", "@", "@@version", "1", "x1", "$x", "abcdefghijklmnopqrstuvwxyz"}
	boolMaps := []map[string]bool{cmdStrong, cmdWeak, cmdPrefix}
	for _, m := range boolMaps {
		for k := range m {
			words = append(words, k, strings.ToUpper(k), k[:len(k)/2], k+"s", "x"+k)
		}
	}
	rng := rand.New(rand.NewPCG(43, 47))
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.$@"
	for range 100000 {
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
