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
	flags uint32
	// visit returns false to stop the walk (a finding). It builds the
	// field's name with appendName only when it needs it. Keys made only
	// of [A-Za-z0-9_] are not visited.
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
	w.pos = skipJSONSpace(w.src, w.pos)
	if err := w.value(0); err != nil {
		return err
	}
	if w.stopped {
		return nil
	}
	if skipJSONSpace(w.src, w.pos) != len(w.src) {
		return ErrJSONSyntax // trailing data
	}
	return nil
}

func (w *jsonWalker) skipSpace() { w.pos = skipJSONSpace(w.src, w.pos) }

// skipJSONSpace returns the index of the first byte at or after i that is
// not JSON whitespace.
func skipJSONSpace(s string, i int) int {
	for i < len(s) && s[i] <= ' ' && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// value reads the value at pos, which is not whitespace.
func (w *jsonWalker) value(depth int) error {
	if w.pos >= len(w.src) {
		return ErrJSONSyntax
	}
	switch c := w.src[w.pos]; {
	case c == '"':
		s, err := w.str()
		if err != nil {
			return err
		}
		if !w.visit(w, s, false) {
			w.stopped = true
		}
		return nil
	case c == '{':
		return w.object(depth + 1)
	case c == '[':
		return w.array(depth + 1)
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

func (w *jsonWalker) object(depth int) error {
	if depth > w.maxDepth {
		return ErrJSONDepth
	}
	s := w.src
	i := skipJSONSpace(s, w.pos+1) // after {
	if i < len(s) && s[i] == '}' {
		w.pos = i + 1
		return nil
	}
	base := len(w.segs)
	w.segs = append(w.segs, "")
	for {
		w.fields++
		if w.fields > w.maxFields {
			return ErrTooManyFields
		}
		if i >= len(s) || s[i] != '"' {
			return ErrJSONSyntax
		}
		w.pos = i
		k, err := w.str()
		if err != nil {
			return err
		}
		flags := w.flags
		if len(k) > maxFieldName {
			k = k[:maxFieldName]
			flags = scanBytes(k)
		}
		w.segs[base] = k
		// A key of [A-Za-z0-9_] (flags without fZero: see scanBytes)
		// cannot carry an injection: it is not visited.
		if flags&^fZero != 0 {
			w.flags = flags
			if !w.visit(w, k, true) {
				w.stopped = true
				return nil
			}
		}
		i = skipJSONSpace(s, w.pos)
		if i >= len(s) || s[i] != ':' {
			return ErrJSONSyntax
		}
		w.pos = skipJSONSpace(s, i+1)
		if err := w.value(depth); err != nil {
			return err
		}
		if w.stopped {
			return nil
		}
		i = skipJSONSpace(s, w.pos)
		if i >= len(s) {
			return ErrJSONSyntax
		}
		switch s[i] {
		case ',':
			i = skipJSONSpace(s, i+1)
		case '}':
			w.pos = i + 1
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
	s := w.src
	i := skipJSONSpace(s, w.pos+1) // after [
	if i < len(s) && s[i] == ']' {
		w.pos = i + 1
		return nil
	}
	base := len(w.segs)
	w.segs = append(w.segs, "")
	for {
		w.fields++
		if w.fields > w.maxFields {
			return ErrTooManyFields
		}
		w.pos = i
		if err := w.value(depth); err != nil {
			return err
		}
		if w.stopped {
			return nil
		}
		i = skipJSONSpace(s, w.pos)
		if i >= len(s) {
			return ErrJSONSyntax
		}
		switch s[i] {
		case ',':
			i = skipJSONSpace(s, i+1)
		case ']':
			w.pos = i + 1
			w.segs = w.segs[:base]
			return nil
		default:
			return ErrJSONSyntax
		}
	}
}

// fStrStop marks, in strFlags, the bytes that end the plain run of a JSON
// string: the closing quote, a backslash and the control bytes. It is
// above every scanBytes flag.
const fStrStop = 1 << 31

// strFlags is byteFlags with fStrStop on the bytes that end a string's
// plain run: one table gives both the end and the value's flags.
var strFlags = func() (t [256]uint32) {
	t = byteFlags
	for c := 0; c < 0x20; c++ {
		t[c] |= fStrStop
	}
	t['"'] |= fStrStop
	t['\\'] |= fStrStop
	return t
}()

// str reads the string at pos (which is '"') and returns its decoded
// value: a substring of src when it has no escapes. It sets w.flags to
// the value's byte flags, computed in the pass that finds its end.
func (w *jsonWalker) str() (string, error) {
	s := w.src
	start := w.pos + 1
	i, f := plainRun(s, start)
	if i < len(s) && s[i] == '"' {
		w.pos = i + 1
		w.flags = f
		return s[start:i], nil
	}
	return w.escaped(start, i)
}

// plainRun returns the end of the run of s from i that has no '"', '\\'
// or control byte, and the byte flags of the run.
func plainRun(s string, i int) (int, uint32) {
	var f uint32
	// Four bytes at a time while none ends the run.
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
	return i, f
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
