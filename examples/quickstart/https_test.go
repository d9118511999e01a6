package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRedirectToHTTPS(t *testing.T) {
	t.Parallel()
	_, _, cert := writeTestCert(t, "localhost", "api.example.com", "*.apps.example.com", "127.0.0.1", "::1")
	h := redirectToHTTPS(8443, cert)
	serve := func(method, target, host string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	ok := []struct{ method, target, host, want string }{
		{"GET", "/", "localhost:8080", "https://localhost:8443/"},
		{"GET", "/api/v1/search?q=a%20b&x=%2F", "localhost:8080", "https://localhost:8443/api/v1/search?q=a%20b&x=%2F"},
		{"POST", "/api/v1/notes", "localhost", "https://localhost:8443/api/v1/notes"},
		{"DELETE", "/x/../y", "LocalHost.:8080", "https://localhost:8443/x/../y"},
		{"GET", "/", "API.example.com", "https://api.example.com:8443/"},
		{"GET", "/", "a1.apps.example.com:80", "https://a1.apps.example.com:8443/"},
		{"GET", "/", "localhost:", "https://localhost:8443/"},
		{"GET", "/", "127.0.0.1:8080", "https://127.0.0.1:8443/"},
		{"GET", "/", "[::1]:8080", "https://[::1]:8443/"},
		{"GET", "/", "[0:0:0:0:0:0:0:1]", "https://[::1]:8443/"},
		// The path is the request's, under this host: "//evil" is a path.
		{"GET", "//evil.example/x", "localhost:8080", "https://localhost:8443//evil.example/x"},
		{"GET", "/%2F%2Fevil.example", "localhost:8080", "https://localhost:8443/%2F%2Fevil.example"},
		{"GET", "/a%0d%0aSet-Cookie:x", "localhost:8080", "https://localhost:8443/a%0d%0aSet-Cookie:x"},
		{"OPTIONS", "*", "localhost:8080", "https://localhost:8443/"},
	}
	for _, tc := range ok {
		w := serve(tc.method, tc.target, tc.host)
		if w.Code != http.StatusPermanentRedirect || w.Header().Get("Location") != tc.want {
			t.Errorf("%s %s Host %q: %d Location %q, want 308 %q", tc.method, tc.target, tc.host, w.Code, w.Header().Get("Location"), tc.want)
		}
		if v := w.Header().Get("Strict-Transport-Security"); v != "" {
			t.Errorf("HSTS %q over plain HTTP", v)
		}
	}

	// Port 443 is left out of the URL.
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/x?y=1", nil)
	r.Host = "localhost"
	redirectToHTTPS(443, cert).ServeHTTP(w, r)
	if got := w.Header().Get("Location"); got != "https://localhost/x?y=1" {
		t.Errorf("port 443: Location %q", got)
	}

	// Hostile or malformed Host values are refused, never reflected.
	bad := []struct{ host, code string }{
		{"", "invalid_host"},
		{"evil.example", "unknown_host"},
		{"evil.example:8080", "unknown_host"},
		{"localhost.evil.example", "unknown_host"},
		{"apps.example.com", "unknown_host"}, // the wildcard covers one label only
		{"a.b.apps.example.com", "unknown_host"},
		{"10.0.0.1", "unknown_host"},
		{"[::2]", "unknown_host"},
		{"evil.example@localhost", "invalid_host"},
		{"localhost@evil.example", "invalid_host"},
		{"user:pass@localhost", "invalid_host"},
		{"localhost/evil.example", "invalid_host"},
		{"localhost:8080/evil.example", "invalid_host"},
		{`localhost\evil.example`, "invalid_host"},
		{"localhost?x=evil.example", "invalid_host"},
		{"localhost#evil.example", "invalid_host"},
		{"%6cocalhost", "invalid_host"},
		{"local host", "invalid_host"},
		{"localhost\r\nLocation: https://evil.example", "invalid_host"},
		{"localhost:99999", "invalid_host"},
		{"localhost:+80", "invalid_host"},
		{"localhost:80:80", "invalid_host"},
		{"::1", "invalid_host"},
		{"[::1", "invalid_host"},
		{"[::1]x", "invalid_host"},
		{"[127.0.0.1]", "invalid_host"},
		{"[fe80::1%25eth0]", "invalid_host"},
		{"-localhost", "invalid_host"},
		{"localhost-", "invalid_host"},
		{"a..localhost", "invalid_host"},
		{".localhost", "invalid_host"},
		{strings.Repeat("a", 64) + ".example.com", "invalid_host"},
		{"1.2.3", "invalid_host"},
		{"0x7f.1", "invalid_host"},
		{"2130706433", "invalid_host"},
		{"lоcalhost", "invalid_host"}, // Cyrillic o
	}
	for _, tc := range bad {
		w := serve("GET", "/", tc.host)
		if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" {
			t.Errorf("Host %q: %d Location %q, want 400", tc.host, w.Code, w.Header().Get("Location"))
			continue
		}
		res := response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
		res.problem(t, 400, tc.code)
		if strings.Contains(w.Body.String(), "evil") {
			t.Errorf("Host %q: the problem echoes it: %s", tc.host, w.Body)
		}
	}
}

