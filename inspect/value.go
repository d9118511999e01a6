package inspect

import (
	"strings"
)

// Class is a kind of attack.
type Class uint8

// Classes of attack. The zero Class is none.
const (
	ClassSQLi             Class = iota + 1 // SQL injection
	ClassXSS                               // cross-site scripting (HTML and script injection)
	ClassPathTraversal                     // path traversal and file inclusion
	ClassCommandInjection                  // OS command injection
)

// AllClasses has every class.
const AllClasses = Classes(1<<ClassSQLi | 1<<ClassXSS | 1<<ClassPathTraversal | 1<<ClassCommandInjection)

// Classes is a set of classes.
type Classes uint8

// Has reports whether c is in the set.
func (cs Classes) Has(c Class) bool { return cs&(1<<c) != 0 }

// String returns the class's snake_case name, as used in events.
func (c Class) String() string {
	switch c {
	case ClassSQLi:
		return "sqli"
	case ClassXSS:
		return "xss"
	case ClassPathTraversal:
		return "path_traversal"
	case ClassCommandInjection:
		return "cmdi"
	}
	return "none"
}

// Finding is what inspection found in one value: the class of attack and
// a constant reason code naming the rule (one of the Reason constants).
// It never holds any part of the value.
type Finding struct {
	Class  Class
	Reason string
	// Decoded is true when the attack was visible only after decoding
	// (percent, %u, overlong UTF-8, HTML or backslash escapes).
	Decoded bool
}

// MaxValueLen is the length up to which a value is inspected whole; the
// rest of a longer value is not inspected. Stages cap values before that
// (Config.MaxValueLen), so this only bounds direct callers of Value.
const MaxValueLen = 64 << 10

// Value inspects one parameter value for every class of attack. It is
// safe for concurrent use and does not retain s.
//
//	if f, bad := inspect.Value(r.FormValue("q")); bad {
//		log.Printf("rejected: %s (%s)", f.Class, f.Reason)
//	}
func Value(s string) (Finding, bool) { return Check(s, AllClasses) }

// Check inspects one value for the given classes of attack.
func Check(s string, classes Classes) (Finding, bool) {
	if len(s) > MaxValueLen {
		s = s[:MaxValueLen]
	}
	if len(s) < 2 {
		return Finding{}, false
	}
	flags := scanBytes(s)
	if flags&needAny == 0 && !keywordy(s, flags) {
		return Finding{}, false // plain words and numbers: nothing to find
	}
	if f, ok := checkForm(s, flags, classes); ok {
		return f, true
	}
	// Decoded forms: percent-encoding (several rounds, %u), look-alike and
	// overlong UTF-8, then HTML references and backslash escapes.
	cur := s
	decoded := false
	if flags&(fPercent|fNonASCII|fPlus) != 0 {
		for range maxDecodeRounds {
			d, ch := percentDecode(cur, false)
			if !ch {
				break
			}
			cur, decoded = d, true
		}
		if f, ok := fold(cur); ok {
			cur, decoded = f, true
		}
		if decoded {
			if f, ok := checkForm(cur, scanBytes(cur), classes); ok {
				f.Decoded = true
				return f, true
			}
		}
		// Payload lists and form posts write spaces as '+'.
		if flags&fPlus != 0 && (flags&fSpace == 0 || flags&fPercent != 0) && flags&(fQuote|fParen|fSemi|fPipe|fPercent|fAngle|fBackslash) != 0 {
			if d, ch := percentDecode(cur, true); ch {
				if f, ok := checkForm(d, scanBytes(d), classes); ok {
					f.Decoded = true
					return f, true
				}
			}
		}
	}
	if flags&(fAmp|fBackslash) != 0 || decoded {
		e1, ch1 := entityDecode(cur)
		e2, ch2 := escapeDecode(e1)
		if ch1 || ch2 {
			e3, _ := entityDecode(e2)
			if f, ok := fold(e3); ok {
				e3 = f
			}
			if f, ok := checkForm(e3, scanBytes(e3), classes); ok {
				f.Decoded = true
				return f, true
			}
		}
	}
	return Finding{}, false
}

// Byte-class flags of a value, from one pass over it.
const (
	fQuote     = 1 << iota // ' " `
	fAngle                 // < >
	fParen                 // ( )
	fSemi                  // ;
	fPipe                  // |
	fAmp                   // &
	fDollar                // $
	fPercent               // %
	fBackslash             // \
	fSlash                 // /
	fDot                   // .
	fEq                    // =
	fDash                  // -
	fHash                  // #
	fNonASCII              // >= 0x80
	fCtl                   // control bytes
	fPlus                  // +
	fSpace                 // ' '
	fStar                  // *
	fBrace                 // { } [ ]
	fColon                 // :
	fAt                    // @
	fOther                 // other punctuation: ! ? ^ ~ ,
)

