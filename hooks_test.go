package guard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/guardsdk/guard"
)

type ctxKey struct{}

// finishStage records the order of Finish calls and whether its own Check ran.
type finishStage struct {
	name  string
	phase guard.Phase
	deny  bool
	log   *[]string
}

func (s *finishStage) Name() string       { return s.name }
func (s *finishStage) Phase() guard.Phase { return s.phase }
func (s *finishStage) Check(r *guard.Request) guard.Decision {
	r.SetValue(s, true)
	r.WrapContext(func(ctx context.Context) context.Context {
		return context.WithValue(ctx, ctxKey{}, s.name)
	})
	if s.deny {
		return guard.Deny(http.StatusForbidden, "no", "No.")
	}
	return guard.Allow()
}
func (s *finishStage) Finish(r *guard.Request, status int, bytesOut int64) {
	ran, _ := r.Value(s).(bool)
	*s.log = append(*s.log, s.name+":"+http.StatusText(status)+":"+map[bool]string{true: "ran", false: "skipped"}[ran])
}

func TestFinisherAndWrapContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		denyA    bool
		want     string
		wantCtx  string
		wantCode int
	}{
		{"allowed", false, "b:OK:ran,a:OK:ran", "b", http.StatusOK},
		{"denied early", true, "a:Forbidden:ran", "", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log []string
			a := &finishStage{name: "a", phase: guard.PhaseCorrelate + 1, deny: tt.denyA, log: &log}
			b := &finishStage{name: "b", phase: guard.PhaseApp, log: &log}
			// WithOptions bundles; b is given first but runs second (phase order).
			g, err := guard.New(guard.WithOptions(guard.WithStage(b), guard.WithStage(a)))
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close(context.Background())
			var gotCtx string
			h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotCtx, _ = r.Context().Value(ctxKey{}).(string)
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantCode)
			}
			if got := strings.Join(log, ","); got != tt.want {
				t.Errorf("Finish calls %q, want %q", got, tt.want)
			}
			if gotCtx != tt.wantCtx {
				t.Errorf("handler context value %q, want %q (WrapContext)", gotCtx, tt.wantCtx)
			}
		})
	}
}

func TestWithOptionsErrors(t *testing.T) {
	t.Parallel()
	if _, err := guard.New(guard.WithOptions(nil)); err == nil || !strings.Contains(err.Error(), "WithOptions") {
		t.Errorf("nil option: err %v", err)
	}
	if _, err := guard.New(guard.WithOptions(guard.WithEventQueue(0))); err == nil || !strings.Contains(err.Error(), "WithEventQueue") {
		t.Errorf("inner error: err %v", err)
	}
}
