package inspect

import (
	"errors"
	"unicode/utf8"
)

// Errors of the JSON walker. They name the limit or the defect, never the
// input.
var (
	ErrJSONSyntax    = errors.New("inspect: malformed JSON")
	ErrJSONDepth     = errors.New("inspect: JSON nested too deeply")
	ErrTooManyFields = errors.New("inspect: too many fields")
)

// jsonWalker scans a JSON document without building it, calling visit for
// every object key and string value with the field's name (see fieldName)
// and the decoded string. Numbers, booleans and null are validated and
// skipped: they cannot carry an injection. It allocates only for strings
// with escapes.
type jsonWalker struct {
	src       string
	pos       int
	maxDepth  int
	maxFields int
	fields    int
	segs      []string // the current field's path: keys, and "" for array elements
	scratch   []byte   // unescaped string buffer
	// flags are the byte flags (scanBytes) of the string last read, as
	// visit receives it: the walker computes them in the pass that finds
	// the string's end.
	flags uint64
	// visit returns false to stop the walk (a finding). It builds the
	// field's name with appendName only when it needs it. Keys made only
	// of [A-Za-z0-9_] are not visited.
	visit   func(w *jsonWalker, value string, key bool) bool
	stopped bool
	kinds   []bool // open containers during walk: true for objects
	// plainMax is the length up to which string values of [A-Za-z0-9_]
	// are not visited (0: every value is).
	plainMax int
}

// appendName appends the current field's name to b: "body.user.name",
// "body.items[].note", with keys sanitised (appendFieldSegment).
func (w *jsonWalker) appendName(b []byte) []byte {
	b = append(b, "body"...)
	for _, s := range w.segs {
		if s == "" {
			b = append(b, "[]"...)
			continue
		}
		b = appendFieldSegment(append(b, '.'), s)
	}
	return b
}

// walk reads the document from pos: one loop over the bytes, with the
// open containers on a stack (kinds) rather than in recursive calls, and
// three places to be in (labels): before a value, before a member's key,
// after a value. It checks, in this order, what the recursive grammar
// would: the depth when a container opens, the field count before each
// member or element, then the syntax.
func (w *jsonWalker) walk() error {
	s := w.src
	i := skipJSONSpace(s, w.pos)
	w.kinds = w.kinds[:0]
	var (
		c   byte
		n   int
		end int
		f   uint64
		v   string
		err error
	)

value: // at a value, past whitespace
	if i >= len(s) {
		return ErrJSONSyntax
	}
	switch c = s[i]; {
	case c == '"':
		if v, f, end, err = w.readString(i); err != nil {
			return err
		}
		// A value of [A-Za-z0-9_] within plainMax bytes is one the
		// visitor passes at once: it is not visited.
		if w.plainMax == 0 || len(v) > w.plainMax || !plainFlags(f) {
			w.pos, w.flags = end, f
			if !w.visit(w, v, false) {
				w.stopped = true
				return nil
			}
		}
		i = end
	case c == '{' || c == '[':
		if len(w.kinds)+1 > w.maxDepth {
			return ErrJSONDepth
		}
		i = skipJSONSpace(s, i+1)
		if i < len(s) && s[i] == c+2 { // '}' or ']'
			i++
			break
		}
		w.kinds = append(w.kinds, c == '{')
		w.segs = append(w.segs, "")
		if c == '{' {
			goto key
		}
		w.fields++
		if w.fields > w.maxFields {
			return ErrTooManyFields
		}
		i = skipJSONSpace(s, i)
		goto value
	case c == 't':
		if !hasLiteral(s, i, "true") {
			return ErrJSONSyntax
		}
		i += 4
	case c == 'f':
		if !hasLiteral(s, i, "false") {
			return ErrJSONSyntax
		}
		i += 5
	case c == 'n':
		if !hasLiteral(s, i, "null") {
			return ErrJSONSyntax
		}
		i += 4
	case c == '-' || '0' <= c && c <= '9':
		var ok bool
		if i, ok = jsonNumber(s, i); !ok {
			return ErrJSONSyntax
		}
	default:
		return ErrJSONSyntax
	}

after: // after a value: ',' or the end of its container, or of the document
	if i < len(s) && s[i] <= ' ' {
		i = skipJSONSpace(s, i)
	}
	n = len(w.kinds)
	if n == 0 {
		w.pos = i
		if i != len(s) {
			return ErrJSONSyntax // trailing data
		}
		return nil
	}
	if i >= len(s) {
		return ErrJSONSyntax
	}
	switch c = s[i]; {
	case c == ',':
		i++
		if w.kinds[n-1] {
			goto key
		}
		w.fields++
		if w.fields > w.maxFields {
			return ErrTooManyFields
		}
		if i < len(s) && s[i] <= ' ' {
			i = skipJSONSpace(s, i)
		}
		goto value
	case c == '}' && w.kinds[n-1] || c == ']' && !w.kinds[n-1]:
		i++
		w.kinds = w.kinds[:n-1]
		w.segs = w.segs[:len(w.segs)-1]
		goto after
	}
	return ErrJSONSyntax

key: // at a member (after '{' or ','), whitespace not yet skipped
	w.fields++
	if w.fields > w.maxFields {
		return ErrTooManyFields
	}
	if i < len(s) && s[i] <= ' ' {
		i = skipJSONSpace(s, i)
	}
	if i >= len(s) || s[i] != '"' {
		return ErrJSONSyntax
	}
	// Most keys are identifiers: a run of [A-Za-z0-9_] up to the closing
	// quote, which cannot carry an injection and is not visited. Others
	// are read whole (readString).
	end = i + 1
	for end < len(s) && keyByte[s[end]] {
		end++
	}
	if end < len(s) && s[end] == '"' && end-i-1 <= maxFieldName {
		w.segs[len(w.segs)-1] = s[i+1 : end]
		end++
	} else {
		if v, f, end, err = w.readString(i); err != nil {
			return err
		}
		if len(v) > maxFieldName {
			v = v[:maxFieldName]
			f = scanBytes(v)
		}
		w.segs[len(w.segs)-1] = v
		if !plainFlags(f) {
			w.pos, w.flags = end, f
			if !w.visit(w, v, true) {
				w.stopped = true
				return nil
			}
		}
	}
	i = end
	if i < len(s) && s[i] <= ' ' {
		i = skipJSONSpace(s, i)
	}
	if i >= len(s) || s[i] != ':' {
		return ErrJSONSyntax
	}
	i++
	if i < len(s) && s[i] <= ' ' {
		i = skipJSONSpace(s, i)
	}
	goto value
}

