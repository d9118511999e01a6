package guard

import (
	"strings"
	"testing"
)

func TestParseTraceparent(t *testing.T) {
	t.Parallel()
	const valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	tests := []struct {
		in string
		ok bool
	}{
		{valid, true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", true},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", true},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", false},
		{"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", false},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false},
		{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false},
		{valid + "-x", false},
		{valid[:54], false},
		{"", false},
		{"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
		{"0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
		{"00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01", false},
	}
	for _, tt := range tests {
		tc, ok := ParseTraceparent(tt.in)
		if ok != tt.ok {
			t.Errorf("ParseTraceparent(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if ok != tc.IsValid() {
			t.Errorf("ParseTraceparent(%q): ok %v but IsValid %v", tt.in, ok, tc.IsValid())
		}
	}
	tc, _ := ParseTraceparent(valid)
	if tc.TraceID.String() != "4bf92f3577b34da6a3ce929d0e0e4736" || !tc.Sampled() {
		t.Fatalf("parsed %+v", tc)
	}
}

func TestValidRequestID(t *testing.T) {
	t.Parallel()
	good := []string{"abc", "req-1.2_3~x:y@z+w=v/u", strings.Repeat("a", MaxRequestIDLen)}
	bad := []string{"", strings.Repeat("a", MaxRequestIDLen+1), "a b", "a\nb", "a\"b", "<script>", "é", "a\x00", "a;b", "a,b"}
	for _, s := range good {
		if !ValidRequestID(s) {
			t.Errorf("ValidRequestID(%q) = false", s)
		}
	}
	for _, s := range bad {
		if ValidRequestID(s) {
			t.Errorf("ValidRequestID(%q) = true", s)
		}
	}
}

func TestNewRequestID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		var b [32]byte
		putRequestID(&b)
		id := string(b[:])
		if len(id) != 32 || !ValidRequestID(id) {
			t.Fatalf("bad id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func FuzzTraceparent(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Add("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Add("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds")
	f.Fuzz(func(t *testing.T, s string) {
		tc, ok := ParseTraceparent(s)
		if !ok {
			if tc != (TraceContext{}) {
				t.Fatalf("rejected %q but returned %+v", s, tc)
			}
			return
		}
		if s[:2] == "ff" || !tc.TraceID.IsValid() || tc.SpanID == (SpanID{}) {
			t.Fatalf("accepted invalid %q", s)
		}
		if got := tc.TraceID.String(); got != s[3:35] {
			t.Fatalf("trace id %q from %q", got, s)
		}
	})
}

func FuzzRequestID(f *testing.F) {
	f.Add("abc-123")
	f.Add("a\r\nSet-Cookie: x=y")
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidRequestID(s) {
			return
		}
		if len(s) > MaxRequestIDLen || strings.ContainsAny(s, " \t\r\n\"'<>\\;,") {
			t.Fatalf("accepted unsafe id %q", s)
		}
		for _, r := range s {
			if r > 0x7e || r < 0x21 {
				t.Fatalf("accepted non-printable id %q", s)
			}
		}
	})
}
