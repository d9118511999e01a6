package inspect

import (
	"html"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// maxDecodeRounds bounds repeated percent-decoding: an attacker who
// encodes a payload more often than this gets no further, because the
// remaining escapes are themselves flagged as excessive encoding.
const maxDecodeRounds = 4

// unhex returns the value of a hex digit and whether c is one.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// percentDecode decodes one round of %XX and %uXXXX escapes, leniently:
// malformed escapes are kept as they are (a server framework that is
// lenient too would see the same). It also decodes the "%%32%65" nibble
// trick, where each hex digit of an escape is itself escaped, because the
// second round of decoding sees "%2e". plus turns '+' into a space.
// It reports whether anything changed.
func percentDecode(s string, plus bool) (string, bool) {
	i := strings.IndexByte(s, '%')
	j := -1
	if plus {
		j = strings.IndexByte(s, '+')
	}
	if i < 0 && j < 0 {
		return s, false
	}
	first := i
	if first < 0 || (j >= 0 && j < first) {
		first = j
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:first]...)
	changed := false
	for k := first; k < len(s); k++ {
		c := s[k]
		if c == '+' && plus {
			b = append(b, ' ')
			changed = true
			continue
		}
		if c != '%' {
			b = append(b, c)
			continue
		}
		if k+2 < len(s) {
			if h, ok := unhex(s[k+1]); ok {
				if l, ok := unhex(s[k+2]); ok {
					b = append(b, h<<4|l)
					k += 2
					changed = true
					continue
				}
			}
		}
		if k+5 < len(s) && (s[k+1] == 'u' || s[k+1] == 'U') {
			var r rune
			ok := true
			for _, d := range []byte(s[k+2 : k+6]) {
				v, isHex := unhex(d)
				if !isHex {
					ok = false
					break
				}
				r = r<<4 | rune(v)
			}
			if ok {
				b = utf8.AppendRune(b, r)
				k += 5
				changed = true
				continue
			}
		}
		b = append(b, c)
	}
	return string(b), changed
}

// foldRune maps look-alike runes that servers and frameworks have been
// known to "best-fit" to ASCII onto that ASCII, so that fullwidth and
// mathematical variants of '<', '.', '/' and '\' are inspected as what
// they become downstream. It returns utf8.RuneError for runes to drop.
func foldRune(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // fullwidth ASCII
		return r - 0xFEE0
	case r >= 0xE000 && r <= 0xF8FF:
		// Private-use code points: IIS and others have best-fit them to
		// path separators ("..%uF025..").
		return '/'
	case r >= 0x2460 && r <= 0x24E9: // circled digits and letters
		switch {
		case r >= 0x24B6 && r <= 0x24CF:
			return 'A' + (r - 0x24B6)
		case r >= 0x24D0 && r <= 0x24E9:
			return 'a' + (r - 0x24D0)
		}
		return r
	}
	switch r {
	case 0x2215, 0x2044, 0x29F8: // division slash, fraction slash, big solidus
		return '/'
	case 0x2216, 0xFE68, 0x29F9, 0x29F5: // set minus, small reverse solidus, ...
		return '\\'
	case 0x2024, 0xFE52, 0x3002: // one dot leader, small full stop, ideographic full stop
		return '.'
	case 0x00A0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
		0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return ' '
	case 0x200B, 0x200C, 0x200D, 0xFEFF, 0x00AD: // zero-width and soft hyphen
		return utf8.RuneError
	case 0x2018, 0x2019, 0x02BC, 0x2032: // typographic single quotes
		return '\''
	case 0x201C, 0x201D, 0x2033:
		return '"'
	case 0xFE64, 0x2039, 0x3008, 0x2329: // small/angle less-than
		return '<'
	case 0xFE65, 0x203A, 0x3009, 0x232A:
		return '>'
	}
	return r
}

// fold rewrites s as described in foldRune, decodes overlong UTF-8
// encodings of ASCII (C0 AE is '.') and the lenient "C0 2E" form, and
// turns other invalid bytes into nothing. It reports whether anything
// changed. ASCII input is returned as is without allocating.
func fold(s string) (string, bool) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s, false
	}
	b := make([]byte, 0, len(s))
	changed := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			b = append(b, c)
			i++
			continue
		}
		// Overlong two-byte forms: C0/C1 followed by a continuation byte
		// encode an ASCII character; followed by a plain ASCII byte some
		// decoders drop the lead byte.
		if (c == 0xC0 || c == 0xC1) && i+1 < len(s) {
			d := s[i+1]
			if d&0xC0 == 0x80 {
				b = append(b, (c&0x1F)<<6|(d&0x3F))
			} else {
				b = append(b, d)
			}
			i += 2
			changed = true
			continue
		}
		// Overlong three-byte forms: E0 80..9F xx.
		if c == 0xE0 && i+2 < len(s) && s[i+1]&0xE0 == 0x80 && s[i+2]&0xC0 == 0x80 {
			r := rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
			if r < 0x80 {
				b = append(b, byte(r))
				i += 3
				changed = true
				continue
			}
		}
		// Overlong four-byte forms: F0 80..8F xx xx.
		if c == 0xF0 && i+3 < len(s) && s[i+1]&0xF0 == 0x80 && s[i+2]&0xC0 == 0x80 && s[i+3]&0xC0 == 0x80 {
			r := rune(s[i+2]&0x3F)<<6 | rune(s[i+3]&0x3F)
			if r < 0x80 {
				b = append(b, byte(r))
				i += 4
				changed = true
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			changed = true
			i++
			continue
		}
		f := foldRune(r)
		switch {
		case f == utf8.RuneError:
			changed = true
		case f != r:
			b = utf8.AppendRune(b, f)
			changed = true
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b), changed
}

