package safe

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestText(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		`<b>Bob</b> <script>alert(1)</script>`:       "Bob ",
		`Tom & Jerry <3`:                             "Tom &amp; Jerry &lt;3",
		`"quoted" 'single'`:                          "&#34;quoted&#34; &#39;single&#39;",
		`<img src=x onerror=alert(1)>hi`:             "hi",
		`<a href="javascript:alert(1)">x</a>`:        "x",
		`<svg><script>alert(1)</script></svg>`:       "",
		`<<script>script>alert(1)<</script>/script>`: "&lt;/script&gt;",
		"plain": "plain",
	}
	for in, want := range tests {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUGC(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`<p>Hello <em>world</em></p>`, `<p>Hello <em>world</em></p>`},
		{`<script>alert(1)</script><p>x</p>`, `<p>x</p>`},
		{`<p onclick="alert(1)">x</p>`, `<p>x</p>`},
		{`<a href="javascript:alert(1)">x</a>`, `x`},
		{`<a href="https://example.com/a">x</a>`, `<a href="https://example.com/a" rel="nofollow noreferrer noopener" target="_blank">x</a>`},
		{`<a href="/local">x</a>`, `<a href="/local" rel="nofollow noreferrer">x</a>`},
		{`<img src="data:image/png;base64,AAAA">`, ``},
		{`<iframe src="https://evil.example"></iframe>`, ``},
		{`<form action="/x"><input name="p"></form>`, ``},
		{`<style>body{}</style><p style="color:red">x</p>`, `<p>x</p>`},
		{`<a href="vbscript:msgbox">x</a>`, `x`},
		{`<a href="JaVaScRiPt:alert(1)">x</a>`, `x`},
	}
	for _, tt := range tests {
		if got := UGC(tt.in); got != tt.want {
			t.Errorf("UGC(%q) =\n %q, want\n %q", tt.in, got, tt.want)
		}
	}
	// The exported policy is a copy: changing it does not change UGC.
	p := UGCPolicy()
	p.AllowElements("iframe")
	if UGC(`<iframe></iframe>`) != "" {
		t.Error("UGCPolicy copy leaked into the shared policy")
	}
}

func TestSanitizeConcurrent(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if UGC(`<p>a<script>x</script></p>`) != "<p>a</p>" || Text("<b>a</b>") != "a" {
					t.Error("concurrent sanitise differs")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestCheckName(t *testing.T) {
	t.Parallel()
	good := []string{"%", "%zz", "50%off", "a", "a/b.txt", "a/../b", "./a", "a/./b", "100%25.txt", "100%.txt", "über.txt", "a b", ".hidden", "...", "a..b"}
	for _, n := range good {
		if err := CheckName(n); err != nil {
			t.Errorf("CheckName(%q) = %v", n, err)
		}
	}
	bad := []string{
		"", "..", "../x", "a/../../x", "/etc/passwd", "//etc/passwd",
		`..\x`, `a\..\..\x`, `C:\windows`, "a\x00b", "a\nb", "a\x7fb",
		"%2e%2e/x", "%2E%2E%2Fx", "..%2fx", "..%2Fx", "%2e%2e%5cx", "a/%2e%2e/%2e%2e/x",
		"%252e%252e%252fx", "%25252e%25252e%25252fx", "%2525252e%2525252e%2525252fx",
		"%00", "a%00.txt", "%2fetc%2fpasswd", "%c0%ae%c0%ae/x", "%c0%af", "\xc0\xae\xc0\xae/x",
		"%e0%80%ae%e0%80%ae/x", strings.Repeat("a", MaxPathLen+1),
	}
	for _, n := range bad {
		err := CheckName(n)
		if !errors.Is(err, ErrUnsafePath) {
			t.Errorf("CheckName(%q) = %v, want ErrUnsafePath", n, err)
		}
	}
	if p, err := JoinPath("/srv/files", "a/b.txt"); err != nil || p != "/srv/files/a/b.txt" {
		t.Errorf("JoinPath = %q, %v", p, err)
	}
	if _, err := JoinPath("/srv/files", "%2e%2e/etc/passwd"); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("JoinPath encoded traversal: %v", err)
	}
}

// tree builds root/{file.txt, sub/inner.txt, in -> sub/inner.txt,
// out -> ../secret.txt, abs -> /etc/passwd, dirout -> ..} beside secret.txt.
func tree(t *testing.T) (root string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "root")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(base, "secret.txt"), []byte("secret"), 0o600))
	must(os.WriteFile(filepath.Join(root, "file.txt"), []byte("hello"), 0o600))
	must(os.WriteFile(filepath.Join(root, "sub", "inner.txt"), []byte("inner"), 0o600))
	must(os.Symlink("sub/inner.txt", filepath.Join(root, "in")))
	must(os.Symlink("../secret.txt", filepath.Join(root, "out")))
	must(os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(root, "abs")))
	must(os.Symlink("..", filepath.Join(root, "dirout")))
	return root
}

