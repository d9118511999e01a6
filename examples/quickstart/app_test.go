package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guardsdk/guard/store"
	"github.com/guardsdk/guard/store/bolt"
	"github.com/guardsdk/guard/store/memory"
)

const password = "correct horse battery"

func TestIndex(t *testing.T) {
	srv, a := serveApp(t, appConfig{Store: memStore(t)}, false)
	c := newClient(t, srv)
	r := c.must(c.do("GET", "/", nil), http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var idx struct {
		Endpoints []endpoint `json:"endpoints"`
	}
	r.json(t, &idx)
	want := a.endpoints()
	if !slices.Equal(idx.Endpoints, want) || len(want) != len(apiEndpoints)+5 {
		t.Fatalf("index lists %v, want %v (the API and the 5 monitoring endpoints)", idx.Endpoints, want)
	}
	// Every documented endpoint is routed: none answers 404 or 405.
	for _, e := range want {
		path := strings.ReplaceAll(strings.TrimSuffix(e.Path, "?q="), "{id}", "AAAAAAAAAAAAAAAA")
		if r := c.do(e.Method, path, nil); r.status == http.StatusNotFound || r.status == http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d %s", e.Method, path, r.status, r.body)
		}
	}
}

func TestEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store) {
		srv := startApp(t, st)
		alice, bob, anon := newClient(t, srv), newClient(t, srv), newClient(t, srv)

		// Registration: validation, success, duplicates.
		alice.do("POST", "/api/v1/auth/register", map[string]string{"username": "Alice", "password": password}).problem(t, 400, "invalid_username")
		alice.do("POST", "/api/v1/auth/register", map[string]string{"username": "al", "password": password}).problem(t, 400, "invalid_username")
		alice.do("POST", "/api/v1/auth/register", map[string]string{"username": strings.Repeat("a", 33), "password": password}).problem(t, 400, "invalid_username")
		alice.do("POST", "/api/v1/auth/register", map[string]string{"username": "alice", "password": "short"}).problem(t, 400, "invalid_password")
		alice.do("POST", "/api/v1/auth/register", map[string]string{"username": "alice", "password": strings.Repeat("p", 129)}).problem(t, 400, "invalid_password")
		var reg struct{ Username string }
		alice.must(alice.do("POST", "/api/v1/auth/register", map[string]string{"username": "alice", "password": password}), 201).json(t, &reg)
		if reg.Username != "alice" {
			t.Fatalf("register returned %+v", reg)
		}
		alice.do("POST", "/api/v1/auth/register", map[string]string{"username": "alice", "password": password + "x"}).problem(t, 409, "username_taken")
		// 128 characters of 4-byte UTF-8 is a valid password (bcrypt would
		// have truncated it at 72 bytes).
		long := strings.Repeat("🔑", 128)
		bob.must(bob.do("POST", "/api/v1/auth/register", map[string]string{"username": "bob.b-2_x", "password": long}), 201)

		// Login: wrong password and unknown user look the same.
		wrong := alice.do("POST", "/api/v1/auth/login", map[string]string{"username": "alice", "password": password + "!"})
		wrong.problem(t, 401, "invalid_credentials")
		unknown := alice.do("POST", "/api/v1/auth/login", map[string]string{"username": "nobody", "password": password})
		unknown.problem(t, 401, "invalid_credentials")
		if string(wrong.body) != string(unknown.body) {
			t.Fatalf("wrong password %s and unknown user %s differ", wrong.body, unknown.body)
		}
		alice.do("POST", "/api/v1/auth/login", map[string]string{"username": "NOT VALID", "password": "x"}).problem(t, 401, "invalid_credentials")
		// A truncated bcrypt-style prefix of bob's password must not work.
		bob.do("POST", "/api/v1/auth/login", map[string]string{"username": "bob.b-2_x", "password": long[:72]}).problem(t, 401, "invalid_credentials")
		alice.login("alice", password)
		bob.login("bob.b-2_x", long)

		// Authentication is required.
		for _, tc := range []struct{ method, path string }{
			{"GET", "/api/v1/notes"}, {"POST", "/api/v1/notes"}, {"GET", "/api/v1/notes/AAAAAAAAAAAAAAAA"},
			{"GET", "/api/v1/search?q=x"}, {"POST", "/api/v1/auth/logout"},
		} {
			// A well-formed body, so that the schema stage lets the
			// request reach the handler's authentication check.
			var body any
			if tc.method == "POST" && tc.path == "/api/v1/notes" {
				body = map[string]string{"title": "t"}
			}
			r := anon.do(tc.method, tc.path, body)
			r.problem(t, 401, "unauthenticated")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s: WWW-Authenticate %q", tc.method, tc.path, r.header.Get("WWW-Authenticate"))
			}
			for _, bad := range []string{"Bearer nope", "Basic " + alice.token, "Bearer " + strings.Repeat("A", 43), "Bearer " + alice.token + "x"} {
				anon.do(tc.method, tc.path, body, "Authorization", bad).problem(t, 401, "unauthenticated")
			}
		}

		// Notes.
		if got := alice.listNotes("/api/v1/notes"); len(got) != 0 {
			t.Fatalf("new user has notes: %+v", got)
		}
		n1 := alice.createNote("Groceries", "Milk, eggs and BREAD")
		n2 := alice.createNote("Ideas", "a rate limiter for bread")
		n3 := alice.createNote("Überschrift", "")
		if n1.ID == "" || n1.ID == n2.ID || n1.Title != "Groceries" || n1.CreatedAt.IsZero() {
			t.Fatalf("created %+v and %+v", n1, n2)
		}
		r := alice.do("POST", "/api/v1/notes", map[string]string{"title": "t", "body": "b"})
		if loc := r.header.Get("Location"); !regexp.MustCompile(`^/api/v1/notes/[A-Za-z0-9_-]{16}$`).MatchString(loc) {
			t.Fatalf("Location %q", loc)
		}
		var n4 note
		r.json(t, &n4)
		alice.do("POST", "/api/v1/notes", map[string]string{"title": "  ", "body": "b"}).problem(t, 400, "invalid_title")
		alice.do("POST", "/api/v1/notes", map[string]string{"body": "b"}).problem(t, 400, "invalid_title")
		alice.do("POST", "/api/v1/notes", map[string]string{"title": strings.Repeat("é", 201)}).problem(t, 400, "invalid_title")
		alice.do("POST", "/api/v1/notes", map[string]string{"title": "t", "body": strings.Repeat("x", 10001)}).problem(t, 400, "invalid_body")
		alice.createNote(strings.Repeat("é", 200), strings.Repeat("ü", 10000))

		list := alice.listNotes("/api/v1/notes")
		if len(list) != 5 || list[0].ID != n1.ID || list[1].ID != n2.ID || list[2].ID != n3.ID || list[3].ID != n4.ID {
			t.Fatalf("list: %+v", list)
		}
		var got note
		alice.must(alice.do("GET", "/api/v1/notes/"+n2.ID, nil), 200).json(t, &got)
		if got.ID != n2.ID || got.Title != n2.Title || got.Body != n2.Body || !got.CreatedAt.Equal(n2.CreatedAt) {
			t.Fatalf("get %+v, want %+v", got, n2)
		}
		alice.do("GET", "/api/v1/notes/AAAAAAAAAAAAAAAA", nil).problem(t, 404, "not_found")
		alice.do("GET", "/api/v1/notes/not-an-id", nil).problem(t, 404, "not_found")
		// An encoded traversal never reaches the handler: input inspection
		// refuses it.
		alice.do("GET", "/api/v1/notes/..%2f..%2fqs%3auser%3aalice", nil).problem(t, 403, "input_rejected")

		// Search: case-insensitive over title and body, own notes only.
		ids := func(ns []note) []string {
			var out []string
			for _, n := range ns {
				out = append(out, n.ID)
			}
			return out
		}
		if got := ids(alice.listNotes("/api/v1/search?q=bread")); !slices.Equal(got, []string{n1.ID, n2.ID}) {
			t.Fatalf("search bread: %v", got)
		}
		if got := ids(alice.listNotes("/api/v1/search?q=" + url.QueryEscape("ÜBER"))); !slices.Equal(got, []string{n3.ID}) {
			t.Fatalf("search ÜBER: %v", got)
		}
		if got := alice.listNotes("/api/v1/search?q=nothing-matches"); len(got) != 0 {
			t.Fatalf("search: %+v", got)
		}
		for _, q := range []string{"", "?q=", "?q=a&q=b", "?q=%zz", "?q=" + strings.Repeat("a", 201), "?q=%ff"} {
			alice.do("GET", "/api/v1/search"+q, nil).problem(t, 400, "invalid_query")
		}
		alice.must(alice.do("GET", "/api/v1/search?q="+strings.Repeat("ü", 200), nil), 200)

		// Bob sees none of alice's notes, even by id.
		for _, n := range list {
			bob.do("GET", "/api/v1/notes/"+n.ID, nil).problem(t, 404, "not_found")
		}
		if got := bob.listNotes("/api/v1/notes"); len(got) != 0 {
			t.Fatalf("bob lists %+v", got)
		}
		if got := bob.listNotes("/api/v1/search?q=bread"); len(got) != 0 {
			t.Fatalf("bob finds %+v", got)
		}
		bn := bob.createNote("bob's", "bread too")
		alice.do("GET", "/api/v1/notes/"+bn.ID, nil).problem(t, 404, "not_found")

		// Logout ends exactly that session.
		second := newClient(t, srv)
		second.login("alice", password)
		alice.must(alice.do("POST", "/api/v1/auth/logout", nil), 204)
		alice.do("GET", "/api/v1/notes", nil).problem(t, 401, "unauthenticated")
		alice.do("POST", "/api/v1/auth/logout", nil).problem(t, 401, "unauthenticated")
		if got := second.listNotes("/api/v1/notes"); len(got) != 5 {
			t.Fatalf("alice's other session lists %d notes", len(got))
		}
		bob.must(bob.do("GET", "/api/v1/notes/"+bn.ID, nil), 200)
	})
}

