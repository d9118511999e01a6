package inspect

import (
	"bytes"
	"strings"
)

// Path traversal reasons.
const (
	ReasonDotDot        = "dot_dot_segment"    // a ".." (or longer) path segment
	ReasonNUL           = "nul_byte"           // a NUL byte, raw or encoded
	ReasonSensitivePath = "sensitive_path"     // /etc/passwd, win.ini, /proc/self, ...
	ReasonFileScheme    = "file_scheme"        // file://, php://filter, phar://, ...
	ReasonOverEncoded   = "excessive_encoding" // still percent-encoded after every decoding round
	ReasonBackslash     = "backslash"          // path only: a raw or encoded backslash
	ReasonDoubleEncoded = "double_encoding"    // path only: %25 followed by hex
	ReasonOverlongUTF8  = "overlong_utf8"      // path only: C0/C1/E0 80 encodings
)

// sensitivePaths are the files and directories path traversal and file
// inclusion go after. They are matched against the lower-cased value with
// backslashes turned into slashes and repeated slashes and "./" removed.
var sensitivePaths = []string{
	"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/hosts", "/etc/issue", "/etc/master.passwd",
	"/etc/sudoers", "/etc/crontab", "/etc/httpd/", "/etc/apache", "/etc/nginx/", "/etc/mysql/",
	"/etc/ssh/", "/etc/security/", "/etc/profile", "/etc/motd", "/etc/fstab", "/etc/resolv.conf",
	"/etc/named", "/var/named", "/etc/inetd.conf", "/etc/php", "/proc/self/", "/proc/version",
	"/proc/cmdline", "/proc/mounts", "/proc/net/", "/proc/sched_debug", "/dev/tcp/", "/dev/udp/",
	"/.ssh/", "id_rsa", "/.bash_history", "/.htpasswd", "/.htaccess", "/.git/config",
	"/.env", "/var/log/", "/var/www/", "/usr/local/apache", "/opt/lampp/", "/xampp/",
	"win.ini", "boot.ini", "system.ini", "/system32/config/", "/system32/drivers/etc/",
	"/windows/repair/", "/windows/panther/", "/inetpub/", "/winnt/", "/web-inf/", "/meta-inf/",
	"/wp-config.php", "/localsettings.php", "/apache/logs/", "/logs/access",
	"/logs/error", "/access_log", "/access.log", "/error_log", "/error.log", "/httpd.conf",
	"/php.ini", "/my.cnf", "/my.ini", "/autoexec.bat", "/pagefile.sys",
}

var fileSchemes = []string{
	"file://", "file:/", "php://", "phar://", "zip://", "expect://", "glob://", "data://",
	"jar:", "netdoc:", "gopher://", "dict://", "zlib://", "compress.zlib://", "ogg://", "rar://",
}

