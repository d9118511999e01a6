package inspect_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/inspect"
)

// TestPaddingDoesNotHideAttacks pads an attack past the inspected length
// in every input: the request must never reach the handler.
func TestPaddingDoesNotHideAttacks(t *testing.T) {
	g, err := guard.New(inspect.Option(inspect.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("/search", func(http.ResponseWriter, *http.Request) { t.Error("handler ran") })
	h := g.Handler(mux)

	attack := "' UNION SELECT password FROM users--"
	for _, pad := range []int{inspect.MaxValueLen - len(attack) + 1, inspect.MaxValueLen, 2 * inspect.MaxValueLen} {
		padded := strings.Repeat(" ", pad) + attack
		cases := map[string]*http.Request{
			"query": httptest.NewRequest("GET", "/search?q="+url.QueryEscape(padded), nil),
			"json":  httptest.NewRequest("POST", "/search", strings.NewReader(`{"q":"`+padded+`"}`)),
			"form":  httptest.NewRequest("POST", "/search", strings.NewReader("q="+url.QueryEscape(padded))),
		}
		cases["json"].Header.Set("Content-Type", "application/json")
		cases["form"].Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for name, req := range cases {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusBadRequest && rec.Code != http.StatusForbidden {
				t.Fatalf("%s padded by %d: status %d", name, pad, rec.Code)
			}
			if strings.Contains(rec.Body.String(), "UNION") {
				t.Fatalf("%s: problem echoes the payload", name)
			}
		}
	}

	// A long benign value is refused with a clear code, not inspected in
	// part.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/search?q="+strings.Repeat("a", inspect.MaxValueLen+1), nil))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"code":"value_too_long"`) {
		t.Fatalf("long value: %d %s", rec.Code, rec.Body.String())
	}
	if _, err := inspect.New(inspect.Config{MaxValueLen: inspect.MaxValueLen + 1}); err == nil {
		t.Fatal("MaxValueLen above inspect.MaxValueLen accepted")
	}
}

func TestCheckRefusesOverlongValues(t *testing.T) {
	padded := strings.Repeat(" ", inspect.MaxValueLen) + "<script>alert(1)</script>"
	f, bad := inspect.Value(padded)
	if !bad || f.Reason != inspect.ReasonTooLong || f.Class != 0 {
		t.Fatalf("Value(padded attack) = %+v, %v", f, bad)
	}
	if _, bad := inspect.Value(strings.Repeat("a b ", inspect.MaxValueLen/4)); bad {
		t.Fatal("a benign value of exactly MaxValueLen bytes was flagged")
	}
}