func TestBadRequests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store) {
		c := newClient(t, startApp(t, st))
		c.signup("carol", password)
		const marker = "<script>zz-marker</script>"
		huge := `{"title":"` + strings.Repeat("a", maxBody) + `"}`
		tests := []struct {
			name, path, body, contentType string
			status                        int
			code                          string
		}{
			{"syntax", "/api/v1/notes", `{"title": "` + marker, "", 400, "malformed_body"},
			{"not an object", "/api/v1/notes", `["` + marker + `"]`, "", 400, "invalid_body"},
			{"wrong type", "/api/v1/notes", `{"title": 42, "body": "` + marker + `"}`, "", 400, "invalid_body"},
			{"unknown field", "/api/v1/notes", `{"title":"t","` + marker + `":1}`, "", 400, "invalid_body"},
			{"unknown field on register", "/api/v1/auth/register", `{"username":"dave","password":"` + password + `","admin":true}`, "", 400, "invalid_body"},
			{"trailing data", "/api/v1/notes", `{"title":"t"} {"title":"` + marker + `"}`, "", 400, "malformed_body"},
			{"empty body", "/api/v1/notes", ``, "", 400, "body_required"},
			{"oversized", "/api/v1/notes", huge + marker, "", 413, "body_too_large"},
			{"oversized login", "/api/v1/auth/login", `{"username":"carol","password":"` + strings.Repeat("p", maxBody) + `"}`, "", 413, "body_too_large"},
			{"form content type", "/api/v1/auth/login", `username=` + marker, "application/x-www-form-urlencoded", 415, "unsupported_media"},
			{"bad content type", "/api/v1/notes", `{"title":"t"}`, "text/plain; charset=" + marker, 415, "unsupported_media"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				hdr := []string{}
				if tc.contentType != "" {
					hdr = append(hdr, "Content-Type", tc.contentType)
				}
				r := c.do("POST", tc.path, tc.body, hdr...)
				r.problem(t, tc.status, tc.code)
				if strings.Contains(string(r.body), "zz-marker") || strings.Contains(string(r.body), "script") {
					t.Fatalf("problem body echoes input: %s", r.body)
				}
				if r.header.Get("X-Request-Id") == "" {
					t.Fatal("no X-Request-Id on a problem response")
				}
			})
		}
		// Nothing was created by the rejected requests.
		if got := c.listNotes("/api/v1/notes"); len(got) != 0 {
			t.Fatalf("rejected requests created %+v", got)
		}
	})
}

