package guardsentry_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/telemetry/guardsentry"
)

func Example() {
	// The DSN usually comes from a flag or the environment; without one
	// Sentry is off and its Option adds nothing.
	s, err := guardsentry.New(
		guardsentry.WithDSN(os.Getenv("NO_SUCH_SENTRY_DSN")),
		guardsentry.WithEnvironment("production"),
		guardsentry.WithRelease("notes@1.4.2"),
		guardsentry.WithTracesSampleRate(0.1),
		guardsentry.WithFingerprint(guardsentry.Rule{Route: "/payments", Status: 502, Fingerprint: []string{"payments-upstream"}}),
	)
	if err != nil {
		panic(err)
	}
	g, _ := guard.New(s.Option())
	defer g.Close(context.Background())
	fmt.Println("sentry enabled:", s.Enabled())
	// Output: sentry enabled: false
}

func ExampleTunnel() {
	h, _ := guardsentry.Tunnel([]string{"https://pubkey@o1.ingest.sentry.io/42"})
	// An envelope naming another host is refused before any connection.
	body := `{"dsn":"https://pubkey@169.254.169.254/42"}` + "\n" + `{"type":"event"}` + "\n{}\n"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/sentry-tunnel", strings.NewReader(body)))
	fmt.Println(w.Code)
	// Output: 403
}
