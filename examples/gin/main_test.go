package main

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/guardsdk/guard"
)

func TestRouter(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	g, err := newGuard("10.0.0.0/8", log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	h := newRouter(g)
	for _, tc := range []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{http.MethodGet, "/notes/42", "", http.StatusOK, `"route":"/notes/:id"`},
		{http.MethodPost, "/notes", `{"text":"hi"}`, http.StatusCreated, `"bytes":13`},
		{http.MethodGet, "/boom", "", http.StatusInternalServerError, `"code":"internal_error"`},
		{http.MethodGet, "/nowhere", "", http.StatusNotFound, ""},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.contains) || w.Header().Get("X-Request-Id") == "" {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, w.Code, w.Body)
		}
		if tc.status == http.StatusInternalServerError && w.Header().Get("Content-Type") != guard.ContentTypeProblem {
			t.Errorf("panic answered with %q", w.Header().Get("Content-Type"))
		}
	}
}
