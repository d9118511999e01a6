package inspect

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/corazawaf/libinjection-go"
)

// checkUpperVerdict fails when libinjectionSQLi(s) and
// libinjection.IsSQLi(s) disagree.
func checkUpperVerdict(t testing.TB, s string) {
	t.Helper()
	want, _ := libinjection.IsSQLi(s)
	if got := libinjectionSQLi(s); got != want {
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
	if path := findCorpus(); path != "" {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		for sc.Scan() {
			var row corpusRow
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				t.Fatal(err)
			}
			for _, v := range sqliCaseVariants(row.Payload) {
				checkUpperVerdict(t, v)
			}
		}
	}
	rng := rand.New(rand.NewPCG(7, 11))
	frags := []string{
		"select", "SELECT", "union", "Union", "all", "from", "where", "or", "OR", "and", "not", "in", "like",
		"user", "USER_ID", "into", "outfile", "if", "IF", "exec", "xp_cmdshell", "sp_password", "Sp_Password",
		"1", "0x1f", "0X1F", "0b01", "1e5", "1E", "1.e", "2d", "3F", "1fu", "\\N", "\\n", "\\", "$", "$$", "$a$",
		"$A$", "q'", "Q'", "nq'", "N'", "x'", "X'", "b'", "e'", "u&'", "'", "\"", "`", "(", ")", ",", ";", ".",
		"--", "-- ", "#", "/*", "*/", "/*!", "@", "@@version", "=", "<>", "<=>", "!=", "||", "&&", "::", "{", "}",
		"[", "]", " ", "\t", "\n", "\xa0", "é", "ı", "ſ", "a", "Z", "q", "Q", "n", "N", "the", "bell", "ring",
	}
	for range 300000 {
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
