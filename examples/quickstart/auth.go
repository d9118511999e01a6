package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/store"
)

// Keys the service keeps in the store. Usernames are [a-z0-9_.-] only, so
// they cannot forge another key's shape.
const (
	userKeyPrefix    = "qs:user:"    // + username → userRecord
	sessionKeyPrefix = "qs:session:" // + hex(sha256(token)) → sessionRecord
	sessionTTL       = 24 * time.Hour
	tokenBytes       = 32
)

var tokenEncoding = base64.RawURLEncoding

// tokenLen is the length of an encoded token: 43 characters.
var tokenLen = tokenEncoding.EncodedLen(tokenBytes)

func validUsername(s string) bool {
	if len(s) < 3 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func validPassword(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	n := utf8.RuneCountInString(s)
	return n >= 12 && n <= 128
}

// ---- password hashing ----

// hashParams is the argon2id cost. argon2id rather than bcrypt because
// bcrypt ignores (or, in x/crypto, refuses) passwords past 72 bytes and we
// accept 128 characters.
type hashParams struct {
	Time    uint32 // passes
	Memory  uint32 // KiB
	Threads uint8
}

// defaultHashParams is OWASP's minimum argon2id configuration (19 MiB,
// two passes, one lane): about 20–40 ms a hash on a server core.
var defaultHashParams = hashParams{Time: 2, Memory: 19 * 1024, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// errBusy: too many hashes waited for a slot until the request ended.
var errBusy = errors.New("quickstart: password hashing busy")

// hasher hashes and verifies passwords. Each hash takes Memory KiB, so
// at most GOMAXPROCS run at once: a burst of logins queues instead of
// exhausting memory.
type hasher struct {
	p     hashParams
	slots chan struct{}
	dummy string // a hash of a random password, verified for unknown users
}

func newHasher(p hashParams) (*hasher, error) {
	if p == (hashParams{}) {
		p = defaultHashParams
	}
	if p.Time < 1 || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) {
		return nil, fmt.Errorf("quickstart: invalid argon2id parameters %+v", p)
	}
	h := &hasher{p: p, slots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
	dummy, err := h.hash(context.Background(), rand.Text())
	if err != nil {
		return nil, err
	}
	h.dummy = dummy
	return h, nil
}

func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", errBusy, ctx.Err())
	}
}

func (h *hasher) release() { <-h.slots }

