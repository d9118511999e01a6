package inspect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"

	"github.com/guardsdk/guard"
)

// StageName is the stage's name in events and metrics.
const StageName = "inspect"

// Defaults and limits of Config.
const (
	DefaultMaxBodyBytes = 1 << 20     // 1 MiB: larger bodies get 413
	DefaultMaxDepth     = 32          // JSON nesting: deeper documents get 400
	DefaultMaxFields    = 1000        // JSON members and elements, query and form parameters, multipart parts
	DefaultMaxValueLen  = MaxValueLen // a longer value gets 400 value_too_long
)

// Mode says what the stage does with a finding.
type Mode uint8

const (
	// Block denies the request (the default) with Config.Status and a
	// constant problem body, and emits a guard.KindInjectionBlocked event.
	Block Mode = iota
	// DetectOnly lets the request through and emits a KindInjectionDetected
	// event. Limits (body size, depth, field count, malformed bodies) are
	// still enforced: they protect the parser, not the application.
	DetectOnly
)

// KindInjectionDetected is the event kind of findings in DetectOnly mode.
var KindInjectionDetected = mustKind("injection_detected")

func mustKind(name string) guard.Kind {
	k, err := guard.RegisterKind(name)
	if err != nil {
		panic(err)
	}
	return k
}

// Reasons of the stage's denials, rendered as the problem body's "code".
const (
	ReasonInputRejected  = "input_rejected"  // a finding, in Block mode
	ReasonBodyTooLarge   = "body_too_large"  // 413
	ReasonMalformedBody  = "malformed_body"  // 400: JSON syntax, multipart framing
	ReasonBodyTooDeep    = "body_too_deep"   // 400: JSON depth
	ReasonTooManyFields  = "too_many_fields" // 400: members, parameters or parts
	ReasonBodyReadFailed = "body_read_failed"
	ReasonValueTooLong   = "value_too_long" // 400: one value over Config.MaxValueLen
)

// Allow exempts inputs from inspection: on one route (or every route),
// one field (or every field), for some classes (or all).
type Allow struct {
	// Method is the request method; "" matches any.
	Method string
	// Route is the route template as guard reports it ("/notes/{id}");
	// "*" matches every route.
	Route string
	// Field names the input as events do: "path", "query.q",
	// "form.comment", "body.user.bio", "body.items[].note"; a trailing "*"
	// matches a prefix ("body.content.*"); "" matches every field.
	Field string
	// Classes are the classes not checked; zero means all.
	Classes Classes
}

// Config configures the stage. The zero Config is the default: block with
// 403, every class, every input, the limits above.
type Config struct {
	Mode Mode
	// Status is the status of a Block denial: 403 (the default) or 400.
	Status int
	// Classes to check; zero means AllClasses.
	Classes Classes
	// MaxBodyBytes bounds the body read for inspection; a longer body is
	// answered 413. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxDepth bounds JSON nesting (400 beyond). Zero means DefaultMaxDepth.
	MaxDepth int
	// MaxFields bounds JSON members and elements, query and form
	// parameters, and multipart parts (400 beyond). Zero means
	// DefaultMaxFields.
	MaxFields int
	// MaxValueLen bounds one value (a path segment, parameter, JSON string
	// or multipart field): a longer value gets 400 value_too_long, in both
	// modes, rather than a partial inspection that padding could slip an
	// attack past. Zero means DefaultMaxValueLen; at most MaxValueLen.
	MaxValueLen int
	// SkipPath, SkipQuery and SkipBody turn off inspection of those inputs.
	SkipPath, SkipQuery, SkipBody bool
	// Allow lists exemptions.
	Allow []Allow
}

// Stage is the input inspection stage, at guard.PhaseInspect. It is safe
// for concurrent use.
type Stage struct {
	cfg     Config
	classes Classes
	allow   []Allow
	pool    sync.Pool
}

var (
	_ guard.Stage  = (*Stage)(nil)
	_ guard.Phased = (*Stage)(nil)
)