func TestRoot(t *testing.T) {
	t.Parallel()
	root := tree(t)
	r, err := OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for name, want := range map[string]string{"file.txt": "hello", "sub/inner.txt": "inner", "in": "inner", "sub/../file.txt": "hello"} {
		b, err := r.ReadFile(name, 100)
		if err != nil || string(b) != want {
			t.Errorf("ReadFile(%q) = %q, %v", name, b, err)
		}
		f, err := OpenInRoot(root, name)
		if err != nil {
			t.Errorf("OpenInRoot(%q): %v", name, err)
		} else {
			f.Close()
		}
	}
	for _, name := range []string{"out", "abs", "dirout/secret.txt", "../secret.txt", "%2e%2e/secret.txt", "/etc/passwd", "sub/../../secret.txt"} {
		if _, err := r.ReadFile(name, 100); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("Root.ReadFile(%q) = %v, want ErrUnsafePath", name, err)
		}
		if f, err := OpenInRoot(root, name); !errors.Is(err, ErrUnsafePath) {
			if f != nil {
				f.Close()
			}
			t.Errorf("OpenInRoot(%q) = %v, want ErrUnsafePath", name, err)
		}
		if _, err := r.Stat(name); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("Stat(%q) = %v", name, err)
		}
	}
	if _, err := r.ReadFile("file.txt", 3); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadFile over limit: %v", err)
	}
	if _, err := r.ReadFile("sub", 100); err == nil {
		t.Error("ReadFile of a directory")
	}
	if err := r.WriteFile("new.txt", []byte("x"), 0o600); err != nil {
		t.Errorf("WriteFile: %v", err)
	}
	if err := r.WriteFile("dirout/pwned.txt", []byte("x"), 0o600); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("WriteFile through a link out: %v", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(root), "pwned.txt")); err == nil {
		t.Fatal("file written outside the root")
	}
	if r.Name() != root {
		t.Errorf("Name %q", r.Name())
	}
	if _, err := r.FS().Open("out"); err == nil {
		t.Error("FS followed a link out")
	}
	if _, err := OpenRoot(filepath.Join(root, "missing")); err == nil {
		t.Error("OpenRoot of a missing dir")
	}
}

// FuzzCheckName: whatever CheckName accepts joins to a path inside the
// root, without NUL.
func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "%2e%2e/x", "%252e%252e%252f", "a/../b", "\xc0\xae", "a\\b", "%c0%ae"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		p, err := JoinPath("/srv/root", name)
		if err != nil {
			if !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("error without ErrUnsafePath: %v", err)
			}
			return
		}
		if p != "/srv/root" && !strings.HasPrefix(p, "/srv/root/") || strings.IndexByte(p, 0) >= 0 {
			t.Fatalf("%q joined to %q", name, p)
		}
	})
}

// lookTool finds an allowed program for the tests, resolving links so
// that the allowlist holds the real file.
func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed", name)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Skip(err)
	}
	return real
}

