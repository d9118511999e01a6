package inspect

import (
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// The command-injection detector as it was before its searches were gated
// on the bytes of the value and its word lookups on a filter:
// TestCmdiRef and FuzzCmdiRef check refDetectCmdi and detectCmdi agree.

// shellForm rewrites a decoded value as a shell would read it: quote and
// backslash tricks inside words removed ("c'a't", "c\at", `ti”me`), unset
// variables used as padding ("cat$u", "$@") removed, $IFS as a space,
// literal "\n" as a newline, lower-cased.
func refShellForm(s string) string {
	// Windows paths keep their backslashes: c:\windows is not c:windows.
	winPath := strings.Contains(s, ":\\")
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := lowerByte(s[i])
		switch c {
		case '`', '<', '>':
			// Empty command substitutions used as padding: pi``ng, pi<()ng.
			if c == '`' && i+1 < len(s) && s[i+1] == '`' && i > 0 && isAlnum(lowerByte(s[i-1])) {
				i++
				continue
			}
			if c != '`' && i+2 < len(s) && s[i+1] == '(' && s[i+2] == ')' && i > 0 && isAlnum(lowerByte(s[i-1])) {
				i += 2
				continue
			}
		case '\\':
			if i+1 < len(s) && !winPath {
				n := lowerByte(s[i+1])
				if n == 'n' && (i+2 >= len(s) || !isAlpha(lowerByte(s[i+2])) || i == 0 || !isAlnum(lowerByte(s[i-1]))) {
					b = append(b, '\n')
					i++
					continue
				}
				if isAlnum(n) || n == '/' || n == '-' {
					continue // c\at → cat
				}
			}
		case '\'', '"':
			// An empty pair glued to word characters: ti''me.
			if i+1 < len(s) && s[i+1] == s[i] && i > 0 && isAlnum(lowerByte(s[i-1])) {
				i++
				continue
			}
			// A quote inside a word: c'a't → cat (quote between letters).
			if i > 0 && i+1 < len(s) && isAlnum(lowerByte(s[i-1])) && isAlnum(lowerByte(s[i+1])) {
				continue
			}
		case '$':
			rest := lowerASCII(s[i+1 : min(len(s), i+17)]) // a bounded window keeps this linear
			switch {
			case strings.HasPrefix(rest, "{ifs}"):
				b = append(b, ' ')
				i += 5
				continue
			case strings.HasPrefix(rest, "ifs"):
				b = append(b, ' ')
				i += 3
				if i+2 < len(s) && s[i+1] == '$' && '0' <= s[i+2] && s[i+2] <= '9' {
					i += 2 // $IFS$9
				}
				continue
			case len(rest) > 0 && (rest[0] == '@' || rest[0] == '*' || rest[0] == '?' || rest[0] == '!' || rest[0] == '-' || rest[0] == '$' || rest[0] == '_' && (len(rest) == 1 || !isAlnum(rest[1]))):
				if i > 0 && isAlnum(lowerByte(s[i-1])) || len(rest) > 1 && isAlnum(rest[1]) {
					i++
					continue // $@ $* $? $! $- $$ $_ used as padding inside a word
				}
			case len(rest) > 1 && rest[0] == '(' && rest[1] == ')':
				i += 2
				continue // $() is empty
			case len(rest) > 0 && (rest[0] == '\'' || rest[0] == '"'):
				continue // $'...' and $"..." quoting: the quotes remain
			case len(rest) > 1 && rest[0] == '{' && rest[1] == '}':
				i += 2
				continue
			case len(rest) > 0 && isAlpha(rest[0]) && i > 0 && isAlpha(lowerByte(s[i-1])):
				// cat$u /etc$u/passwd: an unset variable glued to a word.
				j := 0
				for j < len(rest) && (isAlnum(rest[j]) || rest[j] == '_') {
					j++
				}
				if j <= 2 {
					i += j
					continue
				}
			case len(rest) > 2 && rest[0] == '{' && isAlpha(rest[1]):
				// ${a} glued to a word: /etc/${a}passwd
				end := strings.IndexByte(rest, '}')
				if end > 0 && end <= 4 && (i > 0 && isAlnum(lowerByte(s[i-1])) || end+1 < len(rest) && isAlnum(rest[end+1])) {
					i += end + 1
					continue
				}
			}
		}
		b = append(b, c)
	}
	return bytesString(b)
}