// skipJSONSpace returns the index of the first byte at or after i that is
// not JSON whitespace.
func skipJSONSpace(s string, i int) int {
	for i < len(s) && s[i] <= ' ' && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

func hasLiteral(s string, i int, l string) bool {
	return len(s)-i >= len(l) && s[i:i+len(l)] == l
}

// jsonNumber returns the end of the number at i, and whether it is one.
func jsonNumber(s string, i int) (int, bool) {
	if s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return i, false
	}
	switch {
	case s[i] == '0':
		i++
	case '1' <= s[i] && s[i] <= '9':
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	default:
		return i, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == start {
			return i, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == start {
			return i, false
		}
	}
	return i, true
}

// fStrStop marks, in strFlags, the bytes that end the plain run of a JSON
// string: the closing quote, a backslash and the control bytes. It is
// above every scanBytes flag.
const fStrStop = 1 << 63

// strFlags is byteFlags with fStrStop on the bytes that end a string's
// plain run: one table gives both the end and the value's flags.
var strFlags = func() (t [256]uint64) {
	t = byteFlags
	for c := 0; c < 0x20; c++ {
		t[c] |= fStrStop
	}
	t['"'] |= fStrStop
	t['\\'] |= fStrStop
	return t
}()

// keyByte marks [A-Za-z0-9_]: the bytes of a key that is not visited.
var keyByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = byteFlags[c]&^fWord == 0 && c != 0 && c != 0x7f
	}
	return t
}()

// readString reads the string at i (which is '"') and returns its decoded
// value (a substring of src when it has no escapes), its byte flags,
// computed in the pass that finds its end, and the index after it.
func (w *jsonWalker) readString(i int) (string, uint64, int, error) {
	s := w.src
	start := i + 1
	i = start
	var f uint64
	// Four bytes at a time while none ends the plain run.
	for i+4 <= len(s) {
		t := s[i : i+4]
		x := strFlags[t[0]] | strFlags[t[1]] | strFlags[t[2]] | strFlags[t[3]]
		if x&fStrStop != 0 {
			break
		}
		f |= x
		i += 4
	}
	for i < len(s) {
		x := strFlags[s[i]]
		if x&fStrStop != 0 {
			break
		}
		f |= x
		i++
	}
	if i < len(s) && s[i] == '"' {
		return s[start:i], f, i + 1, nil
	}
	v, err := w.escaped(start, i)
	if err != nil {
		return "", 0, 0, err
	}
	return v, w.flags, w.pos, nil
}

// escaped reads the rest of a string that starts at start and whose plain
// run ends at i, before a backslash, a control byte or the end of src.
func (w *jsonWalker) escaped(start, i int) (string, error) {
	s := w.src
	if i >= len(s) || s[i] != '\\' {
		return "", ErrJSONSyntax // a control byte, or no closing quote
	}
	b := append(w.scratch[:0], s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			w.pos = i + 1
			w.scratch = b
			v := string(b)
			w.flags = scanBytes(v)
			return v, nil
		case c < 0x20:
			return "", ErrJSONSyntax
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", ErrJSONSyntax
		}
		switch e := s[i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
			i += 2
		case 'b':
			b = append(b, '\b')
			i += 2
		case 'f':
			b = append(b, '\f')
			i += 2
		case 'n':
			b = append(b, '\n')
			i += 2
		case 'r':
			b = append(b, '\r')
			i += 2
		case 't':
			b = append(b, '\t')
			i += 2
		case 'u':
			r, ok := hex4(s, i+2)
			if !ok {
				return "", ErrJSONSyntax
			}
			i += 6
			if utf16IsSurrogate(r) {
				if r2, ok := hex4(s, i+2); ok && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' && r2 >= 0xDC00 && r2 < 0xE000 && r < 0xDC00 {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", ErrJSONSyntax
		}
	}
	return "", ErrJSONSyntax
}

func utf16IsSurrogate(r rune) bool { return r >= 0xD800 && r < 0xE000 }

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for k := i; k < i+4; k++ {
		v, ok := unhex(s[k])
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// maxFieldName bounds a field name in events and allowlists.
const maxFieldName = 96

// appendFieldSegment appends a client-chosen name (a JSON key, a query
// parameter) to a field name, sanitised: bytes outside [A-Za-z0-9_-] become
// '_', and the whole name is cut at maxFieldName bytes with a '~' marking
// the cut. Field names appear in events and logs, so they must not carry
// payloads.
func appendFieldSegment(b []byte, seg string) []byte {
	for i := 0; i < len(seg); i++ {
		if len(b) >= maxFieldName {
			if b[len(b)-1] != '~' {
				b[len(b)-1] = '~'
			}
			return b
		}
		c := seg[i]
		if !(isAlnum(c) || 'A' <= c && c <= 'Z' || c == '_' || c == '-') {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}