// New validates cfg and builds the stage.
func New(cfg Config) (*Stage, error) {
	if cfg.Mode > DetectOnly {
		return nil, fmt.Errorf("inspect: Config.Mode: unknown mode %d", cfg.Mode)
	}
	switch cfg.Status {
	case 0:
		cfg.Status = http.StatusForbidden
	case http.StatusBadRequest, http.StatusForbidden, http.StatusUnprocessableEntity:
	default:
		return nil, fmt.Errorf("inspect: Config.Status: %d is not 400, 403 or 422", cfg.Status)
	}
	if cfg.Classes&^AllClasses != 0 {
		return nil, fmt.Errorf("inspect: Config.Classes: unknown classes %#x", uint8(cfg.Classes&^AllClasses))
	}
	if cfg.Classes == 0 {
		cfg.Classes = AllClasses
	}
	for name, v := range map[string]int64{"MaxBodyBytes": cfg.MaxBodyBytes, "MaxDepth": int64(cfg.MaxDepth), "MaxFields": int64(cfg.MaxFields), "MaxValueLen": int64(cfg.MaxValueLen)} {
		if v < 0 {
			return nil, fmt.Errorf("inspect: Config.%s: negative value %d", name, v)
		}
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxDepth == 0 {
		cfg.MaxDepth = DefaultMaxDepth
	}
	if cfg.MaxDepth > 10000 {
		return nil, fmt.Errorf("inspect: Config.MaxDepth: %d is above 10000", cfg.MaxDepth)
	}
	if cfg.MaxFields == 0 {
		cfg.MaxFields = DefaultMaxFields
	}
	if cfg.MaxValueLen == 0 {
		cfg.MaxValueLen = DefaultMaxValueLen
	}
	if cfg.MaxValueLen > MaxValueLen {
		return nil, fmt.Errorf("inspect: Config.MaxValueLen: %d is above MaxValueLen (%d)", cfg.MaxValueLen, MaxValueLen)
	}
	for i, a := range cfg.Allow {
		if a.Route == "" {
			return nil, fmt.Errorf("inspect: Config.Allow[%d]: empty Route (use \"*\" for every route)", i)
		}
		if a.Classes&^AllClasses != 0 {
			return nil, fmt.Errorf("inspect: Config.Allow[%d]: unknown classes %#x", i, uint8(a.Classes&^AllClasses))
		}
		if a.Classes == 0 {
			cfg.Allow[i].Classes = AllClasses
		}
		if strings.Contains(strings.TrimSuffix(a.Field, "*"), "*") {
			return nil, fmt.Errorf("inspect: Config.Allow[%d]: Field %q: '*' only at the end", i, a.Field)
		}
	}
	s := &Stage{cfg: cfg, classes: cfg.Classes, allow: append([]Allow(nil), cfg.Allow...)}
	s.pool.New = func() any { return new(scan) }
	return s, nil
}

// Option returns the guard.Option adding the stage; an invalid cfg makes
// guard.New fail with New's error.
func Option(cfg Config) guard.Option {
	s, err := New(cfg)
	if err != nil {
		return guard.WithStage(invalidStage{err})
	}
	return guard.WithStage(s)
}

type invalidStage struct{ err error }

func (invalidStage) Name() string                        { return StageName }
func (invalidStage) Phase() guard.Phase                  { return guard.PhaseInspect }
func (invalidStage) Check(*guard.Request) guard.Decision { return guard.Decision{} }
func (s invalidStage) Init(guard.Env) error              { return s.err }

// Name implements guard.Stage.
func (s *Stage) Name() string { return StageName }

// Phase implements guard.Phased: guard.PhaseInspect.
func (s *Stage) Phase() guard.Phase { return guard.PhaseInspect }

// scan is the per-request state, pooled.
type scan struct {
	st      *Stage
	r       *guard.Request
	classes Classes    // classes allowed on this route, removed from st.classes
	fields  []Allow    // per-field allowances on this route
	skip    *skipSet   // fields the schema stage typed strictly
	name    []byte     // field name buffer
	named   bool       // name holds the current form field's name
	form    []byte     // decoded form names and values, reused
	lower   []byte     // the checks' scratch buffer, reused
	found   bool       // a finding was made
	tooLong bool       // a value exceeded Config.MaxValueLen
	finding Finding    // the finding
	field   string     // its field name
	walker  jsonWalker // reused JSON walker
	visitFn func(*jsonWalker, string, bool) bool
}

// Check implements guard.Stage.
func (s *Stage) Check(r *guard.Request) guard.Decision {
	sc := s.pool.Get().(*scan)
	defer func() {
		sc.r, sc.skip, sc.fields, sc.found, sc.field = nil, nil, sc.fields[:0], false, ""
		sc.tooLong = false
		sc.walker.src, sc.walker.visit = "", nil
		if cap(sc.lower) > 4096 || cap(sc.form) > 4096 {
			sc.lower, sc.form = nil, nil // a large value's buffers are not kept
		}
		s.pool.Put(sc)
	}()
	sc.st, sc.r = s, r
	sc.classes = s.classes
	for _, a := range s.allow {
		if (a.Method == "" || a.Method == r.Method) && (a.Route == "*" || a.Route == r.Route) {
			if a.Field == "" {
				sc.classes &^= a.Classes
			} else {
				sc.fields = append(sc.fields, a)
			}
		}
	}
	if sk, ok := r.Value(skipKey{}).(*skipSet); ok {
		sc.skip = sk
	}
	if sc.classes == 0 {
		return guard.Decision{}
	}
	d := sc.run()
	if d.Status != 0 {
		return d
	}
	if sc.tooLong {
		return valueTooLong()
	}
	if sc.found {
		return sc.report()
	}
	return guard.Decision{}
}

func (sc *scan) run() guard.Decision {
	s, r := sc.st, sc.r
	if !s.cfg.SkipPath && r.Path != "" {
		if sc.checkPath(r.Path) {
			return guard.Decision{}
		}
	}
	if !s.cfg.SkipQuery && r.RawQuery != "" {
		if d, stop := sc.checkForm(r.RawQuery, "query."); stop {
			return d
		}
	}
	if !s.cfg.SkipBody && r.Body != nil {
		return sc.checkBody()
	}
	return guard.Decision{}
}

// checkPath inspects the raw path: its encodings, then each decoded
// segment as a value. It reports whether a finding was made.
func (sc *scan) checkPath(raw string) bool {
	classes := sc.fieldClasses("path")
	if classes == 0 {
		return false
	}
	if classes.Has(ClassPathTraversal) {
		if reason, ok := detectPathEncoding(raw); ok {
			return sc.hit(Finding{Class: ClassPathTraversal, Reason: reason}, "path")
		}
		dec := raw
		for range maxDecodeRounds {
			d, changed := percentDecode(dec, false)
			if !changed {
				break
			}
			dec = d
		}
		dec, _ = fold(dec)
		if reason, ok := detectTraversal(dec); ok {
			return sc.hit(Finding{Class: ClassPathTraversal, Reason: reason, Decoded: dec != raw}, "path")
		}
	}
	for seg := range strings.SplitSeq(raw, "/") {
		if len(seg) < 2 {
			continue
		}
		if f, ok := sc.check(seg, classes); ok {
			return sc.hit(f, "path")
		}
	}
	return false
}

// check inspects v whole. A value longer than Config.MaxValueLen is not
// inspected in part: it ends the scan, and Check answers value_too_long.
func (sc *scan) check(v string, classes Classes) (Finding, bool) {
	if len(v) > sc.st.cfg.MaxValueLen {
		sc.tooLong = true
		return Finding{}, true
	}
	if len(v) < 2 {
		return Finding{}, false
	}
	return checkScanned(v, scanBytes(v), classes, &sc.lower) // Check, with the scan's buffer
}

// checkForm inspects an application/x-www-form-urlencoded string (a query
// or a form body): every name and value.
func (sc *scan) checkForm(q, prefix string) (guard.Decision, bool) {
	n := 0
	for i := 0; i < len(q); {
		// One pass finds the pair's name and value (up to the first '='
		// and the next '&') and their byte flags.
		ks := i
		var kf, vf uint64
		for i < len(q) && q[i] != '&' && q[i] != '=' {
			kf |= byteFlags[q[i]]
			i++
		}
		ke, vs, eq := i, i, false
		if i < len(q) && q[i] == '=' {
			eq = true
			i++
			vs = i
			for i < len(q) && q[i] != '&' {
				vf |= byteFlags[q[i]]
				i++
			}
		}
		ve := i
		i++ // the '&'
		if ke == ks && !eq {
			continue // an empty pair
		}
		n++
		if n > sc.st.cfg.MaxFields {
			return guard.Deny(http.StatusBadRequest, ReasonTooManyFields, "The request has too many parameters."), true
		}
		// Only '+' and '%' change in decoding: without them the flags
		// are the decoded string's.
		k, v := q[ks:ke], q[vs:ve]
		if (kf|vf)&(fPlus|fPercent) != 0 {
			// Decoded into sc.form, reused pair after pair: nothing keeps
			// the decoded strings (the field name is a copy).
			b := sc.form[:0]
			if kf&(fPlus|fPercent) != 0 {
				b, k = appendFormUnescape(b, k)
				kf = scanBytes(k)
			}
			if vf&(fPlus|fPercent) != 0 {
				b, v = appendFormUnescape(b, v)
				vf = scanBytes(v)
			}
			sc.form = b
		}
		// The field name is built only for allowances, skips and findings.
		sc.named = false
		if sc.inspectScanned(prefix, k, k, kf) || sc.inspectScanned(prefix, k, v, vf) {
			return guard.Decision{}, true
		}
	}
	return guard.Decision{}, false
}

// fieldName builds the name of the form field k under prefix into sc.name
// (once per field).
func (sc *scan) fieldName(prefix, k string) []byte {
	if !sc.named {
		sc.name = appendFieldSegment(append(sc.name[:0], prefix...), k)
		sc.named = true
	}
	return sc.name
}

// inspectScanned is inspect for the value v, whose byte flags are known,
// of the form field k under prefix.
func (sc *scan) inspectScanned(prefix, k, v string, flags uint64) bool {
	if len(v) < 2 {
		return false
	}
	if plainFlags(flags) && len(v) <= sc.st.cfg.MaxValueLen && len(sc.fields) == 0 && sc.skip == nil {
		return false // what Check answers for [A-Za-z0-9_]
	}
	classes := sc.classes
	if len(sc.fields) > 0 || sc.skip != nil {
		classes = sc.fieldClassesBytes(sc.fieldName(prefix, k))
		if classes == 0 {
			return false
		}
	}
	var f Finding
	ok := true
	if len(v) > sc.st.cfg.MaxValueLen {
		sc.tooLong = true // as in check
	} else {
		f, ok = checkScanned(v, flags, classes, &sc.lower)
	}
	if ok {
		return sc.hit(f, string(sc.fieldName(prefix, k)))
	}
	return false
}

// formUnescape decodes one round of form encoding ('+' and %XX), leniently
// (a malformed escape stays as it is: inspection then sees it raw). It
// returns s itself when there is nothing to decode.
func formUnescape(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	_, d := appendFormUnescape(make([]byte, 0, len(s)), s)
	return d
}

// appendFormUnescape appends s decoded as formUnescape decodes it to b and
// returns b and the decoded part, which shares b's storage: it holds only
// until b is written again.
func appendFormUnescape(b []byte, s string) ([]byte, string) {
	start := len(b)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s):
			h, ok1 := unhex(s[i+1])
			l, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b = append(b, h<<4|l)
				i += 2
			} else {
				b = append(b, c)
			}
		default:
			b = append(b, c)
		}
	}
	return b, bytesString(b[start:])
}