// cmdName normalises a program name: drops ".exe" and a version suffix
// (python3.10, gcc10.1) when the bare name is a known command.
func refCmdName(w string) string {
	w = strings.TrimSuffix(w, ".exe")
	if cmdStrong[w] || cmdWeak[w] {
		return w
	}
	t := strings.TrimRight(w, "0123456789.")
	if t != w && len(t) >= 2 && (cmdStrong[t] || cmdWeak[t]) {
		return t
	}
	for _, fam := range [...]string{"ansible-", "chef-", "ssh-", "rmt-", "aa-", "git-", "mysql", "psql", "docker-", "kube", "invoke-", "start-", "get-", "set-", "new-"} {
		if strings.HasPrefix(w, fam) && len(w) > len(fam) {
			if fam == "get-" || fam == "set-" || fam == "new-" || fam == "start-" || fam == "invoke-" {
				return "invoke-expression" // a PowerShell cmdlet: Verb-Noun
			}
			return "ansible"
		}
	}
	return w
}

func refIsCmdWordByte(c byte) bool {
	return isAlnum(c) || c == '-' || c == '_' || c == '.' || c == '+'
}

// detectCmdi reports OS command injection in v (decoded, not lower-cased).
func refDetectCmdi(v string) (string, bool) {
	if containsFold(v, "${ifs") || containsFold(v, "$ifs") {
		return ReasonShellSubst, true // the field separator standing in for spaces
	}
	s := refShellForm(v)
	if r, ok := refCmdSpecial(s); ok {
		return r, true
	}
	// Command positions: the start of the value and after each separator.
	if r, ok := refCmdAt(s, 0, false); ok {
		return r, true
	}
	ticks := 0 // backticks seen: a shell pairs them, odd ones open
	for i := 0; i < len(s); i++ {
		c := s[i]
		var sub bool
		end := len(s) // where the command's words end
		switch c {
		case ';', '|', '&', '\n', '\r':
		case '`':
			ticks++
			if ticks%2 == 0 {
				continue // the closing backtick of a substitution
			}
			sub = true
			if k := strings.IndexByte(s[i+1:], '`'); k >= 0 {
				end = i + 1 + k
			}
		case '(':
			if i > 0 && (s[i-1] == '$' || s[i-1] == '<' || s[i-1] == '>') {
				sub = true
			} else {
				continue
			}
		case '{':
			if i+1 < len(s) && s[i+1] == ',' {
				sub = true // brace expansion {,ip,a}
				i++
			} else {
				continue
			}
		default:
			continue
		}
		// Skip a doubled separator (&&, ||, ;;).
		j := i + 1
		for j < len(s) && (s[j] == c || s[j] == ' ' || s[j] == '\t' || s[j] == '(' || s[j] == '{' && !sub) {
			j++
		}
		if c == '&' && j < len(s) && s[j] == '#' {
			continue // an HTML character reference, not a separator
		}
		// A backtick span set in prose (`make dist`, as Markdown writes
		// code) or one never closed, which a shell would refuse, needs a
		// command that is not also an English word, or shell arguments
		// inside the span; one at the start of the value or glued to what
		// precedes it needs neither.
		if j > end {
			j = end
		}
		prose := c == '`' && (end == len(s) || i > 0 && (s[i-1] == ' ' || s[i-1] == '\t' || s[i-1] == '('))
		if r, ok := refCmdAt(s[:end], j, !prose); ok {
			return r, true
		}
		if sub {
			// In a substitution a command needs no arguments.
			w, _ := refWordAt(s, j)
			if cmdStrong[w] || cmdWeak[w] && !prose {
				return ReasonShellSubst, true
			}
		}
	}
	return "", false
}

