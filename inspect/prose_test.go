package inspect

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestProse measures false positives on English prose and technical text:
// every line of the README*.md, *.md and doc.go comments in the Go module
// cache (go env GOMODCACHE), de-duplicated. It runs only when
// INSPECT_PROSE is set (1 for the module cache, or a directory), since the
// cache differs between machines; INSPECT_PROSE_SHOW=1 lists the lines
// flagged.
//
//	INSPECT_PROSE=1 go test ./inspect -run TestProse -v
func TestProse(t *testing.T) {
	root := os.Getenv("INSPECT_PROSE")
	if root == "" {
		t.Skip("set INSPECT_PROSE=1 (module cache) or a directory")
	}
	if root == "1" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			t.Skip(err)
		}
		root = strings.TrimSpace(string(out))
	}
	seen := map[string]bool{}
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if d.Name() == "cache" || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		isMD := strings.HasSuffix(name, ".md")
		if !isMD && name != "doc.go" {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if !isMD {
				var ok bool
				if l, ok = strings.CutPrefix(l, "//"); !ok {
					continue
				}
				l = strings.TrimSpace(l)
			}
			if len(l) < 3 || seen[l] {
				continue
			}
			seen[l] = true
			lines = append(lines, l)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	show := os.Getenv("INSPECT_PROSE_SHOW") != ""
	byClass := map[Class]int{}
	flagged := 0
	for _, l := range lines {
		if f, bad := Value(l); bad {
			flagged++
			byClass[f.Class]++
			if show {
				t.Logf("%s\t%s\t%q", f.Class, f.Reason, l)
			}
		}
	}
	t.Logf("prose lines %d, flagged %d (%.3f%%): sqli %d, xss %d, path_traversal %d, cmdi %d",
		len(lines), flagged, pct(flagged, len(lines)), byClass[ClassSQLi], byClass[ClassXSS],
		byClass[ClassPathTraversal], byClass[ClassCommandInjection])
}