// inspect checks one value of the named field; it reports whether a
// finding was made (and so the scan stops).
func (sc *scan) inspect(name []byte, v string) bool {
	if len(v) < 2 {
		return false
	}
	classes := sc.classes
	if len(sc.fields) > 0 || sc.skip != nil {
		classes = sc.fieldClassesBytes(name)
		if classes == 0 {
			return false
		}
	}
	if f, ok := sc.check(v, classes); ok {
		return sc.hit(f, string(name))
	}
	return false
}

// visitJSON inspects one JSON key or string; the field name is built only
// for allowances, skips and findings.
//
// The walker gives v's byte flags: a value of [A-Za-z0-9_] within
// Config.MaxValueLen, which Check passes, is passed here at once.
func (sc *scan) visitJSON(w *jsonWalker, v string, _ bool) bool {
	if len(v) < 2 {
		return true
	}
	flags := w.flags
	if plainFlags(flags) && len(v) <= sc.st.cfg.MaxValueLen {
		return true
	}
	classes := sc.classes
	if len(sc.fields) > 0 || sc.skip != nil {
		sc.name = w.appendName(sc.name[:0])
		classes = sc.fieldClassesBytes(sc.name)
		if classes == 0 {
			return true
		}
	}
	var f Finding
	ok := true
	if len(v) > sc.st.cfg.MaxValueLen {
		sc.tooLong = true // as in check
	} else {
		f, ok = checkScanned(v, flags, classes, &sc.lower)
	}
	if ok {
		sc.name = w.appendName(sc.name[:0])
		sc.hit(f, string(sc.name))
		return false
	}
	return true
}

