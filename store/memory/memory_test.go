package memory_test

import (
	"testing"
	"time"

	"github.com/guardsdk/guard/store"
	"github.com/guardsdk/guard/store/memory"
	"github.com/guardsdk/guard/store/storetest"
)

func TestConformance(t *testing.T) {
	clk := storetest.NewClock(time.Unix(1_700_000_000, 0))
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := memory.New(memory.WithClock(clk.Now), memory.WithMaxEntries(10_000))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, storetest.Options{Advance: clk.Advance})
}
