package inspect

// A deliberately simple SQL lexer for the rules libinjection's fingerprints
// do not cover. It does not parse string literals: an injected value is a
// fragment whose quotes close the application's literal, so quotes are
// tokens of their own and the rules look at what surrounds them.

type tokKind uint8

const (
	tWord    tokKind = iota + 1 // identifier or keyword, lower-cased
	tNumber                     // 12, 0x1f, 1.5e3
	tQuote                      // ' " `
	tOp                         // = <> != <= >= < > <=> || && :: and the JSON operators
	tPunct                      // ( ) , ; . and other single bytes
	tComment                    // -- # /* */; text is the opener
	tVar                        // @name, @@name
)

type token struct {
	kind tokKind
	pos  int // byte offset in the lexed string
	text string
	// follow is, for -- and # comments, the byte right after the opener,
	// and for /* */ the byte right after its end (0 at the end of the
	// value).
	follow byte
	// bare is, for -- and # comments, that nothing but spaces, dashes
	// and '+' follows on the line: the comment only cuts the query off.
	bare bool
}

// bareRest reports whether s holds only spaces, dashes and '+'.
func bareRest(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '\t' && c != '-' && c != '+' && c != '\r' {
			return false
		}
	}
	return true
}

// maxSQLTokens bounds the lexer's work on a long value: injected SQL is
// found near its start, and a 2 KB description is not worth lexing whole.
const maxSQLTokens = 256

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c >= 0x80
}

// sqlLex splits lower-cased s into tokens, appending to buf.
func sqlLex(s string, buf []token) []token {
	toks := buf[:0]
	for i := 0; i < len(s) && len(toks) < maxSQLTokens; {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0:
			i++
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			if i+2 < len(s) && s[i+2] == '!' {
				// MySQL executable comment: its content is code.
				toks = append(toks, token{tComment, i, "/*!", 0, false})
				i += 3
				for i < len(s) && '0' <= s[i] && s[i] <= '9' {
					i++
				}
				continue
			}
			toks = append(toks, token{tComment, i, "/*", 0, false})
			end := indexFrom(s, "*/", i+2)
			if end < 0 {
				i = len(s)
			} else {
				i = end + 2
				toks[len(toks)-1].follow = byteAt(s, i)
			}
		case c == '*' && i+1 < len(s) && s[i+1] == '/':
			i += 2 // end of an executable comment, or a stray closer
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			toks = append(toks, token{tComment, i, "--", byteAt(s, i+2), false})
			end := indexByteFrom(s, '\n', i)
			if end < 0 {
				toks[len(toks)-1].bare = bareRest(s[i+2:])
				i = len(s)
			} else {
				toks[len(toks)-1].bare = bareRest(s[i+2 : end])
				i = end + 1
			}
		case c == '#':
			toks = append(toks, token{tComment, i, "#", byteAt(s, i+1), false})
			end := indexByteFrom(s, '\n', i)
			if end < 0 {
				toks[len(toks)-1].bare = bareRest(s[i+1:])
				i = len(s)
			} else {
				toks[len(toks)-1].bare = bareRest(s[i+1 : end])
				i = end + 1
			}
		case c == '\'' || c == '"' || c == '`':
			toks = append(toks, token{tQuote, i, s[i : i+1], 0, false})
			i++
		case c == '@':
			j := i + 1
			if j < len(s) && s[j] == '@' {
				j++
			}
			k := j
			for k < len(s) && (isWordByte(s[k]) || s[k] == '.') {
				k++
			}
			toks = append(toks, token{tVar, i, s[i:k], 0, false})
			i = k
		case '0' <= c && c <= '9' || c == '.' && i+1 < len(s) && '0' <= s[i+1] && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && (isWordByte(s[j]) || s[j] == '.') {
				j++
			}
			toks = append(toks, token{tNumber, i, s[i:j], 0, false})
			i = j
		case isWordByte(c):
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, token{tWord, i, s[i:j], 0, false})
			i = j
		default:
			if n := opLen(s[i:]); n > 0 {
				toks = append(toks, token{tOp, i, s[i : i+n], 0, false})
				i += n
				continue
			}
			toks = append(toks, token{tPunct, i, s[i : i+1], 0, false})
			i++
		}
	}
	return toks
}

// opLen returns the length of the operator at the start of s, or 0.
func opLen(s string) int {
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

func indexFrom(s, sub string, from int) int {
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

func indexByteFrom(s string, c byte, from int) int {
	for i := from; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}
