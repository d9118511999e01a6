package inspect

import (
	"strings"
	"sync"
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

// MaxValueLen is the longest value inspected. A longer value is never
// inspected in part (padding would hide an attack behind the part looked
// at): Check reports it as a Finding with no Class and Reason
// ReasonTooLong, and the stage answers it with 400 value_too_long.
const MaxValueLen = 64 << 10

// ReasonTooLong is the Reason of the Finding Check returns for a value
// longer than MaxValueLen.
const ReasonTooLong = "too_long"

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
		return Finding{Reason: ReasonTooLong}, true
	}
	if len(s) < 2 {
		return Finding{}, false
	}
	return checkScanned(s, scanBytes(s), classes, nil)
}

// checkScanned is Check for a value of 2 to MaxValueLen bytes whose byte
// flags (scanBytes) are known. scratch, when not nil, is a buffer the
// checks may use until they return (the stage's, reused value after
// value); without one they take a pooled buffer.
func checkScanned(s string, flags uint64, classes Classes, scratch *[]byte) (Finding, bool) {
	if plainFlags(flags) {
		return Finding{}, false // letters, digits and '_' only
	}
	if f, ok := checkForm(s, flags, classes, scratch); ok {
		return f, true
	}
	// Decoded forms: percent-encoding (several rounds, %u), look-alike and
	// overlong UTF-8, then HTML references and backslash escapes.
	cur := s
	decoded := false
	if flags&(fPercent|fNonASCII) != 0 {
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
			if f, ok := checkForm(cur, scanBytes(cur), classes, scratch); ok {
				f.Decoded = true
				return f, true
			}
		}
	}
	// Payload lists and form posts write spaces as '+'.
	if flags&fPlus != 0 && (flags&fSpace == 0 || flags&fPercent != 0) && flags&(fQuote|fParen|fSemi|fPipe|fPercent|fAngle|fBackslash) != 0 {
		if d, ch := percentDecode(cur, true); ch {
			if f, ok := checkForm(d, scanBytes(d), classes, scratch); ok {
				f.Decoded = true
				return f, true
			}
		}
	}
	if flags&(fPlus|fPercent) != 0 && (strings.Contains(cur, "+AD") || strings.Contains(cur, "+AC")) {
		if u := utf7.Replace(cur); u != cur {
			if f, ok := checkForm(u, scanBytes(u), classes, scratch); ok {
				f.Decoded = true
				return f, true
			}
		}
	}
	if flags&(fAmp|fBackslash) != 0 || decoded && scanBytes(cur)&(fAmp|fBackslash) != 0 {
		e1, ch1 := entityDecode(cur)
		e2, ch2 := escapeDecode(e1)
		if ch1 || ch2 {
			e3, _ := entityDecode(e2)
			if f, ok := fold(e3); ok {
				e3 = f
			}
			if f, ok := checkForm(e3, scanBytes(e3), classes, scratch); ok {
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
	fOther                 // other punctuation: ! ^ ~ ,
	fBacktick              // `
	fGlob                  // ? [ ]
	fZero                  // the digit 0, for "0x" notations; not a special byte
)

// fLetters are the bits above the byte classes, one per letter in either
// case (fLetter('a') ...): with them the flags tell which letters a value
// has, so that a search for a word can be skipped when one of its letters
// is missing (mayContain). fWord are the flags of [A-Za-z0-9_] bytes.
const (
	fLetters = uint64(1<<26-1) << 32
	fWord    = fLetters | fZero
)

// fLetter returns the flag of letter c (either case).
func fLetter(c byte) uint64 { return 1 << (32 + (c | 0x20 - 'a')) }

// plainFlags reports whether flags are those of a value of [A-Za-z0-9_]
// only, which no detector flags.
func plainFlags(flags uint64) bool { return flags&^fWord == 0 }

// litFlags returns the flags every value containing w has, in any ASCII
// case: a necessary condition for a search for w (mayContain).
func litFlags(w string) uint64 { return scanBytes(w) }

// mayContain reports whether a value with the given flags may contain a
// word whose flags (litFlags) are need, in some case; false means it
// does not.
func mayContain(flags, need uint64) bool { return flags&need == need }

func scanBytes(s string) uint64 {
	var f uint64
	i := 0
	for ; i+4 <= len(s); i += 4 {
		t := s[i : i+4]
		f |= byteFlags[t[0]] | byteFlags[t[1]] | byteFlags[t[2]] | byteFlags[t[3]]
	}
	for ; i < len(s); i++ {
		f |= byteFlags[s[i]]
	}
	return f
}

var byteFlags = func() (t [256]uint64) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 0x80:
			t[c] = fNonASCII
		case c < 0x20 || c == 0x7f:
			t[c] = fCtl
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			t[c] = fLetter(byte(c))
		}
	}
	t['\''], t['"'], t['`'] = fQuote, fQuote, fQuote|fBacktick
	t['<'], t['>'] = fAngle, fAngle
	t['('], t[')'] = fParen, fParen
	t[';'], t['|'], t['&'], t['$'] = fSemi, fPipe, fAmp, fDollar
	t['%'], t['\\'], t['/'], t['.'] = fPercent, fBackslash, fSlash, fDot
	t['='], t['-'], t['#'], t['+'] = fEq, fDash, fHash, fPlus
	t[' '], t['*'] = fSpace, fStar
	t['{'], t['}'], t['['], t[']'] = fBrace, fBrace, fBrace|fGlob, fBrace|fGlob
	t['?'] = fGlob
	t['0'] = fZero
	t[':'], t['@'] = fColon, fAt
	for _, c := range "!^~," {
		t[c] = fOther
	}
	return t
}()

