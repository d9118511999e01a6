package safe

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// MaxPathLen bounds the names the path helpers accept.
const MaxPathLen = 4096

// ErrUnsafePath is returned (wrapped) for a name that is absolute,
// traverses out of its root (lexically, encoded, or through a symbolic
// link), or holds NUL, control bytes, backslashes or invalid UTF-8.
var ErrUnsafePath = errors.New("safe: unsafe path")

// ErrTooLarge is returned by Root.ReadFile for a file over its limit.
var ErrTooLarge = errors.New("safe: file too large")

// CheckName validates a slash-separated relative name that came from a
// client (a URL path parameter, a form field, an archive entry). It
// rejects:
//
//   - empty names and names over MaxPathLen bytes;
//   - absolute names ("/etc/passwd", and on Windows "C:\x", "\\host\share");
//   - names that leave the root lexically ("..", "a/../../b");
//   - NUL and other control bytes, and backslashes (a second separator on
//     Windows, and a way to smuggle ".." past checks that split on "/");
//   - invalid UTF-8, which covers overlong encodings such as %c0%ae;
//   - percent-encoded names that decode, once or repeatedly, to any of the
//     above ("%2e%2e/x", "%252e%252e%252f", "..%2fx"): the name is meant
//     to be decoded already, and one that is still encoded has probably
//     been decoded once too few times by someone.
//
// "a/../b" is accepted: it stays inside. CheckName is lexical; symbolic
// links are handled by OpenInRoot and Root, which open through os.Root.
func CheckName(name string) error {
	if err := checkOnce(name); err != nil {
		return err
	}
	// Decode up to three layers: %25-encoding of %-encoding is common in
	// attacks; more layers than that are refused outright.
	s := name
	for i := 0; i < 3 && strings.IndexByte(s, '%') >= 0; i++ {
		dec, err := url.PathUnescape(s)
		if err != nil || dec == s {
			break // a '%' that starts no escape is a literal character
		}
		if err := checkOnce(dec); err != nil {
			return fmt.Errorf("%w: %q decodes to an unsafe name", ErrUnsafePath, name)
		}
		s = dec
	}
	if strings.IndexByte(s, '%') >= 0 {
		if dec, err := url.PathUnescape(s); err == nil && dec != s {
			return fmt.Errorf("%w: %q: too many layers of percent-encoding", ErrUnsafePath, name)
		}
	}
	return nil
}

func checkOnce(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty name", ErrUnsafePath)
	case len(name) > MaxPathLen:
		return fmt.Errorf("%w: name longer than %d bytes", ErrUnsafePath, MaxPathLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrUnsafePath, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == 0:
			return fmt.Errorf("%w: %q contains NUL", ErrUnsafePath, name)
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%w: %q contains a control character", ErrUnsafePath, name)
		case c == '\\':
			return fmt.Errorf("%w: %q contains a backslash", ErrUnsafePath, name)
		}
	}
	if name[0] == '/' || filepath.IsAbs(name) {
		return fmt.Errorf("%w: %q is absolute", ErrUnsafePath, name)
	}
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return fmt.Errorf("%w: %q leaves its root", ErrUnsafePath, name)
	}
	return nil
}

// JoinPath joins root and a client-supplied name after CheckName. The
// result is lexically inside root, but it is only a string: a symbolic
// link inside root can still point outside. To open files, use
// OpenInRoot or Root, which refuse such links.
func JoinPath(root, name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	return filepath.Join(root, filepath.FromSlash(name)), nil
}

// OpenInRoot opens dir/name for reading through os.Root after CheckName:
// symbolic links may be followed only while they stay inside dir. It is
// os.OpenInRoot with the name checks and ErrUnsafePath.
func OpenInRoot(dir, name string) (*os.File, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	f, err := os.OpenInRoot(dir, filepath.FromSlash(name))
	return f, classify(err)
}

// classify marks os.Root's refusals with ErrUnsafePath. os does not
// export its "path escapes from parent" error, so it is matched by text;
// the original error stays in the chain.
func classify(err error) error {
	if err != nil && strings.Contains(err.Error(), "path escapes from parent") {
		return fmt.Errorf("%w: %w", ErrUnsafePath, err)
	}
	return err
}

// Root is a directory that client-supplied names are resolved in: every
// method checks the name (CheckName) and goes through os.Root, so neither
// "..", absolute names nor symbolic links lead outside. It is safe for
// concurrent use. Close it when done.
type Root struct {
	r *os.Root
}

// OpenRoot opens dir as a Root.
func OpenRoot(dir string) (*Root, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("safe: OpenRoot: %w", err)
	}
	return &Root{r: r}, nil
}

// Name returns the directory the Root was opened on.
func (r *Root) Name() string { return r.r.Name() }

// Open opens name for reading.
func (r *Root) Open(name string) (*os.File, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	f, err := r.r.Open(filepath.FromSlash(name))
	return f, classify(err)
}

// Stat returns the file info of name, following links that stay inside.
func (r *Root) Stat(name string) (fs.FileInfo, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	fi, err := r.r.Stat(filepath.FromSlash(name))
	return fi, classify(err)
}

// ReadFile reads the regular file name, at most limit bytes; a larger
// file returns ErrTooLarge (without reading it all).
func (r *Root) ReadFile(name string, limit int64) ([]byte, error) {
	f, err := r.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("safe: ReadFile %q: not a regular file", name)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %q is over %d bytes", ErrTooLarge, name, limit)
	}
	return b, nil
}

// WriteFile creates or truncates name and writes data to it with the
// given permissions.
func (r *Root) WriteFile(name string, data []byte, perm os.FileMode) error {
	if err := CheckName(name); err != nil {
		return err
	}
	return classify(r.r.WriteFile(filepath.FromSlash(name), data, perm))
}

// FS returns an fs.FS of the root (for http.FileServerFS, say). fs.FS
// names are already restricted to fs.ValidPath; os.Root refuses links
// that leave the root.
func (r *Root) FS() fs.FS { return r.r.FS() }

// Close releases the directory handle.
func (r *Root) Close() error { return r.r.Close() }