func TestNotFoundAndMethods(t *testing.T) {
	c := newClient(t, startApp(t, memStore(t)))
	c.do("GET", "/nope/nothing-here", nil).problem(t, 404, "not_found")
	// An attack in an unmatched path is refused before routing says 404.
	c.do("GET", "/nope/"+url.PathEscape("<script>alert(1)</script>"), nil).problem(t, 403, "input_rejected")
	c.do("GET", "/api/v1/auth/login", nil).problem(t, 405, "method_not_allowed")
	r := c.do("DELETE", "/api/v1/notes", nil)
	r.problem(t, 405, "method_not_allowed")
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Fatalf("Allow %q", allow)
	}
}

func TestCorrelationID(t *testing.T) {
	c := newClient(t, startApp(t, memStore(t)))
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, path := range []string{"/", "/api/v1/notes", "/nope"} {
		r := c.do("GET", path, nil, "X-Request-Id", "client-id-123")
		if got := r.header.Get("X-Request-Id"); got != "client-id-123" {
			t.Errorf("GET %s: X-Request-Id %q, want the client's id echoed", path, got)
		}
		r = c.do("GET", path, nil)
		if got := r.header.Get("X-Request-Id"); !hex32.MatchString(got) {
			t.Errorf("GET %s: generated X-Request-Id %q", path, got)
		}
		r = c.do("GET", path, nil, "X-Request-Id", "bad id <script>")
		if got := r.header.Get("X-Request-Id"); !hex32.MatchString(got) {
			t.Errorf("GET %s: invalid inbound id answered with %q, want a generated one", path, got)
		}
	}
}