func TestRunInertMetacharacters(t *testing.T) {
	t.Parallel()
	echo := lookTool(t, "echo")
	dir := t.TempDir()
	marker := filepath.Join(dir, "pwned")
	r, err := NewRunner(RunnerConfig{Programs: []string{echo}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	args := []string{
		"; touch " + marker, "&& touch " + marker, "| touch " + marker,
		"$(touch " + marker + ")", "`touch " + marker + "`", "> " + marker,
		"*", "~", "$HOME", "'quoted'", `"dq"`, "a\nb", "${IFS}x", "!!", "%PATH%",
	}
	res, err := r.Run(context.Background(), echo, args...)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(res.Stdout), strings.Join(args, " ")+"\n"; got != want {
		t.Errorf("stdout\n %q\nwant\n %q", got, want)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a metacharacter ran a command")
	}
	if res.ExitCode != 0 || res.Duration <= 0 {
		t.Errorf("result %+v", res)
	}
}

func TestRunEnvironment(t *testing.T) {
	printenv := lookTool(t, "printenv")
	t.Setenv("GUARD_SECRET_TEST", "leak") // not inherited
	r, err := NewRunner(RunnerConfig{Programs: []string{printenv}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background(), printenv)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(string(res.Stdout))
	for _, kv := range got {
		if !strings.HasPrefix(kv, "PWD=") && !slicesContains(DefaultEnv, kv) {
			t.Errorf("unexpected variable %q", kv)
		}
	}
	r2, _ := NewRunner(RunnerConfig{Programs: []string{printenv}, Env: []string{}})
	res, _ = r2.Run(context.Background(), printenv)
	if s := strings.TrimSpace(strings.ReplaceAll(string(res.Stdout), "PWD=/", "")); s != "" {
		t.Errorf("empty Env inherited %q", s)
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestRunLimits(t *testing.T) {
	t.Parallel()
	sleep, yes, falseBin, cat := lookTool(t, "sleep"), lookTool(t, "yes"), lookTool(t, "false"), lookTool(t, "cat")
	r, err := NewRunner(RunnerConfig{Programs: []string{sleep, yes, falseBin, cat}, Timeout: 200 * time.Millisecond, MaxOutput: 4096})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = r.Run(context.Background(), sleep, "10")
	if !errors.Is(err, ErrTimeout) || time.Since(start) > 5*time.Second {
		t.Errorf("timeout: %v after %v", err, time.Since(start))
	}
	res, err := r.Run(context.Background(), yes, "flood")
	if !errors.Is(err, ErrOutputTooLarge) || len(res.Stdout) != 4096 {
		t.Errorf("output cap: %v, %d bytes", err, len(res.Stdout))
	}
	res, err = r.Run(context.Background(), falseBin)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || res.ExitCode != 1 {
		t.Errorf("exit status: %v %+v", err, res)
	}
	res, err = r.RunInput(context.Background(), bytes.NewReader([]byte("from stdin")), cat)
	if err != nil || string(res.Stdout) != "from stdin" {
		t.Errorf("stdin: %q %v", res.Stdout, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Run(ctx, sleep, "1"); err == nil || errors.Is(err, ErrTimeout) {
		t.Errorf("cancelled context: %v", err)
	}
	if _, err := r.Run(context.Background(), "/bin/sh", "-c", "id"); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("not allowed: %v", err)
	}
	if _, err := r.Run(context.Background(), cat, "a\x00b"); !errors.Is(err, ErrBadArgument) {
		t.Errorf("NUL argument: %v", err)
	}
	if _, err := r.Run(context.Background(), filepath.Base(cat)); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("bare name resolved through PATH: %v", err)
	}
}

func TestNewRunnerErrors(t *testing.T) {
	t.Parallel()
	cat := lookTool(t, "cat")
	dir := t.TempDir()
	shLink := filepath.Join(dir, "innocent")
	if sh, err := exec.LookPath("sh"); err == nil {
		_ = os.Symlink(sh, shLink)
	}
	plain := filepath.Join(dir, "plain")
	_ = os.WriteFile(plain, []byte("x"), 0o644)
	tests := []struct {
		cfg  RunnerConfig
		want string
	}{
		{RunnerConfig{}, "Programs is empty"},
		{RunnerConfig{Programs: []string{"cat"}}, "not an absolute, clean path"},
		{RunnerConfig{Programs: []string{"/usr/bin/../bin/cat"}}, "not an absolute, clean path"},
		{RunnerConfig{Programs: []string{"/bin/sh"}}, "runs its arguments"},
		{RunnerConfig{Programs: []string{"/usr/bin/env"}}, "runs its arguments"},
		{RunnerConfig{Programs: []string{"/usr/bin/python3.12"}}, "runs its arguments"},
		{RunnerConfig{Programs: []string{shLink}}, "is a link to"},
		{RunnerConfig{Programs: []string{plain}}, "not an executable regular file"},
		{RunnerConfig{Programs: []string{dir}}, "not an executable regular file"},
		{RunnerConfig{Programs: []string{filepath.Join(dir, "missing")}}, "no such file"},
		{RunnerConfig{Programs: []string{cat}, Env: []string{"LD_PRELOAD=/tmp/x.so"}}, "LD_PRELOAD"},
		{RunnerConfig{Programs: []string{cat}, Env: []string{"BASH_ENV=/tmp/x"}}, "BASH_ENV"},
		{RunnerConfig{Programs: []string{cat}, Env: []string{"NOEQUALS"}}, "not KEY=value"},
		{RunnerConfig{Programs: []string{cat}, Env: []string{"1X=y"}}, "invalid variable name"},
		{RunnerConfig{Programs: []string{cat}, Dir: "rel"}, "not absolute"},
		{RunnerConfig{Programs: []string{cat}, Dir: plain}, "not a directory"},
		{RunnerConfig{Programs: []string{cat}, Timeout: -1}, "Timeout -1ns"},
		{RunnerConfig{Programs: []string{cat}, Timeout: 2 * time.Hour}, "Timeout 2h0m0s"},
		{RunnerConfig{Programs: []string{cat}, MaxOutput: -1}, "MaxOutput -1"},
	}
	for _, tt := range tests {
		if _, err := NewRunner(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestOperand(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"file.txt", "a b", "; rm -rf /", "x-y"} {
		if v, err := Operand(s); err != nil || v != s {
			t.Errorf("Operand(%q) = %q, %v", s, v, err)
		}
	}
	for _, s := range []string{"", "-rf", "--output=/etc/passwd", "-", "a\x00"} {
		if _, err := Operand(s); !errors.Is(err, ErrBadArgument) {
			t.Errorf("Operand(%q) = %v", s, err)
		}
	}
}
