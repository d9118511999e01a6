package inspect_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/guardsdk/guard/inspect"
)

// FuzzStage sends arbitrary paths, queries and bodies of every inspected
// media type through the stage: no panic, only the statuses the stage
// documents, and a problem body that never echoes the input.
func FuzzStage(f *testing.F) {
	h, _, _ := newServer(f, inspect.Config{MaxBodyBytes: 1 << 16, MaxFields: 64, MaxDepth: 8})
	for _, s := range []struct{ path, query, ctype, body string }{
		{"/search", "q=hello", "application/json", `{"a":"b"}`},
		{"/files/..%2f..%2fx", "a=%00", "application/x-www-form-urlencoded", "a=1&b=%3Cscript%3E"},
		{"/notes/1", "", "multipart/form-data; boundary=xx", "--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--xx--\r\n"},
		{"/raw", "x=%zz&&=&", "application/json", `[[[[[[[[[[`},
	} {
		f.Add(s.path, s.query, s.ctype, s.body)
	}
	f.Fuzz(func(t *testing.T, path, query, ctype, body string) {
		req, err := http.NewRequest("POST", "http://example.com/raw", strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.URL.RawPath = ""
		req.URL.Path = "/" + strings.TrimLeft(path, "/")
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 301, 307, 308, 400, 403, 404, 405, 413:
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if rec.Code == 400 || rec.Code == 403 || rec.Code == 413 {
			if len(body) > 8 && strings.Contains(rec.Body.String(), body) {
				t.Fatalf("problem body echoes the request body")
			}
		}
	})
}
