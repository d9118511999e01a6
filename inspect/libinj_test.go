package inspect

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/corazawaf/libinjection-go"
)

// checkUpperVerdict fails when libinjectionSQLi(s) and
// libinjection.IsSQLi(s) disagree.
func checkUpperVerdict(t testing.TB, s string) {
	t.Helper()
	want, _ := libinjection.IsSQLi(s)
	if got := libinjectionSQLi(s, scanBytes(s)); got != want {
		t.Fatalf("libinjectionSQLi(%q) = %v, libinjection.IsSQLi = %v", s, got, want)
	}
}

// sqliCaseVariants are s in lower, upper and alternating case, and s with
// each exception of libinjectionSQLi spliced in.
func sqliCaseVariants(s string) []string {
	alt := []byte(s)
	for i := range alt {
		if i%2 == 0 {
			alt[i] = lowerByte(alt[i])
		} else if 'a' <= alt[i] && alt[i] <= 'z' {
			alt[i] -= 'a' - 'A'
		}
	}
	return []string{s, strings.ToLower(s), strings.ToUpper(s), string(alt)}
}

// TestLibinjectionUpper compares libinjectionSQLi with libinjection.IsSQLi
// on every corpus value in several cases, and on generated values built
// from SQL fragments, letters and the bytes libinjection treats
// specially.
func TestLibinjectionUpper(t *testing.T) {
	for _, s := range []string{
		"", "a", "1' or '1'='1", "\\N", "\\n", "1 \\N union select", "$ab$ x $AB$", "$a$ or 1=1 $a$",
		"q'aXa' or 1=1", "Q'AxA' union select 1", "nq'b 1 B'", "x' or 1=1 -- sp_password", "SP_PASSWORD--",
		"0x1F", "0X1f", "1e5", "1E5", "1.5d", "1.5D", "1fUNION", "x'AbC'", "b'01'", "E'x'", "U&'x'",
		"SELECT * FROM users", "select * from users", "ıf(1,2,3)", "unıon select", "Ring the bell twice; the flat.",
	} {
		for _, v := range sqliCaseVariants(s) {
			checkUpperVerdict(t, v)
		}
	}
	forCorpus(t, func(row corpusRow) {
		for _, v := range sqliCaseVariants(row.Payload) {
			checkUpperVerdict(t, v)
		}
	})
	rng := rand.New(rand.NewPCG(7, 11))
	frags := []string{
		"select", "SELECT", "union", "Union", "all", "from", "where", "or", "OR", "and", "not", "in", "like",
		"user", "USER_ID", "into", "outfile", "if", "IF", "exec", "xp_cmdshell", "sp_password", "Sp_Password",
		"1", "0x1f", "0X1F", "0b01", "1e5", "1E", "1.e", "2d", "3F", "1fu", "\\N", "\\n", "\\", "$", "$$", "$a$",
		"$A$", "q'", "Q'", "nq'", "N'", "x'", "X'", "b'", "e'", "u&'", "'", "\"", "`", "(", ")", ",", ";", ".",
		"--", "-- ", "#", "/*", "*/", "/*!", "@", "@@version", "=", "<>", "<=>", "!=", "||", "&&", "::", "{", "}",
		"[", "]", " ", "\t", "\n", "\xa0", "é", "ı", "ſ", "a", "Z", "q", "Q", "n", "N", "the", "bell", "ring",
	}
	for range cases(150000) {
		var b strings.Builder
		for k := 1 + rng.IntN(8); k > 0; k-- {
			b.WriteString(frags[rng.IntN(len(frags))])
			if rng.IntN(3) == 0 {
				b.WriteByte(' ')
			}
		}
		checkUpperVerdict(t, b.String())
	}
}

func FuzzLibinjectionUpper(f *testing.F) {
	for _, s := range []string{"1' or '1'='1", "\\N", "q'aXa'", "$ab$ x $AB$", "x'--sp_password", "Ring the bell; twice (3)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range sqliCaseVariants(s) {
			checkUpperVerdict(t, v)
		}
	})
}

// checkGate fails when barewordPair passes s and libinjection flags it.
func checkGate(t testing.TB, s string) bool {
	t.Helper()
	if !barewordPair(s, scanBytes(s)) {
		return false
	}
	if ok, fp := libinjection.IsSQLi(s); ok {
		t.Fatalf("barewordPair(%q) = true, but libinjection.IsSQLi is true (fingerprint %q)", s, fp)
	}
	return true
}

