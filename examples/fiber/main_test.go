package main

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/guardsdk/guard"
)

func TestApp(t *testing.T) {
	g, err := newGuard("10.0.0.0/8", log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	app := newApp(g)
	for _, tc := range []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{http.MethodGet, "/notes/42", "", http.StatusOK, `"route":"/notes/:id"`},
		{http.MethodPost, "/notes", `{"text":"hi"}`, http.StatusCreated, `"bytes":13`},
		{http.MethodGet, "/teapot", "", http.StatusTeapot, "short and stout"},
		{http.MethodGet, "/boom", "", http.StatusInternalServerError, `"code":"internal_error"`},
		{http.MethodGet, "/nowhere", "", http.StatusNotFound, ""},
	} {
		res, err := app.Test(httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)), -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || !strings.Contains(string(b), tc.contains) || res.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, res.StatusCode, b)
		}
		if tc.status == http.StatusInternalServerError && res.Header.Get("Content-Type") != guard.ContentTypeProblem {
			t.Errorf("panic answered with %q", res.Header.Get("Content-Type"))
		}
	}
}