// wordAt returns the command word at i (after optional quotes and a path
// such as /usr/bin/) and the index after it.
func refWordAt(s string, i int) (string, int) {
	for i < len(s) && (s[i] == '\'' || s[i] == '"' || s[i] == ' ' || s[i] == '\t' || s[i] == '@') {
		i++
	}
	start := i
	// A path to the program: /bin/ls, /usr/local/bin/php, .\shell; or a
	// Windows program with a /switch glued to it: bcdboot/r.
	w := ""
	for k := i; k < len(s) && (refIsCmdWordByte(s[k]) || s[k] == '/' || s[k] == '\\'); k++ {
		if s[k] == '/' || s[k] == '\\' {
			if seg := refCmdName(s[start:k]); w == "" && (cmdStrong[seg] || cmdWeak[seg]) && k > start {
				w = seg
			}
			start = k + 1
		}
		i = k + 1
	}
	if w == "" {
		w = refCmdName(s[start:i])
	}
	for i < len(s) && (s[i] == '\'' || s[i] == '"') {
		i++
	}
	return w, i
}

// cmdAt judges the command that starts at i. sep says a separator came
// before it; at the very start of a value a command needs arguments that
// look like shell, as "date" or "ping pong tables" are data.
func refCmdAt(s string, i int, sep bool) (string, bool) {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\'' || s[i] == '"') {
		i++
	}
	if i+1 < len(s) && s[i] == '.' && (s[i+1] == ' ' || isAlpha(s[i+1])) {
		// ". script" (source) or a sqlite3 dot-command (.shell, .system).
		if s[i+1] == ' ' {
			return refCmdAt(s, i+2, sep)
		}
		dw, _ := refWordAt(s, i+1)
		switch dw {
		case "shell", "system", "sh", "databases", "tables", "import", "output", "once", "read", "load", "dump", "schema":
			if sep {
				return ReasonShellCommand, true
			}
		}
	}
	w, j := refWordAt(s, i)
	if w == "" && j+1 < len(s) && s[j] == '.' && (s[j+1] == ' ' || isAlpha(s[j+1])) {
		// ". script" (source) or a sqlite3 dot-command (.shell, .system).
		if s[j+1] == ' ' {
			return refCmdAt(s, j+2, sep)
		}
		dw, _ := refWordAt(s, j+1)
		switch dw {
		case "shell", "system", "sh", "databases", "tables", "import", "output", "once", "read", "load", "dump", "schema":
			if sep {
				return ReasonShellCommand, true
			}
		}
	}
	if w == "" && j < len(s) && s[j] == '$' {
		// An unset variable as padding before the command: |$u wget x
		k := j + 1
		for k < len(s) && (isAlnum(s[k]) || s[k] == '_' || s[k] == '{' || s[k] == '}') {
			k++
		}
		if k > j+1 && k < len(s) && s[k] == ' ' && !('0' <= s[j+1] && s[j+1] <= '9') {
			if w2, _ := refWordAt(s, k); cmdStrong[w2] || cmdWeak[w2] {
				if r, ok := refCmdAt(s, k, sep); ok {
					return r, ok
				}
			}
		}
	}
	if w == "" {
		if j < len(s) && s[j] == '$' {
			// A variable as the command, with options: a=nc&&$a -nlvp 555
			k := j + 1
			for k < len(s) && (isAlnum(s[k]) || s[k] == '_' || s[k] == '{' || s[k] == '}') {
				k++
			}
			for k < len(s) && s[k] == ' ' {
				k++
			}
			if k > j+1 && !('0' <= s[j+1] && s[j+1] <= '9') && k < len(s) && (s[k] == '-' || s[k] == '/') {
				return ReasonShellCommand, true
			}
		}
		return "", false
	}
	if j < len(s) && (s[j] == '=' || s[j] == '(' && !sep) {
		return "", false // an assignment or a call in prose/code, not a command
	}
	pathed := i < len(s) && j-len(w) > i && strings.Contains(s[i:j-len(w)], "bin/")
	strong, isStrong := cmdStrong[w]
	weak := cmdWeak[w]
	if !isStrong && !weak && !pathed {
		return "", false
	}
	if pathed {
		return ReasonShellCommand, true
	}
	if cmdPrefix[w] {
		w2, k := refWordAt(s, refSkipSpaceOpts(s, j))
		if cmdStrong[w2] || cmdWeak[w2] && refShellArg(s, k, sep) {
			return ReasonShellCommand, true
		}
	}
	if sep && strong && (j >= len(s) || !refIsCmdWordByte(s[j])) {
		return ReasonShellCommand, true
	}
	if strong && j < len(s) && (s[j] == ';' || s[j] == '|' || s[j] == '&' || s[j] == '`') {
		return ReasonShellCommand, true // whoami;... at the start of a value
	}
	if strong && j < len(s) && s[j] == ' ' {
		// A strong command with a host, URL or address: curl example.com
		k := j + 1
		w2, _ := refWordAt(s, k)
		if strings.IndexByte(w2, '.') > 0 && !strings.HasSuffix(w2, ".") || strings.HasPrefix(s[k:], "http://") || strings.HasPrefix(s[k:], "https://") {
			return ReasonShellCommand, true
		}
	}
	if w == "alias" && refAliasDef(s[j:]) {
		return ReasonShellCommand, true
	}
	if refShellArg(s, j, sep) {
		return ReasonShellCommand, true
	}
	return "", false
}

