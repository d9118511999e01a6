package csp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guardsdk/guard"
)

// Report endpoint defaults and limits.
const (
	// DefaultMaxReportBody caps a report request's body; a larger one is
	// answered 413 without being parsed.
	DefaultMaxReportBody = 64 << 10
	// MaxReportBody is the largest MaxBody a ReportConfig accepts.
	MaxReportBody = 1 << 20
	// DefaultMaxReports caps the csp-violation reports taken from one
	// Reporting API batch; the rest are counted and dropped.
	DefaultMaxReports = 32
	// DefaultReportRate and DefaultReportBurst size the endpoint's token
	// bucket: requests per second, and how many may arrive at once.
	DefaultReportRate  = 10
	DefaultReportBurst = 50
	// maxField caps every string kept from a report.
	maxField = 256
)

// Media types of CSP reports.
const (
	ContentTypeCSPReport = "application/csp-report"   // report-uri (CSP2)
	ContentTypeReports   = "application/reports+json" // report-to (Reporting API)
)

// Errors ParseReports returns; the endpoint answers 400 (ErrMalformed),
// 413 (ErrTooLarge) or 415 (ErrContentType).
var (
	ErrMalformed   = errors.New("csp: malformed report")
	ErrTooLarge    = errors.New("csp: report body too large")
	ErrContentType = errors.New("csp: unsupported report media type")
)

// Report is one CSP violation, reduced to what is safe to log: URLs keep
// only scheme, host and path (never userinfo, query or fragment), at most
// 256 bytes of printable ASCII; the script sample and the original policy
// are dropped.
type Report struct {
	Format      string // "report-uri" or "report-to"
	Directive   string // the effective directive, or "other"
	Blocked     string // origin+path, or "inline", "eval", "wasm-eval", "data", ...
	Document    string // origin+path of the page
	Source      string // origin+path of the script that caused it, if known
	Line        int
	Column      int
	Disposition string // "enforce", "report" or ""
	StatusCode  int    // HTTP status of the page, 0 if unknown
}

// Attrs renders r as event attributes, skipping empty fields.
func (r Report) Attrs() []guard.Attr {
	a := make([]guard.Attr, 0, 8)
	add := func(k, v string) {
		if v != "" {
			a = append(a, guard.Attr{Key: k, Value: v})
		}
	}
	add("format", r.Format)
	add("directive", r.Directive)
	add("blocked", r.Blocked)
	add("document", r.Document)
	add("source", r.Source)
	if r.Line > 0 {
		add("line", strconv.Itoa(r.Line))
	}
	if r.Column > 0 {
		add("column", strconv.Itoa(r.Column))
	}
	add("disposition", r.Disposition)
	return a
}

// ParseReports parses a report request body of the given Content-Type
// (application/csp-report, application/reports+json, or application/json
// in either shape) into at most max reports (DefaultMaxReports when max
// <= 0). Reporting API entries of other types than "csp-violation" are
// skipped. The body must be one JSON value with nothing after it.
func ParseReports(contentType string, body []byte, max int) ([]Report, error) {
	reports, _, err := parseReports(contentType, body, max)
	return reports, err
}

// parseReports also returns how many csp-violation reports were dropped
// beyond max.
func parseReports(contentType string, body []byte, max int) ([]Report, int, error) {
	if max <= 0 {
		max = DefaultMaxReports
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, 0, ErrContentType
	}
	switch mt {
	case ContentTypeCSPReport:
		return parseLegacy(body)
	case ContentTypeReports:
		return parseReportingAPI(body, max)
	case "application/json":
		if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
			return parseReportingAPI(body, max)
		}
		return parseLegacy(body)
	}
	return nil, 0, ErrContentType
}

// lenientInt accepts a JSON number or a numeric string, as browsers have
// sent both; out-of-range values clamp to 0.
type lenientInt int

func (n *lenientInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "null" || s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	if v < 0 || v > 1e9 {
		v = 0
	}
	*n = lenientInt(v)
	return nil
}

