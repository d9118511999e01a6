package logging_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/telemetry/logging"
)

func Example() {
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "" // stable output for the example
	zl := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(os.Stdout), zap.InfoLevel))

	lg, _ := logging.New(zl)
	frozen := func() time.Time { return time.Unix(0, 0) }
	g, _ := guard.New(lg.Option(), guard.WithClock(frozen))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /notes/{id}", func(w http.ResponseWriter, r *http.Request) {
		logging.FromContext(r.Context()).Info("loading note")
		_, _ = w.Write([]byte("a note"))
	})
	req := httptest.NewRequest("GET", "/notes/7", nil)
	req.Header.Set("X-Request-Id", "req-1")
	g.Handler(mux).ServeHTTP(httptest.NewRecorder(), req)
	_ = g.Close(context.Background())
	// Output:
	// {"level":"info","msg":"loading note","correlation_id":"req-1","method":"GET","route":"/notes/{id}"}
	// {"level":"info","msg":"request","method":"GET","route":"/notes/{id}","status":200,"bytes":6,"duration":0,"client_ip":"192.0.2.1","correlation_id":"req-1"}
}