// FuzzRedirectHost: whatever the Host and path, the answer is a 400 or a
// redirect to https on the configured port, to a name the certificate
// covers.
func FuzzRedirectHost(f *testing.F) {
	for _, s := range []string{"localhost", "localhost:8080", "[::1]:80", "127.0.0.1", "evil.example", "a@localhost", "localhost/x", "LOCALHOST.", "xn--lcalhost-9wg"} {
		f.Add(s, "/x?y=1")
	}
	_, _, cert := writeTestCert(f, "localhost", "127.0.0.1", "::1")
	h := redirectToHTTPS(8443, cert)
	f.Fuzz(func(t *testing.T, host, path string) {
		r := httptest.NewRequest("GET", "/", nil)
		if u, err := url.ParseRequestURI(path); err == nil {
			r.URL = u
		}
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusBadRequest:
			if w.Header().Get("Location") != "" {
				t.Fatalf("400 with a Location")
			}
		case http.StatusPermanentRedirect:
			loc, err := url.Parse(w.Header().Get("Location"))
			if err != nil || loc.Scheme != "https" || loc.Port() != "8443" || loc.User != nil ||
				!strings.HasPrefix(loc.EscapedPath(), "/") || cert.VerifyHostname(loc.Hostname()) != nil {
				t.Fatalf("Host %q path %q: Location %q", host, path, w.Header().Get("Location"))
			}
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}

func TestLoadCertificate(t *testing.T) {
	t.Parallel()
	certFile, keyFile, _ := writeTestCert(t, "localhost", "127.0.0.1")
	cert, err := loadCertificate(certFile, keyFile)
	if err != nil || cert.Leaf == nil || cert.Leaf.VerifyHostname("localhost") != nil {
		t.Fatalf("loadCertificate: %v", err)
	}
	if c := tlsConfig(cert); c.MinVersion < 0x0303 || len(c.Certificates) != 1 {
		t.Fatalf("tlsConfig %+v", c)
	}

	noSAN, noSANKey, _ := writeTestCert(t)
	otherCert, _, _ := writeTestCert(t, "localhost")
	junk := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(junk, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ cert, key, want string }{
		{noSAN, noSANKey, "names no host"},
		{otherCert, keyFile, "private key does not match"},
		{junk, keyFile, "failed to find any PEM data"},
		{filepath.Join(t.TempDir(), "missing.pem"), keyFile, "no such file"},
	} {
		if _, err := loadCertificate(tc.cert, tc.key); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("loadCertificate(%s, %s): %v, want an error containing %q", tc.cert, tc.key, err, tc.want)
		}
	}
}
