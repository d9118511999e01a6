package safe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Command defaults and limits.
const (
	// DefaultTimeout bounds a Run.
	DefaultTimeout = 10 * time.Second
	// MaxTimeout is the longest Timeout NewRunner accepts.
	MaxTimeout = time.Hour
	// DefaultMaxOutput caps each of stdout and stderr.
	DefaultMaxOutput = 1 << 20
	// MaxMaxOutput is the largest MaxOutput NewRunner accepts.
	MaxMaxOutput = 1 << 30
	// waitDelay bounds how long Run waits for pipes after the process is
	// killed (a grandchild may hold them open).
	waitDelay = 2 * time.Second
)

// DefaultEnv is the environment of commands when RunnerConfig.Env is nil:
// a fixed PATH and the C locale, nothing inherited from the service.
var DefaultEnv = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C", "LC_ALL=C"}

// Errors of the command helpers.
var (
	// ErrNotAllowed: the program is not in the Runner's allowlist.
	ErrNotAllowed = errors.New("safe: program not allowed")
	// ErrOutputTooLarge: stdout or stderr went over MaxOutput; the
	// process was killed.
	ErrOutputTooLarge = errors.New("safe: command output too large")
	// ErrTimeout: the command ran past the Runner's Timeout and was
	// killed.
	ErrTimeout = errors.New("safe: command timed out")
	// ErrBadArgument: an argument holds a NUL byte, or Operand refused it.
	ErrBadArgument = errors.New("safe: bad command argument")
)

// RunnerConfig configures a Runner. Zero values mean the defaults.
type RunnerConfig struct {
	// Programs are the absolute, clean paths of the executables the
	// Runner may start. Shells, interpreters and programs that run their
	// arguments as commands (env, xargs, sudo, timeout, nice, ...) are
	// refused: allowing one would allow everything.
	Programs []string
	// Env is the complete environment of commands, "KEY=value" each
	// (default DefaultEnv). Nothing is inherited from the service. The
	// dynamic-loader and shell-startup variables (LD_*, DYLD_*, BASH_ENV,
	// ENV) are refused.
	Env []string
	// Dir is the working directory, absolute (default "/", so a command
	// never reads the service's files by a relative name by accident).
	Dir string
	// Timeout bounds each Run (default DefaultTimeout, at most
	// MaxTimeout); on expiry the process group is killed.
	Timeout time.Duration
	// MaxOutput caps stdout and stderr each (default DefaultMaxOutput).
	MaxOutput int64
}

// Runner starts allowlisted programs with an argument vector: no shell
// ever parses the arguments, so ; | & $ ` > < * and quotes in them are
// plain bytes. It is safe for concurrent use.
type Runner struct {
	programs map[string]bool
	env      []string
	dir      string
	timeout  time.Duration
	maxOut   int64
}

// Result is what a Run produced.
type Result struct {
	Stdout, Stderr []byte
	ExitCode       int // -1 if the process did not exit normally
	Duration       time.Duration
}

// runsItsArguments are programs that execute code or commands given as
// arguments; allowlisting one defeats the allowlist.
var runsItsArguments = map[string]bool{
	"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "mksh": true,
	"csh": true, "tcsh": true, "fish": true, "ash": true, "rbash": true, "busybox": true,
	"env": true, "xargs": true, "sudo": true, "su": true, "doas": true, "nohup": true,
	"timeout": true, "nice": true, "ionice": true, "setsid": true, "stdbuf": true,
	"strace": true, "ltrace": true, "chroot": true, "flock": true, "watch": true,
	"script": true, "unbuffer": true, "expect": true, "runuser": true, "chrt": true,
	"taskset": true, "time": true, "command": true, "exec": true, "eval": true,
	"python": true, "python2": true, "python3": true, "perl": true, "ruby": true,
	"node": true, "nodejs": true, "deno": true, "bun": true, "php": true, "lua": true,
	"awk": true, "gawk": true, "mawk": true, "nawk": true, "tclsh": true, "wish": true,
	"Rscript": true, "osascript": true, "pwsh": true, "powershell": true,
	"powershell.exe": true, "cmd": true, "cmd.exe": true, "wscript": true, "cscript": true,
}