// sqlTriggers are words that let a value of letters, digits and spaces
// still be SQL ("1 union select 1", "1 or true"); boolTriggers need a
// number or a literal beside them.
var sqlTriggers = map[string]bool{
	"select": true, "union": true, "sleep": true, "waitfor": true, "having": true, "exec": true,
	"execute": true, "declare": true, "information_schema": true, "benchmark": true, "drop": true,
	"insert": true, "delete": true, "update": true, "shutdown": true, "order": true, "group": true,
	"pg_sleep": true, "procedure": true, "into": true, "collate": true,
}

var boolTriggers = map[string]bool{
	"or": true, "and": true, "xor": true, "div": true, "like": true, "between": true, "regexp": true,
	"rlike": true, "is": true, "not": true, "in": true,
}

// Word kinds for wordScan, built once from the trigger and command maps.
const (
	wSQL     = 1 << iota // a SQL trigger word
	wBool                // a boolean or comparison word
	wLiteral             // true, false, null
)

var wordKinds = func() map[string]uint8 {
	m := map[string]uint8{}
	for w := range sqlTriggers {
		m[w] |= wSQL
	}
	for w := range boolTriggers {
		m[w] |= wBool
	}
	for _, w := range []string{"true", "false", "null"} {
		m[w] |= wLiteral
	}
	return m
}()

// firstWordCmd reports whether the first word of s is a shell command, a
// command prefix, or cmd.exe's IF/FOR, or alias.
func firstWordCmd(s string) bool {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	// Most first words have no quote or backslash inside: the word is
	// then s[i:j], looked up only if the filter may hold it (the filter
	// folds case; the table lower-cases).
	j := i
	for j < len(s) && firstWordTab[s[j]] > fwSkip {
		j++
	}
	if j < len(s) && firstWordTab[s[j]] == fwSkip || j-i > 20 {
		return firstWordCmdCopy(s, i)
	}
	n := j - i
	for n > 2 && ('0' <= s[i+n-1] && s[i+n-1] <= '9' || s[i+n-1] == '.') {
		n--
	}
	if n < 2 || !bloomHas(&cmdFilter, s[i], s[i+n-1], n) {
		return false
	}
	var buf [20]byte
	for k := 0; k < n; k++ {
		buf[k] = firstWordTab[s[i+k]]
	}
	return firstWords[string(buf[:n])]
}

// firstWordCmdCopy is firstWordCmd for a first word, starting at i, with
// quotes or backslashes to drop, or longer than 20 bytes.
func firstWordCmdCopy(s string, i int) bool {
	var buf [20]byte
	// The word, without the quotes and backslashes a shell would drop
	// (ti''me, c\at), and without a version suffix (python3.10).
	n := 0
	for j := i; j < len(s) && n < len(buf); j++ {
		c := firstWordTab[s[j]]
		if c == fwStop {
			break
		}
		if c != fwSkip {
			buf[n] = c
			n++
		}
	}
	for n > 2 && ('0' <= buf[n-1] && buf[n-1] <= '9' || buf[n-1] == '.') {
		n--
	}
	if n < 2 || !bloomHas(&cmdFilter, buf[0], buf[n-1], n) {
		return false
	}
	return firstWords[string(buf[:n])]
}

