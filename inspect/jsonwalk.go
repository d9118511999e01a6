package inspect

import (
	"encoding/binary"
	"errors"
	"math/bits"
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
	raw       []byte // src's bytes when the caller has them: enables 8-byte loads
	pos       int
	maxDepth  int
	maxFields int
	fields    int
	segs      []string // the current field's path: keys, and "" for array elements
	scratch   []byte   // unescaped string buffer
	// visit returns false to stop the walk (a finding). It builds the
	// field's name with appendName only when it needs it.
	visit   func(w *jsonWalker, value string, key bool) bool
	stopped bool
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

func (w *jsonWalker) walk() error {
	w.skipSpace()
	if err := w.value(0); err != nil {
		return err
	}
	if w.stopped {
		return nil
	}
	w.skipSpace()
	if w.pos != len(w.src) {
		return ErrJSONSyntax // trailing data
	}
	return nil
}

func (w *jsonWalker) skipSpace() {
	s, i := w.src, w.pos
	for i < len(s) && s[i] <= ' ' && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	w.pos = i
}

func (w *jsonWalker) value(depth int) error {
	if w.pos >= len(w.src) {
		return ErrJSONSyntax
	}
	switch c := w.src[w.pos]; {
	case c == '{':
		return w.object(depth + 1)
	case c == '[':
		return w.array(depth + 1)
	case c == '"':
		s, err := w.str()
		if err != nil {
			return err
		}
		if !w.visit(w, s, false) {
			w.stopped = true
		}
		return nil
	case c == 't':
		return w.lit("true")
	case c == 'f':
		return w.lit("false")
	case c == 'n':
		return w.lit("null")
	case c == '-' || '0' <= c && c <= '9':
		return w.number()
	}
	return ErrJSONSyntax
}

func (w *jsonWalker) lit(l string) error {
	if len(w.src)-w.pos < len(l) || w.src[w.pos:w.pos+len(l)] != l {
		return ErrJSONSyntax
	}
	w.pos += len(l)
	return nil
}

func (w *jsonWalker) number() error {
	s, i := w.src, w.pos
	if s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return ErrJSONSyntax
	}
	switch {
	case s[i] == '0':
		i++
	case '1' <= s[i] && s[i] <= '9':
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	default:
		return ErrJSONSyntax
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == start {
			return ErrJSONSyntax
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
			return ErrJSONSyntax
		}
	}
	w.pos = i
	return nil
}

func (w *jsonWalker) count() error {
	w.fields++
	if w.fields > w.maxFields {
		return ErrTooManyFields
	}
	return nil
}

func (w *jsonWalker) object(depth int) error {
	if depth > w.maxDepth {
		return ErrJSONDepth
	}
	w.pos++ // {
	w.skipSpace()
	if w.pos < len(w.src) && w.src[w.pos] == '}' {
		w.pos++
		return nil
	}
	base := len(w.segs)
	w.segs = append(w.segs, "")
	for {
		if err := w.count(); err != nil {
			return err
		}
		w.skipSpace()
		if w.pos >= len(w.src) || w.src[w.pos] != '"' {
			return ErrJSONSyntax
		}
		k, err := w.str()
		if err != nil {
			return err
		}
		if len(k) > maxFieldName {
			k = k[:maxFieldName]
		}
		w.segs[base] = k
		if !plainKey(k) && !w.visit(w, k, true) {
			w.stopped = true
			return nil
		}
		w.skipSpace()
		if w.pos >= len(w.src) || w.src[w.pos] != ':' {
			return ErrJSONSyntax
		}
		w.pos++
		w.skipSpace()
		if err := w.value(depth); err != nil {
			return err
		}
		if w.stopped {
			return nil
		}
		w.skipSpace()
		if w.pos >= len(w.src) {
			return ErrJSONSyntax
		}
		switch w.src[w.pos] {
		case ',':
			w.pos++
		case '}':
			w.pos++
			w.segs = w.segs[:base]
			return nil
		default:
			return ErrJSONSyntax
		}
	}
}

func (w *jsonWalker) array(depth int) error {
	if depth > w.maxDepth {
		return ErrJSONDepth
	}
	w.pos++ // [
	w.skipSpace()
	if w.pos < len(w.src) && w.src[w.pos] == ']' {
		w.pos++
		return nil
	}
	base := len(w.segs)
	w.segs = append(w.segs, "")
	for {
		if err := w.count(); err != nil {
			return err
		}
		w.skipSpace()
		if err := w.value(depth); err != nil {
			return err
		}
		if w.stopped {
			return nil
		}
		w.skipSpace()
		if w.pos >= len(w.src) {
			return ErrJSONSyntax
		}
		switch w.src[w.pos] {
		case ',':
			w.pos++
		case ']':
			w.pos++
			w.segs = w.segs[:base]
			return nil
		default:
			return ErrJSONSyntax
		}
	}
}

// str reads the string at pos (which is '"') and returns its decoded
// value: a substring of src when it has no escapes.
func (w *jsonWalker) str() (string, error) {
	s := w.src
	i := w.pos + 1
	start := i
	// Eight bytes at a time while none is '"', '\\' or a control byte.
	if raw := w.raw; len(raw) == len(s) {
		for i+8 <= len(raw) {
			x := binary.LittleEndian.Uint64(raw[i:])
			if m := strStopMask(x); m != 0 {
				// The lowest marked byte is the first stop byte: the
				// borrows of the subtractions only run upwards.
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
	}
	for i < len(s) && !strStop[s[i]] {
		i++
	}
	if i < len(s) {
		switch s[i] {
		case '"':
			w.pos = i + 1
			return s[start:i], nil
		case '\\':
		default:
			return "", ErrJSONSyntax // a control byte
		}
	}
	if i >= len(s) {
		return "", ErrJSONSyntax
	}
	b := append(w.scratch[:0], s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			w.pos = i + 1
			w.scratch = b
			return string(b), nil
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

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasZero reports whether some byte of x is zero.
func hasZero(x uint64) bool { return (x-lsb)&^x&msb != 0 }

// strStopMask marks (with its high bit) each byte of x that is '"', '\\'
// or a control byte; bytes above the first marked one may be marked
// falsely, the first one never is.
func strStopMask(x uint64) uint64 {
	q, b := x^(0x22*lsb), x^(0x5c*lsb)
	return ((x-lsb*0x20)&^x | (q-lsb)&^q | (b-lsb)&^b) & msb
}

// hasLess reports whether some byte of x is below n (n <= 128).
func hasLess(x uint64, n uint64) bool { return (x-lsb*n)&^x&msb != 0 }

// plainKey reports whether k is an identifier ([A-Za-z0-9_], as most keys
// are), which cannot carry an injection: the walker then skips the visit.
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if charClass[k[i]]&cSQLWord == 0 {
			return false
		}
	}
	return true
}

// strStop marks the bytes that end the plain run of a JSON string: the
// closing quote, a backslash and the control bytes.
var strStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()