// pathForm lower-cases s, turns backslashes into slashes, removes "./"
// segments and repeated slashes, so "/./\/././etc//passwd" reads
// "/etc/passwd".
func pathForm(s string) string {
	b := make([]byte, 0, len(s)+1)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			c = '/'
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c == '/' && len(b) > 0 && b[len(b)-1] == '/' && !(len(b) >= 2 && b[len(b)-2] == ':') {
			continue // "//" → "/", but "scheme://" stays
		}
		if c == '/' && len(b) >= 2 && b[len(b)-1] == '.' && b[len(b)-2] == '/' {
			b = b[:len(b)-1] // "/./" → "/"
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

// hexNotation rewrites the "0x2e0x2e0x2f" spelling of ". . /" that some
// decoders accept.
var hexNotation = strings.NewReplacer("0x2e", ".", "0x2f", "/", "0x5c", "\\", "0x2E", ".", "0x2F", "/", "0x5C", "\\", "0x00", "\x00")

// pathAnchors are the path segments (lower-cased) that any entry of
// sensitivePaths or fileSchemes contains; a value with none of them needs
// no substring search.
var pathAnchors = map[string]bool{
	"etc": true, "proc": true, "dev": true, "var": true, "usr": true, "opt": true, "root": true,
	"windows": true, "winnt": true, "system32": true, "inetpub": true, "web-inf": true, "meta-inf": true,
	"xampp": true, "apache": true, "logs": true, "log": true, "www": true,
}

// pathAnchorSet is pathAnchors behind its filter.
var pathAnchorSet = newWordMap(pathAnchors)

// interestingPath reports whether v has a segment that sensitive paths
// go through, a sensitive file name, a '%' left after decoding, or a
// scheme separator.
func interestingPath(v string) bool {
	var buf [16]byte
	seg := func(w string) bool {
		if len(w) == 0 || len(w) > len(buf) {
			return false
		}
		if w[0] == '.' {
			return true // a dot file (.ssh, .env, .htaccess)
		}
		// Each suffix below starts with '.' or '_': they are looked for
		// only in segments with one; each prefix starts with i, p or s.
		dotted := false
		for k := 0; k < len(w); k++ {
			c := lowerByte(w[k])
			buf[k] = c
			dotted = dotted || c == '.' || c == '_'
		}
		lw := buf[:len(w)]
		if bloomHas(&pathAnchorSet.f, lw[0], lw[len(lw)-1], len(lw)) && pathAnchors[string(lw)] {
			return true // an anchor
		}
		if dotted && (bytes.HasSuffix(lw, []byte(".ini")) || bytes.HasSuffix(lw, []byte(".conf")) ||
			bytes.HasSuffix(lw, []byte(".cnf")) || bytes.HasSuffix(lw, []byte(".log")) ||
			bytes.HasSuffix(lw, []byte("_log")) || bytes.HasSuffix(lw, []byte(".php")) ||
			bytes.HasSuffix(lw, []byte(".bat")) || bytes.HasSuffix(lw, []byte(".sys"))) {
			return true
		}
		switch lw[0] {
		case 'i', 'p', 's':
			return bytes.HasPrefix(lw, []byte("id_rsa")) || bytes.HasPrefix(lw, []byte("passwd")) ||
				bytes.HasPrefix(lw, []byte("shadow"))
		}
		return false
	}
	if strings.IndexByte(v, '%') >= 0 || strings.Contains(v, ":/") || strings.Contains(v, ":\\") {
		return true
	}
	start := 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || v[i] == '/' || v[i] == '\\' || v[i] == ' ' || v[i] == ':' {
			if seg(v[start:i]) {
				return true
			}
			start = i + 1
		}
	}
	return false
}

// detectTraversal reports path traversal in v, a decoded value.
func detectTraversal(v string) (string, bool) {
	if strings.Contains(v, "0x") {
		if h := hexNotation.Replace(v); h != v {
			if r, ok := detectTraversal(h); ok {
				return r, true
			}
		}
	}
	if strings.IndexByte(v, 0) >= 0 {
		return ReasonNUL, true
	}
	hasDots := strings.Contains(v, "..")
	hasSep := strings.ContainsAny(v, "/\\")
	if hasDots && dotDotSegment(v) {
		return ReasonDotDot, true
	}
	if !hasSep && !strings.Contains(v, ":") && !strings.Contains(v, ".ini") {
		return "", false
	}
	if !interestingPath(v) {
		return "", false
	}
	p := pathForm(v)
	if strings.Contains(p, "%2e") || strings.Contains(p, "%2f") || strings.Contains(p, "%5c") || strings.Contains(p, "%c0") {
		return ReasonOverEncoded, true
	}
	for _, sp := range sensitivePaths {
		if i := strings.Index(p, sp); i >= 0 {
			// The match must start a path element: "/etc/passwd" in
			// "x/etc/passwd" counts, "win.ini" must not be "darwin.ini".
			if sp[0] == '/' || i == 0 || !isAlnum(p[i-1]) {
				return ReasonSensitivePath, true
			}
		}
	}
	for _, sch := range fileSchemes {
		if i := strings.Index(p, sch); i >= 0 && (i == 0 || !isAlnum(p[i-1])) {
			if sch == "file:/" || sch == "jar:" || sch == "data://" {
				if i != 0 {
					continue
				}
			}
			return ReasonFileScheme, true
		}
	}
	return "", false
}

// dotDotSegment finds a run of two or more dots that is a path segment
// on at least one side: "../", "/..", "..\", "....//". Runs followed by a
// non-alphanumeric separator that repeats ("..%uEFC8..%uEFC8") count too,
// as servers best-fit exotic separators to '/'.
func dotDotSegment(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '.' || i+1 >= len(s) || s[i+1] != '.' {
			continue
		}
		j := i
		for j < len(s) && s[j] == '.' {
			j++
		}
		before := i == 0 || s[i-1] == '/' || s[i-1] == '\\'
		// Tomcat reads "..;" as "..": a path parameter ends the segment.
		after := j == len(s) || s[j] == '/' || s[j] == '\\' || s[j] == ';'
		sepBefore := i > 0 && (s[i-1] == '/' || s[i-1] == '\\')
		sepAfter := j < len(s) && (s[j] == '/' || s[j] == '\\' || s[j] == ';' && j+1 < len(s) && (s[j+1] == '/' || s[j+1] == '\\' || s[j+1] == '.'))
		if (before && after) && (sepBefore || sepAfter) && !(j == len(s) && j-i >= 3) {
			return true // "/../", "/.." at the end; "/..." ending a value is an ellipsis
		}
		// "../" glued to a following name ("../etc") or "..\" anywhere.
		if sepAfter && (before || j-i >= 2 && (i == 0 || !isAlnum(lowerByte(s[i-1])))) {
			return true
		}
		if sepBefore && (after && (j < len(s) || j-i == 2) || j-i >= 3 && j < len(s)) {
			return true // "/.." or "/../"; "/..." ending a value is an ellipsis
		}
		// Repeated ".." + exotic separator: the same byte after each run.
		if j < len(s) && j-i == 2 && !isAlnum(lowerByte(s[j])) && s[j] != ' ' && s[j] != '.' {
			sep := s[j:min(len(s), j+utf8Len(s[j]))]
			if strings.HasPrefix(s[j+len(sep):], "..") && strings.HasPrefix(s[j+len(sep)+2:], sep) {
				return true
			}
		}
		i = j
	}
	return false
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func utf8Len(c byte) int {
	switch {
	case c < 0x80:
		return 1
	case c < 0xE0:
		return 2
	case c < 0xF0:
		return 3
	}
	return 4
}

// detectPathEncoding inspects a raw (still escaped) request path for the
// encodings that smuggle traversal past routers: encoded dots and
// slashes, double encoding, overlong UTF-8, %u escapes, backslashes and
// NUL bytes.
func detectPathEncoding(raw string) (string, bool) {
	if scanBytes(raw)&(fBackslash|fCtl|fPercent) == 0 {
		return "", false // none of '\\', NUL and '%', which every case needs
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '\\':
			return ReasonBackslash, true
		case 0:
			return ReasonNUL, true
		case '%':
			if i+2 >= len(raw) {
				continue
			}
			h, l := lowerByte(raw[i+1]), lowerByte(raw[i+2])
			switch {
			case h == '0' && l == '0':
				return ReasonNUL, true
			case h == '2' && l == '5':
				if i+4 < len(raw) {
					if _, ok := unhex(raw[i+3]); ok {
						if _, ok := unhex(raw[i+4]); ok {
							return ReasonDoubleEncoded, true
						}
					}
				}
			case h == '5' && l == 'c':
				return ReasonBackslash, true
			case h == 'c' && (l == '0' || l == '1'), h == 'e' && l == '0' && strings.HasPrefix(lowerASCII(raw[i+3:min(len(raw), i+6)]), "%80"):
				return ReasonOverlongUTF8, true
			case h == 'u':
				return ReasonOverEncoded, true
			}
		}
	}
	return "", false
}
