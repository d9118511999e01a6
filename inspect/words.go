package inspect

// wordMap is a map from lower-case words to V behind a bloom filter over
// (first letter, last byte, length): most words of ordinary text miss the
// filter and are answered without hashing. Lookups give what the map
// gives, for any word (TestWordMap).
type wordMap[V any] struct {
	f bloom
	m map[string]V
}

// newWordMap indexes m, whose keys must have no upper-case ASCII letter
// (the filter folds the first and last bytes to lower case).
func newWordMap[V any](m map[string]V) *wordMap[V] {
	w := &wordMap[V]{m: m}
	for k := range m {
		for i := 0; i < len(k); i++ {
			if 'A' <= k[i] && k[i] <= 'Z' {
				panic("inspect: wordMap key with an upper-case letter: " + k)
			}
		}
		if len(k) > 0 {
			w.f.add([]byte(k))
		}
	}
	return w
}

// filtered reports whether k is a word the filter answers for: 2 to 20
// bytes starting with a letter. The filter holds every such key.
func filtered(k string) bool {
	if n := len(k); n < 2 || n > 20 {
		return false
	}
	a := k[0] | 0x20
	return 'a' <= a && a <= 'z'
}

// get is m[k], with ok as for a map read.
func (w *wordMap[V]) get(k string) (v V, ok bool) {
	if filtered(k) && !bloomHas(&w.f, k[0], k[len(k)-1], len(k)) {
		return v, false
	}
	v, ok = w.m[k]
	return v, ok
}

// val is m[k].
func (w *wordMap[V]) val(k string) V {
	v, _ := w.get(k)
	return v
}
