package safe_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/guardsdk/guard/safe"
)

func ExampleText() {
	fmt.Println(safe.Text(`<b>Bob</b> & <script>alert(1)</script>Alice`))
	// Output: Bob &amp; Alice
}

func ExampleUGC() {
	fmt.Println(safe.UGC(`<p onclick="steal()">Read <a href="https://example.com">this</a><script>x()</script></p>`))
	// Output: <p>Read <a href="https://example.com" rel="nofollow noreferrer noopener" target="_blank">this</a></p>
}

func ExampleCheckName() {
	for _, name := range []string{"reports/2024.csv", "../etc/passwd", "%2e%2e%2fetc%2fpasswd", "%252e%252e%252f", "/etc/passwd", "a\x00.txt"} {
		fmt.Println(errors.Is(safe.CheckName(name), safe.ErrUnsafePath))
	}
	// Output:
	// false
	// true
	// true
	// true
	// true
	// true
}

func ExampleJoinPath() {
	p, err := safe.JoinPath("/srv/uploads", "alice/avatar.png")
	fmt.Println(p, err)
	_, err = safe.JoinPath("/srv/uploads", "alice/../../etc/passwd")
	fmt.Println(err)
	// Output:
	// /srv/uploads/alice/avatar.png <nil>
	// safe: unsafe path: "alice/../../etc/passwd" leaves its root
}

func ExampleOpenRoot() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o600)
	_ = os.Symlink("/etc/passwd", filepath.Join(dir, "sneaky"))

	root, err := safe.OpenRoot(dir)
	if err != nil {
		panic(err)
	}
	defer root.Close()
	b, err := root.ReadFile("notes.txt", 1<<20)
	fmt.Println(string(b), err)
	_, err = root.ReadFile("sneaky", 1<<20) // a link that leaves the root
	fmt.Println(errors.Is(err, safe.ErrUnsafePath))
	// Output:
	// hello <nil>
	// true
}

func ExampleRunner_Run() {
	echo, err := exec.LookPath("echo")
	if err != nil {
		panic(err)
	}
	echo, _ = filepath.EvalSymlinks(echo)
	r, err := safe.NewRunner(safe.RunnerConfig{Programs: []string{echo}}) // 10 s, 1 MiB, DefaultEnv
	if err != nil {
		panic(err)
	}
	userInput := "; rm -rf / $(reboot) `id` | cat"
	res, err := r.Run(context.Background(), echo, "--", userInput)
	fmt.Print(string(res.Stdout), err, "\n")

	_, err = r.Run(context.Background(), "/bin/sh", "-c", "id")
	fmt.Println(errors.Is(err, safe.ErrNotAllowed))
	// Output:
	// -- ; rm -rf / $(reboot) `id` | cat
	// <nil>
	// true
}

func ExampleNewRunner() {
	_, err := safe.NewRunner(safe.RunnerConfig{Programs: []string{"/bin/sh"}})
	fmt.Println(err)
	// Output: safe: NewRunner: Programs: "/bin/sh" runs its arguments as code or commands; allowing it would allow any command
}

func ExampleOperand() {
	_, err := safe.Operand("--upload-pack=touch /tmp/pwned")
	fmt.Println(err)
	// Output: safe: bad command argument: operand "--upload-pack=touch /tmp/pwned" starts with '-'
}
