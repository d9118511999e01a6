package inspect

// wordMap is a map from lower-case words to V behind a bloom filter over
// (first byte, last byte, length): most words of ordinary text miss the
// filter and are answered without hashing. Lookups give what the map
// gives, for any word (TestWordMap).
type wordMap[V any] struct {
	f bloom
	m map[string]V
}

// newWordMap indexes m, whose keys must have no upper-case ASCII letter
// (callers fold words to lower case before looking them up, and check the
// filter before folding).
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

// get is m[k], with ok as for a map read.
func (w *wordMap[V]) get(k string) (v V, ok bool) {
	if len(k) > 0 && !bloomHas(&w.f, k[0], k[len(k)-1], len(k)) {
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
