package limiter_test

import (
	"testing"

	"github.com/guardsdk/guard/limiter"
	"github.com/guardsdk/guard/limiter/limitertest"
)

func TestMemoryBackendConformance(t *testing.T) {
	t.Parallel()
	b, err := limiter.NewMemoryBackend(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	limitertest.Run(t, limitertest.Config{New: func(*testing.T) limiter.Backend { return b }})
}