func FuzzLibinjectionGate(f *testing.F) {
	for _, s := range []string{"union select 1", "or 1=1 --", "; drop table users", "(1) or (1)=(1)", "x ( user ( ) )", "1 and sleep(5)#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkGate(t, s)
		checkGate(t, "Ring the "+s)
		checkGate(t, "a b"+s)
	})
}

// TestLibinjectionGate checks that libinjection flags nothing barewordPair
// passes: the corpus as it is and behind two plain words, and generated
// values of two words (plain, keywords, phrase starts, function names, in
// any case) followed by SQL.
func TestLibinjectionGate(t *testing.T) {
	if !barewordGate {
		t.Fatal("the gate is off: libinjection's table changed shape")
	}
	passed := 0
	forCorpus(t, func(row corpusRow) {
		for _, v := range []string{row.Payload, "Ring the " + row.Payload, "energy gel" + row.Payload, "a\x00b\xa0" + row.Payload} {
			if checkGate(t, v) {
				passed++
			}
		}
	})
	words := []string{"ring", "the", "bell", "energy", "gel", "merino", "wool", "x", "a", "b", "e", "n", "q", "u", "nq", "xy", "abc_1", "w0rd",
		"at", "current", "full", "next", "previous", "user", "user_id", "database", "password", "localtime", "current_date",
		"select", "union", "or", "and", "not", "in", "like", "is", "null", "true", "if", "char", "count", "sleep", "collate", "div",
		"table", "from", "where", "left", "right", "join", "by", "order", "group", "having", "exec", "declare", "into"}
	for k := range libinjectionKeywords {
		if k != "" && isLetter(k[0]) && !strings.ContainsAny(k, " .`") && len(words) < 2000 {
			words = append(words, strings.ToLower(k))
		}
	}
	sortStrings(words)
	seps := []string{" ", "  ", "\t", "\n", "\v", "\f", "\r", "\x00", "\xa0", " \x01", "\x7f"}
	tails := []string{"", " ", "(", ")", "((", "(1)", ",", ";", ".", "1", "0x1f", "1e5", "-", "--", "-- ", "#", "=", "<>", "!=", "||", "&&",
		"::", "@", "@@version", "$", "$$x$$", "\\N", "[", "]", "}", "?", ":", "~", "!", "%", "^", "*", "+", "<", ">", "` `", "`x`",
		" union select 1", " or 1=1", " and 1=1--", "; drop table x", " union all select", " into outfile", " waitfor delay '0:0:5'",
		" or true", " is not null", " in (1,2)", " like 'a%'", " user()", "(user())", " char(65)", " version()", " 1 union"}
	rng := rand.New(rand.NewPCG(79, 83))
	var b strings.Builder
	for range cases(400000) {
		b.Reset()
		if rng.IntN(4) == 0 {
			b.WriteString(seps[rng.IntN(len(seps))])
		}
		for k := 0; k < 2; k++ {
			w := words[rng.IntN(len(words))]
			if rng.IntN(3) == 0 {
				w = strings.ToUpper(w)
			}
			b.WriteString(w)
			if k == 0 {
				b.WriteString(seps[rng.IntN(len(seps))])
			}
		}
		for k := rng.IntN(6); k > 0; k-- {
			b.WriteString(tails[rng.IntN(len(tails))])
			if rng.IntN(2) == 0 {
				b.WriteString(words[rng.IntN(len(words))])
			}
		}
		if checkGate(t, b.String()) {
			passed++
		}
	}
	// Words libinjection reads differently than a lone word: its phrases
	// ("CURRENT DATE") and dotted names ("DBMS_LOCK.SLEEP"), as the first
	// words and after a plain one, before SQL.
	var special []string
	for k := range libinjectionKeywords {
		if k != "" && isLetter(k[0]) && strings.ContainsAny(k, " .") {
			special = append(special, k)
		}
	}
	sortStrings(special)
	for _, k := range special {
		for _, pre := range []string{"", "x ", "Ring "} {
			for _, tail := range tails {
				for _, v := range []string{pre + k + tail, pre + strings.ToLower(k) + tail, pre + k + "(1)" + tail, pre + k + " " + k + tail} {
					if checkGate(t, v) {
						passed++
					}
				}
			}
		}
	}
	if passed < cases(50000) {
		t.Fatalf("only %d values passed the gate: the test checks too little", passed)
	}
	t.Logf("%d values passed the gate", passed)
}
