package inspect

import (
	"sync"

	"github.com/corazawaf/libinjection-go"
)

// libinjectionSQLi returns libinjection.IsSQLi(v)'s verdict, computed on
// v with its ASCII letters upper-cased when that provably gives the same
// verdict, which spares libinjection an allocation per word: it looks
// every word (and every pair of words it tries to merge into a phrase)
// up in its keyword table through strings.ToUpper, which copies a word
// that has a lower-case letter and returns an upper-case one as it is.
//
// Why the verdict is the same. libinjection-go (v0.3.5) reads the input's
// letters in these ways only:
//
//   - the byte dispatch table sends a letter and its upper-case form to
//     the same parser (b/B, e/E, n/N, q/Q, u/U, x/X to their literal
//     parsers, every other letter to parseWord), and every other byte
//     (digits, punctuation, bytes >= 0x80) is left as it is;
//   - word, phrase (merged word pair) and two-byte operator lookups go
//     through strings.ToUpper, and ToUpper(asciiUpper(w)) == ToUpper(w):
//     ToUpper maps rune by rune, an ASCII letter's upper case is itself
//     upper-cased, and bytes >= 0x80 are untouched, so the UTF-8 decoding
//     of the rest (an ASCII byte is never part of a multi-byte sequence)
//     is the same;
//   - the other letter tests are case-insensitive: toUpperCmp (USER,
//     NOT, INTO, LIKE, IN, ...), 0x/0X and 0b/0B, e/E exponents, d/D/f/F
//     suffixes, u/U after them, i/I f/F of IF, the hex digits a-f/A-F of
//     X'..' and 0x..;
//   - the fingerprint is built from token categories, never from the
//     input's bytes; token lengths and positions do not change since
//     upper-casing keeps every byte's position.
//
// The exceptions, where v is passed as it is:
//
//   - '\\': "\N" (capital N only) is MySQL's NULL, "\n" is not;
//   - '$': a PostgreSQL $tag$ string ends at the same tag, compared
//     case-sensitively;
//   - q' or Q' (Oracle's q'X...X' strings, also after N): the closing
//     delimiter is compared case-sensitively and may be a letter;
//   - "sp_password" in any case: notWhitelist looks for it in lower case.
//
// TestLibinjectionUpper and FuzzLibinjectionUpper check the two calls
// agree on the corpus, its variants and generated values.
func libinjectionSQLi(v string) bool {
	if len(v) > maxUpperLen {
		ok, _ := libinjection.IsSQLi(v)
		return ok
	}
	bp := upperBufs.Get().(*[]byte)
	defer upperBufs.Put(bp)
	if cap(*bp) < len(v) {
		*bp = make([]byte, len(v))
	}
	b := (*bp)[:len(v)]
	for i := 0; i < len(v); i++ {
		c := v[i]
		u := upperTab[c]
		if u == 0 {
			// '\\', '$', '\'', '_' or NUL: look for the exceptions.
			if c == '\\' || c == '$' || c == '\'' && i > 0 && v[i-1]|0x20 == 'q' ||
				c == '_' && i >= 2 && v[i-1]|0x20 == 'p' && v[i-2]|0x20 == 's' && hasFoldPrefix(v[i+1:], "password") {
				// libinjection reads v as it is.
				ok, _ := libinjection.IsSQLi(v)
				return ok
			}
			u = c
		}
		b[i] = u
	}
	ok, _ := libinjection.IsSQLi(bytesString(b))
	return ok
}

// upperTab maps a byte to its ASCII upper case, and the bytes that start
// an exception ('\\', '$', '\”, '_') and NUL to 0.
var upperTab = func() (t [256]byte) {
	for c := 1; c < 256; c++ {
		t[c] = byte(c)
		if 'a' <= c && c <= 'z' {
			t[c] = byte(c) - ('a' - 'A')
		}
	}
	t['\\'], t['$'], t['\''], t['_'] = 0, 0, 0, 0
	return t
}()

// maxUpperLen bounds the values upper-cased into a pooled buffer.
const maxUpperLen = 4096

var upperBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}