func refSkipSpaceOpts(s string, i int) int {
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i+1 < len(s) && s[i] == '-' && isAlpha(s[i+1]) {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' {
				i++
			}
			// an option's value: "-l 100"
			k := i
			for k < len(s) && s[k] == ' ' {
				k++
			}
			if k < len(s) && '0' <= s[k] && s[k] <= '9' {
				for k < len(s) && s[k] != ' ' {
					k++
				}
				i = k
			}
			continue
		}
		return i
	}
}

// shellArg reports whether what follows a command word at i looks like
// shell arguments: an option, a path, a variable, a redirection, another
// separator, a quoted argument, a drive, or, after a separator, nothing.
func refShellArg(s string, i int, sep bool) bool {
	if i >= len(s) {
		return sep
	}
	c := s[i]
	if c != ' ' && c != '\t' && c != '<' && c != '>' && c != '|' && c != ';' && c != '&' && c != '`' && c != '\n' && c != ')' && c != '}' && c != ',' {
		return false // the word goes on: "lsx", "ping-pong"
	}
	k := i
	for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
		k++
	}
	if k >= len(s) {
		return sep
	}
	a := s[k]
	switch {
	case a == '-' && k+1 < len(s) && (isAlnum(s[k+1]) || s[k+1] == '-'):
		return true
	case a == '/' || a == '~' || a == '$' || a == '>' || a == '<' || a == '|' || a == '`' || a == '%' || a == '*':
		return true
	case a == ';' || a == '&' || a == '\n' || a == ')' || a == '}':
		return sep
	case a == '.' && k+1 < len(s) && (s[k+1] == '/' || s[k+1] == '.' || s[k+1] == '\\'):
		return true
	case (a == '\'' || a == '"') && sep:
		return true
	case isAlpha(a) && k+1 < len(s) && s[k+1] == ':' && (k+2 >= len(s) || s[k+2] == '/' || s[k+2] == '\\'):
		return true // c:\ c:/
	case '0' <= a && a <= '9' && (sep || refIpv4At(s, k)):
		// ping 127.0.0.1; sleep 5 after a separator
		return true
	case isAlpha(a):
		// A host or file name (google.com, passwd.txt) or another command.
		w, _ := refWordAt(s, k)
		if cmdStrong[w] {
			return true
		}
		if sep && strings.IndexByte(w, '.') > 0 && !strings.HasSuffix(w, ".") {
			return true
		}
	}
	return false
}