func (sc *scan) fieldClasses(name string) Classes { return sc.fieldClassesBytes([]byte(name)) }

// fieldClassesBytes returns the classes to check for a field: the route's,
// less the field's allowances; none for fields the schema stage typed.
func (sc *scan) fieldClassesBytes(name []byte) Classes {
	if sc.skip != nil && sc.skip.has(name) {
		return 0
	}
	c := sc.classes
	for _, a := range sc.fields {
		if f, prefix := strings.CutSuffix(a.Field, "*"); prefix {
			if bytes.HasPrefix(name, []byte(f)) {
				c &^= a.Classes
			}
		} else if string(name) == a.Field {
			c &^= a.Classes
		}
	}
	return c
}

func (sc *scan) hit(f Finding, field string) bool {
	sc.found, sc.finding, sc.field = true, f, field
	return true
}

// report turns the finding into an event and, in Block mode, a denial.
func (sc *scan) report() guard.Decision {
	s, r := sc.st, sc.r
	kind := guard.KindInjectionBlocked
	status := s.cfg.Status
	mode := "block"
	if s.cfg.Mode == DetectOnly {
		kind, status, mode = KindInjectionDetected, 0, "detect"
	}
	if r.Wants(kind) {
		decoded := "false"
		if sc.finding.Decoded {
			decoded = "true"
		}
		r.Emit(guard.Event{
			Kind:   kind,
			Stage:  StageName,
			Status: status,
			Reason: sc.finding.Reason,
			Attrs: []guard.Attr{
				{Key: "class", Value: sc.finding.Class.String()},
				{Key: "field", Value: sc.field},
				{Key: "reason", Value: sc.finding.Reason},
				{Key: "mode", Value: mode},
				{Key: "decoded", Value: decoded},
			},
		})
	}
	if s.cfg.Mode == DetectOnly {
		return guard.Decision{}
	}
	return guard.Deny(status, ReasonInputRejected, "The request contains input that is not allowed.")
}