type legacyBody struct {
	DocumentURI        string     `json:"document-uri"`
	ViolatedDirective  string     `json:"violated-directive"`
	EffectiveDirective string     `json:"effective-directive"`
	BlockedURI         string     `json:"blocked-uri"`
	SourceFile         string     `json:"source-file"`
	LineNumber         lenientInt `json:"line-number"`
	ColumnNumber       lenientInt `json:"column-number"`
	Disposition        string     `json:"disposition"`
	StatusCode         lenientInt `json:"status-code"`
}

type apiBody struct {
	DocumentURL        string     `json:"documentURL"`
	EffectiveDirective string     `json:"effectiveDirective"`
	BlockedURL         string     `json:"blockedURL"`
	SourceFile         string     `json:"sourceFile"`
	LineNumber         lenientInt `json:"lineNumber"`
	ColumnNumber       lenientInt `json:"columnNumber"`
	Disposition        string     `json:"disposition"`
	StatusCode         lenientInt `json:"statusCode"`
}

func decodeOne(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the JSON value", ErrMalformed)
	}
	return nil
}

func parseLegacy(body []byte) ([]Report, int, error) {
	var env struct {
		Report *legacyBody `json:"csp-report"`
	}
	if err := decodeOne(body, &env); err != nil {
		return nil, 0, err
	}
	if env.Report == nil {
		return nil, 0, fmt.Errorf("%w: no csp-report member", ErrMalformed)
	}
	b := env.Report
	dir := b.EffectiveDirective
	if dir == "" {
		// CSP2 browsers sent the whole directive ("script-src 'self'").
		dir, _, _ = strings.Cut(strings.TrimSpace(b.ViolatedDirective), " ")
	}
	return []Report{{
		Format:      "report-uri",
		Directive:   directiveName(dir),
		Blocked:     reduceURL(b.BlockedURI),
		Document:    reduceURL(b.DocumentURI),
		Source:      reduceURL(b.SourceFile),
		Line:        int(b.LineNumber),
		Column:      int(b.ColumnNumber),
		Disposition: disposition(b.Disposition),
		StatusCode:  status(int(b.StatusCode)),
	}}, 0, nil
}

func parseReportingAPI(body []byte, max int) ([]Report, int, error) {
	var batch []struct {
		Type string   `json:"type"`
		Body *apiBody `json:"body"`
	}
	if err := decodeOne(body, &batch); err != nil {
		return nil, 0, err
	}
	if batch == nil {
		return nil, 0, fmt.Errorf("%w: want a JSON array of reports", ErrMalformed)
	}
	out := make([]Report, 0, min(len(batch), max))
	over := 0
	for _, e := range batch {
		if e.Type == "" {
			return nil, 0, fmt.Errorf("%w: report without type", ErrMalformed)
		}
		if e.Type != "csp-violation" {
			continue
		}
		if e.Body == nil {
			return nil, 0, fmt.Errorf("%w: csp-violation without body", ErrMalformed)
		}
		if len(out) == max {
			over++
			continue
		}
		b := e.Body
		out = append(out, Report{
			Format:      "report-to",
			Directive:   directiveName(b.EffectiveDirective),
			Blocked:     reduceURL(b.BlockedURL),
			Document:    reduceURL(b.DocumentURL),
			Source:      reduceURL(b.SourceFile),
			Line:        int(b.LineNumber),
			Column:      int(b.ColumnNumber),
			Disposition: disposition(b.Disposition),
			StatusCode:  status(int(b.StatusCode)),
		})
	}
	return out, over, nil
}

func directiveName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	if KnownDirective(s) {
		return s
	}
	return "other"
}

func disposition(s string) string {
	switch s {
	case "enforce", "report":
		return s
	}
	return ""
}

func status(n int) int {
	if n < 100 || n > 999 {
		return 0
	}
	return n
}

