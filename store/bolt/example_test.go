package bolt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/guardsdk/guard/store/bolt"
)

func Example() {
	dir, _ := os.MkdirTemp("", "guard")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "guard.db")
	ctx := context.Background()

	s, err := bolt.Open(path)
	if err != nil {
		panic(err)
	}
	// Acknowledged writes are fsynced: they survive a restart.
	_ = s.Set(ctx, "audit:seq", []byte("41"), 0)
	n, _ := s.Incr(ctx, "audit:seq", 1, 0)
	fmt.Println("seq:", n)
	_ = s.Close()

	s, err = bolt.Open(path, bolt.WithFileLockTimeout(500*time.Millisecond))
	if err != nil {
		panic(err)
	}
	defer s.Close()
	v, _ := s.Get(ctx, "audit:seq")
	fmt.Println("after reopen:", string(v))
	// Output:
	// seq: 42
	// after reopen: 42
}