// needAny are the flags that can carry an attack without SQL keywords.
const needAny = fQuote | fAngle | fParen | fSemi | fPipe | fAmp | fDollar | fPercent |
	fBackslash | fSlash | fEq | fHash | fNonASCII | fCtl | fPlus | fStar | fBrace | fColon |
	fAt | fOther | fDash | fDot

func scanBytes(s string) uint32 {
	var f uint32
	for i := 0; i < len(s); i++ {
		f |= byteFlags[s[i]]
	}
	return f
}

var byteFlags = func() (t [256]uint32) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 0x80:
			t[c] = fNonASCII
		case c < 0x20 || c == 0x7f:
			t[c] = fCtl
		}
	}
	for _, c := range "'\"`" {
		t[c] = fQuote
	}
	t['<'], t['>'] = fAngle, fAngle
	t['('], t[')'] = fParen, fParen
	t[';'], t['|'], t['&'], t['$'] = fSemi, fPipe, fAmp, fDollar
	t['%'], t['\\'], t['/'], t['.'] = fPercent, fBackslash, fSlash, fDot
	t['='], t['-'], t['#'], t['+'] = fEq, fDash, fHash, fPlus
	t[' '], t['*'] = fSpace, fStar
	t['{'], t['}'], t['['], t[']'] = fBrace, fBrace, fBrace, fBrace
	t[':'], t['@'] = fColon, fAt
	for _, c := range "!?^~," {
		t[c] = fOther
	}
	return t
}()

// keywordy reports whether a value of letters, digits and spaces might
// still be SQL or a shell command ("1 union select 1", "x or 1 between 1
// and 2"): it has a space and one of the words that such a value needs.
func keywordy(s string, flags uint32) bool {
	if flags&fSpace == 0 {
		return false
	}
	l := lowerASCII(s)
	// A shell command word at the start, or a cmd.exe IF/FOR.
	first := l
	if sp := strings.IndexByte(l, ' '); sp > 0 {
		first = l[:sp]
	}
	if cmdStrong[first] || cmdPrefix[first] || first == "if" || first == "for" || first == "alias" {
		return true
	}
	for _, w := range [...]string{"select", "union", "sleep", "waitfor", " or ", " and ", " xor ", "having", "order by", "group by", "exec", "declare", "information_schema", "benchmark", "drop ", "insert ", "delete ", "update ", "shutdown", "nohup", "time ", "where", "like", "is ", "between", " in ", "not ", "true", "false", "null", "div "} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// checkForm runs the detectors of every class on one form of a value.
func checkForm(v string, flags uint32, classes Classes) (Finding, bool) {
	lower := lowerASCII(v)
	if classes.Has(ClassPathTraversal) && flags&(fDot|fCtl|fSlash|fBackslash|fColon) != 0 {
		if r, ok := detectTraversal(v); ok {
			return Finding{Class: ClassPathTraversal, Reason: r}, true
		}
	}
	if classes.Has(ClassXSS) && flags&(fAngle|fColon|fParen|fEq|fBrace|fQuote|fDot) != 0 {
		if r, ok := detectXSS(v, lower, compactForm(lower)); ok {
			return Finding{Class: ClassXSS, Reason: r}, true
		}
	}
	if classes.Has(ClassSQLi) && (flags&(fQuote|fParen|fSemi|fDash|fHash|fEq|fSlash|fStar|fAt|fPipe|fAmp|fAngle|fColon) != 0 || keywordy(v, flags)) {
		var buf [64]token
		if r, ok := detectSQLi(v, lower, sqlLex(lower, buf[:0])); ok {
			return Finding{Class: ClassSQLi, Reason: r}, true
		}
	}
	if classes.Has(ClassCommandInjection) && flags&(fSemi|fPipe|fAmp|fDollar|fQuote|fCtl|fSlash|fBrace|fParen|fPercent|fBackslash|fSpace|fAngle) != 0 {
		if r, ok := detectCmdi(v); ok {
			return Finding{Class: ClassCommandInjection, Reason: r}, true
		}
	}
	return Finding{}, false
}

// compactForm removes whitespace and control characters, as browsers do
// inside URL schemes ("jav&#x09;ascript:").
func compactForm(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c > ' ' && c != 0x7f {
			b = append(b, c)
		}
	}
	return string(b)
}