// aliasDef reports whether s, after the word "alias", defines one:
// [options] name=value with the name glued to '='.
func refAliasDef(s string) bool {
	s = strings.TrimLeft(s, " \t")
	for len(s) > 1 && (s[0] == '-' || s[0] == '+') {
		sp := strings.IndexAny(s, " \t")
		if sp < 0 {
			return false
		}
		s = strings.TrimLeft(s[sp:], " \t")
	}
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return false
	}
	name := strings.Trim(s[:eq], "'\"")
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !refIsCmdWordByte(name[i]) {
			return false
		}
	}
	return true
}

// ipv4At reports whether an IPv4 address starts at i.
func refIpv4At(s string, i int) bool {
	dots, digits := 0, 0
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits++
		case c == '.' && digits > 0:
			dots++
			digits = 0
		default:
			return dots == 3 && digits > 0
		}
	}
	return dots == 3 && digits > 0
}

// refCmdSpecial is cmdSpecial as it was before its substring tests were
// gated on the bytes of s, on the reference helpers: the oracle of both
// TestCmdiRef (through refDetectCmdi) and FuzzCmdSpecial.
func refCmdSpecial(s string) (string, bool) {
	if t := strings.TrimLeft(s, " \t'\""); strings.HasPrefix(t, "() {") || strings.HasPrefix(t, "(){") {
		return ReasonShellFunction, true // the Shellshock prefix
	}
	if strings.Contains(s, "$[") || strings.Contains(s, "$((") {
		return ReasonShellSubst, true // arithmetic expansion
	}
	if i := strings.Index(s, "<<<"); i > 0 && refIsCmdWordByte(s[i-1]) || i >= 0 && i+3 < len(s) && (isAlnum(s[i+3]) || s[i+3] == '\'' || s[i+3] == '"' || s[i+3] == '$') {
		return ReasonShellSubst, true // here-string: cmd<<<input
	}
	if i := strings.Index(s, "${"); i >= 0 {
		// Parameter expansion with an operator: ${x#pat}, ${a:-b}, ${p/x/y}
		if end := strings.IndexByte(s[i:], '}'); end > 2 {
			inner := s[i+2 : i+end]
			if k := strings.IndexAny(inner, "#%:/^,"); k > 0 && isAlpha(inner[0]) {
				return ReasonShellSubst, true
			}
			// ${SHELL} -c, ${cmd} as a command
			rest := strings.TrimLeft(s[i+end+1:], " ")
			if strings.HasPrefix(rest, "-") && (i == 0 || s[i-1] == ' ' || s[i-1] == ';' || s[i-1] == '|' || s[i-1] == '&') {
				return ReasonShellCommand, true
			}
		}
	}
	if refBraceCommand(s) {
		return ReasonShellSubst, true
	}
	if strings.Contains(s, "${jndi:") || strings.Contains(s, "jndi:ldap") || strings.Contains(s, "jndi:rmi") || strings.Contains(s, "jndi:dns") || strings.Contains(s, "{jndi:") {
		return ReasonJNDI, true
	}
	if i := strings.Index(s, "()"); i >= 0 {
		rest := strings.TrimLeft(s[i+2:], " \t")
		if strings.HasPrefix(rest, "{") {
			body := strings.TrimLeft(rest[1:], " \t")
			if strings.HasPrefix(body, ":") || strings.HasPrefix(body, "_;") {
				return ReasonShellFunction, true // () { :; }  Shellshock
			}
			if end := strings.IndexByte(body, '}'); end > 0 {
				b := body[:end]
				if strings.Contains(b, "|") || strings.Contains(b, "&") {
					return ReasonShellFunction, true // f(){ f|f& };f
				}
			}
		}
	}
	if strings.Contains(s, "<!--#exec") || strings.Contains(s, "<!--#include") || strings.Contains(s, "<!--#echo") || strings.Contains(s, "<!--#set") {
		return ReasonCodeExec, true
	}
	for _, f := range [...]string{"system(", "exec(", "shell_exec(", "passthru(", "popen(", "proc_open(", "pcntl_exec(", "os.system(", "subprocess.", "runtime.getruntime", "child_process", "process.binding"} {
		if i := strings.Index(s, f); i >= 0 && (i == 0 || !isAlnum(s[i-1]) && s[i-1] != '_' || f[len(f)-1] == '.') {
			rest := s[i+len(f):]
			if strings.HasPrefix(rest, "'") || strings.HasPrefix(rest, "\"") || strings.HasPrefix(rest, "`") || strings.HasPrefix(rest, "$") || f[len(f)-1] != '(' {
				return ReasonCodeExec, true
			}
		}
	}
	if strings.Contains(s, "/dev/tcp/") || strings.Contains(s, "/dev/udp/") {
		return ReasonShellCommand, true
	}
	if strings.Contains(s, "$(") {
		// $( followed by a command word, even an English one.
		i := strings.Index(s, "$(")
		w, k := refWordAt(s, i+2)
		if cmdStrong[w] || cmdWeak[w] && refShellArg(s, k, true) && k < len(s) && s[k] != ')' || w == "" && i+2 < len(s) && s[i+2] == '(' {
			return ReasonShellSubst, true
		}
	}
	if strings.Contains(s, "${ifs") || strings.Contains(s, "$ifs") {
		return ReasonShellSubst, true
	}
	if refGlobPath(s) {
		return ReasonShellGlobPath, true
	}
	if r, ok := refWindowsCmd(s); ok {
		return r, true
	}
	return "", false
}