func TestConcurrentClients(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store) {
		srv := startApp(t, st)
		const users, perUser = 6, 8

		// Many goroutines race to register one name: exactly one wins.
		var won, lost atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				c := newClient(t, srv)
				switch r := c.do("POST", "/api/v1/auth/register", map[string]string{"username": "contested", "password": password}); r.status {
				case 201:
					won.Add(1)
				case 409:
					lost.Add(1)
				default:
					t.Errorf("register: %d %s", r.status, r.body)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 || lost.Load() != 7 {
			t.Fatalf("contested registration: %d won, %d lost", won.Load(), lost.Load())
		}

		// Users sign up in parallel, and each creates notes from several
		// goroutines at once: no note is lost and none leaks.
		clients := make([]*client, users)
		for i := range users {
			wg.Go(func() {
				c := newClient(t, srv)
				c.signup(fmt.Sprintf("user%d", i), password)
				clients[i] = c
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		for i, c := range clients {
			for j := range perUser {
				wg.Go(func() {
					r := c.do("POST", "/api/v1/notes", map[string]string{"title": fmt.Sprintf("user%d note %d", i, j), "body": "shared words"})
					if r.status != 201 {
						t.Errorf("user%d note %d: %d %s", i, j, r.status, r.body)
					}
				})
			}
		}
		wg.Wait()
		for i, c := range clients {
			list := c.listNotes("/api/v1/notes")
			if len(list) != perUser {
				t.Errorf("user%d has %d notes, want %d", i, len(list), perUser)
			}
			for _, n := range list {
				if !strings.HasPrefix(n.Title, fmt.Sprintf("user%d ", i)) {
					t.Errorf("user%d sees %q", i, n.Title)
				}
			}
			if got := c.listNotes("/api/v1/search?q=SHARED"); len(got) != perUser {
				t.Errorf("user%d search finds %d notes", i, len(got))
			}
		}
	})
}

func TestNoteLimit(t *testing.T) {
	t.Parallel()
	c := newClient(t, startApp(t, memStore(t)))
	c.signup("hoarder", password)
	for i := range maxNotes {
		c.must(c.do("POST", "/api/v1/notes", map[string]string{"title": fmt.Sprint(i)}), 201)
	}
	c.do("POST", "/api/v1/notes", map[string]string{"title": "one too many"}).problem(t, 409, "note_limit_reached")
	if got := c.listNotes("/api/v1/notes"); len(got) != maxNotes {
		t.Fatalf("%d notes after the limit, want %d", len(got), maxNotes)
	}
}

// TestSessionsSurviveRestart: on bolt, users, sessions and notes are in
// the file, so a token from before a restart still works after it.
func TestSessionsSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quickstart.db")
	var token, id string
	func() {
		st, err := bolt.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		srv := startApp(t, st)
		c := newClient(t, srv)
		c.signup("erin", password)
		token, id = c.token, c.createNote("persist", "me").ID
		srv.Close()
	}()
	st, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := newClient(t, startApp(t, st))
	c.token = token
	c.must(c.do("GET", "/api/v1/notes/"+id, nil), 200)
	c.do("POST", "/api/v1/auth/register", map[string]string{"username": "erin", "password": password}).problem(t, 409, "username_taken")
}

// TestStoredSecrets: the store holds neither the password nor the token.
func TestStoredSecrets(t *testing.T) {
	st := &spyStore{Store: memStore(t)}
	c := newClient(t, startApp(t, st))
	c.signup("frank", password)
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.writes) == 0 {
		t.Fatal("nothing written")
	}
	for key, v := range st.writes {
		if strings.Contains(key+v, password) || strings.Contains(key+v, c.token) {
			t.Fatalf("store key %q holds a secret: %s", key, v)
		}
	}
	if !strings.Contains(st.writes["qs:user:frank"], `"hash":"$argon2id$v=19$`) {
		t.Fatalf("user record %s", st.writes["qs:user:frank"])
	}
}

