package telemetry_test

import (
	"strings"
	"testing"

	"github.com/guardsdk/guard/telemetry"
	"github.com/guardsdk/guard/telemetry/guardsentry"
	"github.com/guardsdk/guard/telemetry/metrics"
)

func TestErrorsNameTheOption(t *testing.T) {
	t.Parallel()
	for want, opt := range map[string]telemetry.Option{
		"WithLogger":     telemetry.WithLogger(nil),
		"WithScrubber":   telemetry.WithScrubber(nil),
		"WithLabelLimit": telemetry.WithMetrics(metrics.WithLabelLimit(0)),
		"WithDSN":        telemetry.WithSentry(guardsentry.WithDSN("nope")),
	} {
		if _, err := telemetry.New(opt); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}
