package inspect

import "github.com/guardsdk/guard"

// skipKey is the request value key of the fields inspection skips.
type skipKey struct{}

// skipSet is a small set of field names; requests mark few fields.
type skipSet struct{ names []string }

func (s *skipSet) has(name []byte) bool {
	for _, n := range s.names {
		if n == string(name) {
			return true
		}
	}
	return false
}

// SkipFields tells the inspection stage not to check the named fields of
// r (names as in events: "body.id", "body.items[].when", "query.page").
// A stage that has proved a field harmless calls it before inspection
// runs: the schema stage marks fields its JSON Schema types strictly (a
// uuid, an enum, a date), whose values cannot carry an injection.
func SkipFields(r *guard.Request, fields ...string) {
	if len(fields) == 0 {
		return
	}
	s, ok := r.Value(skipKey{}).(*skipSet)
	if !ok {
		s = &skipSet{}
		r.SetValue(skipKey{}, s)
	}
	s.names = append(s.names, fields...)
}
