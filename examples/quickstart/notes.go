package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/guardsdk/guard/store"
)

// Notes live in the store next to users and sessions, so they survive a
// restart on bolt and are shared by every process on redis:
//
//	qs:note:<username>:<id>  → the note (JSON)
//	qs:notes:<username>      → the ids of the user's notes, oldest first
//
// The owner is part of every note's key, so a request can only ever read
// its own user's notes: another user's id is simply not found.
const (
	noteKeyPrefix  = "qs:note:"
	indexKeyPrefix = "qs:notes:"

	maxTitle     = 200   // characters
	maxNoteBody  = 10000 // characters
	maxNotes     = 1000  // per user
	maxQuery     = 200   // characters
	noteIDBytes  = 12
	noteIDLength = 16 // base64url of noteIDBytes
)

type note struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

type notes struct{ st store.Store }

func noteKey(user, id string) string { return noteKeyPrefix + user + ":" + id }
func indexKey(user string) string    { return indexKeyPrefix + user }

func validNoteID(id string) bool {
	if len(id) != noteIDLength {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}

var errTooManyNotes = errors.New("quickstart: note limit reached")

// add stores n for user. The note is written first and then appended to
// the index in one atomic Update, so concurrent creates never lose an id;
// if the index is full or fails, the note is removed again.
func (s *notes) add(ctx context.Context, user string, n note) error {
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	key := noteKey(user, n.ID)
	if err := s.st.Set(ctx, key, b, 0); err != nil {
		return err
	}
	err = s.st.Update(ctx, indexKey(user), func(cur []byte, exists bool) ([]byte, time.Duration, bool, error) {
		var ids []string
		if exists {
			if err := json.Unmarshal(cur, &ids); err != nil {
				return nil, 0, false, fmt.Errorf("quickstart: note index: %w", err)
			}
		}
		if len(ids) >= maxNotes {
			return nil, 0, false, errTooManyNotes
		}
		next, err := json.Marshal(append(ids, n.ID))
		return next, 0, true, err
	})
	if err != nil {
		// Best effort: an orphaned note is unreachable (its id was never
		// returned or indexed), merely wasted space.
		_ = s.st.Delete(context.WithoutCancel(ctx), key)
	}
	return err
}

// get returns user's note id, or store.ErrNotFound.
func (s *notes) get(ctx context.Context, user, id string) (note, error) {
	var n note
	if !validNoteID(id) {
		return n, store.ErrNotFound
	}
	b, err := s.st.Get(ctx, noteKey(user, id))
	if err != nil {
		return n, err
	}
	if err := json.Unmarshal(b, &n); err != nil {
		return n, fmt.Errorf("quickstart: note record: %w", err)
	}
	return n, nil
}

// list returns user's notes, oldest first, that keep reports true for.
// It reads the index and then each note: one round trip per note on
// redis, which is fine for a quickstart and bounded by maxNotes.
func (s *notes) list(ctx context.Context, user string, keep func(note) bool) ([]note, error) {
	b, err := s.st.Get(ctx, indexKey(user))
	if errors.Is(err, store.ErrNotFound) {
		return []note{}, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	if err := json.Unmarshal(b, &ids); err != nil {
		return nil, fmt.Errorf("quickstart: note index: %w", err)
	}
	out := make([]note, 0, len(ids))
	for _, id := range ids {
		n, err := s.get(ctx, user, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if keep == nil || keep(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// ---- handlers ----

func (a *app) createNote(w http.ResponseWriter, r *http.Request) {
	user, ok := a.currentUser(w, r)
	if !ok {
		return
	}
	var in struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	if n := utf8.RuneCountInString(in.Title); n == 0 || n > maxTitle || strings.TrimSpace(in.Title) == "" {
		writeProblem(w, errTitle)
		return
	}
	if utf8.RuneCountInString(in.Body) > maxNoteBody {
		writeProblem(w, errNoteBody)
		return
	}
	id := make([]byte, noteIDBytes)
	rand.Read(id)
	n := note{
		ID:        base64.RawURLEncoding.EncodeToString(id),
		Title:     in.Title,
		Body:      in.Body,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
	}
	if err := a.notes.add(r.Context(), user.username, n); err != nil {
		if errors.Is(err, errTooManyNotes) {
			writeProblem(w, errNoteLimit)
			return
		}
		a.fail(w, r, "create note", err)
		return
	}
	w.Header().Set("Location", "/api/v1/notes/"+n.ID)
	writeJSON(w, http.StatusCreated, n)
}

func (a *app) listNotes(w http.ResponseWriter, r *http.Request) {
	user, ok := a.currentUser(w, r)
	if !ok {
		return
	}
	ns, err := a.notes.list(r.Context(), user.username, nil)
	if err != nil {
		a.fail(w, r, "list notes", err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Notes []note `json:"notes"`
	}{ns})
}

func (a *app) getNote(w http.ResponseWriter, r *http.Request) {
	user, ok := a.currentUser(w, r)
	if !ok {
		return
	}
	n, err := a.notes.get(r.Context(), user.username, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeProblem(w, errNotFound)
		return
	}
	if err != nil {
		a.fail(w, r, "get note", err)
		return
	}
	writeJSON(w, http.StatusOK, n)
}

func (a *app) search(w http.ResponseWriter, r *http.Request) {
	user, ok := a.currentUser(w, r)
	if !ok {
		return
	}
	q, ok := searchQuery(r.URL.RawQuery)
	if !ok {
		writeProblem(w, errQuery)
		return
	}
	q = strings.ToLower(q)
	ns, err := a.notes.list(r.Context(), user.username, func(n note) bool {
		return strings.Contains(strings.ToLower(n.Title), q) || strings.Contains(strings.ToLower(n.Body), q)
	})
	if err != nil {
		a.fail(w, r, "search notes", err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Notes []note `json:"notes"`
	}{ns})
}

// searchQuery returns the single q parameter if the query string is well
// formed and q is 1 to maxQuery characters of valid UTF-8.
func searchQuery(raw string) (string, bool) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return "", false
	}
	qs := vals["q"]
	if len(qs) != 1 || qs[0] == "" || !utf8.ValidString(qs[0]) || utf8.RuneCountInString(qs[0]) > maxQuery {
		return "", false
	}
	return qs[0], true
}
