package inspect

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The labelled development corpus lives in shared/corpus beside the
// repository (../shared/corpus from the repository root). GUARD_CORPUS
// overrides the file.
const corpusRel = "shared/corpus/attacks-dev.jsonl"

func findCorpus() string {
	if p := os.Getenv("GUARD_CORPUS"); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		for _, p := range []string{filepath.Join(dir, corpusRel), filepath.Join(dir, "..", corpusRel)} {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

type corpusRow struct {
	Class   string `json:"class"`
	Payload string `json:"payload"`
	Source  string `json:"source"`
}

// forCorpus calls f with every row of the corpus, in order, and reports
// whether the corpus was found (when not, it calls nothing). A line that
// is not a row, or a read error, fails t.
func forCorpus(t testing.TB, f func(row corpusRow)) bool {
	t.Helper()
	path := findCorpus()
	if path == "" {
		return false
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		var row corpusRow
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("corpus line: %v", err)
		}
		f(row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return true
}

// targets are the detection rates (flagged share, in percent) the issue
// asks for on the development set; benign is a maximum.
var targets = map[string]float64{
	"sqli": 98, "xss": 97, "path_traversal": 99, "cmdi": 90, "benign": 0.5,
}

type tally struct{ n, hit, right int }

// TestCorpus measures detection on the labelled corpus by class and by
// source, and fails when a target is missed. A payload counts as detected
// when any detector flags it; "right class" counts those flagged as their
// own class. Set INSPECT_MISSES=<class> to list what was missed (or, for
// benign, flagged).
func TestCorpus(t *testing.T) {
	byClass := map[string]*tally{}
	bySource := map[string]*tally{}
	showMisses := os.Getenv("INSPECT_MISSES")
	found := forCorpus(t, func(row corpusRow) {
		fd, hit := Value(row.Payload)
		ct := byClass[row.Class]
		if ct == nil {
			ct = &tally{}
			byClass[row.Class] = ct
		}
		key := row.Class + "\t" + shortSource(row.Source)
		st := bySource[key]
		if st == nil {
			st = &tally{}
			bySource[key] = st
		}
		ct.n++
		st.n++
		if hit {
			ct.hit++
			st.hit++
			if fd.Class.String() == row.Class {
				ct.right++
				st.right++
			}
		}
		if showMisses == row.Class && (hit == (row.Class == "benign")) {
			t.Logf("%s\t%s\t%s\t%q", fd.Class, fd.Reason, shortSource(row.Source), row.Payload)
		}
	})
	if !found {
		t.Skip("corpus not found: expected ../shared/corpus/attacks-dev.jsonl beside the repository (or set GUARD_CORPUS)")
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-16s %7s %9s %11s %8s\n", "class", "samples", "flagged", "right class", "target")
	classes := []string{"sqli", "xss", "path_traversal", "cmdi", "benign"}
	var failed []string
	for _, c := range classes {
		ct := byClass[c]
		if ct == nil {
			continue
		}
		rate := pct(ct.hit, ct.n)
		op := "≥"
		ok := rate >= targets[c]
		if c == "benign" {
			op, ok = "≤", rate <= targets[c]
		}
		fmt.Fprintf(&b, "%-16s %7d %8.2f%% %10.2f%% %s%5.1f%%\n", c, ct.n, rate, pct(ct.right, ct.n), op, targets[c])
		if !ok {
			failed = append(failed, fmt.Sprintf("%s %.2f%% (target %s%.1f%%)", c, rate, op, targets[c]))
		}
	}
	keys := make([]string, 0, len(bySource))
	for k := range bySource {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(&b, "\n%-16s %-44s %7s %9s\n", "class", "source", "samples", "flagged")
	for _, k := range keys {
		st := bySource[k]
		c, src, _ := strings.Cut(k, "\t")
		fmt.Fprintf(&b, "%-16s %-44s %7d %8.2f%%\n", c, src, st.n, pct(st.hit, st.n))
	}
	t.Log(b.String())
	for _, f := range failed {
		t.Errorf("target missed: %s", f)
	}
}

func pct(a, n int) float64 {
	if n == 0 {
		return 0
	}
	return 100 * float64(a) / float64(n)
}

// shortSource groups a corpus source by repository and file family:
// "coreruleset/coreruleset:tests/.../942100.yaml" becomes
// "coreruleset 942", fuzzdb and libinjection keep their file names.
func shortSource(s string) string {
	repo, file, _ := strings.Cut(s, ":")
	owner := repo
	if i := strings.IndexByte(repo, '/'); i >= 0 {
		owner = repo[i+1:]
	}
	base := file[strings.LastIndexByte(file, '/')+1:]
	switch owner {
	case "coreruleset":
		if len(base) >= 3 {
			return "coreruleset " + base[:3]
		}
	case "faker":
		return "faker names"
	case "libinjection":
		base = strings.TrimSuffix(base, ".txt")
		if strings.HasPrefix(base, "sqli-") || strings.HasPrefix(base, "xss-") {
			return "libinjection " + strings.SplitN(base, "-", 2)[0] + "-*"
		}
		return "libinjection " + base
	case "fuzzdb":
		dir := filepath.Base(filepath.Dir(file))
		return "fuzzdb " + dir + "/" + strings.TrimSuffix(base, ".txt")
	case "gotestwaf":
		return "gotestwaf " + strings.TrimSuffix(base, ".yml")
	case "big-list-of-naughty-strings":
		return "blns"
	}
	return owner + " " + base
}
