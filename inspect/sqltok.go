package inspect

import "strings"

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
	text string
	pos  int // byte offset in the lexed string
	kind tokKind
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

func isWordByte(c byte) bool { return lexClass[c]&lxWord != 0 }

// Byte classes of sqlLex.
const (
	lxSpace = 1 << iota // ' ' \t \n \r \v \f NUL: skipped
	lxWord              // isWordByte: [a-z0-9_$] and bytes >= 0x80
	lxDigit             // 0-9: a number starts
)

var lexClass = func() (t [256]uint8) {
	for _, c := range []byte{' ', '\t', '\n', '\r', '\v', '\f', 0} {
		t[c] = lxSpace
	}
	for c := 0; c < 256; c++ {
		if c == '_' || c == '$' || 'a' <= c && c <= 'z' || c >= 0x80 {
			t[c] = lxWord
		}
		if '0' <= c && c <= '9' {
			t[c] = lxWord | lxDigit
		}
	}
	return t
}()

// lineComment appends the comment token for mark ("--" or "#") at s[i]
// and returns the index past the comment's line.
func lineComment(toks []token, s string, i int, mark string) ([]token, int) {
	from := i + len(mark)
	t := token{mark, i, tComment, byteAt(s, from), false}
	end := indexByteFrom(s, '\n', i)
	if end < 0 {
		t.bare = bareRest(s[from:])
		return append(toks, t), len(s)
	}
	t.bare = bareRest(s[from:end])
	return append(toks, t), end + 1
}

// sqlLex splits lower-cased s into tokens, appending to buf.
func sqlLex(s string, buf []token) []token {
	toks := buf[:0]
	for i := 0; i < len(s) && len(toks) < maxSQLTokens; {
		c := s[i]
		switch cl := lexClass[c]; {
		case cl&lxSpace != 0:
			i++
			continue
		case cl&lxDigit != 0, c == '.' && i+1 < len(s) && lexClass[s[i+1]]&lxDigit != 0: // 1.5, .5
			j := i + 1
			for j < len(s) && (lexClass[s[j]]&lxWord != 0 || s[j] == '.') {
				j++
			}
			toks = append(toks, token{s[i:j], i, tNumber, 0, false})
			i = j
			continue
		case cl&lxWord != 0:
			j := i + 1
			for j < len(s) && lexClass[s[j]]&lxWord != 0 {
				j++
			}
			toks = append(toks, token{s[i:j], i, tWord, 0, false})
			i = j
			continue
		}
		switch c {
		case '/':
			if i+1 < len(s) && s[i+1] == '*' {
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
				end := indexFrom(s, "*/", i+2)
				if end < 0 {
					i = len(s)
				} else {
					i = end + 2
					toks[len(toks)-1].follow = byteAt(s, i)
				}
				continue
			}
		case '*':
			if i+1 < len(s) && s[i+1] == '/' {
				i += 2 // end of an executable comment, or a stray closer
				continue
			}
		case '-':
			if i+1 < len(s) && s[i+1] == '-' {
				toks, i = lineComment(toks, s, i, "--")
				continue
			}
		case '#':
			toks, i = lineComment(toks, s, i, "#")
			continue
		case '\'', '"', '`':
			toks = append(toks, token{s[i : i+1], i, tQuote, 0, false})
			i++
			continue
		case '@':
			j := i + 1
			if j < len(s) && s[j] == '@' {
				j++
			}
			k := j
			for k < len(s) && (lexClass[s[k]]&lxWord != 0 || s[k] == '.') {
				k++
			}
			toks = append(toks, token{s[i:k], i, tVar, 0, false})
			i = k
			continue
		}
		if n := opLen(s[i:]); n > 0 {
			toks = append(toks, token{s[i : i+n], i, tOp, 0, false})
			i += n
			continue
		}
		toks = append(toks, token{s[i : i+1], i, tPunct, 0, false})
		i++
	}
	return toks
}

// opLen returns the length of the operator at the start of s, or 0. The
// operators are <=> #>> ->> !== === <> != <= >= == || && :: @> <@ -> #>
// ?| ?& @? #- !< !> ~* !~ = < > | & ^ ~ !, the longest that s starts
// with (FuzzSQLLex checks this against the list).
func opLen(s string) int {
	var c1, c2 byte
	if len(s) > 1 {
		c1 = s[1]
	}
	if len(s) > 2 {
		c2 = s[2]
	}
	switch s[0] {
	case '<':
		switch {
		case c1 == '=' && c2 == '>':
			return 3
		case c1 == '>' || c1 == '=' || c1 == '@':
			return 2
		}
		return 1
	case '>':
		if c1 == '=' {
			return 2
		}
		return 1
	case '=':
		switch {
		case c1 == '=' && c2 == '=':
			return 3
		case c1 == '=':
			return 2
		}
		return 1
	case '!':
		switch {
		case c1 == '=' && c2 == '=':
			return 3
		case c1 == '=' || c1 == '<' || c1 == '>' || c1 == '~':
			return 2
		}
		return 1
	case '#':
		switch {
		case c1 == '>' && c2 == '>':
			return 3
		case c1 == '>' || c1 == '-':
			return 2
		}
	case '-':
		switch {
		case c1 == '>' && c2 == '>':
			return 3
		case c1 == '>':
			return 2
		}
	case '|':
		if c1 == '|' {
			return 2
		}
		return 1
	case '&':
		if c1 == '&' {
			return 2
		}
		return 1
	case ':':
		if c1 == ':' {
			return 2
		}
	case '@':
		if c1 == '>' || c1 == '?' {
			return 2
		}
	case '?':
		if c1 == '|' || c1 == '&' {
			return 2
		}
	case '~':
		if c1 == '*' {
			return 2
		}
		return 1
	case '^':
		return 1
	}
	return 0
}

func indexFrom(s, sub string, from int) int {
	if from > len(s) {
		return -1
	}
	if i := strings.Index(s[from:], sub); i >= 0 {
		return from + i
	}
	return -1
}

func indexByteFrom(s string, c byte, from int) int {
	if from > len(s) {
		return -1
	}
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return -1
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}