// entityDecode decodes HTML character references, including the
// semicolon-less and zero-padded numeric forms browsers accept, twice (for
// "&amp;#60;"). It reports whether anything changed.
func entityDecode(s string) (string, bool) {
	if strings.IndexByte(s, '&') < 0 {
		return s, false
	}
	out := s
	for range 2 {
		d := html.UnescapeString(out)
		if d == out {
			break
		}
		out = d
	}
	// html.UnescapeString does not know a few HTML5 names used to hide
	// syntax; map them here.
	if strings.IndexByte(out, '&') >= 0 {
		out = html5Names.Replace(out)
	}
	return out, out != s
}

var html5Names = strings.NewReplacer(
	"&colon;", ":", "&lpar;", "(", "&rpar;", ")", "&tab;", "\t", "&Tab;", "\t",
	"&newline;", "\n", "&NewLine;", "\n", "&sol;", "/", "&bsol;", "\\",
	"&period;", ".", "&lsqb;", "[", "&rsqb;", "]", "&grave;", "`",
	"&quest;", "?", "&excl;", "!", "&plus;", "+", "&equals;", "=",
)

// escapeDecode decodes the backslash escapes of JavaScript and C-like
// strings (\xHH, \uHHHH, \u{H...}) and drops backslashes before ordinary
// characters. It reports whether anything changed.
func escapeDecode(s string) (string, bool) {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s, false
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	changed := false
	for k := i; k < len(s); k++ {
		c := s[k]
		if c != '\\' || k+1 >= len(s) {
			b = append(b, c)
			continue
		}
		n := s[k+1]
		switch {
		case (n == 'x' || n == 'X') && k+3 < len(s):
			h, ok1 := unhex(s[k+2])
			l, ok2 := unhex(s[k+3])
			if ok1 && ok2 {
				b = append(b, h<<4|l)
				k += 3
				changed = true
				continue
			}
		case n == 'u' && k+2 < len(s) && s[k+2] == '{':
			end := strings.IndexByte(s[k+3:], '}')
			if end > 0 && end <= 6 {
				var r rune
				ok := true
				for _, d := range []byte(s[k+3 : k+3+end]) {
					v, isHex := unhex(d)
					if !isHex {
						ok = false
						break
					}
					r = r<<4 | rune(v)
				}
				if ok {
					b = utf8.AppendRune(b, r)
					k += 3 + end
					changed = true
					continue
				}
			}
		case n == 'u' && k+5 < len(s):
			var r rune
			ok := true
			for _, d := range []byte(s[k+2 : k+6]) {
				v, isHex := unhex(d)
				if !isHex {
					ok = false
					break
				}
				r = r<<4 | rune(v)
			}
			if ok {
				b = utf8.AppendRune(b, r)
				k += 5
				changed = true
				continue
			}
		case n == 'n':
			b = append(b, '\n')
			k++
			changed = true
			continue
		case n == 't':
			b = append(b, '\t')
			k++
			changed = true
			continue
		case n == 'r':
			b = append(b, '\r')
			k++
			changed = true
			continue
		}
		b = append(b, c)
	}
	return string(b), changed
}

// lowerASCII returns s with ASCII letters lower-cased, without allocating
// when s has none upper-case.
func lowerASCII(s string) string { return lowerASCIIBuf(s, nil) }

// lowerASCIIBuf is lowerASCII, built in buf when it fits.
func lowerASCIIBuf(s string, buf []byte) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			var b []byte
			if len(s) <= len(buf) {
				b = buf[:len(s):len(s)]
			} else {
				b = make([]byte, len(s))
			}
			copy(b, s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return bytesString(b)
		}
	}
	return s
}

// utf7 decodes the UTF-7 spellings of ASCII markup ("+ADw-script+AD4-"),
// which old browsers honoured on pages without a charset.
var utf7 = strings.NewReplacer(
	"+ADw-", "<", "+AD4-", ">", "+ACI-", "\"", "+ACc-", "'", "+AC8-", "/", "+ACY-", "&",
	"+AD0-", "=", "+ACg-", "(", "+ACk-", ")", "+ADs-", ";", "+ACA-", " ",
	"+ADw", "<", "+AD4", ">", "+ACI", "\"",
)

// bytesString returns b as a string without copying it. b must not be
// written to afterwards: the forms built here are written once and then
// only read.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