// checkBody reads and inspects a form, multipart or JSON body.
func (sc *scan) checkBody() guard.Decision {
	s, r := sc.st, sc.r
	ct := ""
	if r.Header != nil {
		ct = r.Header.Get("Content-Type")
	}
	// The media type alone, without mime.ParseMediaType's parameter map:
	// only multipart needs a parameter (the boundary).
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	isForm := mt == "application/x-www-form-urlencoded"
	isMultipart := mt == "multipart/form-data"
	if !isJSON && !isForm && !isMultipart {
		return guard.Decision{}
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return tooLarge()
	}
	body, err := r.Body.ReadBody(s.cfg.MaxBodyBytes)
	switch {
	case errors.Is(err, guard.ErrBodyTooLarge):
		return tooLarge()
	case err != nil:
		return guard.Deny(http.StatusBadRequest, ReasonBodyReadFailed, "The request body could not be read.")
	}
	if len(body) == 0 {
		return guard.Decision{}
	}
	switch {
	case isJSON:
		// The body is only read during the walk and no part of it is kept
		// (field names in findings are copied), so it is not copied.
		return sc.checkJSON(bytesString(body))
	case isForm:
		d, _ := sc.checkForm(string(body), "form.")
		return d
	default:
		_, params, err := mime.ParseMediaType(ct)
		if err != nil {
			return guard.Deny(http.StatusBadRequest, ReasonMalformedBody, "The multipart body is malformed.")
		}
		return sc.checkMultipart(body, params["boundary"])
	}
}

