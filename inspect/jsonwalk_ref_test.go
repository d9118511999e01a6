package inspect

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// refWalker is the JSON walker as it was before it became one loop with a
// stack (and computed byte flags): TestWalkerRef and FuzzWalkerRef check
// the two accept, reject and visit alike.
type refWalker struct {
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
	visit   func(w *refWalker, value string, key bool) bool
	stopped bool
}

// appendName appends the current field's name to b: "body.user.name",
// "body.items[].note", with keys sanitised (appendFieldSegment).
func (w *refWalker) appendName(b []byte) []byte {
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

func (w *refWalker) walk() error {
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

func (w *refWalker) skipSpace() {
	s, i := w.src, w.pos
	for i < len(s) && s[i] <= ' ' && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	w.pos = i
}

func (w *refWalker) value(depth int) error {
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

func (w *refWalker) lit(l string) error {
	if len(w.src)-w.pos < len(l) || w.src[w.pos:w.pos+len(l)] != l {
		return ErrJSONSyntax
	}
	w.pos += len(l)
	return nil
}

func (w *refWalker) number() error {
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

func (w *refWalker) count() error {
	w.fields++
	if w.fields > w.maxFields {
		return ErrTooManyFields
	}
	return nil
}

func (w *refWalker) object(depth int) error {
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
		if !refPlainKey(k) && !w.visit(w, k, true) {
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

func (w *refWalker) array(depth int) error {
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
func (w *refWalker) str() (string, error) {
	s := w.src
	i := w.pos + 1
	start := i
	// Eight bytes at a time while none is '"', '\\' or a control byte.
	if raw := w.raw; len(raw) == len(s) {
		for i+8 <= len(raw) {
			x := binary.LittleEndian.Uint64(raw[i:])
			if m := refStrStopMask(x); m != 0 {
				// The lowest marked byte is the first stop byte: the
				// borrows of the subtractions only run upwards.
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
	}
	for i < len(s) && !refStrStop[s[i]] {
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

const (
	refLSB = 0x0101010101010101
	refMSB = 0x8080808080808080
)

// refStrStop marks the bytes that end the plain run of a JSON string: the
// closing quote, a backslash and the control bytes.
var refStrStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func refStrStopMask(x uint64) uint64 {
	q, b := x^(0x22*refLSB), x^(0x5c*refLSB)
	return ((x-refLSB*0x20)&^x | (q-refLSB)&^q | (b-refLSB)&^b) & refMSB
}

func refPlainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// walkTrace walks s with the current walker and with refWalker, under the
// given limits, with a visitor that records every visit (value, key and
// field name) and stops at visit number stop (0: never), and fails when
// they differ.
func walkTrace(t testing.TB, s string, maxDepth, maxFields, stop int) {
	t.Helper()
	var got, want []string
	w := &jsonWalker{src: s, maxDepth: maxDepth, maxFields: maxFields}
	w.visit = func(w *jsonWalker, v string, key bool) bool {
		got = append(got, traceLine(v, key, w.appendName(nil)))
		return len(got) != stop
	}
	r := &refWalker{src: s, raw: []byte(s), maxDepth: maxDepth, maxFields: maxFields}
	r.visit = func(r *refWalker, v string, key bool) bool {
		want = append(want, traceLine(v, key, r.appendName(nil)))
		return len(want) != stop
	}
	err, errRef := w.walk(), r.walk()
	if err != errRef || w.stopped != r.stopped || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%q (depth %d, fields %d, stop %d):\nwalker %v %v\n%s\nbefore %v %v\n%s", s, maxDepth, maxFields, stop,
			err, w.stopped, strings.Join(got, "\n"), errRef, r.stopped, strings.Join(want, "\n"))
	}
}

func traceLine(v string, key bool, name []byte) string {
	k := " value "
	if key {
		k = " key "
	}
	return v + k + string(name)
}

func walkTraces(t testing.TB, s string) {
	t.Helper()
	walkTrace(t, s, 32, 1000, 0)
	walkTrace(t, s, 2, 5, 0)
	walkTrace(t, s, 3, 1000, 2)
	walkTrace(t, s, 1000, 3, 1)
}

func FuzzWalkerRef(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c"}],"d":null}`, `[]`, `{}`, `[[],{}]`, `{"a" 1}`, `[1,]`, `{"a":1}x`, `"\u00e9"`,
		`{"a-b":{"c d":["e'f",true,false,null,-1.5e3]}}`, `[{"a":{}},[[]]]`, " \t\n[ ] "} {
		f.Add(s)
	}
	f.Add(benchJSON())
	f.Fuzz(func(t *testing.T, s string) {
		walkTraces(t, s)
	})
}

// TestWalkerRef compares the walker with refWalker on documents built from
// the corpus, the benchmark body cut at every byte, and random edits of
// both.
func TestWalkerRef(t *testing.T) {
	docs := []string{benchJSON(), `[{"a":{}},[[]],{"b":[{}]}]`, `{"a":[[[[{"b":1}]]]],"c":{"d":{"e":{"f":"g h"}}}}`}
	n := 0
	forCorpus(t, func(row corpusRow) {
		q, _ := json.Marshal(row.Payload)
		walkTraces(t, `{"a":`+string(q)+`,`+string(q)+`:[1,{"b c":`+string(q)+`}]}`)
		if n%50 == 0 {
			docs = append(docs, `{"x":[`+string(q)+`],"y":{"z":`+string(q)+`}}`)
		}
		walkTraces(t, `{"a":"`+row.Payload+`"}`)
		n++
	})
	b := benchJSON()
	for i := 0; i <= len(b); i++ {
		walkTraces(t, b[:i])
	}
	rng := rand.New(rand.NewPCG(19, 23))
	const edits = "{}[]\",:\\ \t\n0123456789.-+eEtrufalsn\x01\xff"
	for range cases(50000) {
		d := []byte(docs[rng.IntN(len(docs))])
		for k := rng.IntN(3); k >= 0 && len(d) > 0; k-- {
			p := rng.IntN(len(d))
			switch rng.IntN(3) {
			case 0:
				d[p] = edits[rng.IntN(len(edits))]
			case 1:
				d = append(d[:p], d[p+1:]...)
			default:
				d = append(d[:p], append([]byte{edits[rng.IntN(len(edits))]}, d[p:]...)...)
			}
		}
		walkTraces(t, string(d))
	}
}
