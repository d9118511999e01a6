package inspect

import "strings"

// Command injection reasons.
const (
	ReasonShellCommand   = "shell_command"      // separator, then a command with shell arguments
	ReasonShellSubst     = "shell_substitution" // $(...), `...`, <(...), ${IFS}
	ReasonShellGlobPath  = "shell_glob_path"    // /e??/p?ss*d
	ReasonShellFunction  = "shell_function"     // () { :; } (Shellshock), fork bombs
	ReasonWindowsCommand = "windows_command"    // FOR /F ... DO, IF EXIST ..., %COMSPEC%
	ReasonCodeExec       = "code_exec"          // system('...'), SSI <!--#exec
	ReasonJNDI           = "jndi_lookup"        // ${jndi:ldap://...}
)

// cmdStrong are programs whose name is not an English word: after a
// command separator they are a command whatever follows.
var cmdStrong = map[string]bool{
	"id": true, "whoami": true, "uname": true, "ifconfig": true, "ipconfig": true, "wget": true,
	"curl": true, "nc": true, "ncat": true, "netcat": true, "bash": true, "sh": true, "zsh": true,
	"ksh": true, "csh": true, "tcsh": true, "dash": true, "powershell": true, "pwsh": true,
	"cmd": true, "python": true, "python2": true, "python3": true, "perl": true, "ruby": true,
	"php": true, "lua": true, "nslookup": true, "telnet": true, "ssh": true, "scp": true,
	"sftp": true, "ftp": true, "tftp": true, "nmap": true, "netstat": true, "ps": true, "ls": true,
	"env": true, "pwd": true, "printenv": true, "hostname": true, "chmod": true, "chown": true,
	"chgrp": true, "useradd": true, "usermod": true, "userdel": true, "passwd": true, "sudo": true,
	"crontab": true, "base64": true, "base32": true, "xxd": true, "gcc": true, "lastlog": true,
	"htop": true, "uptime": true, "lsof": true, "killall": true, "pkill": true, "nohup": true,
	"strace": true, "ltrace": true, "gdb": true, "vim": true, "vi": true, "nano": true, "awk": true,
	"gawk": true, "sed": true, "grep": true, "egrep": true, "fgrep": true, "xargs": true, "rm": true,
	"mv": true, "cp": true, "mkdir": true, "rmdir": true, "tac": true, "unzip": true, "gzip": true,
	"gunzip": true, "bzip2": true, "mknod": true, "mkfifo": true, "socat": true, "openssl": true,
	"busybox": true, "systemctl": true, "journalctl": true, "docker": true, "kubectl": true,
	"aptitude": true, "apt": true, "apt-get": true, "yum": true, "dnf": true, "rpm": true,
	"dpkg": true, "pip": true, "npm": true, "getent": true, "iptables": true, "umount": true,
	"fdisk": true, "reboot": true, "traceroute": true, "tracert": true, "netsh": true,
	"regedit": true, "wmic": true, "tasklist": true, "taskkill": true, "systeminfo": true,
	"certutil": true, "bitsadmin": true, "mshta": true, "rundll32": true, "regsvr32": true,
	"cscript": true, "wscript": true, "iex": true, "iwr": true, "irm": true, "invoke-webrequest": true,
	"invoke-expression": true, "invoke-restmethod": true, "start-process": true, "new-object": true,
	"del": true, "bcdboot": true, "bcdedit": true, "vssadmin": true, "diskpart": true,
	"schtasks": true, "net": false, "cpulimit": true, "chef-client": true, "cscli": true,
	"ansible": true, "visudo": true, "dmesg": true, "lsmod": true, "insmod": true, "modprobe": true,
	"setsid": true, "chroot": true, "tcpdump": true, "dig": false, "host": false, "ping": false,
	"rmt": true, "rmt-dump": true, "c89": true, "c99": true, "tclsh": true, "wish": true,
	"node": false, "php-cgi": true, "jrunscript": true, "jjs": true, "osascript": true,
	"ansible-playbook": true, "ansible-pull": true, "ansible-doc": true, "ansible-console": true,
	"ansible-inventory": true, "ansible-galaxy": true, "ansible-vault": true, "ansible-config": true,
	"cat": false, "echo": false, "type": false, "dir": false, "copy": false, "set": false,
	"irb": true, "uconv": true, "iwmi": true, "gwmi": true, "icm": true, "saps": true,
	"invoke-command": true, "invoke-wmimethod": true, "adduser": true, "ssh-keygen": true,
	"lastlogin": true,
}