// globPath finds a path whose segments are made of shell glob patterns:
// /e??/p??s??, /bin/ca?, /usr/[a-z]in/bash, /et*/pa*wd.
func refGlobPath(s string) bool {
	for i := strings.IndexByte(s, '/'); i >= 0 && i < len(s); {
		// Only an absolute path that starts an argument: after the start,
		// a space, a separator or a quote (test/internal/*.c is a pattern
		// in prose; /e??/p?ss?? is a file the shell will find).
		if i > 0 && !strings.ContainsRune(" \t;|&'\"`(=,{", rune(s[i-1])) {
			n := strings.IndexByte(s[i+1:], '/')
			if n < 0 {
				break
			}
			// skip to the end of this token
			j := i + 1
			for j < len(s) && s[j] != ' ' && s[j] != ';' && s[j] != '|' && s[j] != '&' {
				j++
			}
			m := strings.IndexByte(s[j:], '/')
			if m < 0 {
				break
			}
			i = j + m
			continue
		}
		// Walk one path token.
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != ';' && s[j] != '|' && s[j] != '&' && s[j] != '\'' && s[j] != '"' && s[j] != ',' && s[j] != '}' {
			j++
		}
		p := s[i:j]
		segs, globbed := 0, 0
		for _, seg := range strings.Split(p, "/") {
			if seg == "" {
				continue
			}
			letters := 0
			glob := false
			for k := 0; k < len(seg); k++ {
				switch {
				case isAlpha(seg[k]):
					letters++
				case seg[k] == '?' || seg[k] == '*' || seg[k] == '[':
					glob = true
				}
			}
			if letters > 0 || glob {
				segs++
			}
			if glob && !strings.Contains(seg, "{") {
				globbed++
			}
		}
		if segs >= 2 && globbed >= 1 && !strings.Contains(p, "://") && !strings.Contains(p, "?") || segs >= 2 && globbed >= 1 && strings.Count(p, "?") >= 2 && !strings.Contains(p, "=") {
			return true
		}
		n := strings.IndexByte(s[max(j, i+1):], '/')
		if n < 0 {
			break
		}
		i = max(j, i+1) + n
	}
	return false
}

