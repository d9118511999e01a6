// Package safe holds helpers for handlers that must touch HTML, files or
// programs with client input: sanitising policies, paths confined to a
// directory, and commands without a shell.
//
// # HTML
//
// Text strips every element and escapes the rest: plain text, safe in
// element content and quoted attributes. UGC keeps the formatting of rich
// text (bluemonday's UGC policy) and removes scripts, styles, event
// handlers, forms, frames and every URL scheme but http, https and
// mailto; links get rel="nofollow noreferrer noopener", absolute ones
// target="_blank". Both are built once and safe for concurrent use;
// TextPolicy and UGCPolicy return fresh copies to extend. Sanitising is
// for content stored and shown later; escaping at output (html/template)
// remains the first defence.
//
// # Paths
//
// CheckName refuses client-supplied names that are empty, longer than
// MaxPathLen (4096), absolute, leave their root lexically, hold NUL,
// control bytes, backslashes or invalid UTF-8 (overlong encodings
// included), or decode — through up to three layers of percent-encoding —
// to any of these. Errors wrap ErrUnsafePath.
//
// JoinPath is the lexical join after CheckName; it does not resolve
// symbolic links. OpenInRoot and Root open through os.Root (Go 1.24), so
// a symbolic link may be followed only while it stays inside the
// directory; escapes are refused by the kernel-level walk and reported
// with ErrUnsafePath. Root.ReadFile caps the size it reads (ErrTooLarge).
//
// # Commands
//
// A Runner starts only programs from its allowlist of absolute paths,
// with an argument vector (never a shell, so ; | & $ ` > < * and quotes
// are inert bytes), a controlled environment (DefaultEnv: PATH, LANG=C,
// LC_ALL=C; nothing inherited), working directory "/" by default, stdin
// empty unless given, a timeout (DefaultTimeout 10 s, at most MaxTimeout
// 1 h) that kills the whole process group on Unix, and a cap on stdout
// and stderr each (DefaultMaxOutput 1 MiB; exceeding it kills the
// command). Errors: ErrNotAllowed, ErrBadArgument (NUL in an argument),
// ErrTimeout, ErrOutputTooLarge, and a wrapped *exec.ExitError for a
// non-zero exit, with the Result filled in.
//
// NewRunner refuses what would defeat the allowlist: shells, language
// interpreters and programs that run their arguments as commands (env,
// xargs, sudo, timeout, nice, awk, python, ...), also behind a symbolic
// link; relative or unclean paths; non-executables; environment entries
// that are not KEY=value or that change how code loads (LD_*, DYLD_*,
// BASH_ENV, ENV, IFS, ...). Programs whose own options run commands (find
// -exec, git -c, tar --to-command) stay dangerous with hostile options:
// pass client values through Operand (no leading '-') and after "--".
//
// # Concurrency
//
// Text, UGC, the path functions, Root and Runner are safe for concurrent
// use.
package safe