// cmdWeak are commands that are also English words; they count only with
// shell-looking arguments after them.
var cmdWeak = map[string]bool{
	"time": true, "more": true, "less": true, "head": true, "tail": true, "find": true,
	"sort": true, "kill": true, "sleep": true, "ping": true, "echo": true, "printf": true,
	"set": true, "type": true, "dir": true, "copy": true, "cd": true, "cat": true, "tar": true,
	"zip": true, "dd": true, "cut": true, "split": true, "wall": true, "watch": true, "tee": true,
	"test": true, "read": true, "mail": true, "file": true, "host": true, "man": true,
	"top": true, "who": true, "last": true, "make": true, "date": true, "touch": true,
	"mount": true, "exec": true, "eval": true, "source": true, "export": true, "alias": true,
	"unset": true, "trap": true, "call": true, "start": true, "md": true, "rd": true, "net": true,
	"dig": true, "node": true, "column": true, "comm": true, "bridge": true, "flock": true,
	"nice": true, "timeout": true, "command": true, "builtin": true, "su": true, "shutdown": true,
	"halt": true, "service": true, "route": true, "arp": true, "diff": true, "join": true,
	"fold": true, "expand": true, "paste": true, "look": true, "strings": true, "od": true,
	"nl": true, "pr": true, "wc": true, "whereis": true, "which": true, "locate": true,
	"history": true, "jobs": true, "ln": true, "stat": true, "du": true, "df": true, "free": true,
	"w": true, "users": true, "groups": true, "finger": true, "vmstat": true, "iostat": true,
	"sum": true, "md5sum": true, "sha1sum": true, "shred": true, "install": true, "patch": true,
	"screen": true, "tmux": true, "script": true, "env": true, "ip": true, "del": true,
	"erase": true, "ren": true, "rename": true, "move": true, "xcopy": true, "robocopy": true,
	"attrib": true, "sc": true, "reg": true, "runas": true, "powershell": true, "at": false,
	"cmd": true, "print": true, "exit": true, "logout": true, "open": true, "base": false,
	"perf": true, "ex": true, "rc": false,
}

// cmdPrefix are commands that run another command given after them.
var cmdPrefix = map[string]bool{
	"time": true, "nohup": true, "strace": true, "ltrace": true, "sudo": true, "env": true,
	"nice": true, "timeout": true, "xargs": true, "exec": true, "command": true, "builtin": true,
	"flock": true, "cpulimit": true, "stdbuf": true, "unbuffer": true, "watch": true,
	"chroot": true, "setsid": true, "busybox": true, "eval": true, "gdb": true,
}

// The command word lists behind their filters (wordMap).
var (
	cmdStrongWords = newWordMap(cmdStrong)
	cmdWeakWords   = newWordMap(cmdWeak)
	cmdPrefixWords = newWordMap(cmdPrefix)
)

// isCmd reports cmdStrong[w] || cmdWeak[w].
func isCmd(w string) bool { return cmdStrongWords.val(w) || cmdWeakWords.val(w) }

// shellForm rewrites a decoded value as a shell would read it: quote and
// backslash tricks inside words removed ("c'a't", "c\at", `ti”me`), unset
// variables used as padding ("cat$u", "$@") removed, $IFS as a space,
// literal "\n" as a newline, lower-cased.
func shellForm(s string) string { return shellFormBuf(s, nil) }

