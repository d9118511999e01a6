package csp

import (
	"context"
	"crypto/rand"
	"encoding/base64"

	"github.com/guardsdk/guard"
)

// NonceBytes is the entropy of a nonce: 128 bits, as CSP Level 3
// recommends, rendered as 22 base64url characters.
const NonceBytes = 16

type nonceKey struct{}

// Nonce returns the CSP nonce of the request ctx belongs to, for the
// nonce attribute of the page's <script> and <style> elements, or "" when
// the request's policy uses no nonce (or ctx is not a guard request's
// context). The nonce is base64url, so it needs no escaping in HTML.
func Nonce(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	s, _ := ctx.Value(nonceKey{}).(string)
	return s
}

// RequestNonce returns the request's nonce, drawing a fresh one from
// crypto/rand on first use. The headers stage calls it for policies that
// use NonceSource; other code rarely needs to.
func RequestNonce(r *guard.Request) string {
	if s, ok := r.Value(nonceKey{}).(string); ok && s != "" {
		return s
	}
	s := newNonce()
	r.SetValue(nonceKey{}, s)
	return s
}

func newNonce() string {
	var raw [NonceBytes]byte
	_, _ = rand.Read(raw[:]) // never fails since Go 1.24
	var enc [22]byte
	base64.RawURLEncoding.Encode(enc[:], raw[:])
	return string(enc[:])
}