// reduceURL keeps what is safe to log of a URL from a report: scheme,
// host and path of http(s) and ws(s) URLs, only the scheme of others, and
// the keywords browsers use for non-URL sources.
func reduceURL(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	switch s {
	case "inline", "eval", "wasm-eval", "self", "data", "blob", "trusted-types-policy", "trusted-types-sink", "about":
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "other"
	}
	scheme := strings.ToLower(u.Scheme)
	if !isScheme(scheme) {
		return "other"
	}
	switch scheme {
	case "http", "https", "ws", "wss":
	default:
		return scheme // "data", "blob", "chrome-extension": the rest may be content
	}
	host := strings.ToLower(u.Host) // url.Parse put userinfo in u.User
	if host == "" || !printable(host) {
		return "other"
	}
	out := scheme + "://" + host + u.EscapedPath()
	if !printable(out) {
		return scheme + "://" + host
	}
	if len(out) > maxField {
		out = out[:maxField]
	}
	return out
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\' {
			return false
		}
	}
	return true
}

// Publisher is where the endpoint sends its events; *guard.Guard is one.
type Publisher interface {
	Publish(guard.Event)
}

// ReportConfig configures a ReportHandler. The zero value means the
// defaults.
type ReportConfig struct {
	// MaxBody caps the request body (default DefaultMaxReportBody, at most
	// MaxReportBody). A larger body is answered 413.
	MaxBody int64
	// MaxReports caps the reports kept from one request (default
	// DefaultMaxReports).
	MaxReports int
	// Rate and Burst size the in-process token bucket that all report
	// requests share (defaults DefaultReportRate per second and
	// DefaultReportBurst). A request that finds it empty is answered 429
	// and not parsed.
	Rate  float64
	Burst int
}

// ReportStats counts what a ReportHandler did.
type ReportStats struct {
	Accepted    uint64 // reports turned into events
	Dropped     uint64 // reports beyond MaxReports in a batch
	Rejected    uint64 // requests answered 4xx other than 429
	RateLimited uint64 // requests answered 429
}

// ReportHandler is the violation report endpoint: an http.Handler that
// accepts POSTed CSP reports in both formats and publishes each as a
// guard.KindCSPViolation event. It is safe for concurrent use.
//
// Answers: 204 when the body was parsed (even if it held no csp-violation
// report), 400 for malformed JSON, 405 for other methods than POST, 413
// for a body over MaxBody, 415 for other media types, 429 when the token
// bucket is empty. Error bodies are guard's problem JSON and never echo
// the request.
type ReportHandler struct {
	pub        Publisher
	maxBody    int64
	maxReports int
	bucket     bucket

	accepted, dropped, rejected, limited atomic.Uint64
}

// NewReportHandler returns the report endpoint, publishing to pub
// (usually the *guard.Guard). Mount it on the path given to
// Policy.ReportURI and Policy.ReportTo, and exempt that route from CSRF
// checks (csrf.Bypass("POST", path)): browsers send reports without the
// page's credentials and the endpoint changes no state.
func NewReportHandler(pub Publisher, cfg ReportConfig) (*ReportHandler, error) {
	if pub == nil {
		return nil, errors.New("csp: NewReportHandler: nil Publisher")
	}
	h := &ReportHandler{pub: pub, maxBody: cfg.MaxBody, maxReports: cfg.MaxReports}
	switch {
	case cfg.MaxBody == 0:
		h.maxBody = DefaultMaxReportBody
	case cfg.MaxBody < 0 || cfg.MaxBody > MaxReportBody:
		return nil, fmt.Errorf("csp: NewReportHandler: MaxBody %d not in [1, %d]", cfg.MaxBody, MaxReportBody)
	}
	switch {
	case cfg.MaxReports == 0:
		h.maxReports = DefaultMaxReports
	case cfg.MaxReports < 0 || cfg.MaxReports > 1000:
		return nil, fmt.Errorf("csp: NewReportHandler: MaxReports %d not in [1, 1000]", cfg.MaxReports)
	}
	rate, burst := cfg.Rate, cfg.Burst
	if rate == 0 {
		rate = DefaultReportRate
	}
	if burst == 0 {
		burst = DefaultReportBurst
	}
	if rate < 0 || rate > 1e6 || burst < 0 || burst > 1e6 {
		return nil, fmt.Errorf("csp: NewReportHandler: Rate %v and Burst %d must be in (0, 1e6]", cfg.Rate, cfg.Burst)
	}
	h.bucket = bucket{rate: rate, burst: float64(burst), tokens: float64(burst), now: time.Now}
	return h, nil
}