// firstWordTab maps the bytes of a first word (isWordCharASCII) to their
// lower case, the quotes and backslash a shell drops to fwSkip, and the
// rest to fwStop.
const (
	fwStop = 0
	fwSkip = 1
)

var firstWordTab = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		if isWordCharASCII(byte(c)) {
			t[c] = lowerByte(byte(c))
		}
	}
	t['\''], t['"'], t['\\'], t['`'] = fwSkip, fwSkip, fwSkip, fwSkip
	return t
}()

// firstWords are the words that make a value's first word a command.
var firstWords = func() map[string]bool {
	m := map[string]bool{"if": true, "for": true, "alias": true}
	for w := range cmdStrong {
		m[w] = true
	}
	for w := range cmdPrefix {
		m[w] = true
	}
	return m
}()

// cmdFilter is wordFilter's counterpart for firstWords.
var cmdFilter = func() (f bloom) {
	for w := range firstWords {
		f.add([]byte(w))
	}
	return f
}()

// wordFilter is a bloom filter of the words in wordKinds: most words of
// ordinary text miss it, sparing a map lookup.
var wordFilter = func() (f bloom) {
	for w := range wordKinds {
		f.add([]byte(w))
	}
	return f
}()

// bloom is a 16384-bit filter over (first byte, last byte, length) of
// words: each byte taken modulo 32, which folds ASCII case, and the length
// modulo 16. A word whose triple was not added is not in the set; bloomHas
// answers in a few instructions for most words of ordinary text.
type bloom [256]uint64

func bloomIndex(a, z byte, n int) uint { return uint(a&31)<<9 | uint(z&31)<<4 | uint(n&15) }

// add adds a non-empty word.
func (f *bloom) add(w []byte) {
	i := bloomIndex(w[0], w[len(w)-1], len(w))
	f[i>>6&255] |= 1 << (i & 63)
}

// bloomHas reports whether a word of n bytes (n >= 1) starting with a and
// ending with z, in any ASCII case, may have been added to f.
func bloomHas(f *bloom, a, z byte, n int) bool {
	i := bloomIndex(a, z, n)
	return f[i>>6&255]&(1<<(i&63)) != 0
}

// wordScan reports whether a value has a SQL trigger word, or a boolean
// word beside a literal. One pass: a word ends at the first byte outside
// [A-Za-z0-9_], and only words the bloom filter admits are looked up.
func wordScan(s string) bool {
	var buf [20]byte
	boolOp, literal := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if charClass[c]&cSQLWord == 0 {
			continue
		}
		start := i
		for i+1 < len(s) && charClass[s[i+1]]&cSQLWord != 0 {
			i++
		}
		// The word is s[start : i+1].
		if c <= '9' {
			literal = true // a number (digits sort before letters and '_')
		} else if n := i + 1 - start; n >= 2 && n <= len(buf) && bloomHas(&wordFilter, c, s[i], n) {
			for k := 0; k < n; k++ {
				buf[k] = lowerByte(s[start+k])
			}
			k := wordKinds[string(buf[:n])]
			if k&wSQL != 0 {
				return true
			}
			boolOp = boolOp || k&wBool != 0
			literal = literal || k&wLiteral != 0
		}
		if boolOp && literal {
			return true
		}
	}
	return false
}

func isWordCharASCII(c byte) bool { return charClass[c]&cWord != 0 }

const (
	cSQLWord = 1 << iota // [A-Za-z0-9_]
	cWord                // [A-Za-z0-9_.-]
)

var charClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' {
			t[c] = cSQLWord | cWord
		}
	}
	t['-'], t['.'] = cWord, cWord
	return t
}()