func valueTooLong() guard.Decision {
	return guard.Deny(http.StatusBadRequest, ReasonValueTooLong, "A request value is too long to inspect.")
}

func tooLarge() guard.Decision {
	return guard.Deny(http.StatusRequestEntityTooLarge, ReasonBodyTooLarge, "The request body is too large.")
}

func (sc *scan) checkJSON(src string) guard.Decision {
	w := &sc.walker
	w.src, w.pos, w.fields, w.stopped = src, 0, 0, false
	w.maxDepth, w.maxFields = sc.st.cfg.MaxDepth, sc.st.cfg.MaxFields
	w.plainMax = sc.st.cfg.MaxValueLen // visitJSON passes such values at once
	w.segs = w.segs[:0]
	if sc.visitFn == nil {
		sc.visitFn = sc.visitJSON
	}
	w.visit = sc.visitFn
	switch err := w.walk(); {
	case err == nil:
		return guard.Decision{}
	case errors.Is(err, ErrJSONDepth):
		return guard.Deny(http.StatusBadRequest, ReasonBodyTooDeep, "The JSON body is nested too deeply.")
	case errors.Is(err, ErrTooManyFields):
		return guard.Deny(http.StatusBadRequest, ReasonTooManyFields, "The JSON body has too many fields.")
	default:
		return guard.Deny(http.StatusBadRequest, ReasonMalformedBody, "The JSON body is malformed.")
	}
}

// checkMultipart inspects the field values and file names of a
// multipart/form-data body; file contents are not inspected.
func (sc *scan) checkMultipart(body []byte, boundary string) guard.Decision {
	malformed := guard.Deny(http.StatusBadRequest, ReasonMalformedBody, "The multipart body is malformed.")
	if boundary == "" {
		return malformed
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for n := 0; ; n++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return guard.Decision{}
		}
		if err != nil {
			return malformed
		}
		if n >= sc.st.cfg.MaxFields {
			return guard.Deny(http.StatusBadRequest, ReasonTooManyFields, "The multipart body has too many parts.")
		}
		name := p.FormName()
		sc.name = appendFieldSegment(append(sc.name[:0], "form."...), name)
		if sc.inspect(sc.name, name) {
			return guard.Decision{}
		}
		// The raw file name: Part.FileName strips directories, which
		// is exactly what a traversal attempt puts there.
		_, disp, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		if fn := disp["filename"]; fn != "" || p.FileName() != "" {
			sc.name = append(sc.name, ".filename"...)
			if sc.inspect(sc.name, fn) {
				return guard.Decision{}
			}
			continue
		}
		v, err := io.ReadAll(io.LimitReader(p, int64(sc.st.cfg.MaxValueLen)+1))
		if err != nil {
			return malformed
		}
		if len(v) > sc.st.cfg.MaxValueLen {
			return valueTooLong()
		}
		if sc.inspect(sc.name, string(v)) {
			return guard.Decision{}
		}
	}
}
