package metrics

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// The HTTP server histograms are recorded once per request by the sink
// goroutine. Through the SDK's instruments each measurement costs an
// attribute-set normalisation and a series lookup per instrument, even
// with a precomputed attribute.Set. With the built-in MeterProvider the
// sink instead keeps the three histograms itself, one point per series
// reached through the series cache, and hands them to the provider's
// reader (the Prometheus exporter) as a metric.Producer at collection:
// same names, units, descriptions, buckets, attributes, cumulative
// temporality, min/max/sum and per-instrument cardinality limit
// (otel.metric.overflow="true") as the SDK would export. With
// WithMeterProvider the SDK instruments are used.

// Bucket boundaries: the semantic conventions' advice for the duration,
// the SDK's default explicit buckets for the body sizes (which have no
// advice).
var (
	durationBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
	sizeBounds     = []float64{0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000}
)

// overflowSet is the SDK's overflow series.
var overflowSet = attribute.NewSet(attribute.Bool("otel.metric.overflow", true))

// serverProducer exports the HTTP server histograms.
type serverProducer struct {
	scope instrumentation.Scope
	dur   histogram[float64]
	req   histogram[int64]
	resp  histogram[int64]
}

func newServerProducer(limit int) *serverProducer {
	start := time.Now()
	return &serverProducer{
		scope: instrumentation.Scope{Name: ScopeName},
		dur:   newHistogram[float64]("http.server.request.duration", "Duration of HTTP server requests.", "s", durationBounds, limit, start),
		req:   newHistogram[int64]("http.server.request.body.size", "Size of HTTP server request bodies.", "By", sizeBounds, limit, start),
		resp:  newHistogram[int64]("http.server.response.body.size", "Size of HTTP server response bodies.", "By", sizeBounds, limit, start),
	}
}

// Produce implements sdkmetric.Producer.
func (p *serverProducer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	now := time.Now()
	ms := make([]metricdata.Metrics, 0, 3)
	ms = p.dur.collect(ms, now)
	ms = p.req.collect(ms, now)
	ms = p.resp.collect(ms, now)
	if len(ms) == 0 {
		return nil, nil
	}
	return []metricdata.ScopeMetrics{{Scope: p.scope, Metrics: ms}}, nil
}

// histogram is one cumulative explicit-bucket histogram instrument.
type histogram[N int64 | float64] struct {
	name, desc, unit string
	bounds           []float64
	limit            int
	start            time.Time

	mu     sync.Mutex // guards byKey and points: the sink adds, collection reads
	byKey  map[attribute.Distinct]*point[N]
	points []*point[N]
}

func newHistogram[N int64 | float64](name, desc, unit string, bounds []float64, limit int, start time.Time) histogram[N] {
	return histogram[N]{name: name, desc: desc, unit: unit, bounds: bounds, limit: limit, start: start, byKey: map[attribute.Distinct]*point[N]{}}
}

// point returns the series for set, or the overflow series once the
// instrument holds limit-1 series (the SDK's rule).
func (h *histogram[N]) point(set attribute.Set) *point[N] {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.byKey[set.Equivalent()]; ok {
		return p
	}
	if h.limit > 0 && len(h.byKey) >= h.limit-1 {
		set = overflowSet
		if p, ok := h.byKey[set.Equivalent()]; ok {
			return p
		}
	}
	p := &point[N]{attrs: set, bounds: h.bounds, counts: make([]uint64, len(h.bounds)+1)}
	h.byKey[set.Equivalent()] = p
	h.points = append(h.points, p)
	return p
}

func (h *histogram[N]) collect(ms []metricdata.Metrics, now time.Time) []metricdata.Metrics {
	h.mu.Lock()
	points := h.points[:len(h.points):len(h.points)]
	h.mu.Unlock()
	if len(points) == 0 {
		return ms
	}
	dps := make([]metricdata.HistogramDataPoint[N], 0, len(points))
	bounds := slices.Clone(h.bounds)
	for _, p := range points {
		p.mu.Lock()
		if p.count == 0 {
			p.mu.Unlock()
			continue
		}
		dps = append(dps, metricdata.HistogramDataPoint[N]{
			Attributes:   p.attrs,
			StartTime:    h.start,
			Time:         now,
			Count:        p.count,
			Bounds:       bounds,
			BucketCounts: slices.Clone(p.counts),
			Min:          metricdata.NewExtrema(p.min),
			Max:          metricdata.NewExtrema(p.max),
			Sum:          p.sum,
		})
		p.mu.Unlock()
	}
	if len(dps) == 0 {
		return ms
	}
	return append(ms, metricdata.Metrics{
		Name:        h.name,
		Description: h.desc,
		Unit:        h.unit,
		Data:        metricdata.Histogram[N]{Temporality: metricdata.CumulativeTemporality, DataPoints: dps},
	})
}

// point is one series of a histogram.
type point[N int64 | float64] struct {
	attrs  attribute.Set
	bounds []float64

	mu       sync.Mutex
	count    uint64
	sum      N
	min, max N
	counts   []uint64
}

func (p *point[N]) record(v N) {
	// As the SDK: the first bucket whose upper bound is >= v.
	i := sort.SearchFloat64s(p.bounds, float64(v))
	p.mu.Lock()
	p.counts[i]++
	if p.count == 0 || v < p.min {
		p.min = v
	}
	if p.count == 0 || v > p.max {
		p.max = v
	}
	p.count++
	p.sum += v
	p.mu.Unlock()
}