// windowsCmd finds cmd.exe grammar: FOR loops, IF conditions with a
// command, environment variables of the shell.
func refWindowsCmd(s string) (string, bool) {
	t := strings.TrimLeft(s, " \t&|;'\"")
	if strings.HasPrefix(t, "for ") || strings.HasPrefix(t, "for\t") {
		// for [/f|/l|/d|/r [path]] [options] %x in (...) do cmd
		if i := strings.Index(t, " in"); i > 0 && strings.Contains(t[:i], "%") {
			if j := strings.Index(t[i:], ")"); j > 0 && strings.Contains(t[i+j:], "do") {
				return ReasonWindowsCommand, true
			}
		}
	}
	if strings.HasPrefix(t, "if ") || strings.HasPrefix(t, "if\t") || strings.HasPrefix(t, "if/") {
		rest := strings.TrimLeft(t[2:], " \t")
		rest = strings.TrimPrefix(rest, "/i")
		rest = strings.TrimPrefix(rest, "/i ")
		rest = strings.TrimLeft(rest, " \t")
		rest = strings.TrimPrefix(rest, "not ")
		rest = strings.TrimLeft(rest, " \t")
		for _, kw := range [...]string{"exist ", "defined ", "errorlevel ", "cmdextversion "} {
			if strings.HasPrefix(rest, kw) {
				return ReasonWindowsCommand, true
			}
		}
		// if a==b cmd, if %x% equ 1 cmd: a comparison and a command after it.
		for _, op := range [...]string{"==", " equ ", " neq ", " lss ", " leq ", " gtr ", " geq "} {
			if i := strings.Index(rest, op); i > 0 {
				after := strings.TrimLeft(rest[i+len(op):], " \t")
				// The command is a word or a (block), not a C-like { block
				// or more of an expression (if err == nil {, if a == b && c).
				if sp := strings.IndexAny(after, " \t"); sp > 0 && refCmdStart(strings.TrimSpace(after[sp:])) {
					return ReasonWindowsCommand, true
				}
			}
		}
	}
	for _, v := range [...]string{"%comspec%", "%systemroot%", "%windir%", "%programfiles%", "%userprofile%", "%temp%\\", "%appdata%"} {
		if strings.Contains(s, v) {
			return ReasonWindowsCommand, true
		}
	}
	return "", false
}

// braceCommand finds brace expansion used to run a command without
// spaces: {cmd,arg,arg} or {,cmd,arg}.
func refBraceCommand(s string) bool {
	for i := strings.IndexByte(s, '{'); i >= 0; {
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return false
		}
		inner := s[i+1 : i+end]
		// Not after a word or a dot: file.{sh,py} lists extensions.
		glued := i > 0 && (isAlnum(s[i-1]) || s[i-1] == '.' || s[i-1] == '_')
		if !glued && strings.IndexByte(inner, ',') >= 0 && !strings.ContainsAny(inner, " \t\"") {
			first := strings.Trim(strings.SplitN(strings.TrimPrefix(inner, ","), ",", 2)[0], "'$")
			if w := refCmdName(first); w != "" && (cmdStrong[w] || cmdWeak[w] && strings.Count(inner, ",") >= 1 && strings.HasPrefix(strings.SplitN(strings.TrimPrefix(inner, ","), ",", 2)[min(1, strings.Count(strings.TrimPrefix(inner, ","), ","))], "-")) {
				return true
			}
			if strings.HasPrefix(first, "/") {
				return true // {,/bin/cat,/etc/passwd}
			}
		}
		n := strings.IndexByte(s[i+end:], '{')
		if n < 0 {
			return false
		}
		i += end + n
	}
	return false
}

// cmdStart reports whether t can start the command of cmd.exe's IF: not
// a line ending in a C-like '{' nor more of an expression (&& b, || c).
func refCmdStart(t string) bool {
	return t != "" && !strings.HasSuffix(t, "{") && t[0] != '&' && t[0] != '|'
}

