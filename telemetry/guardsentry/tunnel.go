package guardsentry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/getsentry/sentry-go"
)

// Tunnel limits and defaults.
const (
	// MaxEnvelopeBytes caps the body the tunnel accepts (1 MB).
	MaxEnvelopeBytes = 1 << 20
	// MaxEnvelopeHeaderBytes caps the envelope header line.
	MaxEnvelopeHeaderBytes = 16 << 10
	// DefaultTunnelTimeout bounds one forward to Sentry.
	DefaultTunnelTimeout = 10 * time.Second
	// maxUpstreamReply caps how much of Sentry's reply is relayed.
	maxUpstreamReply = 64 << 10
)

// Envelope errors, returned by ParseEnvelopeDSN.
var (
	ErrEnvelopeMalformed = errors.New("guardsentry: malformed envelope header")
	ErrEnvelopeNoDSN     = errors.New("guardsentry: envelope header has no dsn")
)

// TunnelOption configures Tunnel.
type TunnelOption interface{ applyTunnel(*tunnelConfig) error }

type tunnelOptionFunc func(*tunnelConfig) error

func (f tunnelOptionFunc) applyTunnel(c *tunnelConfig) error { return f(c) }

type tunnelConfig struct {
	client *http.Client
}

// WithTunnelClient sets the client that forwards envelopes (default: a
// client with DefaultTunnelTimeout that follows no redirects). A client
// given here should not follow redirects either.
func WithTunnelClient(c *http.Client) TunnelOption {
	return tunnelOptionFunc(func(tc *tunnelConfig) error {
		if c == nil {
			return errors.New("guardsentry: WithTunnelClient: nil client")
		}
		tc.client = c
		return nil
	})
}

// tunnel forwards browser SDK envelopes to allowlisted Sentry projects.
type tunnel struct {
	allowed map[string]*sentry.Dsn // by allowKey
	client  *http.Client
}

// Tunnel returns the handler for the tunnel option of Sentry's browser
// SDKs (@sentry/browser, @sentry/nextjs, ...). It accepts a POST whose
// body is a Sentry envelope of at most MaxEnvelopeBytes, reads the DSN
// from the envelope header, and forwards the envelope unchanged to the
// envelope endpoint of the matching allowlisted DSN — the destination is
// always built from the allowlist, never from the request, so the tunnel
// can reach no other host (no SSRF) and serves no other project (no open
// relay). allowed lists DSNs; a DSN matches when scheme, host, port, path
// prefix and project id agree (the public key may differ).
//
// Answers: 405 for a method other than POST, 413 for a larger body, 400
// for a malformed envelope header or one without a DSN, 403 for a DSN not
// on the allowlist, 502 when Sentry cannot be reached, else Sentry's own
// status and (capped) body. No client header or cookie is forwarded.
func Tunnel(allowed []string, opts ...TunnelOption) (http.Handler, error) {
	if len(allowed) == 0 {
		return nil, errors.New("guardsentry: Tunnel: no allowed DSN")
	}
	c := tunnelConfig{}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("guardsentry: Tunnel: nil option")
		}
		if err := o.applyTunnel(&c); err != nil {
			return nil, err
		}
	}
	if c.client == nil {
		c.client = &http.Client{
			Timeout:       DefaultTunnelTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	t := &tunnel{allowed: map[string]*sentry.Dsn{}, client: c.client}
	for _, a := range allowed {
		d, err := sentry.NewDsn(a)
		if err != nil {
			return nil, fmt.Errorf("guardsentry: Tunnel: allowed DSN %d: %w", len(t.allowed), err)
		}
		t.allowed[allowKey(d)] = d
	}
	return t, nil
}

func allowKey(d *sentry.Dsn) string {
	return fmt.Sprintf("%s://%s:%d%s/%s", d.GetScheme(), strings.ToLower(d.GetHost()), d.GetPort(), d.GetPath(), d.GetProjectID())
}

// ParseEnvelopeDSN returns the DSN named by an envelope's header: the
// first line of the envelope, a JSON object with a "dsn" member.
func ParseEnvelopeDSN(envelope []byte) (string, error) {
	line := envelope
	if i := bytes.IndexByte(envelope, '\n'); i >= 0 {
		line = envelope[:i]
	}
	if len(line) > MaxEnvelopeHeaderBytes {
		return "", ErrEnvelopeMalformed
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	var h struct {
		DSN *string `json:"dsn"`
	}
	if len(bytes.TrimSpace(line)) == 0 || line[0] != '{' || json.Unmarshal(line, &h) != nil {
		return "", ErrEnvelopeMalformed
	}
	if h.DSN == nil || *h.DSN == "" {
		return "", ErrEnvelopeNoDSN
	}
	return *h.DSN, nil
}

func (t *tunnel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.ContentLength > MaxEnvelopeBytes {
		http.Error(w, "envelope too large", http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxEnvelopeBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "envelope too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read envelope", http.StatusBadRequest)
		return
	}
	raw, err := ParseEnvelopeDSN(body)
	if err != nil {
		http.Error(w, "invalid envelope", http.StatusBadRequest)
		return
	}
	d, err := sentry.NewDsn(raw)
	if err != nil {
		http.Error(w, "invalid envelope dsn", http.StatusBadRequest)
		return
	}
	target, ok := t.allowed[allowKey(d)]
	if !ok {
		http.Error(w, "dsn not allowed", http.StatusForbidden)
		return
	}
	t.forward(w, r.Context(), target, body)
}

func (t *tunnel) forward(w http.ResponseWriter, ctx context.Context, target *sentry.Dsn, body []byte) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.GetAPIURL().String(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	req.Header.Set("Content-Type", "application/x-sentry-envelope")
	resp, err := t.client.Do(req)
	if err != nil {
		http.Error(w, "sentry unreachable", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, maxUpstreamReply))
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(reply)
}
