package guard

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestProblemJSONErrors(t *testing.T) {
	t.Parallel()
	d := Deny(400, "invalid_body", "The request body does not match its schema.")
	plain := string(d.ProblemJSON())
	if strings.Contains(plain, "errors") {
		t.Fatalf("no errors, yet rendered: %s", plain)
	}
	d.Errors = []FieldError{{Pointer: "/title", Keyword: "maxLength"}, {Pointer: "/tags/0</script>", Keyword: "enum"}}
	b := d.ProblemJSON()
	if strings.Contains(string(b), "<") {
		t.Fatalf("HTML-significant bytes not escaped: %s", b)
	}
	var got struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
		Errors []struct {
			Pointer, Keyword string
		} `json:"errors"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	if got.Status != 400 || got.Code != "invalid_body" || len(got.Errors) != 2 ||
		got.Errors[0].Pointer != "/title" || got.Errors[0].Keyword != "maxLength" || got.Errors[1].Pointer != "/tags/0</script>" {
		t.Fatalf("got %+v from %s", got, b)
	}
	if !strings.HasPrefix(string(b), strings.TrimSuffix(plain, "}\n")) {
		t.Fatalf("errors changed the members before them:\n%s\n%s", plain, b)
	}

	many := Deny(400, "invalid_body", "")
	for i := range MaxProblemErrors + 5 {
		many.Errors = append(many.Errors, FieldError{Pointer: fmt.Sprintf("/a/%d", i), Keyword: "type"})
	}
	if err := json.Unmarshal(many.ProblemJSON(), &got); err != nil || len(got.Errors) != MaxProblemErrors {
		t.Fatalf("errors = %d (err %v), want the first %d", len(got.Errors), err, MaxProblemErrors)
	}
}