// hash returns the PHC string form:
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails; crashes the program if the OS cannot supply randomness
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, h.p.Time, h.p.Memory, h.p.Threads, keyLen)
	h.release()
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.p.Memory, h.p.Time, h.p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// verify reports whether password matches encoded, using the parameters
// stored in encoded (so raising the cost later keeps old hashes valid).
func (h *hasher) verify(ctx context.Context, encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("quickstart: malformed password hash")
	}
	var version int
	var p hashParams
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("quickstart: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Time < 1 || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) {
		return false, errors.New("quickstart: malformed argon2 parameters")
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, errors.New("quickstart: malformed password hash")
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	h.release()
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// ---- users ----

type userRecord struct {
	Username  string    `json:"username"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
}

type users struct {
	st     store.Store
	hasher *hasher
}

// create registers a user; it reports false when the name is taken.
// CompareAndSwap against "absent" makes concurrent registrations of one
// name safe on every backend: exactly one wins.
func (u *users) create(ctx context.Context, username, password string) (bool, error) {
	hash, err := u.hasher.hash(ctx, password)
	if err != nil {
		return false, err
	}
	rec, err := json.Marshal(userRecord{Username: username, Hash: hash, CreatedAt: time.Now().UTC()})
	if err != nil {
		return false, err
	}
	return u.st.CompareAndSwap(ctx, userKeyPrefix+username, nil, rec, 0)
}

// authenticate reports whether username and password match. An unknown
// user costs one hash verification too, against a dummy hash, so the
// response time does not tell which usernames exist.
func (u *users) authenticate(ctx context.Context, username, password string) (bool, error) {
	encoded := u.hasher.dummy
	known := false
	if validUsername(username) {
		b, err := u.st.Get(ctx, userKeyPrefix+username)
		switch {
		case err == nil:
			var rec userRecord
			if err := json.Unmarshal(b, &rec); err != nil {
				return false, fmt.Errorf("quickstart: user record: %w", err)
			}
			encoded, known = rec.Hash, true
		case !errors.Is(err, store.ErrNotFound):
			return false, err
		}
	}
	ok, err := u.hasher.verify(ctx, encoded, password)
	return ok && known, err
}

// ---- sessions ----

type sessionRecord struct {
	Username  string    `json:"username"`
	CreatedAt time.Time `json:"created_at"`
}

// sessions keeps bearer-token sessions in the store. Only the SHA-256 of
// a token is stored, so a leaked store (or bolt file) yields no usable
// token. Expiry is the store's TTL.
type sessions struct{ st store.Store }

func newSessions(st store.Store) *sessions { return &sessions{st: st} }

func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return sessionKeyPrefix + hex.EncodeToString(sum[:])
}

// create starts a session for username and returns its token: 32 random
// bytes, base64url without padding.
func (s *sessions) create(ctx context.Context, username string) (string, error) {
	token := make([]byte, tokenBytes)
	rand.Read(token)
	tok := tokenEncoding.EncodeToString(token)
	rec, err := json.Marshal(sessionRecord{Username: username, CreatedAt: time.Now().UTC()})
	if err != nil {
		return "", err
	}
	if err := s.st.Set(ctx, sessionKey(tok), rec, sessionTTL); err != nil {
		return "", err
	}
	return tok, nil
}

// bearerToken extracts a well-formed token from an Authorization header,
// or returns "".
func bearerToken(header string) string {
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	tok = strings.TrimSpace(tok)
	if len(tok) != tokenLen {
		return ""
	}
	if b, err := tokenEncoding.DecodeString(tok); err != nil || len(b) != tokenBytes {
		return ""
	}
	return tok
}

// authResult is what the principal lookup found, kept on the guard
// Request so the handler can tell "no session" (401) from "store down"
// (503) without a second lookup.
type authResult struct {
	username string
	key      string // the session's store key, for logout
	err      error
}

type authKey struct{}

// lookup resolves the request's bearer token to a session.
func (s *sessions) lookup(ctx context.Context, authorization string) authResult {
	tok := bearerToken(authorization)
	if tok == "" {
		return authResult{}
	}
	key := sessionKey(tok)
	b, err := s.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return authResult{}
	}
	if err != nil {
		return authResult{err: err}
	}
	var rec sessionRecord
	if err := json.Unmarshal(b, &rec); err != nil || !validUsername(rec.Username) {
		return authResult{err: fmt.Errorf("quickstart: malformed session record: %v", err)}
	}
	return authResult{username: rec.Username, key: key}
}

// principal is the guard.WithPrincipal function: guard calls it at most
// once per request, lazily, when a stage, an event or the handler first
// asks who the caller is. The result is also cached on the request for
// the handler (see currentUser).
func (s *sessions) principal(r *guard.Request) string {
	var authz string
	if r.Header != nil {
		authz = r.Header.Get("Authorization")
	}
	res := s.lookup(r.Context(), authz)
	r.SetValue(authKey{}, res)
	return res.username
}

// currentUser returns the authenticated caller, or writes 401 (no valid
// session) or 503 (the store failed) and returns ok false.
func (a *app) currentUser(w http.ResponseWriter, r *http.Request) (authResult, bool) {
	ctx := r.Context()
	guard.Principal(ctx) // runs sessions.principal once per request
	res, _ := ctx.Value(authKey{}).(authResult)
	if res.err != nil {
		a.fail(w, r, "session lookup", res.err)
		return res, false
	}
	if res.username == "" {
		writeProblem(w, errUnauthenticated)
		return res, false
	}
	return res, true
}

// ---- handlers ----

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (a *app) register(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if !decodeJSON(w, r, &c) {
		return
	}
	if !validUsername(c.Username) {
		writeProblem(w, errUsername)
		return
	}
	if !validPassword(c.Password) {
		writeProblem(w, errPassword)
		return
	}
	created, err := a.users.create(r.Context(), c.Username, c.Password)
	if err != nil {
		a.fail(w, r, "register", err)
		return
	}
	if !created {
		writeProblem(w, errTaken)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		Username string `json:"username"`
	}{c.Username})
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if !decodeJSON(w, r, &c) {
		return
	}
	// Malformed credentials cannot match; they still cost one hash so
	// that no input is answered faster than a wrong password.
	ok, err := a.users.authenticate(r.Context(), c.Username, c.Password)
	if err != nil {
		a.fail(w, r, "login", err)
		return
	}
	if !ok || !validPassword(c.Password) {
		writeProblem(w, errCredentials)
		return
	}
	token, err := a.sessions.create(r.Context(), c.Username)
	if err != nil {
		a.fail(w, r, "create session", err)
		return
	}
	if gr, ok := guard.FromContext(r.Context()); ok {
		gr.SetPrincipal(c.Username) // so this request's events name the user
	}
	writeJSON(w, http.StatusOK, struct {
		Token     string `json:"token"`
		TokenType string `json:"token_type"`
		ExpiresIn int    `json:"expires_in"`
	}{token, "Bearer", int(sessionTTL / time.Second)})
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	res, ok := a.currentUser(w, r)
	if !ok {
		return
	}
	if err := a.sessions.st.Delete(r.Context(), res.key); err != nil {
		a.fail(w, r, "logout", err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