func isInterpreter(path string) bool {
	base := filepath.Base(path)
	if runsItsArguments[base] || runsItsArguments[strings.TrimSuffix(base, ".exe")] {
		return true
	}
	// python3.12, perl5.36, ruby3.2, php8.3, lua5.4...
	for _, p := range []string{"python", "perl", "ruby", "php", "lua", "node", "pypy"} {
		if strings.HasPrefix(base, p) && strings.Trim(base[len(p):], "0123456789.") == "" {
			return true
		}
	}
	return false
}

// NewRunner validates cfg: every program must be an absolute clean path to
// an existing executable regular file that is not an interpreter, also
// after resolving symbolic links (/bin/sh → dash); Env entries must be
// KEY=value without NUL or loader variables; Dir must be an absolute
// directory.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if len(cfg.Programs) == 0 {
		return nil, errors.New("safe: NewRunner: Programs is empty")
	}
	r := &Runner{programs: map[string]bool{}, dir: cfg.Dir, timeout: cfg.Timeout, maxOut: cfg.MaxOutput}
	for _, p := range cfg.Programs {
		if err := checkProgram(p); err != nil {
			return nil, fmt.Errorf("safe: NewRunner: Programs: %w", err)
		}
		r.programs[p] = true
	}
	env := cfg.Env
	if env == nil {
		env = DefaultEnv
	}
	r.env = make([]string, 0, len(env))
	for _, kv := range env {
		if err := checkEnv(kv); err != nil {
			return nil, fmt.Errorf("safe: NewRunner: Env: %w", err)
		}
		r.env = append(r.env, kv)
	}
	if r.dir == "" {
		r.dir = "/"
	}
	if !filepath.IsAbs(r.dir) {
		return nil, fmt.Errorf("safe: NewRunner: Dir %q is not absolute", cfg.Dir)
	}
	if fi, err := os.Stat(r.dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("safe: NewRunner: Dir %q is not a directory", cfg.Dir)
	}
	switch {
	case r.timeout == 0:
		r.timeout = DefaultTimeout
	case r.timeout < 0 || r.timeout > MaxTimeout:
		return nil, fmt.Errorf("safe: NewRunner: Timeout %v not in (0, %v]", cfg.Timeout, MaxTimeout)
	}
	switch {
	case r.maxOut == 0:
		r.maxOut = DefaultMaxOutput
	case r.maxOut < 0 || r.maxOut > MaxMaxOutput:
		return nil, fmt.Errorf("safe: NewRunner: MaxOutput %d not in [1, %d]", cfg.MaxOutput, MaxMaxOutput)
	}
	return r, nil
}

func checkProgram(p string) error {
	if p == "" || strings.IndexByte(p, 0) >= 0 || !filepath.IsAbs(p) || filepath.Clean(p) != p {
		return fmt.Errorf("%q is not an absolute, clean path", p)
	}
	if isInterpreter(p) {
		return fmt.Errorf("%q runs its arguments as code or commands; allowing it would allow any command", p)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fmt.Errorf("%q: %w", p, err)
	}
	if isInterpreter(real) {
		return fmt.Errorf("%q is a link to %q, which runs its arguments as code or commands", p, real)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("%q: %w", p, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%q is not an executable regular file", p)
	}
	return nil
}

func checkEnv(kv string) error {
	k, _, ok := strings.Cut(kv, "=")
	if !ok || k == "" || strings.IndexByte(kv, 0) >= 0 {
		return fmt.Errorf("%q is not KEY=value", kv)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9') {
			return fmt.Errorf("invalid variable name %q", k)
		}
	}
	switch {
	case strings.HasPrefix(k, "LD_"), strings.HasPrefix(k, "DYLD_"), k == "BASH_ENV", k == "ENV", k == "SHELLOPTS", k == "PS4", k == "IFS":
		return fmt.Errorf("variable %s changes how programs load or run code; it is refused", k)
	}
	return nil
}

