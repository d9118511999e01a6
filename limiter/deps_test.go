package limiter_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLimiterIsLight: the limiter package pays for no backend client;
// go-redis and bbolt come only with store/redis and store/bolt.
func TestLimiterIsLight(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/guardsdk/guard/limiter").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list returned too little to be trusted: %q", out)
	}
	for _, d := range deps {
		first, _, _ := strings.Cut(d, "/")
		if strings.Contains(first, ".") && !strings.HasPrefix(d, "github.com/guardsdk/guard") && !strings.HasPrefix(d, "golang.org/x/") {
			t.Errorf("limiter imports third-party %s", d)
		}
	}
}
