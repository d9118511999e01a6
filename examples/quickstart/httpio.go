package main

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/guardsdk/guard"
)

// maxBody bounds every JSON request body.
const maxBody = 64 << 10

// Problems the service answers with. Each has a constant code and detail:
// nothing from the request is ever echoed back.
var (
	errBadJSON         = guard.Deny(http.StatusBadRequest, "invalid_json", "The request body is not a single valid JSON object of the expected shape.")
	errUnknownField    = guard.Deny(http.StatusBadRequest, "unknown_field", "The request body has a field this endpoint does not accept.")
	errEmptyBody       = guard.Deny(http.StatusBadRequest, "empty_body", "The request body is empty; a JSON object is required.")
	errTooLarge        = guard.Deny(http.StatusRequestEntityTooLarge, "body_too_large", "The request body is larger than 64 KiB.")
	errMediaType       = guard.Deny(http.StatusUnsupportedMediaType, "unsupported_media_type", "The request body must be application/json.")
	errUsername        = guard.Deny(http.StatusBadRequest, "invalid_username", "A username is 3 to 32 characters of a-z, 0-9, '_', '.' and '-'.")
	errPassword        = guard.Deny(http.StatusBadRequest, "invalid_password", "A password is 12 to 128 characters of valid UTF-8.")
	errTaken           = guard.Deny(http.StatusConflict, "username_taken", "That username is already registered.")
	errCredentials     = guard.Deny(http.StatusUnauthorized, "invalid_credentials", "The username or password is incorrect.")
	errUnauthenticated = guard.Deny(http.StatusUnauthorized, "unauthenticated", "A valid bearer token is required.")
	errTitle           = guard.Deny(http.StatusBadRequest, "invalid_title", "A title is 1 to 200 characters and not only spaces.")
	errNoteBody        = guard.Deny(http.StatusBadRequest, "invalid_body", "A note body is at most 10000 characters.")
	errNoteLimit       = guard.Deny(http.StatusConflict, "note_limit_reached", "You have reached the maximum of 1000 notes.")
	errQuery           = guard.Deny(http.StatusBadRequest, "invalid_query", "The query parameter q is required and is 1 to 200 characters.")
	errNotFound        = guard.Deny(http.StatusNotFound, "not_found", "There is nothing here.")
	errMethod          = guard.Deny(http.StatusMethodNotAllowed, "method_not_allowed", "This resource does not support that method.")
	errUnavailable     = guard.Deny(http.StatusServiceUnavailable, "unavailable", "The service is temporarily unavailable; try again shortly.")
	errInternal        = guard.Deny(http.StatusInternalServerError, "internal_error", "The server could not complete the request.")
)

func writeProblem(w http.ResponseWriter, d guard.Decision) {
	if d.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="quickstart"`)
	}
	guard.WriteProblem(w, d)
}

// writeJSON writes v as the JSON response body. API responses carry
// per-user data and tokens, so they are never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only plain structs are passed: a bug, not input
		writeProblem(w, errInternal)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// decodeJSON reads the request body, at most maxBody bytes, as exactly one
// JSON object into dst, rejecting unknown fields and trailing data. On
// failure it has written the problem response and returns false.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeProblem(w, errMediaType)
			return false
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		// Exactly one value: anything but EOF after it is an error.
		if err = dec.Decode(new(json.RawMessage)); err == io.EOF {
			return true
		}
		if err == nil {
			err = errors.New("trailing data")
		}
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeProblem(w, errTooLarge)
	case errors.Is(err, io.EOF) && dec.InputOffset() == 0:
		writeProblem(w, errEmptyBody)
	case strings.Contains(err.Error(), "unknown field"):
		writeProblem(w, errUnknownField)
	default:
		writeProblem(w, errBadJSON)
	}
	return false
}

// problemMux is a ServeMux whose own 404 and 405 answers are problem JSON
// like every other error. It keeps the mux's Handler method, which guard
// uses to learn the route template before its stages run.
type problemMux struct{ *http.ServeMux }

func (m problemMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// guard has already asked the mux for the route; ask again only when
	// served without guard.
	matched := false
	switch route := guard.Route(r.Context()); route {
	case "":
		_, pattern := m.Handler(r)
		matched = pattern != ""
	default:
		matched = route != guard.RouteUnmatched
	}
	if matched {
		m.ServeMux.ServeHTTP(w, r)
		return
	}
	h, _ := m.Handler(r)
	// No route: the mux answers 404, 405 (with Allow) or a redirect to
	// the cleaned path. Let it write into a recorder, then translate.
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusNotFound:
		writeProblem(w, errNotFound)
	case http.StatusMethodNotAllowed:
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		writeProblem(w, errMethod)
	default:
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body)
	}
}

// headerRecorder captures what the mux's fallback handlers write; their
// bodies are a few bytes.
type headerRecorder struct {
	header http.Header
	status int
	body   []byte
}

func (r *headerRecorder) Header() http.Header { return r.header }

func (r *headerRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *headerRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if len(r.body) < 4096 {
		r.body = append(r.body, b...)
	}
	return len(b), nil
}