// Stats returns the handler's counters.
func (h *ReportHandler) Stats() ReportStats {
	return ReportStats{
		Accepted: h.accepted.Load(), Dropped: h.dropped.Load(),
		Rejected: h.rejected.Load(), RateLimited: h.limited.Load(),
	}
}

// Problem reasons of the report endpoint.
const (
	ReasonReportMalformed   = "report_malformed"
	ReasonReportTooLarge    = "report_too_large"
	ReasonReportMediaType   = "report_media_type"
	ReasonReportMethod      = "method_not_allowed"
	ReasonReportRateLimited = "report_rate_limited"
)

func (h *ReportHandler) deny(w http.ResponseWriter, status int, reason, detail string) {
	if status == http.StatusTooManyRequests {
		h.limited.Add(1)
		w.Header().Set("Retry-After", "1")
	} else {
		h.rejected.Add(1)
	}
	guard.WriteProblem(w, guard.Deny(status, reason, detail))
}

func (h *ReportHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.deny(w, http.StatusMethodNotAllowed, ReasonReportMethod, "Reports must be POSTed.")
		return
	}
	if !h.bucket.allow() {
		h.deny(w, http.StatusTooManyRequests, ReasonReportRateLimited, "Too many reports; try later.")
		return
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil ||
		(mt != ContentTypeCSPReport && mt != ContentTypeReports && mt != "application/json") {
		h.deny(w, http.StatusUnsupportedMediaType, ReasonReportMediaType, "Reports must be application/csp-report or application/reports+json.")
		return
	}
	if r.ContentLength > h.maxBody {
		h.deny(w, http.StatusRequestEntityTooLarge, ReasonReportTooLarge, "The report body is too large.")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.maxBody+1))
	if err != nil {
		h.deny(w, http.StatusBadRequest, ReasonReportMalformed, "The report body could not be read.")
		return
	}
	if int64(len(body)) > h.maxBody {
		h.deny(w, http.StatusRequestEntityTooLarge, ReasonReportTooLarge, "The report body is too large.")
		return
	}
	reports, over, err := parseReports(ct, body, h.maxReports)
	if err != nil {
		h.deny(w, http.StatusBadRequest, ReasonReportMalformed, "The report is not valid CSP report JSON.")
		return
	}
	h.dropped.Add(uint64(over))
	h.publish(r.Context(), reports)
	w.WriteHeader(http.StatusNoContent)
}

func (h *ReportHandler) publish(ctx context.Context, reports []Report) {
	var base guard.Event
	base.Kind = guard.KindCSPViolation
	base.Stage = "csp_report"
	base.Reason = "csp_violation"
	if req, ok := guard.FromContext(ctx); ok {
		base.Method, base.Route, base.Scheme = req.Method, req.Route, req.Scheme
		base.ClientIP = req.ClientIP
		base.CorrelationID = req.CorrelationID
		base.TraceID = req.Trace.TraceID
	}
	for _, rep := range reports {
		ev := base
		ev.Attrs = rep.Attrs()
		h.pub.Publish(ev)
		h.accepted.Add(1)
	}
}

// bucket is a token bucket: tokens refill at rate per second up to burst.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func (b *bucket) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if !b.last.IsZero() {
		if d := now.Sub(b.last).Seconds(); d > 0 {
			b.tokens = min(b.burst, b.tokens+d*b.rate)
		}
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
