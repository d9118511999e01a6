package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/guardsdk/guard"
)

// loadCertificate reads the -tls-cert and -tls-key pair and checks that
// the certificate names at least one host, since browsers (and the
// redirect listener) match hosts against its subject alternative names
// only.
func loadCertificate(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return cert, err
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return cert, err
		}
		cert.Leaf = leaf
	}
	if len(leaf.DNSNames) == 0 && len(leaf.IPAddresses) == 0 {
		return cert, errors.New("the certificate names no host (no DNS or IP subject alternative name); browsers refuse it")
	}
	return cert, nil
}

// tlsConfig is the HTTPS listener's configuration: TLS 1.2 or later with
// Go's default cipher suites (all forward secret AEADs for TLS 1.2), and
// HTTP/2.
func tlsConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}
}

var (
	errInvalidHost = guard.Deny(http.StatusBadRequest, "invalid_host", "The Host header is not a valid host name or IP address.")
	errUnknownHost = guard.Deny(http.StatusBadRequest, "unknown_host", "This server has no HTTPS certificate for the requested host.")
)

// redirectToHTTPS is the plain-HTTP listener's handler: every request,
// whatever its method and path, is answered 308 Permanent Redirect to the
// same host and request URI over HTTPS on httpsPort (omitted when 443).
//
// It is not an open redirect: the scheme and port are fixed, the path is
// the request's own, and the host is taken from the Host header only if
// it is a well-formed host name or IP address (400 invalid_host
// otherwise: no userinfo, path, percent-escapes or stray characters reach
// Location) that the HTTPS certificate covers (400 unknown_host
// otherwise), so a forged Host never leads anywhere but to this server's
// own names. No Strict-Transport-Security here: browsers ignore it over
// plain HTTP; the HTTPS responses carry it.
func redirectToHTTPS(httpsPort int, cert *x509.Certificate) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, ok := requestHostname(r.Host)
		if !ok {
			guard.WriteProblem(w, errInvalidHost)
			return
		}
		if cert == nil || cert.VerifyHostname(host) != nil {
			guard.WriteProblem(w, errUnknownHost)
			return
		}
		if strings.IndexByte(host, ':') >= 0 {
			host = "[" + host + "]"
		}
		if httpsPort != 443 {
			host += ":" + strconv.Itoa(httpsPort)
		}
		// The path and query as received, escaped; an absolute-form
		// request target ("GET http://other/x") keeps only its path, and
		// "*" (OPTIONS *) becomes "/".
		uri := r.URL.RequestURI()
		if !strings.HasPrefix(uri, "/") {
			uri = "/"
		}
		h := w.Header()
		h.Set("Location", "https://"+host+uri)
		h.Set("Cache-Control", "no-store") // the port or the names may change
		w.WriteHeader(http.StatusPermanentRedirect)
	})
}

// requestHostname returns the host part of a Host header value in a
// canonical form (lower case, IPv6 without brackets or zone, no trailing
// dot), or false unless it is a DNS name, an IPv4 address or a bracketed
// IPv6 address, optionally followed by ":port".
func requestHostname(hostport string) (string, bool) {
	host, port := hostport, ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return "", false
		}
		host, port = host[1:end], host[end+1:]
		if port != "" {
			if port[0] != ':' {
				return "", false
			}
			port = port[1:]
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() || ip.Zone() != "" || !validPort(port) {
			return "", false
		}
		return ip.String(), true
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host, port = host[:i], host[i+1:]
	}
	if !validPort(port) {
		return "", false
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		// An IPv6 address needs brackets; IPv4 only here.
		return ip.String(), ip.Is4()
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host, validDNSName(host)
}

// validPort accepts "" (no port) or 1 to 5 digits up to 65535.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	if len(p) > 5 || !allDigits(p) {
		return false
	}
	n, _ := strconv.Atoi(p)
	return n <= 65535
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// validDNSName reports whether s (lower case) is a host name: dot-separated
// labels of 1 to 63 letters, digits and hyphens, not starting or ending
// with a hyphen, at most 253 bytes, whose last label is not numeric
// (browsers would read "1.2.3" or "0x7f.1" as an IPv4 address).
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return !allDigits(last) && !strings.HasPrefix(last, "0x")
}