// TestPrincipalLookup: the session is read once per request, and a store
// failure is a 503, never a 401 that would log the user out.
func TestPrincipalLookup(t *testing.T) {
	st := &spyStore{Store: memStore(t)}
	c := newClient(t, startApp(t, st))
	c.signup("grace", password)
	n := c.createNote("n", "")

	before := st.sessionGets.Load()
	c.must(c.do("GET", "/api/v1/notes/"+n.ID, nil), 200)
	if got := st.sessionGets.Load() - before; got != 1 {
		t.Fatalf("%d session lookups for one request, want 1", got)
	}

	st.fail.Store(true)
	c.do("GET", "/api/v1/notes", nil).problem(t, 503, "unavailable")
	c.do("POST", "/api/v1/auth/login", map[string]string{"username": "grace", "password": password}).problem(t, 503, "unavailable")
	c.do("POST", "/api/v1/auth/register", map[string]string{"username": "heidi", "password": password}).problem(t, 503, "unavailable")
	st.fail.Store(false)
	c.must(c.do("GET", "/api/v1/notes", nil), 200)
}

func memStore(t *testing.T) store.Store {
	st, err := memory.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// spyStore records writes, counts session reads and can fail every
// operation but Ping with store.ErrUnavailable.
type spyStore struct {
	store.Store
	fail        atomic.Bool
	sessionGets atomic.Int64
	mu          sync.Mutex
	writes      map[string]string
}

var errDown = fmt.Errorf("spy: %w", store.ErrUnavailable)

func (s *spyStore) record(key string, v []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writes == nil {
		s.writes = map[string]string{}
	}
	s.writes[key] = string(v)
}

func (s *spyStore) Get(ctx context.Context, key string) ([]byte, error) {
	if strings.HasPrefix(key, sessionKeyPrefix) {
		s.sessionGets.Add(1)
	}
	if s.fail.Load() {
		return nil, errDown
	}
	return s.Store.Get(ctx, key)
}

func (s *spyStore) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if s.fail.Load() {
		return errDown
	}
	s.record(key, v)
	return s.Store.Set(ctx, key, v, ttl)
}

func (s *spyStore) CompareAndSwap(ctx context.Context, key string, old, v []byte, ttl time.Duration) (bool, error) {
	if s.fail.Load() {
		return false, errDown
	}
	s.record(key, v)
	return s.Store.CompareAndSwap(ctx, key, old, v, ttl)
}

func (s *spyStore) Update(ctx context.Context, key string, fn store.UpdateFunc) error {
	if s.fail.Load() {
		return errDown
	}
	return s.Store.Update(ctx, key, fn)
}
