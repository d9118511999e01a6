package metrics

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Transport wraps base (http.DefaultTransport when nil) so that every
// outbound request is recorded in http.client.request.duration (seconds,
// the conventions' buckets) with http.request.method, server.address,
// server.port and http.response.status_code, or error.type when the
// round trip failed. server.address is capped like every label.
func (m *Metrics) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{m: m, base: base}
}

type transport struct {
	m    *Metrics
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	d := time.Since(start)
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	attrs := make([]attribute.KeyValue, 0, 5)
	attrs = append(attrs,
		attribute.String("http.request.method", Method(req.Method)),
		attribute.String("server.address", t.m.hosts.value(host)),
	)
	if p, perr := strconv.Atoi(port); perr == nil {
		attrs = append(attrs, attribute.Int("server.port", p))
	}
	switch {
	case err != nil:
		et := errorType(err)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			et = "timeout"
		}
		attrs = append(attrs, attribute.String("error.type", et))
	default:
		attrs = append(attrs, attribute.Int("http.response.status_code", resp.StatusCode))
		if resp.StatusCode >= 400 {
			attrs = append(attrs, attribute.String("error.type", strconv.Itoa(resp.StatusCode)))
		}
	}
	t.m.clientDuration.Float64Histogram.Record(req.Context(), d.Seconds(), metric.WithAttributes(attrs...))
	return resp, err
}
