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

// BodyField returns the field name inspection gives a member of a JSON
// body, from its path: keys, and "" for an array element. BodyField("user",
// "name") is "body.user.name"; BodyField("items", "", "id") is
// "body.items[].id". Keys are sanitised and the name bounded as in events.
func BodyField(path ...string) string {
	w := jsonWalker{segs: make([]string, len(path))}
	for i, s := range path {
		w.segs[i] = s[:min(len(s), maxFieldName)]
	}
	return string(w.appendName(nil))
}
