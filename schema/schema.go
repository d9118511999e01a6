package schema

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/guardsdk/guard"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// DefaultMaxDepth bounds JSON nesting in strict decoding.
const DefaultMaxDepth = 64

// Schema is a compiled JSON Schema for request bodies. It is safe for
// concurrent use.
type Schema struct {
	sch      *jsonschema.Schema
	names    map[string]bool // property names the schema declares
	maxDepth int
}

// Options of Compile.
type Options struct {
	// AllowUnknown keeps JSON Schema's default of accepting members an
	// object schema does not declare. By default (false) every object
	// schema with "properties" and no "additionalProperties",
	// "patternProperties" or "unevaluatedProperties" of its own rejects
	// undeclared members, except where it is a branch of allOf, anyOf or
	// oneOf (whose branches see only part of the object).
	AllowUnknown bool
	// MaxDepth bounds the nesting of bodies; zero means DefaultMaxDepth.
	MaxDepth int
}

// noLoader refuses every external reference: a schema given to guard is
// self-contained, and compiling it must not read files or the network.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema: external reference %q not allowed", url)
}

// Compile parses and compiles a JSON Schema document (draft 2020-12 unless
// it says otherwise with $schema). Format assertions are on: "uuid",
// "date", "date-time", "email" and the others are checked, not just
// annotations. External $refs are refused.
func Compile(doc []byte, opts Options) (*Schema, error) {
	if opts.MaxDepth < 0 {
		return nil, fmt.Errorf("schema: Options.MaxDepth: negative value %d", opts.MaxDepth)
	}
	if opts.MaxDepth == 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("schema: parsing the schema: %w", err)
	}
	names := map[string]bool{}
	collectNames(v, names)
	if !opts.AllowUnknown {
		closeObjects(v, false)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(noLoader{})
	const url = "guard:///body.schema.json"
	if err := c.AddResource(url, v); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema: compiling: %w", err)
	}
	return &Schema{sch: sch, names: names, maxDepth: opts.MaxDepth}, nil
}

// subschemaMaps and subschemaLists name the keywords whose values hold
// subschemas, for the document walks below.
var (
	subschemaMaps  = []string{"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
	subschemaOne   = []string{"additionalProperties", "items", "additionalItems", "contains", "not", "if", "then", "else", "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema"}
	subschemaLists = []string{"allOf", "anyOf", "oneOf", "prefixItems", "items"}
)

// collectNames gathers every property name the schema declares (also as
// "required"), so field errors can show those and hide client-chosen keys.
func collectNames(v any, names map[string]bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	if props, ok := m["properties"].(map[string]any); ok {
		for k := range props {
			names[k] = true
		}
	}
	if req, ok := m["required"].([]any); ok {
		for _, r := range req {
			if s, ok := r.(string); ok {
				names[s] = true
			}
		}
	}
	forEachSub(m, func(sub any, _ bool) { collectNames(sub, names) })
}

// forEachSub calls f on every subschema of m; branch says the subschema is
// a member of allOf, anyOf or oneOf.
func forEachSub(m map[string]any, f func(sub any, branch bool)) {
	for _, k := range subschemaMaps {
		if mm, ok := m[k].(map[string]any); ok {
			for _, sub := range mm {
				f(sub, false)
			}
		}
	}
	for _, k := range subschemaOne {
		if sub, ok := m[k].(map[string]any); ok {
			f(sub, false)
		}
	}
	for _, k := range subschemaLists {
		if l, ok := m[k].([]any); ok {
			branch := k == "allOf" || k == "anyOf" || k == "oneOf"
			for _, sub := range l {
				f(sub, branch)
			}
		}
	}
}

// closeObjects adds "additionalProperties": false to object schemas that
// declare properties and say nothing about other members. Branches of
// allOf/anyOf/oneOf and schemas that combine or reference others are left
// open: closing them would reject members their siblings declare.
func closeObjects(v any, branch bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	_, hasProps := m["properties"]
	open := branch
	for _, k := range []string{"additionalProperties", "patternProperties", "unevaluatedProperties", "allOf", "anyOf", "oneOf", "$ref", "$dynamicRef", "if"} {
		if _, ok := m[k]; ok {
			open = true
		}
	}
	if hasProps && !open {
		m["additionalProperties"] = false
	}
	forEachSub(m, closeObjects)
}

// Validate strictly decodes body and validates it. A decoding failure is
// a *DecodeError; a body that decodes but breaks the schema returns its
// field errors (sorted, at most guard.MaxProblemErrors) and a nil error.
//
// Each field error's pointer locates the value (for "required", the
// missing member); its segments are array indexes, property names the
// schema declares, or "*" for a key the client chose, so no error echoes
// request data. The keyword is the JSON Schema keyword that failed.
func (s *Schema) Validate(body []byte) ([]guard.FieldError, error) {
	v, err := decodeStrict(body, s.maxDepth, s.names)
	if err != nil {
		return nil, err
	}
	return s.validateValue(v), nil
}

func (s *Schema) validateValue(v any) []guard.FieldError {
	err := s.sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []guard.FieldError{{Pointer: "", Keyword: "schema"}}
	}
	var out []guard.FieldError
	seen := map[guard.FieldError]bool{}
	s.leaves(ve, func(fe guard.FieldError) {
		if !seen[fe] && len(out) < 4*guard.MaxProblemErrors {
			seen[fe] = true
			out = append(out, fe)
		}
	})
	slices.SortFunc(out, func(a, b guard.FieldError) int {
		if c := strings.Compare(a.Pointer, b.Pointer); c != 0 {
			return c
		}
		return strings.Compare(a.Keyword, b.Keyword)
	})
	if len(out) > guard.MaxProblemErrors {
		out = out[:guard.MaxProblemErrors]
	}
	if len(out) == 0 {
		out = append(out, guard.FieldError{Pointer: "", Keyword: "schema"})
	}
	return out
}

// leaves reports the innermost errors of a validation error tree.
func (s *Schema) leaves(e *jsonschema.ValidationError, f func(guard.FieldError)) {
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			s.leaves(c, f)
		}
		return
	}
	kw := "schema"
	if p := e.ErrorKind.KeywordPath(); len(p) > 0 {
		kw = p[len(p)-1]
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			f(guard.FieldError{Pointer: pointer(append(slices.Clip(e.InstanceLocation), m), s.names), Keyword: "required"})
		}
		return
	case *kind.AdditionalProperties:
		kw = "additionalProperties"
	case *kind.Group, *kind.Schema:
		return
	}
	f(guard.FieldError{Pointer: pointer(e.InstanceLocation, s.names), Keyword: kw})
}

// maxPointerSegment bounds one segment of a pointer in field errors.
const maxPointerSegment = 64

// pointer renders path as an RFC 6901 JSON pointer. Segments that are
// neither array indexes nor names the schema declares are client-chosen
// keys and render as "*".
func pointer(path []string, names map[string]bool) string {
	if len(path) == 0 {
		return ""
	}
	var b strings.Builder
	for _, seg := range path {
		b.WriteByte('/')
		switch {
		case isIndex(seg), names[seg] && len(seg) <= maxPointerSegment:
			b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(seg))
		default:
			b.WriteByte('*')
		}
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	_, err := strconv.Atoi(s)
	return err == nil && s[0] != '-' && s[0] != '+'
}
