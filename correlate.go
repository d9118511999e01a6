package guard

import (
	"encoding/hex"
	"math/rand/v2"
)

// MaxRequestIDLen is the longest inbound X-Request-ID guard keeps.
const MaxRequestIDLen = 128

// TraceID is a W3C trace id (16 bytes). The zero value means "none".
type TraceID [16]byte

// SpanID is a W3C parent/span id (8 bytes).
type SpanID [8]byte

// IsValid reports whether t is not all zeros.
func (t TraceID) IsValid() bool { return t != TraceID{} }

// String returns t as 32 lowercase hex digits, or "" when t is zero.
func (t TraceID) String() string {
	if !t.IsValid() {
		return ""
	}
	return hex.EncodeToString(t[:])
}

// TraceContext is the parsed W3C traceparent of a request.
type TraceContext struct {
	TraceID TraceID
	SpanID  SpanID
	Flags   byte
}

// IsValid reports whether tc came from a valid traceparent.
func (tc TraceContext) IsValid() bool { return tc.TraceID.IsValid() }

// Sampled reports the sampled flag.
func (tc TraceContext) Sampled() bool { return tc.Flags&1 == 1 }

// ParseTraceparent parses a W3C Trace Context traceparent header value
// ("00-<32 hex>-<16 hex>-<2 hex>"). It rejects version ff, upper-case hex,
// all-zero trace or parent ids, and, for version 00, any trailing data. A
// later version is accepted when its first four fields are well formed and
// any extra data follows a '-', as the specification requires.
func ParseTraceparent(s string) (TraceContext, bool) {
	var tc TraceContext
	if len(s) < 55 {
		return tc, false
	}
	ver, ok := hexByte(s[0], s[1])
	if !ok || ver == 0xff || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return tc, false
	}
	if ver == 0 && len(s) != 55 {
		return tc, false
	}
	if len(s) > 55 && s[55] != '-' {
		return tc, false
	}
	for i := 0; i < 16; i++ {
		b, ok := hexByte(s[3+2*i], s[4+2*i])
		if !ok {
			return TraceContext{}, false
		}
		tc.TraceID[i] = b
	}
	for i := 0; i < 8; i++ {
		b, ok := hexByte(s[36+2*i], s[37+2*i])
		if !ok {
			return TraceContext{}, false
		}
		tc.SpanID[i] = b
	}
	flags, ok := hexByte(s[53], s[54])
	if !ok || !tc.TraceID.IsValid() || tc.SpanID == (SpanID{}) {
		return TraceContext{}, false
	}
	tc.Flags = flags
	return tc, true
}

// hexByte decodes two lowercase hex digits.
func hexByte(hi, lo byte) (byte, bool) {
	h, ok1 := hexVal(hi)
	l, ok2 := hexVal(lo)
	return h<<4 | l, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// requestIDSafe marks the bytes allowed in an inbound X-Request-ID:
// ASCII letters, digits and "-._~:@+=/". Nothing that could break a log
// line, a header or a JSON string.
var requestIDSafe = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-._~:@+=/" {
		t[c] = true
	}
	return t
}()

// ValidRequestID reports whether an inbound X-Request-ID value is kept:
// 1 to MaxRequestIDLen bytes, each in the safe set (ASCII letters, digits
// and "-._~:@+=/").
func ValidRequestID(s string) bool {
	if len(s) == 0 || len(s) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !requestIDSafe[s[i]] {
			return false
		}
	}
	return true
}

// putRequestID writes 32 random lowercase hex digits into b. The ids are
// for correlation, not secrets: they come from the runtime's per-thread
// ChaCha8 generator, which is fast and never blocks.
func putRequestID(b *[32]byte) {
	var raw [16]byte
	putUint64(raw[:8], rand.Uint64())
	putUint64(raw[8:], rand.Uint64())
	hex.Encode(b[:], raw[:])
}

func putUint64(b []byte, v uint64) {
	_ = b[7]
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (56 - 8*i))
	}
}
