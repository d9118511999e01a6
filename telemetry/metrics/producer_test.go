package metrics_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/telemetry/metrics"
)

// The built-in provider's HTTP server histograms (guard's own points)
// export exactly what the SDK's instruments export for the same events,
// overflow series included.
func TestServerHistogramsMatchSDK(t *testing.T) {
	own, err := metrics.New(metrics.WithCardinalityLimit(4))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes))
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithCardinalityLimit(4))
	sdk, err := metrics.New(metrics.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	for i, r := range []string{"/a", "/b", "/c", "/d", "/a", "/e"} {
		ev := guard.Event{Kind: guard.KindRequestDone, Method: "GET", Scheme: "https", Route: r, ClientIP: ip,
			Status: 200 + 100*(i%4), Duration: time.Duration(i+1) * 3 * time.Millisecond, BytesIn: int64(i*100 - 100), BytesOut: int64(i * 37)}
		own.HandleEvent(ev)
		sdk.HandleEvent(ev)
	}
	a, b := scrape(t, own.Handler()), scrape(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	for _, name := range []string{"http_server_request_duration_seconds", "http_server_request_body_size_bytes", "http_server_response_body_size_bytes"} {
		fa, fb := a[name], b[name]
		if fa == nil || fb == nil {
			t.Fatalf("%s: missing (own %v, sdk %v)", name, fa != nil, fb != nil)
		}
		for _, m := range fb.Metric {
			m.GetHistogram().CreatedTimestamp = nil
		}
		for _, m := range fa.Metric {
			m.GetHistogram().CreatedTimestamp = nil
		}
		if fa.String() != fb.String() {
			t.Errorf("%s differs:\nown %s\nsdk %s", name, fa, fb)
		}
	}
}