// Operand returns s if it is safe as an operand (a file name, a search
// term) of a program that also takes options: not empty, no NUL, and not
// starting with '-', which the program would read as an option
// ("--output=/etc/passwd", "-exec"). Where the program supports it, put
// "--" before operands as well.
func Operand(s string) (string, error) {
	switch {
	case s == "":
		return "", fmt.Errorf("%w: empty operand", ErrBadArgument)
	case s[0] == '-':
		return "", fmt.Errorf("%w: operand %q starts with '-'", ErrBadArgument, s)
	case strings.IndexByte(s, 0) >= 0:
		return "", fmt.Errorf("%w: operand contains NUL", ErrBadArgument)
	}
	return s, nil
}

// Command returns an *exec.Cmd for program and args with the Runner's
// environment and directory, bound to ctx (which should carry a
// deadline): for callers that stream. Run is the bounded alternative. It
// fails with ErrNotAllowed or ErrBadArgument.
func (r *Runner) Command(ctx context.Context, program string, args ...string) (*exec.Cmd, error) {
	if !r.programs[program] {
		return nil, fmt.Errorf("%w: %q", ErrNotAllowed, program)
	}
	for i, a := range args {
		if strings.IndexByte(a, 0) >= 0 {
			return nil, fmt.Errorf("%w: argument %d contains NUL", ErrBadArgument, i+1)
		}
	}
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Env = slices.Clip(r.env) // non-nil: nothing inherited
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = r.dir
	cmd.WaitDelay = waitDelay
	setProcessGroup(cmd)
	return cmd, nil
}

// Run starts program with args (no stdin) and waits for it, within the
// Runner's Timeout and ctx, collecting at most MaxOutput bytes of stdout
// and of stderr. A non-zero exit is an error wrapping *exec.ExitError,
// with the Result filled in; ErrTimeout, ErrOutputTooLarge, ErrNotAllowed
// and ErrBadArgument report the rest.
func (r *Runner) Run(ctx context.Context, program string, args ...string) (*Result, error) {
	return r.RunInput(ctx, nil, program, args...)
}

// RunInput is Run with stdin read from in (nil for none).
func (r *Runner) RunInput(ctx context.Context, in io.Reader, program string, args ...string) (*Result, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, r.timeout, ErrTimeout)
	defer cancel()
	killCtx, kill := context.WithCancelCause(ctx)
	defer kill(nil)
	cmd, err := r.Command(killCtx, program, args...)
	if err != nil {
		return nil, err
	}
	stdout := &capped{max: r.maxOut, over: kill}
	stderr := &capped{max: r.maxOut, over: kill}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, stdout, stderr
	start := time.Now()
	err = cmd.Run()
	res := &Result{Stdout: stdout.buf.Bytes(), Stderr: stderr.buf.Bytes(), ExitCode: -1, Duration: time.Since(start)}
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	switch {
	case err == nil:
		return res, nil
	case context.Cause(killCtx) == ErrOutputTooLarge:
		return res, fmt.Errorf("%w: %s wrote more than %d bytes", ErrOutputTooLarge, program, r.maxOut)
	case context.Cause(ctx) == ErrTimeout:
		return res, fmt.Errorf("%w: %s ran over %v", ErrTimeout, program, r.timeout)
	case ctx.Err() != nil:
		return res, fmt.Errorf("safe: %s: %w", program, context.Cause(ctx))
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return res, fmt.Errorf("safe: %s exited with status %d: %w", program, res.ExitCode, err)
	}
	return res, fmt.Errorf("safe: %s: %w", program, err)
}

// capped collects up to max bytes; past that it kills the command and
// discards the rest (returning success, so the copy goroutine drains the
// pipe instead of blocking the process).
type capped struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	max  int64
	over context.CancelCauseFunc
	hit  bool
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hit {
		return len(p), nil
	}
	room := c.max - int64(c.buf.Len())
	if int64(len(p)) > room {
		c.buf.Write(p[:room])
		c.hit = true
		c.over(ErrOutputTooLarge)
		return len(p), nil
	}
	c.buf.Write(p)
	return len(p), nil
}
