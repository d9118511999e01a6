package inspect

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// sqlLexRef is sqlLex as it was before its byte-class table and the
// switch in opLen: FuzzSQLLex and TestSQLLexRef check they agree.
// sqlLexRef splits lower-cased s into tokens, appending to buf.
func sqlLexRef(s string, buf []token) []token {
	toks := buf[:0]
	for i := 0; i < len(s) && len(toks) < maxSQLTokens; {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0:
			i++
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			if i+2 < len(s) && s[i+2] == '!' {
				// MySQL executable comment: its content is code.
				toks = append(toks, token{"/*!", i, tComment, 0, false})
				i += 3
				for i < len(s) && '0' <= s[i] && s[i] <= '9' {
					i++
				}
				continue
			}
			toks = append(toks, token{"/*", i, tComment, 0, false})
			end := indexFromRef(s, "*/", i+2)
			if end < 0 {
				i = len(s)
			} else {
				i = end + 2
				toks[len(toks)-1].follow = byteAt(s, i)
			}
		case c == '*' && i+1 < len(s) && s[i+1] == '/':
			i += 2 // end of an executable comment, or a stray closer
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			toks = append(toks, token{"--", i, tComment, byteAt(s, i+2), false})
			end := indexByteFromRef(s, '\n', i)
			if end < 0 {
				toks[len(toks)-1].bare = bareRest(s[i+2:])
				i = len(s)
			} else {
				toks[len(toks)-1].bare = bareRest(s[i+2 : end])
				i = end + 1
			}
		case c == '#':
			toks = append(toks, token{"#", i, tComment, byteAt(s, i+1), false})
			end := indexByteFromRef(s, '\n', i)
			if end < 0 {
				toks[len(toks)-1].bare = bareRest(s[i+1:])
				i = len(s)
			} else {
				toks[len(toks)-1].bare = bareRest(s[i+1 : end])
				i = end + 1
			}
		case c == '\'' || c == '"' || c == '`':
			toks = append(toks, token{s[i : i+1], i, tQuote, 0, false})
			i++
		case c == '@':
			j := i + 1
			if j < len(s) && s[j] == '@' {
				j++
			}
			k := j
			for k < len(s) && (isWordByteRef(s[k]) || s[k] == '.') {
				k++
			}
			toks = append(toks, token{s[i:k], i, tVar, 0, false})
			i = k
		case '0' <= c && c <= '9' || c == '.' && i+1 < len(s) && '0' <= s[i+1] && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && (isWordByteRef(s[j]) || s[j] == '.') {
				j++
			}
			toks = append(toks, token{s[i:j], i, tNumber, 0, false})
			i = j
		case isWordByteRef(c):
			j := i + 1
			for j < len(s) && isWordByteRef(s[j]) {
				j++
			}
			toks = append(toks, token{s[i:j], i, tWord, 0, false})
			i = j
		default:
			if n := opLenRef(s[i:]); n > 0 {
				toks = append(toks, token{s[i : i+n], i, tOp, 0, false})
				i += n
				continue
			}
			toks = append(toks, token{s[i : i+1], i, tPunct, 0, false})
			i++
		}
	}
	return toks
}

// opLen returns the length of the operator at the start of s, or 0.
func opLenRef(s string) int {
	for _, op := range sqlOps {
		if len(s) >= len(op) && s[:len(op)] == op {
			return len(op)
		}
	}
	return 0
}

// Longest first.
var sqlOps = []string{
	"<=>", "#>>", "->>", "!==", "===",
	"<>", "!=", "<=", ">=", "==", "||", "&&", "::", "@>", "<@", "->", "#>", "?|", "?&", "@?", "#-", "!<", "!>", "~*", "!~",
	"=", "<", ">", "|", "&", "^", "~", "!",
}

func isWordByteRef(c byte) bool {
	return c == '_' || c == '$' || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c >= 0x80
}

func indexFromRef(s, sub string, from int) int {
	if from > len(s) {
		return -1
	}
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func indexByteFromRef(s string, c byte, from int) int {
	for i := from; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func checkSQLLex(t testing.TB, s string) {
	t.Helper()
	got := sqlLex(s, nil)
	want := sqlLexRef(s, nil)
	if len(got) != len(want) || len(got) > 0 && !reflect.DeepEqual(got, want) {
		t.Fatalf("sqlLex(%q) = %+v, before %+v", s, got, want)
	}
}

func FuzzSQLLex(f *testing.F) {
	for _, s := range []string{"1' or '1'='1' --", "a<=>b #>> c ->> d !== e === f", "/*!50000union*/ select @@version", "x.5e3 .5 @a.b", "é$_x ~* !~ ?| ?& @? #- !< !>", "--\n#\n/*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSQLLex(t, s)
		checkSQLLex(t, strings.ToLower(s))
		for i := 0; i < len(s) && i < 8; i++ {
			if a, b := opLen(s[i:]), opLenRef(s[i:]); a != b {
				t.Fatalf("opLen(%q) = %d, before %d", s[i:], a, b)
			}
		}
	})
}

// TestSQLLexRef compares sqlLex with sqlLexRef on the corpus (lower-cased
// and as it is) and on generated strings of operator and token bytes.
func TestSQLLexRef(t *testing.T) {
	forCorpus(t, func(row corpusRow) {
		checkSQLLex(t, row.Payload)
		checkSQLLex(t, strings.ToLower(row.Payload))
	})
	const alphabet = "<>=!#-|&:@?~*^/.'\"`$_ \t\n\x00\xc3\xa9aZ09+,;()[]{}%\\"
	rng := rand.New(rand.NewPCG(3, 5))
	b := make([]byte, 0, 16)
	for range cases(100000) {
		b = b[:0]
		for k := rng.IntN(12); k >= 0; k-- {
			b = append(b, alphabet[rng.IntN(len(alphabet))])
		}
		checkSQLLex(t, string(b))
		for i := range b {
			if x, y := opLen(string(b[i:])), opLenRef(string(b[i:])); x != y {
				t.Fatalf("opLen(%q) = %d, before %d", b[i:], x, y)
			}
		}
	}
}
