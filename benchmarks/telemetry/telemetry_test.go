// Package telemetry_test benchmarks guard's telemetry per request (metrics
// and one log line, no Sentry, no tracing) against the same work done by
// otelhttp plus a zap request-logging middleware.
//
// Each benchmark serves b.N requests through the real net/http adapter
// and then, inside the timed region, waits for asynchronous work to end
// (guard's sinks drain on Close), so the cost of the sink goroutines is
// counted. Run with -cpu 1 to charge all goroutines' CPU to the request,
// as a loaded server would; allocations are counted process-wide.
package telemetry_test

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/telemetry"
)

// discardWriter is a minimal ResponseWriter that reuses its header map.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	body := []byte(`{"id":"42","title":"hello"}`)
	mux.HandleFunc("GET /notes/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) })
	return mux
}

func newRequest() *http.Request {
	r := httptest.NewRequest("GET", "/notes/42", nil)
	r.RemoteAddr = "203.0.113.7:51234"
	return r
}

func zapLogger() *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(io.Discard), zap.InfoLevel))
}

// pace keeps the sinks within -backlog events of the requests served, as
// a server's sinks keep up with its traffic: every backlog/4 requests the
// request goroutine yields until the sinks are no more than backlog
// events behind. The benchmark then measures the sinks' steady-state cost
// with guard's default queue size, and no event is dropped (drops fail
// the benchmark). With -cpu 1 the sinks run only when the request
// goroutine yields, so the backlog is what a deep queue costs: events
// waiting keep what they point to alive (each request's correlation id
// lives in its request view) and the garbage collector scans them.
// -backlog 256 models a sink that keeps up; -backlog 1024 one that lags.
type pace struct {
	sent      atomic.Int64
	delivered []*atomic.Int64 // one per counted sink
}

var backlog = flag.Int64("backlog", 256, "most events the sinks may lag behind the requests (a multiple of 4)")

func (p *pace) wait() {
	if p == nil {
		return
	}
	n := p.sent.Add(1)
	if n%(*backlog/4) != 0 {
		return
	}
	for _, d := range p.delivered {
		for i := 0; d.Load() < n-*backlog; i++ {
			if i < 100 {
				runtime.Gosched()
			} else {
				time.Sleep(50 * time.Microsecond) // the sink is lingering: don't spin
			}
		}
	}
}

// counted wraps a sink to count deliveries for pace.
type counted struct {
	s guard.Sink
	n *atomic.Int64
}

func (c counted) HandleEvent(ev guard.Event) { c.s.HandleEvent(ev); c.n.Add(1) }

func (p *pace) sink(s guard.Sink, kinds ...guard.Kind) guard.Option {
	n := new(atomic.Int64)
	p.delivered = append(p.delivered, n)
	return guard.WithSink(counted{s, n}, kinds...)
}

func serve(b *testing.B, h http.Handler, p *pace) {
	w := &discardWriter{h: http.Header{}}
	r := newRequest()
	b.ReportAllocs()
	b.ResetTimer()
	startCPU(b)
	for range b.N {
		h.ServeHTTP(w, r)
		p.wait()
	}
}

func serveParallel(b *testing.B, h http.Handler, p *pace) {
	b.ReportAllocs()
	b.ResetTimer()
	startCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		r := newRequest()
		for pb.Next() {
			h.ServeHTTP(w, r)
			p.wait()
		}
	})
}

// guardWith builds a Guard with the default event queue size.
func guardWith(b *testing.B, opts ...guard.Option) *guard.Guard {
	g, err := guard.New(opts...)
	if err != nil {
		b.Fatal(err)
	}
	return g
}

func closeAndCheck(b *testing.B, g *guard.Guard) {
	if err := g.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	stopCPU(b)
	if st := g.BusStats(); st.Dropped > 0 {
		b.Fatalf("%d events dropped: the measurement would be flattering", st.Dropped)
	}
}

func run(b *testing.B, parallel bool, h http.Handler, p *pace) {
	if parallel {
		serveParallel(b, h, p)
	} else {
		serve(b, h, p)
	}
}

func BenchmarkTelemetry(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		mode := "serial"
		if parallel {
			mode = "parallel"
		}
		// guard with its defaults (correlate stage), no telemetry: the
		// reference the telemetry cost is measured against.
		b.Run("guard-bare/"+mode, func(b *testing.B) {
			g := guardWith(b)
			run(b, parallel, g.Handler(newMux()), nil)
			closeAndCheck(b, g)
		})
		// guard with metrics (OTel SDK, Prometheus exporter) and one zap
		// JSON line per request to a discarding sink.
		b.Run("guard-telemetry/"+mode, func(b *testing.B) {
			tel, err := telemetry.New(telemetry.WithLogger(zapLogger()))
			if err != nil {
				b.Fatal(err)
			}
			defer tel.Shutdown(context.Background())
			// What tel.Option() adds, with the shared sink counted.
			p := &pace{}
			opts := []guard.Option{p.sink(tel.Sink())}
			for _, s := range tel.Stages() {
				opts = append(opts, guard.WithStage(s))
			}
			g := guardWith(b, opts...)
			tel.Attach(g)
			run(b, parallel, g.Handler(newMux()), p)
			closeAndCheck(b, g)
		})
		// The same mux with nothing around it: the peers' reference.
		b.Run("mux-bare/"+mode, func(b *testing.B) {
			run(b, parallel, newMux(), nil)
			b.StopTimer()
			stopCPU(b)
		})
		// otelhttp (metrics to the same SDK + Prometheus exporter, no-op
		// tracer) plus a zap middleware writing the same fields.
		b.Run("otelhttp-zap/"+mode, func(b *testing.B) {
			reg := prometheus.NewRegistry()
			exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes))
			if err != nil {
				b.Fatal(err)
			}
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
			defer mp.Shutdown(context.Background())
			mux := newMux()
			h := otelhttp.NewHandler(zapMiddleware(zapLogger(), mux), "server",
				otelhttp.WithMeterProvider(mp),
				otelhttp.WithTracerProvider(noop.NewTracerProvider()),
			)
			run(b, parallel, h, nil)
			b.StopTimer()
			stopCPU(b)
		})
	}
}

// The machine these numbers come from is shared: wall time per op moves
// with other tenants' load. Process CPU time (all threads, getrusage)
// is reported as cpu-ns/op beside it and is the steadier figure.
var cpuStart time.Duration

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU(*testing.B) { cpuStart = processCPU() }

func stopCPU(b *testing.B) {
	b.ReportMetric(float64(processCPU()-cpuStart)/float64(b.N), "cpu-ns/op")
}

// zapMiddleware is the request logger a user would write: status and
// bytes through a wrapping writer, one line with the same fields as
// guard's.
func zapMiddleware(l *zap.Logger, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w}
		_, pattern := mux.Handler(r)
		mux.ServeHTTP(rw, r)
		status := rw.status
		if status == 0 {
			status = http.StatusOK
		}
		host, _, _ := splitHostPort(r.RemoteAddr)
		l.Info("request",
			zap.String("method", r.Method),
			zap.String("route", pattern),
			zap.Int("status", status),
			zap.Int64("bytes", rw.bytes),
			zap.Duration("duration", time.Since(start)),
			zap.String("client_ip", host),
			zap.String("correlation_id", r.Header.Get("X-Request-Id")),
		)
	})
}

func splitHostPort(s string) (string, string, error) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return s[:i], s[i+1:], nil
		}
	}
	return s, "", nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(c int) { w.status = c; w.ResponseWriter.WriteHeader(c) }
func (w *statusWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}