// onlyApostrophes reports whether every quote in s is an apostrophe
// between letters (O'Connor, it's): such quotes end no SQL literal.
func onlyApostrophes(s string) bool {
	if strings.IndexByte(s, '"') >= 0 || strings.IndexByte(s, '`') >= 0 {
		return false
	}
	for i := strings.IndexByte(s, '\''); i >= 0; {
		if i == 0 || i+1 >= len(s) || !isAlpha(lowerByte(s[i-1])) || !isAlpha(lowerByte(s[i+1])) {
			return false
		}
		k := strings.IndexByte(s[i+1:], '\'')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return true
}

// checkForm runs the detectors of every class on one form of a value,
// each only when the value has the characters its attacks need.
func checkForm(v string, flags uint64, classes Classes, scratch *[]byte) (Finding, bool) {
	if scratch != nil {
		return checkFormIn(v, flags, classes, scratch)
	}
	bp := lowerBufs.Get().(*[]byte)
	f, ok := checkFormIn(v, flags, classes, bp)
	if cap(*bp) <= 4096 {
		lowerBufs.Put(bp)
	}
	return f, ok
}

// checkFormIn is checkForm with a scratch buffer.
func checkFormIn(v string, flags uint64, classes Classes, scratch *[]byte) (Finding, bool) {
	// The lower-cased form is built on demand in scratch: no detector
	// keeps any part of it.
	lf := lowerForm{buf: scratch}
	lower := ""
	if classes.Has(ClassPathTraversal) && travNeeded(v, flags) {
		if r, ok := detectTraversal(v); ok {
			return Finding{Class: ClassPathTraversal, Reason: r}, true
		}
	}
	if classes.Has(ClassXSS) && flags&(fAngle|fColon|fParen|fEq|fBrace|fBacktick|fDot) != 0 && xssNeeded(v, flags) {
		lower = lf.of(v)
		// The compact form of a short value is built in this stack buffer
		// (detectXSS keeps no part of it).
		var compactBuf [256]byte
		if r, ok := detectXSS(v, lower, flags, compactBuf[:]); ok {
			return Finding{Class: ClassXSS, Reason: r}, true
		}
	}
	if classes.Has(ClassSQLi) && sqlNeeded(v, flags) {
		if sqlRulesInert(v, flags) {
			// Only libinjection can answer: see sqlRulesInert.
			if libinjectionSQLi(v, flags) {
				return Finding{Class: ClassSQLi, Reason: ReasonSQLFingerprint}, true
			}
		} else {
			if lower == "" {
				lower = lf.of(v)
			}
			var buf [32]token // more tokens go to the heap
			if r, ok := detectSQLi(v, lower, flags, sqlLex(lower, buf[:0])); ok {
				return Finding{Class: ClassSQLi, Reason: r}, true
			}
		}
	}
	if classes.Has(ClassCommandInjection) {
		need := flags&(fSemi|fPipe|fAmp|fDollar|fBacktick|fCtl|fBrace|fAngle|fPercent) != 0 ||
			flags&fParen != 0 && flags&(fQuote|fSpace) != fSpace ||
			flags&fSlash != 0 && flags&(fGlob|fStar) != 0 ||
			flags&fBackslash != 0
		if !need && flags&(fSpace|fQuote) != 0 {
			need = firstWordCmd(v)
		}
		if !need && flags&fSlash != 0 {
			need = strings.Contains(v, "bin/")
		}
		if need {
			if r, ok := detectCmdi(v, lower, flags); ok {
				return Finding{Class: ClassCommandInjection, Reason: r}, true
			}
		}
	}
	return Finding{}, false
}

// lowerForm builds a value's lower-cased form in a buffer, for as long
// as checkForm runs.
type lowerForm struct {
	buf *[]byte
}

var lowerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// of returns v lower-cased: v itself when it has no upper-case letter.
func (lf *lowerForm) of(v string) string {
	i := 0
	for i < len(v) && !('A' <= v[i] && v[i] <= 'Z') {
		i++
	}
	if i == len(v) {
		return v
	}
	b := append((*lf.buf)[:0], v...)
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	*lf.buf = b
	return bytesString(b)
}

func travNeeded(v string, flags uint64) bool {
	switch {
	case flags&fCtl != 0 && strings.IndexByte(v, 0) >= 0:
		return true
	case flags&fDot != 0 && strings.Contains(v, ".."):
		return true
	case flags&(fSlash|fBackslash) != 0:
		return true
	// ":/" needs a '/', which returned above: no value gets here with one.
	case litIni.inFold(v, flags):
		return true
	case litHex.in(v, flags) || litHexUp.in(v, flags):
		return true
	}
	return false
}

// lit is a literal a gate looks for, with the flags (litFlags) any value
// holding it has: the search is skipped for values without them.
type lit struct {
	s    string
	need uint64
}

func mkLit(s string) lit { return lit{s, litFlags(s)} }

// in reports strings.Contains(v, l.s) for a value v with the given flags.
// It is inlined: the search is a call only for values that pass the gate.
func (l lit) in(v string, flags uint64) bool {
	return mayContain(flags, l.need) && l.search(v)
}

//go:noinline
func (l lit) search(v string) bool { return strings.Contains(v, l.s) }

// inFold reports containsFold(v, l.s) for a value v with the given flags.
func (l lit) inFold(v string, flags uint64) bool {
	return mayContain(flags, l.need) && containsFold(v, l.s)
}

var (
	litIni, litHex, litHexUp                         = mkLit(".ini"), mkLit("0x"), mkLit("0X")
	litOn, litLocation, litAlert, litEval, litSrcdoc = mkLit("on"), mkLit("location"), mkLit("alert"), mkLit("eval"), mkLit("srcdoc")
	litDocument, litWindow                           = mkLit("document"), mkLit("window")
	litProto, litGlobalThis, litXHR                  = mkLit("__proto__"), mkLit("globalthis"), mkLit("xmlhttprequest")
	litLocalStorage, litSessionStorage               = mkLit("localstorage"), mkLit("sessionstorage")
	litDotE, litDotEUp                               = mkLit(".e."), mkLit(".E.")
)

// xssNeeded reports whether v could hold script: a tag, an event
// handler, a script URL, a call, a DOM object, a template.
func xssNeeded(v string, flags uint64) bool {
	switch {
	case flags&(fAngle|fParen|fBacktick) != 0:
		return true
	case flags&fEq != 0 && litOn.inFold(v, flags):
		return true
	case flags&fBrace != 0 && (strings.Contains(v, "{{") || strings.Contains(v, "[") || strings.Contains(v, "${")):
		return true
	case flags&fColon != 0 && colonScheme(v):
		return true
	case flags&fEq != 0 && (litLocation.inFold(v, flags) || litAlert.inFold(v, flags) || litEval.inFold(v, flags) || litSrcdoc.inFold(v, flags)):
		return true
	case flags&fDot != 0 && dottedJS(v):
		return true
	case flags&fStar != 0 && strings.Contains(v, "/*") && (litDocument.inFold(v, flags) || litWindow.inFold(v, flags)):
		return true // document/*x*/.cookie: comments inside a property access
	case flags&fSpace == 0 && len(v) >= 10 && (litProto.inFold(v, flags) || litGlobalThis.inFold(v, flags) || litXHR.inFold(v, flags) || litLocalStorage.inFold(v, flags) || litSessionStorage.inFold(v, flags)):
		return true
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII word sub,
// ignoring ASCII case, without allocating. A first byte that is not a
// letter is found with the vectorised IndexByte; a letter, in either
// case, by a byte loop (c|0x20 is the lower-case letter only for that
// letter's two cases).
func containsFold(s, sub string) bool {
	n := len(sub)
	if n == 0 {
		return true
	}
	c0 := sub[0]
	if 'a' <= c0 && c0 <= 'z' {
		for k := 0; k+n <= len(s); k++ {
			if s[k]|0x20 == c0 && hasFoldPrefix(s[k+1:], sub[1:]) {
				return true
			}
		}
		return false
	}
	for i := 0; i+n <= len(s); {
		k := strings.IndexByte(s[i:len(s)-n+1], c0)
		if k < 0 {
			return false
		}
		k += i
		if hasFoldPrefix(s[k+1:], sub[1:]) {
			return true
		}
		i = k + 1
	}
	return false
}

// hasFoldPrefix reports whether s starts with the lower-case ASCII prefix,
// ignoring ASCII case.
func hasFoldPrefix(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for j := 0; j < len(prefix); j++ {
		if lowerByte(s[j]) != prefix[j] {
			return false
		}
	}
	return true
}

// quotedBoolWord reports containsFold(v, "'or'") || containsFold(v,
// "'and'") || containsFold(v, "'xor'") in one pass over v's quotes.
func quotedBoolWord(v string) bool {
	for i := strings.IndexByte(v, '\''); i >= 0; {
		r := v[i+1:]
		if hasFoldPrefix(r, "or'") || hasFoldPrefix(r, "and'") || hasFoldPrefix(r, "xor'") {
			return true
		}
		k := strings.IndexByte(r, '\'')
		if k < 0 {
			return false
		}
		i += 1 + k
	}
	return false
}

// sqlNeeded reports whether v could hold SQL: SQL punctuation, a quote
// that is not an apostrophe, a comment, or a trigger word.
func sqlNeeded(v string, flags uint64) bool {
	switch {
	case flags&(fParen|fSemi|fEq|fAngle|fHash|fStar|fPipe|fBackslash|fCtl) != 0:
		return true
	case flags&fDash != 0 && strings.Contains(v, "--"):
		return true
	case flags&fAt != 0 && (strings.Contains(v, "@@") || v[0] == '@' || strings.Contains(v, " @")):
		return true
	case flags&fAmp != 0 && strings.Contains(v, "&&"):
		return true
	case flags&fColon != 0 && strings.Contains(v, "::"):
		return true // PostgreSQL casts: password::int
	case flags&fQuote != 0 && (!onlyApostrophes(v) || quotedBoolWord(v)):
		return true // a'or'a: the quotes end and open literals around OR
	case litDotE.in(v, flags) || litDotEUp.in(v, flags):
		return true // MySQL's 1.e.table
	case flags&fSpace != 0:
		return wordScan(v)
	}
	return false
}

// compactForm removes whitespace and control characters, as browsers do
// inside URL schemes ("jav&#x09;ascript:").
func compactForm(s string) string { return compactFormBuf(s, nil) }

// compactFormBuf is compactForm, built in buf when it fits.
func compactFormBuf(s string, buf []byte) string {
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
	b := buf[:0]
	if len(s) > len(buf) {
		b = make([]byte, 0, len(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c > ' ' && c != 0x7f {
			b = append(b, c)
		}
	}
	return bytesString(b)
}

// jsDotWords are the words on either side of a dot in the DOM and JS
// property accesses that carry script.
var jsDotWords = map[string]bool{
	"document": true, "window": true, "location": true, "opener": true, "top": true, "self": true,
	"parent": true, "frames": true, "string": true, "this": true, "globalthis": true,
	"innerhtml": true, "outerhtml": true, "cookie": true, "domain": true, "write": true,
	"writeln": true, "prototype": true, "__proto__": true, "constructor": true, "href": true,
	"localstorage": true, "sessionstorage": true, "fromcharcode": true, "createelement": true,
	"textcontent": true, "body": true, "navigator": true, "sendbeacon": true, "hash": true,
	"srcdoc": true, "execcommand": true,
}

// jsDotWordSet is jsDotWords behind its filter.
var jsDotWordSet = newWordMap(jsDotWords)

// dottedJS reports whether s has a property access whose object or
// property is one of jsDotWords (document.cookie, x.innerHTML).
func dottedJS(s string) bool {
	var buf [16]byte
	word := func(w string) bool {
		if len(w) < 3 || len(w) > len(buf) {
			return false
		}
		// The filter folds the case of the first and last bytes itself:
		// most words are answered before being lower-cased.
		if !bloomHas(&jsDotWordSet.f, w[0], w[len(w)-1], len(w)) {
			return false
		}
		for k := 0; k < len(w); k++ {
			buf[k] = lowerByte(w[k])
		}
		return jsDotWords[string(buf[:len(w)])]
	}
	for i := strings.IndexByte(s, '.'); i >= 0; {
		l := i
		for l > 0 && (isAlpha(lowerByte(s[l-1])) || s[l-1] == '_') {
			l--
		}
		r := i + 1
		for r < len(s) && (isAlpha(lowerByte(s[r])) || s[r] == '_') {
			r++
		}
		if l < i && r > i+1 && (word(s[l:i]) || word(s[i+1:r])) {
			return true
		}
		n := strings.IndexByte(s[i+1:], '.')
		if n < 0 {
			return false
		}
		i += 1 + n
	}
	return false
}

// colonScheme reports whether a ':' in s ends a scheme or CSS property
// that runs script: javascript:, vbscript:, data:, mocha:, behavior:,
// -moz-binding:. Whitespace and control bytes inside the name are
// skipped, as browsers skip them.
func colonScheme(s string) bool {
	var buf [12]byte
	for i := strings.IndexByte(s, ':'); i >= 0; {
		n := 0
		for k := i - 1; k >= 0 && n < len(buf); k-- {
			c := lowerByte(s[k])
			if c <= ' ' {
				continue
			}
			if !isAlpha(c) {
				break
			}
			n++
			buf[len(buf)-n] = c
		}
		w := string(buf[len(buf)-n:])
		if n >= 3 && strings.HasSuffix(w, "script") || strings.HasSuffix(w, "data") || strings.HasSuffix(w, "mocha") ||
			strings.HasSuffix(w, "vbs") || strings.HasSuffix(w, "behavior") || strings.HasSuffix(w, "behaviour") ||
			strings.HasSuffix(w, "binding") {
			return true
		}
		m := strings.IndexByte(s[i+1:], ':')
		if m < 0 {
			return false
		}
		i += 1 + m
	}
	return false
}
