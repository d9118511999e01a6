package schema

import (
	"github.com/guardsdk/guard/inspect"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// strictFormats are the string formats whose valid values cannot carry
// an injection: digits, hex, a fixed alphabet. "email" and "uri" are not
// among them ("'or 1=1--"@example.com is a valid address).
var strictFormats = map[string]bool{
	"uuid": true, "date": true, "date-time": true, "time": true, "duration": true,
	"ipv4": true, "ipv6": true, "hostname": true, "period": true, "semver": true,
}

// maxRefDepth bounds $ref chains followed while looking for types.
const maxRefDepth = 32

// expand returns sch and the schemas every valid instance of it must also
// match: its $ref targets and allOf members. anyOf, oneOf and if/then are
// not followed: which branch holds is not known.
func expand(sch *jsonschema.Schema, out []*jsonschema.Schema, depth int) []*jsonschema.Schema {
	if sch == nil || depth > maxRefDepth {
		return out
	}
	out = append(out, sch)
	out = expand(sch.Ref, out, depth+1)
	for _, a := range sch.AllOf {
		out = expand(a, out, depth+1)
	}
	return out
}

// strictString reports whether any of schs restricts a string to values
// that cannot carry an injection: an enum, a const, a strict format.
func strictString(schs []*jsonschema.Schema) bool {
	for _, s := range schs {
		if s.Enum != nil || s.Const != nil || s.Format != nil && strictFormats[s.Format.Name] {
			return true
		}
	}
	return false
}

// TypedFields returns the inspection field names (see inspect.BodyField)
// of the string values in a body the schema has validated that it types
// strictly. A name stands for every array element, so it is returned only
// when every value it covers is strict.
func (s *Schema) TypedFields(body []byte) []string {
	v, err := decodeStrict(body, s.maxDepth, s.names)
	if err != nil {
		return nil
	}
	return s.typedFields(v)
}

func (s *Schema) typedFields(v any) []string {
	acc := map[string]bool{}
	var order []string
	var walk func(schs []*jsonschema.Schema, v any, path []string, depth int)
	walk = func(schs []*jsonschema.Schema, v any, path []string, depth int) {
		if depth > s.maxDepth {
			return
		}
		switch v := v.(type) {
		case string:
			name := inspect.BodyField(path...)
			strict := strictString(schs)
			prev, seen := acc[name]
			if !seen {
				order = append(order, name)
				acc[name] = strict
			} else {
				acc[name] = prev && strict
			}
		case map[string]any:
			for k, child := range v {
				var sub []*jsonschema.Schema
				for _, sc := range schs {
					if p, ok := sc.Properties[k]; ok {
						sub = expand(p, sub, 0)
						continue
					}
					matched := false
					for re, p := range sc.PatternProperties {
						if re.MatchString(k) {
							sub = expand(p, sub, 0)
							matched = true
						}
					}
					if !matched {
						if ap, ok := sc.AdditionalProperties.(*jsonschema.Schema); ok {
							sub = expand(ap, sub, 0)
						}
					}
				}
				walk(sub, child, append(path, k), depth+1)
			}
		case []any:
			for i, child := range v {
				var sub []*jsonschema.Schema
				for _, sc := range schs {
					switch {
					case i < len(sc.PrefixItems):
						sub = expand(sc.PrefixItems[i], sub, 0)
					case sc.Items2020 != nil:
						sub = expand(sc.Items2020, sub, 0)
					}
					switch it := sc.Items.(type) {
					case *jsonschema.Schema:
						sub = expand(it, sub, 0)
					case []*jsonschema.Schema:
						if i < len(it) {
							sub = expand(it[i], sub, 0)
						} else if ai, ok := sc.AdditionalItems.(*jsonschema.Schema); ok {
							sub = expand(ai, sub, 0)
						}
					}
				}
				walk(sub, child, append(path, ""), depth+1)
			}
		}
	}
	walk(expand(s.sch, nil, 0), v, nil, 0)
	var out []string
	for _, n := range order {
		if acc[n] {
			out = append(out, n)
		}
	}
	return out
}
