package inspect

import (
	"strings"
	"sync"
	_ "unsafe" // go:linkname

	"github.com/corazawaf/libinjection-go"
)

// libinjectionSQLi returns libinjection.IsSQLi(v)'s verdict (v has byte
// flags flags): false at once when barewordPair proves it, otherwise
// computed on v with its ASCII letters upper-cased when that provably
// gives the same verdict, which spares libinjection an allocation per
// word: it looks every word (and every pair of words it tries to merge
// into a phrase) up in its keyword table through strings.ToUpper, which
// copies a word that has a lower-case letter and returns an upper-case
// one as it is.
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
func libinjectionSQLi(v string, flags uint64) bool {
	if barewordPair(v, flags) {
		return false // see barewordPair
	}
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

// libinjection's keyword table: word (upper case) -> token category, and
// "0"+fingerprint -> 'F' for the fingerprints it reports. It is read, never
// written, to know which words its tokenizer takes for plain barewords
// (see barewordPair); a build against a version without the table fails to
// link rather than silently skipping the check.
//
//go:linkname libinjectionKeywords github.com/corazawaf/libinjection-go.sqlKeywords
var libinjectionKeywords map[string]byte

// libinjectionWords are the lower-cased words barewordPair cannot take for
// barewords: every word whose category in the table is not a bareword, and
// the first word of every phrase (libinjection merges "CURRENT DATE" into
// one keyword token). barewordGate is false when the table does not have
// the shape the proof at barewordPair relies on; libinjectionSQLi then
// always runs libinjection.
var libinjectionWords, barewordGate = func() (*wordMap[bool], bool) {
	m := map[string]bool{}
	ok := len(libinjectionKeywords) > 0 && libinjectionKeywords["SELECT"] == 'E'
	for k, c := range libinjectionKeywords {
		if strings.HasPrefix(k, "0") {
			// A fingerprint: none may start with two barewords.
			if c == 'F' && len(k) >= 3 && k[1] == 'N' && k[2] == 'N' {
				ok = false
			}
			continue
		}
		first, _, phrase := strings.Cut(k, " ")
		if phrase || c != 'n' {
			m[strings.ToLower(first)] = true
		}
	}
	for _, w := range []string{"user_id", "user_name", "database", "password", "user", "current_user", "current_date",
		"current_time", "current_timestamp", "localtime", "localtimestamp"} {
		m[w] = true // fold makes these functions before '('
	}
	return newWordMap(m), ok
}()

// barewordPair reports whether libinjection's SQL tokenizer reads v as two
// plain barewords and then anything: the proof that libinjection.IsSQLi(v)
// is false, which libinjectionSQLi uses to skip it. flags are v's byte
// flags.
//
// Why IsSQLi is then false (libinjection-go v0.3.5, sqli.go and
// sqli_parse.go). IsSQLi is true only when a fingerprint, the categories of
// the first five tokens after folding, is in the table as "0"+fingerprint
// with category 'F'; no such entry starts with "NN" (checked when the
// table is read, or the gate is off). So it suffices that every pass
// libinjection makes over v folds to tokens whose first two are barewords:
//
//   - v has no ' or ": libinjection then makes no pass that pretends v
//     starts inside a string; the MySQL pass, made after a '#' or "--",
//     reads the first two words as the ANSI pass does;
//   - v has no '/': no token is "evil" (a nested or /*! comment), which
//     would make the fingerprint "X"; the only other evil token, '{'
//     before an empty backtick-quoted word, needs a quote, but v has no
//     '{' either;
//   - after the bytes the tokenizer skips as whitespace (0-32, 127, 160), v
//     starts with a letter and a run of [A-Za-z0-9_] (W1) that ends at a
//     byte both its word parser stops at and its whitespace skips (NUL, tab,
//     LF, VT, FF, CR, space, 160), then after whitespace a letter and a run
//     of [A-Za-z0-9_] (W2) that ends the input or ends at a byte the word
//     parser stops at. With no quote after them, letters that start string
//     literals (b, e, n, q, u, x) are read as words; without '.' or '`' in
//     them, each is looked up whole: neither is in the table with another
//     category than bareword (libinjectionWords), so both are barewords;
//   - no fold rule changes them: the rules that rewrite, merge or drop the
//     token at left or left+1 need it to be an operator, comma, dot, '(',
//     ')', '}', ';', a keyword, function, expression, group, collate, SQL
//     type, backslash, number or variable, except two: a phrase merge,
//     excluded since neither word starts a phrase, and a bareword before
//     '(' named USER, DATABASE, CURRENT_DATE... (made a function),
//     excluded by name; the five-token resets need an operator, comma or
//     ')' second. Folds of later tokens only drop or rewrite tokens after
//     the first two, and a trailing comment is appended after them.
//
// TestLibinjectionGate checks the gate against libinjection on the corpus
// and on generated values that pass it.
func barewordPair(v string, flags uint64) bool {
	if !barewordGate || flags&(fQuote|fSlash|fBrace) != 0 {
		return false
	}
	i := 0
	for i < len(v) && libinjectionWhite(v[i]) {
		i++
	}
	s1 := i
	if i >= len(v) || !isLetter(v[i]) {
		return false
	}
	for i < len(v) && keyByte[v[i]] {
		i++
	}
	e1 := i
	if i >= len(v) {
		return false
	}
	switch v[i] {
	case 0, '\t', '\n', '\v', '\f', '\r', ' ', 0xa0:
	default:
		return false
	}
	for i < len(v) && libinjectionWhite(v[i]) {
		i++
	}
	s2 := i
	if i >= len(v) || !isLetter(v[i]) {
		return false
	}
	for i < len(v) && keyByte[v[i]] {
		i++
	}
	if i < len(v) && !libinjectionWordEnd[v[i]] {
		return false
	}
	return !libinjectionWord(v[s1:e1]) && !libinjectionWord(v[s2:i])
}

// libinjectionWord reports whether w ([A-Za-z0-9_], starting with a
// letter) is in libinjectionWords, in any case.
func libinjectionWord(w string) bool {
	if len(w) > 32 {
		return true // too long for buf: taken for a keyword, which is safe
	}
	if !bloomHas(&libinjectionWords.f, w[0], w[len(w)-1], len(w)) {
		return false
	}
	var buf [32]byte
	for k := 0; k < len(w); k++ {
		buf[k] = lowerByte(w[k])
	}
	return libinjectionWords.m[string(buf[:len(w)])]
}

// libinjectionWhite reports whether libinjection's tokenizer skips c as
// whitespace.
func libinjectionWhite(c byte) bool { return c <= ' ' || c == 0x7f || c == 0xa0 }

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// libinjectionWordEnd are the bytes libinjection's word parser stops at.
var libinjectionWordEnd = func() (t [256]bool) {
	for _, c := range []byte(" []{}<>:\\?=@!#~+-*/&|^%(),';\t\n\v\f\r\"\xa0\x00") {
		t[c] = true
	}
	return t
}()