func checkCmdi(t testing.TB, v string) {
	t.Helper()
	if got, want := shellForm(v), refShellForm(v); got != want {
		t.Fatalf("shellForm(%q) = %q, before %q", v, got, want)
	}
	r1, ok1 := detectCmdi(v, lowerASCII(v), scanBytes(v))
	r2, ok2 := refDetectCmdi(v)
	if r1 != r2 || ok1 != ok2 {
		t.Fatalf("detectCmdi(%q) = %q %v, before %q %v", v, r1, ok1, r2, ok2)
	}
	// lower is "" when checkForm has not built it.
	if r1, ok1 = detectCmdi(v, "", scanBytes(v)); r1 != r2 || ok1 != ok2 {
		t.Fatalf("detectCmdi(%q, \"\") = %q %v, before %q %v", v, r1, ok1, r2, ok2)
	}
}

func FuzzCmdiRef(f *testing.F) {
	for _, s := range []string{"127.0.0.1; cat /etc/shadow", "$(whoami)", "`id`", "a;c'a't$IFS/etc/hosts", "() { :; }; /bin/bash -c id",
		"& FOR /F %i IN ('dir') DO echo %i", "${jndi:ldap://example.com/a}", "{cat,/etc/hosts}", "For my brother's birthday on 5 December.",
		"Ring the bell twice; the flat is on the second floor.", "if exist c:\\x del x", "x|Invoke-WebRequest", "python3.10 -c 1", "system('id')"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkCmdi(t, s)
	})
}

// cmdiFragments are the pieces TestCmdiRef builds values from.
var cmdiFragments = func() []string {
	fs := []string{";", "|", "&", "&&", "||", "\n", "\r", "`", "$(", "$((", "$[", "${", "}", "{", "{,", ",", "<(", ">(", "(", ")", "()", " ", "\t",
		"'", "\"", "\\", "\\n", "/", "/bin/", "bin/", "/usr/bin/", ".exe", "3.10", "2", "-", "--", "-c", "%", "%i", " in (", ") do ", " == ", " equ ",
		"=", "<<<", "<", ">", ">>", "<!--#exec ", "?", "*", "[a-z]", "/e??/p?ss*", "$ifs", "${ifs}", "$IFS$9", "$u", "$@", "jndi:", "ldap", "://",
		"1.2.3.4", "127.0.0.1", "example.com", "http://x", "c:\\", "c:/", ".", ". ", "..", "~", "if ", "for ", "exist ", "defined ", "not ", "/i ",
		"get-", "set-", "new-", "invoke-", "start-", "ansible-", "ssh-", "git-", "mysql", "psql", "kube", "docker-", "chef-", "rmt-", "aa-",
		"system(", "exec(", "subprocess.", "child_process", "runtime.getruntime", "process.binding", "os.system(", "/dev/tcp/", "%comspec%",
		"alias ", "x=", "a", "the", "bell", "For", "If", "Ring"}
	for _, m := range []map[string]bool{cmdStrong, cmdWeak, cmdPrefix} {
		for w := range m {
			fs = append(fs, w, strings.ToUpper(w))
		}
	}
	sort.Strings(fs) // a fixed order for the seeded generator
	return fs
}()

// TestCmdiRef compares detectCmdi with refDetectCmdi on the corpus and on
// values generated from cmdiFragments.
func TestCmdiRef(t *testing.T) {
	forCorpus(t, func(row corpusRow) {
		checkCmdi(t, row.Payload)
	})
	rng := rand.New(rand.NewPCG(37, 41))
	var b strings.Builder
	for range cases(300000) {
		b.Reset()
		for k := rng.IntN(7); k >= 0; k-- {
			b.WriteString(cmdiFragments[rng.IntN(len(cmdiFragments))])
		}
		checkCmdi(t, b.String())
	}
}

// TestCmdName compares cmdName with refCmdName on words made of one or two
// fragments.
func TestCmdName(t *testing.T) {
	for _, a := range cmdiFragments {
		for _, b := range append([]string{"", "x", "1", "3.10", ".exe", "-"}, cmdiFragments...) {
			w := strings.ToLower(a + b)
			if got, want := cmdName(w), refCmdName(w); got != want {
				t.Fatalf("cmdName(%q) = %q, before %q", w, got, want)
			}
		}
	}
}
