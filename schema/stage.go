package schema

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/inspect"
)

// StageName is the stage's name in events and metrics.
const StageName = "schema"

// Phase is the stage's phase: just before guard.PhaseInspect, so that the
// fields it proves harmless are known when inspection runs.
const Phase = guard.PhaseInspect - 10

// DefaultMaxBodyBytes bounds the body read for validation (413 beyond).
const DefaultMaxBodyBytes = 1 << 20

// Reasons of the stage's denials, rendered as the problem body's "code".
const (
	ReasonInvalidBody      = "invalid_body"      // 400, with field errors
	ReasonMalformedBody    = "malformed_body"    // 400: syntax, duplicate keys, trailing data
	ReasonBodyTooDeep      = "body_too_deep"     // 400
	ReasonBodyRequired     = "body_required"     // 400: a schema route without a body
	ReasonUnsupportedMedia = "unsupported_media" // 415: not JSON
	ReasonBodyTooLarge     = "body_too_large"    // 413
	ReasonBodyReadFailed   = "body_read_failed"  // 400
)

// Route binds a JSON Schema to the bodies of one route.
type Route struct {
	// Method is the request method; "" matches any method with a body.
	Method string
	// Route is the route template as guard reports it ("/notes/{id}").
	Route string
	// Schema is the JSON Schema document.
	Schema []byte
}

// Config configures the stage.
type Config struct {
	Routes []Route
	// Options apply to every route's schema.
	Options Options
	// MaxBodyBytes bounds the body read (413 beyond); zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// NoSkip keeps inspection of fields the schema types strictly. By
	// default such fields (enum, const, and the uuid, date, date-time,
	// time, duration, ipv4, ipv6 and hostname formats) skip the inspect
	// stage's injection heuristics: their values cannot carry an attack,
	// and the heuristics can only misfire on them.
	NoSkip bool
}

type routeKey struct{ method, route string }

// Stage validates request bodies of the configured routes. It is safe for
// concurrent use.
type Stage struct {
	routes   map[routeKey]*Schema
	maxBody  int64
	skipping bool
}

var (
	_ guard.Stage  = (*Stage)(nil)
	_ guard.Phased = (*Stage)(nil)
)

// New compiles every route's schema.
func New(cfg Config) (*Stage, error) {
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("schema: Config.MaxBodyBytes: negative value %d", cfg.MaxBodyBytes)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s := &Stage{routes: map[routeKey]*Schema{}, maxBody: cfg.MaxBodyBytes, skipping: !cfg.NoSkip}
	for i, r := range cfg.Routes {
		if r.Route == "" {
			return nil, fmt.Errorf("schema: Config.Routes[%d]: empty Route", i)
		}
		k := routeKey{strings.ToUpper(r.Method), r.Route}
		if _, dup := s.routes[k]; dup {
			return nil, fmt.Errorf("schema: Config.Routes[%d]: %s %s given twice", i, r.Method, r.Route)
		}
		sch, err := Compile(r.Schema, cfg.Options)
		if err != nil {
			return nil, fmt.Errorf("schema: Config.Routes[%d] (%s %s): %w", i, r.Method, r.Route, err)
		}
		s.routes[k] = sch
	}
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
func (invalidStage) Phase() guard.Phase                  { return Phase }
func (invalidStage) Check(*guard.Request) guard.Decision { return guard.Decision{} }
func (s invalidStage) Init(guard.Env) error              { return s.err }

// Name implements guard.Stage.
func (s *Stage) Name() string { return StageName }

// Phase implements guard.Phased: Phase, just before inspection.
func (s *Stage) Phase() guard.Phase { return Phase }

// For returns the schema of a route, or nil.
func (s *Stage) For(method, route string) *Schema {
	if sch := s.routes[routeKey{method, route}]; sch != nil {
		return sch
	}
	return s.routes[routeKey{"", route}]
}

// Check implements guard.Stage: on a route with a schema it reads the
// body (JSON only: 415 otherwise), decodes it strictly and validates it,
// answering 400 with the field errors when it does not match.
func (s *Stage) Check(r *guard.Request) guard.Decision {
	sch := s.For(r.Method, r.Route)
	if sch == nil {
		return guard.Decision{}
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
		if _, explicit := s.routes[routeKey{r.Method, r.Route}]; !explicit {
			return guard.Decision{} // a method-less schema applies to methods with bodies
		}
	}
	if r.Body == nil {
		return guard.Deny(http.StatusBadRequest, ReasonBodyRequired, "The request needs a JSON body.")
	}
	ct := ""
	if r.Header != nil {
		ct = r.Header.Get("Content-Type")
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return guard.Deny(http.StatusUnsupportedMediaType, ReasonUnsupportedMedia, "The request body must be JSON.")
	}
	if r.ContentLength > s.maxBody {
		return guard.Deny(http.StatusRequestEntityTooLarge, ReasonBodyTooLarge, "The request body is too large.")
	}
	body, err := r.Body.ReadBody(s.maxBody)
	switch {
	case errors.Is(err, guard.ErrBodyTooLarge):
		return guard.Deny(http.StatusRequestEntityTooLarge, ReasonBodyTooLarge, "The request body is too large.")
	case err != nil:
		return guard.Deny(http.StatusBadRequest, ReasonBodyReadFailed, "The request body could not be read.")
	}
	v, err := decodeStrict(body, sch.maxDepth, sch.names)
	if err != nil {
		var de *DecodeError
		errors.As(err, &de)
		switch {
		case errors.Is(err, ErrEmpty):
			return guard.Deny(http.StatusBadRequest, ReasonBodyRequired, "The request needs a JSON body.")
		case errors.Is(err, ErrTooDeep):
			return guard.Deny(http.StatusBadRequest, ReasonBodyTooDeep, "The JSON body is nested too deeply.")
		case errors.Is(err, ErrDuplicateKey):
			d := guard.Deny(http.StatusBadRequest, ReasonMalformedBody, "The JSON body has a duplicate key.")
			d.Errors = []guard.FieldError{{Pointer: de.Pointer, Keyword: "duplicateKey"}}
			return d
		case errors.Is(err, ErrTrailingData):
			return guard.Deny(http.StatusBadRequest, ReasonMalformedBody, "The JSON body has data after its value.")
		default:
			return guard.Deny(http.StatusBadRequest, ReasonMalformedBody, "The JSON body is malformed.")
		}
	}
	if errs := sch.validateValue(v); len(errs) > 0 {
		d := guard.Deny(http.StatusBadRequest, ReasonInvalidBody, "The request body does not match its schema.")
		d.Errors = errs
		return d
	}
	if s.skipping {
		if typed := sch.typedFields(v); len(typed) > 0 {
			inspect.SkipFields(r, typed...)
		}
	}
	return guard.Decision{}
}
