package guard_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRootPackageIsLight proves the root package pays for no backend,
// exporter or framework: `go list -deps` of it must name none of them.
func TestRootPackageIsLight(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/guardsdk/guard").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/redis/", "go.etcd.io/bbolt", "github.com/getsentry/",
		"go.opentelemetry.io/", "github.com/prometheus/", "go.uber.org/zap",
		"github.com/gin-gonic/", "github.com/labstack/", "github.com/gofiber/",
		"github.com/valyala/", "google.golang.org/grpc",
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list returned too little to be trusted: %q", out)
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) {
				t.Errorf("root package imports %s", d)
			}
		}
		first, _, _ := strings.Cut(d, "/")
		if strings.Contains(first, ".") && !strings.HasPrefix(d, "github.com/guardsdk/guard") && !strings.HasPrefix(d, "golang.org/x/") && !strings.HasPrefix(d, "vendor/") {
			t.Errorf("root package imports third-party %s", d)
		}
	}
}