// shellFormBuf is shellForm, built in buf when it fits.
func shellFormBuf(s string, buf []byte) string {
	// Windows paths keep their backslashes: c:\windows is not c:windows.
	winPath := strings.Contains(s, ":\\")
	b := buf[:0]
	if len(s) > len(buf) {
		b = make([]byte, 0, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := lowerByte(s[i])
		if !shellSpecial[c] {
			b = append(b, c) // what the switch below does for the other bytes
			continue
		}
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

// shellSpecial marks the bytes shellFormBuf's switch handles.
var shellSpecial = func() (t [256]bool) {
	for _, c := range "`<>\\'\"$" {
		t[c] = true
	}
	return t
}()

// cmdName normalises a program name: drops ".exe" and a version suffix
// (python3.10, gcc10.1) when the bare name is a known command.
func cmdName(w string) string {
	w = strings.TrimSuffix(w, ".exe")
	if isCmd(w) {
		return w
	}
	n := len(w) // strings.TrimRight(w, "0123456789."), without building the set
	for n > 0 && ('0' <= w[n-1] && w[n-1] <= '9' || w[n-1] == '.') {
		n--
	}
	t := w[:n]
	if t != w && len(t) >= 2 && isCmd(t) {
		return t
	}
	if len(w) < 4 {
		return w // no family name is shorter than "aa-" and a byte
	}
	// Families: the prefixes do not overlap, so their order does not
	// matter; a Verb-Noun name is a PowerShell cmdlet.
	fam, cmdlet := "", false
	switch w[0] {
	case 'a':
		if fam = "ansible-"; !strings.HasPrefix(w, fam) {
			fam = "aa-"
		}
	case 'c':
		fam = "chef-"
	case 's':
		switch {
		case strings.HasPrefix(w, "ssh-"):
			fam = "ssh-"
		case strings.HasPrefix(w, "start-"):
			fam, cmdlet = "start-", true
		default:
			fam, cmdlet = "set-", true
		}
	case 'r':
		fam = "rmt-"
	case 'g':
		if fam = "git-"; !strings.HasPrefix(w, fam) {
			fam, cmdlet = "get-", true
		}
	case 'm':
		fam = "mysql"
	case 'p':
		fam = "psql"
	case 'd':
		fam = "docker-"
	case 'k':
		fam = "kube"
	case 'i':
		fam, cmdlet = "invoke-", true
	case 'n':
		fam, cmdlet = "new-", true
	default:
		return w
	}
	if strings.HasPrefix(w, fam) && len(w) > len(fam) {
		if cmdlet {
			return "invoke-expression"
		}
		return "ansible"
	}
	return w
}

func isCmdWordByte(c byte) bool {
	return isAlnum(c) || c == '-' || c == '_' || c == '.' || c == '+'
}

// detectCmdi reports OS command injection in v (decoded, not lower-cased),
// whose byte flags are flags and lower-cased form lower ("" when not
// built yet).
func detectCmdi(v, lower string, flags uint64) (string, bool) {
	if flags&fDollar != 0 && (containsFold(v, "${ifs") || containsFold(v, "$ifs")) {
		return ReasonShellSubst, true // the field separator standing in for spaces
	}
	// shellForm only changes quotes, backticks, '<', '>', '\\' and '$'
	// beyond lower-casing: without them it is the lower-cased value.
	var buf [256]byte
	var s string
	switch {
	case flags&(fQuote|fAngle|fBackslash|fDollar) != 0:
		s = shellFormBuf(v, buf[:])
	case lower != "":
		s = lower
	default:
		s = lowerASCIIBuf(v, buf[:])
	}
	if r, ok := cmdSpecial(s); ok {
		return r, true
	}
	// Command positions: the start of the value and after each separator.
	if r, ok := cmdAt(s, 0, false); ok {
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
		if r, ok := cmdAt(s[:end], j, !prose); ok {
			return r, true
		}
		if sub {
			// In a substitution a command needs no arguments.
			w, _ := wordAt(s, j)
			if cmdStrongWords.val(w) || cmdWeakWords.val(w) && !prose {
				return ReasonShellSubst, true
			}
		}
	}
	return "", false
}

// wordAt returns the command word at i (after optional quotes and a path
// such as /usr/bin/) and the index after it.
func wordAt(s string, i int) (string, int) {
	for i < len(s) && (s[i] == '\'' || s[i] == '"' || s[i] == ' ' || s[i] == '\t' || s[i] == '@') {
		i++
	}
	start := i
	// A path to the program: /bin/ls, /usr/local/bin/php, .\shell; or a
	// Windows program with a /switch glued to it: bcdboot/r.
	w := ""
	for k := i; k < len(s) && (isCmdWordByte(s[k]) || s[k] == '/' || s[k] == '\\'); k++ {
		if s[k] == '/' || s[k] == '\\' {
			if seg := cmdName(s[start:k]); w == "" && isCmd(seg) && k > start {
				w = seg
			}
			start = k + 1
		}
		i = k + 1
	}
	if w == "" {
		w = cmdName(s[start:i])
	}
	for i < len(s) && (s[i] == '\'' || s[i] == '"') {
		i++
	}
	return w, i
}

// cmdAt judges the command that starts at i. sep says a separator came
// before it; at the very start of a value a command needs arguments that
// look like shell, as "date" or "ping pong tables" are data.
func cmdAt(s string, i int, sep bool) (string, bool) {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\'' || s[i] == '"') {
		i++
	}
	if i+1 < len(s) && s[i] == '.' && (s[i+1] == ' ' || isAlpha(s[i+1])) {
		// ". script" (source) or a sqlite3 dot-command (.shell, .system).
		if s[i+1] == ' ' {
			return cmdAt(s, i+2, sep)
		}
		dw, _ := wordAt(s, i+1)
		switch dw {
		case "shell", "system", "sh", "databases", "tables", "import", "output", "once", "read", "load", "dump", "schema":
			if sep {
				return ReasonShellCommand, true
			}
		}
	}
	w, j := wordAt(s, i)
	if w == "" && j+1 < len(s) && s[j] == '.' && (s[j+1] == ' ' || isAlpha(s[j+1])) {
		// ". script" (source) or a sqlite3 dot-command (.shell, .system).
		if s[j+1] == ' ' {
			return cmdAt(s, j+2, sep)
		}
		dw, _ := wordAt(s, j+1)
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
			if w2, _ := wordAt(s, k); isCmd(w2) {
				if r, ok := cmdAt(s, k, sep); ok {
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
	strong, isStrong := cmdStrongWords.get(w)
	weak := cmdWeakWords.val(w)
	if !isStrong && !weak && !pathed {
		return "", false
	}
	if pathed {
		return ReasonShellCommand, true
	}
	if cmdPrefixWords.val(w) {
		w2, k := wordAt(s, skipSpaceOpts(s, j))
		if cmdStrongWords.val(w2) || cmdWeakWords.val(w2) && shellArg(s, k, sep) {
			return ReasonShellCommand, true
		}
	}
	if sep && strong && (j >= len(s) || !isCmdWordByte(s[j])) {
		return ReasonShellCommand, true
	}
	if strong && j < len(s) && (s[j] == ';' || s[j] == '|' || s[j] == '&' || s[j] == '`') {
		return ReasonShellCommand, true // whoami;... at the start of a value
	}
	if strong && j < len(s) && s[j] == ' ' {
		// A strong command with a host, URL or address: curl example.com
		k := j + 1
		w2, _ := wordAt(s, k)
		if strings.IndexByte(w2, '.') > 0 && !strings.HasSuffix(w2, ".") || strings.HasPrefix(s[k:], "http://") || strings.HasPrefix(s[k:], "https://") {
			return ReasonShellCommand, true
		}
	}
	if w == "alias" && aliasDef(s[j:]) {
		return ReasonShellCommand, true
	}
	if shellArg(s, j, sep) {
		return ReasonShellCommand, true
	}
	return "", false
}

func skipSpaceOpts(s string, i int) int {
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
func shellArg(s string, i int, sep bool) bool {
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
	case '0' <= a && a <= '9' && (sep || ipv4At(s, k)):
		// ping 127.0.0.1; sleep 5 after a separator
		return true
	case isAlpha(a):
		// A host or file name (google.com, passwd.txt) or another command.
		w, _ := wordAt(s, k)
		if cmdStrongWords.val(w) {
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
func aliasDef(s string) bool {
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
		if !isCmdWordByte(name[i]) {
			return false
		}
	}
	return true
}

// ipv4At reports whether an IPv4 address starts at i.
func ipv4At(s string, i int) bool {
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

// cmdSpecial finds command injection that needs no separator.
func cmdSpecial(s string) (string, bool) {
	if t := trimLeftOf(s, " \t'\""); strings.HasPrefix(t, "() {") || strings.HasPrefix(t, "(){") {
		return ReasonShellFunction, true // the Shellshock prefix
	}
	// Each substring test below runs only when s has one of its bytes.
	flags := scanBytes(s)
	dollar := flags&fDollar != 0
	if dollar && (strings.Contains(s, "$[") || strings.Contains(s, "$((")) {
		return ReasonShellSubst, true // arithmetic expansion
	}
	if i := indexIf(flags&fAngle != 0, s, "<<<"); i > 0 && isCmdWordByte(s[i-1]) || i >= 0 && i+3 < len(s) && (isAlnum(s[i+3]) || s[i+3] == '\'' || s[i+3] == '"' || s[i+3] == '$') {
		return ReasonShellSubst, true // here-string: cmd<<<input
	}
	if i := indexIf(dollar, s, "${"); i >= 0 {
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
	if braceCommand(s) {
		return ReasonShellSubst, true
	}
	if flags&fColon != 0 && strings.Contains(s, "jndi:") && (strings.Contains(s, "${jndi:") || strings.Contains(s, "jndi:ldap") || strings.Contains(s, "jndi:rmi") || strings.Contains(s, "jndi:dns") || strings.Contains(s, "{jndi:")) {
		return ReasonJNDI, true
	}
	if i := indexIf(flags&fParen != 0, s, "()"); i >= 0 {
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
	if flags&fAngle != 0 && (strings.Contains(s, "<!--#exec") || strings.Contains(s, "<!--#include") || strings.Contains(s, "<!--#echo") || strings.Contains(s, "<!--#set")) {
		return ReasonCodeExec, true
	}
	// Each name is looked for only when s has all of its bytes.
	present := jsMask(s)
	for _, c := range codeExecCalls {
		f := c.text
		if present&c.mask != c.mask {
			continue
		}
		if i := strings.Index(s, f); i >= 0 && (i == 0 || !isAlnum(s[i-1]) && s[i-1] != '_' || f[len(f)-1] == '.') {
			rest := s[i+len(f):]
			if strings.HasPrefix(rest, "'") || strings.HasPrefix(rest, "\"") || strings.HasPrefix(rest, "`") || strings.HasPrefix(rest, "$") || f[len(f)-1] != '(' {
				return ReasonCodeExec, true
			}
		}
	}
	if flags&fSlash != 0 && (strings.Contains(s, "/dev/tcp/") || strings.Contains(s, "/dev/udp/")) {
		return ReasonShellCommand, true
	}
	if dollar && strings.Contains(s, "$(") {
		// $( followed by a command word, even an English one.
		i := strings.Index(s, "$(")
		w, k := wordAt(s, i+2)
		if cmdStrongWords.val(w) || cmdWeakWords.val(w) && shellArg(s, k, true) && k < len(s) && s[k] != ')' || w == "" && i+2 < len(s) && s[i+2] == '(' {
			return ReasonShellSubst, true
		}
	}
	if dollar && (strings.Contains(s, "${ifs") || strings.Contains(s, "$ifs")) {
		return ReasonShellSubst, true
	}
	if globPath(s) {
		return ReasonShellGlobPath, true
	}
	if r, ok := windowsCmd(s, flags); ok {
		return r, true
	}
	return "", false
}

// codeExecCalls are the calls and objects that run commands from code.
var codeExecCalls = func() (ps []jsObjectPattern) {
	for _, t := range []string{"system(", "exec(", "shell_exec(", "passthru(", "popen(", "proc_open(", "pcntl_exec(", "os.system(", "subprocess.", "runtime.getruntime", "child_process", "process.binding"} {
		ps = append(ps, jsObjectPattern{text: t, mask: jsMask(t)})
	}
	return ps
}()

// globPath finds a path whose segments are made of shell glob patterns:
// /e??/p??s??, /bin/ca?, /usr/[a-z]in/bash, /et*/pa*wd.
func globPath(s string) bool {
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
		for rest := p; rest != ""; {
			// The segments of p between '/' (strings.Split without the
			// slice).
			seg := rest
			if k := strings.IndexByte(rest, '/'); k >= 0 {
				seg, rest = rest[:k], rest[k+1:]
			} else {
				rest = ""
			}
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
// command, environment variables of the shell. flags are s's byte flags.
func windowsCmd(s string, flags uint64) (string, bool) {
	t := trimLeftOf(s, " \t&|;'\"")
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
				if sp := strings.IndexAny(after, " \t"); sp > 0 && cmdStart(strings.TrimSpace(after[sp:])) {
					return ReasonWindowsCommand, true
				}
			}
		}
	}
	for _, v := range [...]string{"%comspec%", "%systemroot%", "%windir%", "%programfiles%", "%userprofile%", "%temp%\\", "%appdata%"} {
		if flags&fPercent != 0 && strings.Contains(s, v) {
			return ReasonWindowsCommand, true
		}
	}
	return "", false
}

// braceCommand finds brace expansion used to run a command without
// spaces: {cmd,arg,arg} or {,cmd,arg}.
func braceCommand(s string) bool {
	for i := strings.IndexByte(s, '{'); i >= 0; {
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return false
		}
		inner := s[i+1 : i+end]
		// Not after a word or a dot: file.{sh,py} lists extensions.
		glued := i > 0 && (isAlnum(s[i-1]) || s[i-1] == '.' || s[i-1] == '_')
		if !glued && strings.IndexByte(inner, ',') >= 0 && !strings.ContainsAny(inner, " \t\"") {
			// The first word and what follows its comma (SplitN(list, ",",
			// 2) without building the slice).
			list := strings.TrimPrefix(inner, ",")
			head, second, more := strings.Cut(list, ",")
			if !more {
				second = list
			}
			first := strings.Trim(head, "'$")
			if w := cmdName(first); w != "" && (cmdStrongWords.val(w) || cmdWeakWords.val(w) && strings.Count(inner, ",") >= 1 && strings.HasPrefix(second, "-")) {
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
func cmdStart(t string) bool {
	return t != "" && !strings.HasSuffix(t, "{") && t[0] != '&' && t[0] != '|'
}

// trimLeftOf is strings.TrimLeft(s, cutset) for a short ASCII cutset,
// without building the set TrimLeft builds for each call.
func trimLeftOf(s, cutset string) string {
	i := 0
	for i < len(s) && strings.IndexByte(cutset, s[i]) >= 0 {
		i++
	}
	return s[i:]
}

// indexIf is strings.Index(s, sub) when has is true, and -1 (what Index
// would return) when it is false because s lacks a byte of sub.
func indexIf(has bool, s, sub string) int {
	if !has {
		return -1
	}
	return strings.Index(s, sub)
}
