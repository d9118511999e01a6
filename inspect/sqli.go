package inspect

import (
	"strings"
)

// SQL injection reasons.
const (
	ReasonSQLFingerprint  = "sql_fingerprint"   // libinjection's token fingerprint matched
	ReasonSQLUnion        = "sql_union_select"  // UNION [ALL] SELECT
	ReasonSQLStacked      = "sql_stacked_query" // ; followed by a statement
	ReasonSQLTautology    = "sql_boolean_logic" // OR/AND with a comparison after a breakout or of literals
	ReasonSQLComment      = "sql_comment_breakout"
	ReasonSQLFunction     = "sql_function"      // a function or object only SQL uses
	ReasonSQLTimeDelay    = "sql_time_delay"    // WAITFOR DELAY, SLEEP(, BENCHMARK(
	ReasonSQLExecComment  = "sql_exec_comment"  // MySQL /*! executable comment
	ReasonSQLTypeCast     = "sql_type_cast"     // PostgreSQL ::int style casts
	ReasonSQLSelect       = "sql_select"        // SELECT of *, @@var, a function or from a breakout
	ReasonSQLClause       = "sql_clause"        // ORDER BY n, HAVING/GROUP BY after a breakout
	ReasonSQLExec         = "sql_exec"          // EXEC master.., DECLARE @x
	ReasonSQLFileAccess   = "sql_file_access"   // INTO OUTFILE, LOAD_FILE(
	ReasonSQLSystemObject = "sql_system_object" // information_schema, sysobjects, ...
)

// sqlObjects are identifiers that name database internals; ordinary text
// does not contain them.
var sqlObjects = map[string]bool{
	"information_schema": true, "sysobjects": true, "syscolumns": true, "sysusers": true,
	"sysdatabases": true, "sysibm": true, "syscat": true, "sysprocesses": true, "sysxlogins": true,
	"pg_shadow": true, "pg_user": true, "pg_catalog": true, "pg_database": true, "pg_tables": true,
	"pg_group": true, "pg_roles": true, "pg_authid": true,
	"all_tables": true, "all_tab_columns": true, "all_users": true, "user_tables": true,
	"user_tab_columns": true, "dba_users": true, "v$version": true, "sqlite_master": true,
	"sqlite_schema": true, "mysql": false, "msysobjects": true, "master..sysdatabases": true,
	"xp_cmdshell": true, "xp_regread": true, "xp_regwrite": true, "xp_dirtree": true,
	"xp_fileexist": true, "xp_servicecontrol": true, "sp_executesql": true, "sp_oacreate": true,
	"sp_oamethod": true, "sp_password": true, "sp_addlogin": true, "sp_addsrvrolemember": true,
	"sp_makewebtask": true, "sp_configure": true, "sp_helpdb": true, "sp_who": true,
	"utl_http": true, "utl_inaddr": true, "utl_file": true, "dbms_pipe": true, "dbms_lock": true,
	"dbms_xmlgen": true, "dbms_java": true, "dbms_sql": true, "sys_context": true, "sys_eval": true,
	"sys_exec": true, "@@version": true, "@@servername": true, "@@hostname": true, "@@datadir": true,
	"@@basedir": true, "@@microsoftversion": true, "@@language": true, "@@spid": true,
	"current_user": true, "session_user": true, "system_user": true, "sysdummy1": true,
}

// sqlFuncs are functions whose call, name immediately followed by '(',
// marks SQL; the value says whether a space before '(' still counts (true
// for names no prose uses).
var sqlFuncs = map[string]bool{
	"sleep": false, "benchmark": true, "pg_sleep": true, "load_file": true, "extractvalue": true,
	"updatexml": true, "group_concat": true, "concat_ws": true, "name_const": true, "make_set": true,
	"unhex": true, "hex": false, "char": false, "chr": false, "nchar": false, "ascii": false,
	"substring": false, "substr": false, "mid": false, "database": false, "version": false,
	"user": false, "schema": false, "md5": false, "sha1": true, "ifnull": true, "isnull": false,
	"nullif": true, "coalesce": true, "convert": false, "cast": false, "concat": false,
	"elt": false, "floor": false, "rand": false, "randomblob": true, "sqlite_version": true,
	"sqlite_compileoption_used": true, "sqlite_compileoption_get": true, "load_extension": true,
	"lo_import": true, "lo_export": true, "lo_get": true, "pg_read_file": true, "pg_ls_dir": true,
	"json_extract": true, "json_search": true, "json_depth": true, "json_keys": true,
	"json_array": false, "jsonb_pretty": true, "json_build_object": true, "to_char": true,
	"utl_inaddr.get_host_address": true, "dbms_pipe.receive_message": true, "current_user": true,
	"session_user": true, "system_user": true, "sysdate": true, "db_name": true, "user_name": true,
	"suser_name": true, "is_srvrolemember": true, "has_dbaccess": true, "current_database": true,
	"geometrycollection": true, "multipoint": true, "polygon": false, "linestring": true,
	"exp": false, "uncompress": true, "compress": false, "starts_with": true, "unistr": true,
	"overlay": false, "group_concat_max_len": true, "ord": false, "waitfor": true, "xmltype": true,
	"ctxsys.drithsx.sn": true, "count": false, "if": false, "iif": true, "case": false,
	"find_in_set": true, "strcmp": false, "json_valid": true, "likelihood": false, "unlikely": false,
	"rtrim": false, "ltrim": false, "instr": true, "locate": false, "soundex": true,
}

// sqlTypes are PostgreSQL type names after the :: cast operator.
var sqlTypes = map[string]bool{
	"int": true, "integer": true, "int4": true, "int8": true, "bigint": true, "text": true,
	"bool": true, "boolean": true, "json": true, "jsonb": true, "varchar": true, "numeric": true,
	"regclass": true, "oid": true, "bytea": true, "char": true, "float": true, "real": true,
	"name": true, "xml": true,
}

var sqlStatements = map[string]bool{
	"select": true, "insert": true, "update": true, "delete": true, "drop": true, "create": true,
	"alter": true, "truncate": true, "declare": true, "exec": true, "execute": true,
	"shutdown": true, "waitfor": true, "grant": true, "revoke": true, "backup": true, "set": true,
	"copy": true, "desc": true, "describe": true, "replace": true, "rename": true, "load": true,
	"handler": true, "call": true, "print": true, "union": true, "show": true, "use": true,
	"merge": true, "analyze": true, "begin": true, "commit": true, "rollback": true, "do": true,
}

var sqlDDLObjects = map[string]bool{
	"table": true, "database": true, "view": true, "function": true, "procedure": true,
	"user": true, "index": true, "schema": true, "trigger": true, "login": true, "column": true,
	"temporary": true, "if": true, "or": true, "event": true, "role": true,
}

// The word lists behind their filters (wordMap).
var (
	sqlObjectSet    = newWordMap(sqlObjects)
	sqlFuncSet      = newWordMap(sqlFuncs)
	sqlTypeSet      = newWordMap(sqlTypes)
	sqlStatementSet = newWordMap(sqlStatements)
	sqlDDLObjectSet = newWordMap(sqlDDLObjects)
	sqlGlueWordSet  = newWordMap(sqlGlueWords)
	sqlExprWordSet  = newWordMap(sqlExprWords)
)

// sqlRuleSwitchWords are the words of the switch in sqlRules' word case.
var sqlRuleSwitchWords = []string{"union", "select", "waitfor", "exec", "execute", "declare", "into", "order", "group",
	"having", "procedure", "case", "limit", "collate", "create", "drop", "alter", "truncate", "as", "shutdown"}

// sqlRuleWordSet has every word sqlRules looks at a word token for:
// objects, functions, boolean operators and the words of its switch.
var sqlRuleWordSet = func() *wordMap[bool] {
	m := map[string]bool{"or": true, "and": true, "xor": true, "div": true}
	for _, w := range sqlRuleSwitchWords {
		m[w] = true
	}
	for w := range sqlObjects {
		m[w] = true
	}
	for w := range sqlFuncs {
		m[w] = true
	}
	return newWordMap(m)
}()

// sqlCmp are comparison operators, word and symbolic.
func isSQLCmp(t token) bool {
	switch t.kind {
	case tOp:
		switch t.text {
		case "=", "==", "!=", "<>", "<", ">", "<=", ">=", "<=>", "@>", "<@", "->", "->>", "#>", "#>>", "?|", "?&", "@?", "!<", "!>", "~*", "!~", "~", "===", "!==":
			return true
		}
	case tWord:
		switch t.text {
		case "like", "ilike", "rlike", "regexp", "is", "in", "between", "glob", "similar", "sounds", "notnull", "isnull", "match":
			return true
		}
	case tPunct:
		return t.text == "?"
	}
	return false
}

func isBoolOp(t token) bool {
	switch t.kind {
	case tWord:
		return t.text == "or" || t.text == "and" || t.text == "xor" || t.text == "div"
	case tOp:
		return t.text == "||" || t.text == "&&"
	}
	return false
}

func isOperand(t token) bool {
	switch t.kind {
	case tNumber, tVar:
		return true
	case tWord:
		return !sqlStatementSet.val(t.text) && !isBoolOp(t)
	}
	return false
}

// sqlInertBytes are the bytes sqlRulesInert excludes: every byte that
// makes a quote, comment, variable, operator or bracket token, or starts
// a decoding (flags: see scanBytes). What remains: letters, digits, space,
// '.', ',', '(', ')', ';', '!', '^', '~'.
const sqlInertBytes = fQuote | fAngle | fPipe | fAmp | fDollar | fPercent | fBackslash | fSlash | fEq | fDash |
	fHash | fNonASCII | fCtl | fPlus | fStar | fBrace | fColon | fAt | fGlob | fBacktick

// sqlInertWordSet has the words that make sqlRules look further: those
// of sqlRuleWordSet, and the statements it looks for after ';'; the value
// is true for the function names (sqlFuncs), which act only before '('.
var sqlInertWordSet = func() *wordMap[bool] {
	m := map[string]bool{}
	for w := range sqlRuleWordSet.m {
		m[w] = true
	}
	for w := range sqlFuncs {
		m[w] = true
	}
	always := map[string]bool{"or": true, "and": true, "xor": true, "div": true}
	for _, w := range sqlRuleSwitchWords {
		always[w] = true
	}
	for w := range sqlObjects {
		always[w] = true
	}
	for w := range sqlStatements {
		always[w] = true
	}
	for w := range always {
		m[w] = false
	}
	return newWordMap(m)
}()

// sqlRulesInert reports whether sqlRules provably finds nothing in the
// tokens of v (flags are v's byte flags), so that detectSQLi's answer is
// libinjection's alone and v need not be lexed.
//
// Why. With none of sqlInertBytes in v, its tokens (sqlLex of v lower-
// cased) are words, numbers and the punctuation ( ) , . ; and single-byte
// operators ! ^ ~ (the only operators those bytes make, none an equality).
// Then: breakoutGrammar needs a quote, a comment, or a number holding
// ".e" (excluded: v has no ".e" in any case); literalComparison needs an
// equality operator; markPhrases only marks quotes; in sqlRules' loop,
// comments, quotes and variables do not occur, operators act only when
// "::" or a boolean operator ("||", "&&"), '(' and ')' only count depth,
// ';' acts only before a statement word, and a word acts only when in
// sqlRuleWordSet, a function name only when the next token is '(' (the
// other uses of sqlFuncs are reached from words of the set). A word token
// is a run of [a-z0-9_] starting with a letter or '_' (a run starting with
// a digit is a number token, which the loop ignores): no such run of v is
// a statement or in sqlRuleWordSet, but a function name not followed by
// spaces and '('. detectSQLi's second pass needs "/*". TestSQLInert checks
// the claim on the corpus and generated values.
func sqlRulesInert(v string, flags uint64) bool {
	if flags&sqlInertBytes != 0 || flags&fDot != 0 && containsFold(v, ".e") {
		return false
	}
	var buf [20]byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		if charClass[c]&cSQLWord == 0 {
			continue
		}
		start := i
		for i+1 < len(v) && charClass[v[i+1]]&cSQLWord != 0 {
			i++
		}
		n := i + 1 - start
		if c <= '9' || !bloomHas(&sqlInertWordSet.f, c, v[i], n) {
			continue // a number, or a word none of the set can be
		}
		if n > len(buf) {
			return false // longer than any word of the set: taken for one, which is safe
		}
		for k := 0; k < n; k++ {
			buf[k] = lowerByte(v[start+k])
		}
		call, ok := sqlInertWordSet.m[string(buf[:n])]
		if !ok {
			continue
		}
		if !call {
			return false
		}
		k := i + 1
		for k < len(v) && v[k] == ' ' {
			k++
		}
		if k < len(v) && v[k] == '(' {
			return false // a function called
		}
	}
	return true
}

// detectSQLi reports SQL injection in v, whose lower-cased form is lower,
// byte flags flags and tokens toks.
func detectSQLi(v, lower string, flags uint64, toks []token) (string, bool) {
	if libinjectionSQLi(v, flags) {
		return ReasonSQLFingerprint, true
	}
	if r, ok := sqlRules(toks); ok {
		return r, true
	}
	// Comments inside keywords ("un/**/ion sel/**/ect").
	if strings.Contains(lower, "/*") {
		stripped := stripBlockComments(lower)
		if stripped != lower {
			var buf [64]token
			if r, ok := sqlRules(sqlLex(stripped, buf[:0])); ok {
				return r, true
			}
		}
	}
	return "", false
}

func stripBlockComments(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "/*")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		j := strings.Index(s[i+2:], "*/")
		if j < 0 {
			return b.String()
		}
		s = s[i+2+j+2:]
	}
}

// next returns the index of the first token at or after i that is not a
// comment, or len(toks).
func next(toks []token, i int) int {
	for i < len(toks) && toks[i].kind == tComment && toks[i].text == "/*" {
		i++
	}
	return i
}

// literalComparison reports whether toks are just a comparison of two
// literals, "1=1" or "'x'!='y'", optionally followed by a comment.
func literalComparison(toks []token) bool {
	i, ok := literalAt(toks, 0)
	if !ok || i >= len(toks) || toks[i].kind != tOp {
		return false
	}
	switch toks[i].text { // equality: "123<456" is arithmetic, "1=1" a tautology
	case "=", "==", "!=", "<>", "<=>":
	default:
		return false
	}
	j, ok := literalAt(toks, i+1)
	return ok && (j == len(toks) || j == len(toks)-1 && toks[j].kind == tComment)
}

// literalAt returns the index after the number or quoted string at i.
func literalAt(toks []token, i int) (int, bool) {
	switch {
	case i >= len(toks):
		return i, false
	case toks[i].kind == tNumber:
		return i + 1, true
	case toks[i].kind == tQuote:
		if i+1 < len(toks) && toks[i+1].kind == tQuote && toks[i+1].text == toks[i].text {
			return i + 2, true
		}
		if i+2 < len(toks) && toks[i+2].kind == tQuote && toks[i+2].text == toks[i].text && toks[i+1].kind != tQuote {
			return i + 3, true
		}
		if i+1 < len(toks) && toks[i+1].kind != tQuote && i+2 == len(toks) {
			return i + 2, true // 'x'!='y: the last literal is left open
		}
	}
	return i, false
}

// markPhrases marks the quotes of quoted phrases ("make check", 'rose
// gold'): a quote followed, before its twin, only by words and numbers
// that are not SQL operators. Such quotes delimit data, not a breakout.
func markPhrases(toks []token) {
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tQuote || toks[i].follow != 0 {
			continue
		}
		j := i + 1
		for j < len(toks) && (toks[j].kind == tWord && !isBoolOp(toks[j]) && !sqlStatementSet.val(toks[j].text) || toks[j].kind == tNumber || toks[j].kind == tPunct && (toks[j].text == "," || toks[j].text == "." || toks[j].text == "-")) {
			j++
		}
		if j > i+1 && j < len(toks) && toks[j].kind == tQuote && toks[j].text == toks[i].text {
			toks[i].follow, toks[j].follow = 'p', 'p'
			i = j
		}
	}
}

func sqlRules(toks []token) (string, bool) {
	if r, ok := breakoutGrammar(toks); ok {
		return r, true
	}
	if len(toks) >= 3 && len(toks) <= 8 && literalComparison(toks) {
		return ReasonSQLTautology, true
	}
	markPhrases(toks)
	breakout := false // a closing quote or paren has been seen: we are past the app's literal
	depth := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		n := next(toks, i+1)
		var nt token
		if n < len(toks) {
			nt = toks[n]
		}
		switch t.kind {
		case tComment:
			if t.text == "/*!" {
				return ReasonSQLExecComment, true
			}
			// A quote (and closing parens or ;) right before a comment:
			// "admin'--", "1') #".
			if t.text != "/*" && i > 0 && breakoutBefore(toks, i) && commentEndsInput(toks, i) {
				return ReasonSQLComment, true
			}
		case tQuote:
			if closingQuote(toks, i) {
				breakout = true
				// 'union ..., 'alter ...: a keyword straight after the
				// quote, not itself quoted ("'union' member" is a word).
				if t.text == "'" && nt.kind == tWord && (nt.text == "union" || nt.text == "select" || nt.text == "alter" || nt.text == "insert" || nt.text == "delete" || nt.text == "drop" || nt.text == "exec" || nt.text == "having" || nt.text == "waitfor") {
					k := next(toks, n+1)
					if k >= len(toks) || toks[k].kind == tComment || toks[k].kind == tPunct && toks[k].text != "," && toks[k].text != "." ||
						nt.text == "union" && (toks[k].text == "select" || toks[k].text == "all" || toks[k].text == "distinct") ||
						nt.text == "alter" && sqlDDLObjectSet.val(toks[k].text) {
						return ReasonSQLClause, true
					}
				}
			}
		case tVar:
			if sqlObjectSet.val(t.text) {
				return ReasonSQLSystemObject, true
			}
			if strings.HasPrefix(t.text, "@@") && len(t.text) > 2 {
				return ReasonSQLSystemObject, true
			}
		case tOp:
			if t.text == "::" && nt.kind == tWord && sqlTypeSet.val(nt.text) && i > 0 {
				return ReasonSQLTypeCast, true
			}
			if isBoolOp(t) {
				if r, ok := boolExpr(toks, n, breakout); ok {
					return r, true
				}
			}
		case tPunct:
			switch t.text {
			case "(":
				depth++
			case ")":
				depth--
				if depth < 0 {
					breakout = true // closes a parenthesis the value did not open
				}
			case ";":
				if nt.kind == tWord && sqlStatementSet.val(nt.text) && stackedStatement(toks, n) {
					return ReasonSQLStacked, true
				}
				// "; --" ending the value: terminate the query, comment the rest.
				if nt.kind == tComment && n == len(toks)-1 && commentEndsInput(toks, n) && (i == 0 || breakout) {
					return ReasonSQLComment, true
				}
			}
		case tWord:
			w := t.text
			if !sqlRuleWordSet.val(w) {
				break // none of the words below: nothing in this case applies
			}
			if sqlObjectSet.val(w) {
				return ReasonSQLSystemObject, true
			}
			if spaced, ok := sqlFuncSet.get(w); ok && nt.kind == tPunct && nt.text == "(" {
				if spaced || (n == i+1 && adjacent(toks, i)) {
					switch w {
					case "sleep", "benchmark", "pg_sleep", "waitfor":
						return ReasonSQLTimeDelay, true
					case "load_file", "lo_import", "lo_export", "pg_read_file", "pg_ls_dir":
						return ReasonSQLFileAccess, true
					case "char", "chr", "nchar", "ascii", "hex", "md5", "substring", "substr", "mid",
						"database", "version", "user", "schema", "convert", "cast", "concat", "elt",
						"floor", "rand", "exp", "polygon", "ord", "count", "if", "case", "compress",
						"overlay", "sleep2", "isnull", "json_array":
						// Common words: count them only with SQL around.
						if !sqlContext(toks, i) {
							continue
						}
					}
					return ReasonSQLFunction, true
				}
			}
			if isBoolOp(t) {
				if r, ok := boolExpr(toks, n, breakout); ok {
					return r, true
				}
			}
			switch w {
			case "union":
				k := n
				for k < len(toks) && (toks[k].text == "all" || toks[k].text == "distinct" || toks[k].text == "distinctrow" || toks[k].text == "(") {
					k = next(toks, k+1)
				}
				if k < len(toks) && toks[k].text == "select" {
					return ReasonSQLUnion, true
				}
			case "select":
				if selectInjection(toks, i, n, breakout) {
					return ReasonSQLSelect, true
				}
			case "waitfor":
				if nt.text == "delay" || nt.text == "time" {
					return ReasonSQLTimeDelay, true
				}
			case "exec", "execute":
				if nt.kind == tVar || nt.text == "master" || nt.text == "immediate" ||
					strings.HasPrefix(nt.text, "xp_") || strings.HasPrefix(nt.text, "sp_") ||
					(nt.text == "(" && n+1 < len(toks) && toks[n+1].kind == tVar) {
					return ReasonSQLExec, true
				}
			case "declare":
				if nt.kind == tVar {
					return ReasonSQLExec, true
				}
			case "into":
				if nt.text == "outfile" || nt.text == "dumpfile" {
					return ReasonSQLFileAccess, true
				}
			case "order", "group":
				if nt.text == "by" {
					k := next(toks, n+1)
					if k >= len(toks) {
						if breakout || i == 0 {
							return ReasonSQLClause, true
						}
						continue
					}
					kt := toks[k]
					if kt.kind == tNumber || (kt.kind == tWord && (kt.text == "if" || kt.text == "case")) || kt.text == "(" || (breakout && kt.kind == tComment) {
						return ReasonSQLClause, true
					}
				}
			case "having":
				if k := next(toks, n+1); n < len(toks) && k < len(toks) && isOperand(toks[n]) && isSQLCmp(toks[k]) {
					return ReasonSQLClause, true
				}
			case "procedure":
				if nt.text == "analyse" || nt.text == "analyze" {
					return ReasonSQLFunction, true
				}
			case "case":
				// CASE [x] WHEN ... THEN ... END
				if k := n; k < len(toks) && (nt.text == "when" || k+1 < len(toks) && toks[k+1].text == "when") {
					then, end := false, false
					for j := k; j < len(toks) && j < i+24; j++ {
						then = then || toks[j].text == "then"
						end = end || then && toks[j].text == "end"
					}
					if then && end {
						return ReasonSQLClause, true
					}
				}
			case "limit":
				// LIMIT n,n ending the value or before a comment
				if nt.kind == tNumber && n+2 < len(toks) && toks[n+1].text == "," && toks[n+2].kind == tNumber {
					if k := n + 3; k == len(toks) || toks[k].kind == tComment && toks[k].text != "/*" {
						return ReasonSQLClause, true
					}
				}
			case "collate":
				if breakout {
					return ReasonSQLClause, true
				}
			case "create", "drop", "alter", "truncate":
				// DDL on a named object: create table persons
				if nt.kind == tWord && sqlDDLObjectSet.val(nt.text) && nt.text != "if" && nt.text != "or" && nt.text != "user" {
					k := next(toks, n+1)
					if k < len(toks) && (toks[k].kind == tWord || toks[k].kind == tQuote) {
						k2 := next(toks, k+1)
						if toks[k].kind == tQuote || k2 >= len(toks) || toks[k2].text == "(" || toks[k2].text == ";" || toks[k2].kind == tComment || toks[k2].kind == tWord && (toks[k2].text == "add" || toks[k2].text == "change" || toks[k2].text == "drop" || toks[k2].text == "modify" || toks[k2].text == "rename" || toks[k2].text == "as") {
							return ReasonSQLStacked, true
						}
					}
				}
			case "as":
				// ") AS alias FROM", "` AS `x` from": a select list after a breakout.
				if breakout && n < len(toks) {
					k := n
					if toks[k].kind == tQuote && k+2 < len(toks) {
						k += 2
					}
					if k2 := next(toks, k+1); k2 < len(toks) && toks[k2].kind == tQuote {
						k = k2
					}
					if k3 := next(toks, k+1); k3 < len(toks) && toks[k3].text == "from" {
						return ReasonSQLSelect, true
					}
				}
			case "shutdown":
				if i > 0 && toks[i-1].text == ";" {
					return ReasonSQLStacked, true
				}
			}
		}
	}
	return "", false
}

// adjacent reports whether token i is directly followed, without space,
// by token i+1 in the source.
func adjacent(toks []token, i int) bool {
	return i+1 < len(toks) && toks[i].pos+len(toks[i].text) == toks[i+1].pos
}

// breakoutBefore reports whether the tokens before the comment at i end a
// literal: a quote, optionally followed by closing parens and semicolons.
func breakoutBefore(toks []token, i int) bool {
	for k := i - 1; k >= 0; k-- {
		switch {
		case toks[k].kind == tQuote:
			return closingQuote(toks, k)
		case toks[k].kind == tPunct && (toks[k].text == ")" || toks[k].text == ";"):
			continue
		default:
			return false
		}
	}
	return false
}

// commentEndsInput reports whether the comment at i cuts off the rest of
// the application's query: it is the last token, and a "#" ends the value
// or its line while "--" is followed by a space, a '-' or nothing, as
// MySQL requires ("--INFANT" in a product search is not a comment).
func commentEndsInput(toks []token, i int) bool {
	if i != len(toks)-1 {
		return false
	}
	if toks[i].text == "#" {
		return toks[i].follow == 0 || toks[i].follow == '\n' || toks[i].follow == '\r'
	}
	return toks[i].follow == 0 || toks[i].follow == ' ' || toks[i].follow == '\n' ||
		toks[i].follow == '\t' || toks[i].follow == '\r' || toks[i].follow == '-' || toks[i].follow == '+' ||
		toks[i].text == "--" && (toks[i].follow == ';' || toks[i].follow == '\'' || toks[i].follow == '"')
}

// closingQuote reports whether the quote at i ends the application's
// literal rather than being an apostrophe or an opening quote: it starts
// the value (after spaces) or is glued to what precedes it, and is not the
// apostrophe of a contraction ("it's", "don't").
func closingQuote(toks []token, i int) bool {
	t := toks[i]
	if t.follow == 'p' {
		return false // a quoted phrase's quote
	}
	if i == 0 {
		return true
	}
	prev := toks[i-1]
	if prev.pos+len(prev.text) != t.pos {
		return false // preceded by a space: an opening quote
	}
	if t.text == "'" && prev.kind == tWord && i+1 < len(toks) && adjacent(toks, i) && toks[i+1].kind == tWord {
		switch toks[i+1].text {
		case "s", "t", "d", "ll", "re", "ve", "m":
			return false
		}
	}
	return true
}

// sqlContext reports whether the tokens around i carry other SQL syntax:
// a quote, a SQL keyword, a comment or a comparison.
func sqlContext(toks []token, i int) bool {
	lo, hi := max(0, i-4), min(len(toks), i+8)
	for k := lo; k < hi; k++ {
		if k == i {
			continue
		}
		t := toks[k]
		switch t.kind {
		case tQuote, tComment, tVar:
			return true
		case tWord:
			if sqlStatementSet.val(t.text) || t.text == "from" || t.text == "where" || t.text == "limit" || isBoolOp(t) {
				return true
			}
			if _, ok := sqlFuncSet.get(t.text); ok && k+1 < len(toks) && toks[k+1].text == "(" {
				return true
			}
		case tOp:
			if isSQLCmp(t) || t.text == "||" {
				return true
			}
		case tPunct:
			if t.text == ";" {
				return true
			}
		}
	}
	return false
}

// stackedStatement checks that the statement keyword at i starts a real
// statement rather than a word of prose after a semicolon.
func stackedStatement(toks []token, i int) bool {
	k := next(toks, i+1)
	if k >= len(toks) {
		// ";drop" at the end: nothing else is needed for the statements
		// prose does not end a clause with.
		switch toks[i].text {
		case "drop", "truncate", "shutdown", "waitfor", "declare", "exec", "execute", "select", "union", "insert", "delete", "update":
			return true
		}
		return false
	}
	nt := toks[k]
	if nt.kind == tComment && (nt.text == "/*" || commentEndsInput(toks, k)) {
		return true // a real comment, not an option like --update
	}
	switch toks[i].text {
	case "drop", "create", "alter", "truncate":
		return nt.kind == tWord && sqlDDLObjectSet.val(nt.text) || nt.kind == tPunct && nt.text == "["
	case "insert", "replace":
		return nt.text == "into" || nt.text == "/*"
	case "delete":
		return nt.text == "from"
	case "update":
		k2 := next(toks, k+1)
		return nt.kind == tWord && (k2 >= len(toks) || toks[k2].text == "set" || toks[k2].text == ";" || toks[k2].kind == tComment)
	case "select":
		return nt.kind != tWord || sqlFuncSet.val(nt.text) || sqlObjectSet.val(nt.text) || nt.text == "if" ||
			nt.text == "case" || nt.text == "null" || nt.text == "top" || nt.text == "distinct" ||
			k+1 < len(toks) && (toks[k+1].text == "from" || toks[k+1].text == "(" || toks[k+1].text == ",")
	case "declare", "set":
		return nt.kind == tVar
	case "exec", "execute":
		return nt.kind == tVar || nt.text == "master" || nt.text == "immediate" || nt.text == "(" ||
			strings.HasPrefix(nt.text, "xp_") || strings.HasPrefix(nt.text, "sp_")
	case "waitfor":
		return nt.text == "delay" || nt.text == "time"
	case "shutdown":
		return nt.text == "with"
	case "grant", "revoke":
		return nt.text == "all" || nt.text == "connect" || nt.text == "resource" || nt.text == "select" || nt.text == "dba"
	case "backup":
		return nt.text == "database" || nt.text == "log"
	case "copy":
		k2 := next(toks, k+1)
		return k2 < len(toks) && (toks[k2].text == "from" || toks[k2].text == "to")
	case "desc", "describe", "show":
		k2 := next(toks, k+1)
		return nt.kind == tWord && (k2 >= len(toks) || toks[k2].text == ";" || toks[k2].kind == tComment) ||
			toks[i].text == "show" && (nt.text == "tables" || nt.text == "databases" || nt.text == "grants")
	case "print":
		return nt.kind == tVar
	case "union":
		return nt.text == "select" || nt.text == "all"
	case "call", "do":
		k2 := next(toks, k+1)
		return nt.kind == tWord && k2 < len(toks) && toks[k2].text == "("
	}
	return false
}

// boolExpr looks at the expression after OR/AND/XOR at i. It is injection
// when, after a breakout, a comparison or subquery follows; or when the
// comparison is between literals or the same column ("or 1=1", "or a=a").
func boolExpr(toks []token, i int, breakout bool) (string, bool) {
	k := i
	for k < len(toks) && (toks[k].text == "(" || toks[k].text == "not" || toks[k].text == "!") {
		k = next(toks, k+1)
	}
	if k >= len(toks) {
		return "", false
	}
	lhs := toks[k]
	if lhs.kind == tNumber && !breakout {
		// or 1-- / or 1#: a true literal, then the rest of the query cut off.
		if c := next(toks, k+1); c == len(toks)-1 && toks[c].kind == tComment && toks[c].bare {
			return ReasonSQLTautology, true
		}
	}
	if lhs.kind == tWord && (lhs.text == "true" || lhs.text == "false" || lhs.text == "null") {
		if breakout {
			return ReasonSQLTautology, true // ' or true
		}
		if c := next(toks, k+1); c < len(toks) && toks[c].kind == tComment && commentEndsInput(toks, c) {
			return ReasonSQLTautology, true // or true--
		}
	}
	if lhs.kind == tWord {
		if _, isFunc := sqlFuncSet.get(lhs.text); isFunc && k+1 < len(toks) && toks[k+1].text == "(" && breakout {
			return ReasonSQLTautology, true
		}
		if lhs.text == "exists" && (breakout || k+1 < len(toks) && toks[k+1].text == "(") {
			return ReasonSQLTautology, true
		}
		// ' || pkg.func('x') || ': a call concatenated after a breakout.
		if breakout && k+1 < len(toks) {
			j := k + 1
			for j+1 < len(toks) && toks[j].text == "." && toks[j+1].kind == tWord {
				j += 2
			}
			if j < len(toks) && toks[j].text == "(" && (j > k+1 || adjacent(toks, k)) {
				return ReasonSQLFunction, true
			}
		}
		if lhs.text == "select" && selectInjection(toks, k, next(toks, k+1), breakout) {
			return ReasonSQLTautology, true
		}
	}
	// lhs may be a quoted literal: ' x '
	lit := false
	if lhs.kind == tQuote {
		q := lhs.text
		j := k + 1
		// A JSON document ('{"a":[1,2]}') has many tokens before its end;
		// a backticked name (MySQL's, or Markdown's code) is no literal.
		span := 8
		if q == "'" {
			span = 32
		}
		for j < len(toks) && j < k+span && !(toks[j].kind == tQuote && toks[j].text == q) {
			j++
		}
		if j >= len(toks) || j >= k+span {
			return "", false
		}
		k, lit = j, q != "`"
	} else if lhs.kind == tNumber {
		lit = true
	} else if !isOperand(lhs) {
		return "", false
	}
	c := next(toks, k+1)
	// PostgreSQL casts on the left side: '...'::jsonb
	for c+1 < len(toks) && toks[c].text == "::" {
		c = next(toks, c+2)
	}
	if c >= len(toks) {
		// "' or 1" / "or 88": a dangling operand after a breakout.
		return "", false
	}
	if c < len(toks) && toks[c].text == "not" && c+1 < len(toks) && isSQLCmp(toks[c+1]) {
		c++ // "x not like", "x not similar to"
	}
	if !isSQLCmp(toks[c]) {
		return "", false
	}
	if breakout && (toks[c].text == "notnull" || toks[c].text == "isnull") {
		return ReasonSQLTautology, true // ' or email notnull
	}
	symbolic := toks[c].kind == tOp || toks[c].text == "?"
	if breakout && symbolic {
		return ReasonSQLTautology, true
	}
	r := next(toks, c+1)
	if breakout && r < len(toks) {
		// After a breakout a word comparison ("or x like", "and id is")
		// needs SQL on its right: a literal, NULL, a subquery.
		switch rt := toks[r]; {
		case rt.kind == tNumber, rt.kind == tQuote, rt.kind == tVar, rt.text == "(", rt.text == "null", rt.text == "not", rt.text == "true", rt.text == "false":
			return ReasonSQLTautology, true
		}
	}
	for r < len(toks) && (toks[r].text == "not" || toks[r].text == "null" && toks[c].text == "is") {
		if toks[r].text == "null" {
			return ReasonSQLTautology, true
		}
		r = next(toks, r+1)
	}
	if r >= len(toks) {
		return "", false
	}
	rhs := toks[r]
	switch {
	case rhs.text == "(":
		return ReasonSQLTautology, true
	case lit && (rhs.kind == tNumber || rhs.kind == tQuote):
		return ReasonSQLTautology, true
	case lhs.kind == tWord && rhs.kind == tWord && lhs.text == rhs.text:
		return ReasonSQLTautology, true
	case lhs.kind == tWord && rhs.kind == tQuote:
		// or name = '...: the value opens a literal like an injection does
		return ReasonSQLTautology, true
	}
	// A comment or ; after the comparison ends the application's query.
	for j := r + 1; j < len(toks) && j < r+4; j++ {
		if toks[j].kind == tComment && toks[j].text != "/*" || toks[j].text == ";" {
			return ReasonSQLTautology, true
		}
	}
	return "", false
}

// selectInjection decides whether SELECT at i is injected SQL rather than
// the word in prose or a search for "select x from y".
func selectInjection(toks []token, i, n int, breakout bool) bool {
	if n >= len(toks) {
		return breakout && i > 0
	}
	nt := toks[n]
	switch {
	case nt.text == "*" || nt.kind == tVar || nt.text == "null" || nt.text == "top" || nt.text == "(":
		return true
	case nt.kind == tNumber && n+1 < len(toks) && toks[n+1].text == ",":
		return true
	case nt.kind == tNumber && len(nt.text) > 3 && nt.text[:2] == "0x":
		return true // select 0x61646d696e: a string in hex
	case nt.kind == tWord:
		if spaced, ok := sqlFuncSet.get(nt.text); ok && (spaced || n+1 < len(toks) && toks[n+1].text == "(") {
			return true
		}
		if sqlObjectSet.val(nt.text) || nt.text == "if" || nt.text == "case" {
			return true
		}
	}
	if breakout && i > 0 {
		// After a quote or paren, SELECT followed by FROM within a few
		// tokens is a subquery.
		for k := n; k < len(toks) && k < n+8; k++ {
			if toks[k].text == "from" {
				return true
			}
		}
		p := toks[i-1]
		if p.kind == tQuote || p.text == "(" || p.text == ";" {
			return true
		}
	}
	return false
}

// sqlGlueWords are the keywords that a comment stands in for spaces
// around ("union/**/select", "select/*x*/password/**/from").
var sqlGlueWords = map[string]bool{
	"select": true, "union": true, "from": true, "where": true, "and": true, "or": true,
	"insert": true, "into": true, "values": true, "update": true, "delete": true, "drop": true,
	"table": true, "exec": true, "having": true, "limit": true, "order": true, "group": true,
	"by": true, "all": true, "like": true, "not": true, "null": true, "sleep": true,
	"waitfor": true, "delay": true, "replace": true, "xor": true, "declare": true, "set": true,
}

// sqlExprWords are words that only SQL expressions use: with one of them
// (or an operator) between a breakout quote and a closing comment, the
// value is an injected expression ("x' mod id--", "'sounds like x#").
var sqlExprWords = map[string]bool{
	"mod": true, "div": true, "xor": true, "not": true, "notnull": true, "isnull": true,
	"like": true, "rlike": true, "ilike": true, "regexp": true, "glob": true, "sounds": true,
	"null": true, "collate": true, "escape": true, "similar": true, "between": true, "is": true,
}

// breakoutGrammar finds the shapes of a value that ends the
// application's literal and then speaks SQL, whatever the words are:
//
//   - a quote, an expression with an operator, and a comment that cuts
//     the query off: x'|email--, id'not like id--, ' notnull #;
//   - a quote and ';' ending the value: admin@example.com';
//   - a quote glued to OR/AND glued to a literal: a'or'a, x'and(1);
//   - a statement from the first word, terminated and commented: DELETE
//     FROM users;--;
//   - a comment glued between keywords as whitespace:
//     SELECT/**/password/**/FROM, DROP/*x*/t;
//   - MySQL's 1.e( and 1.e.table notation, which lets a number touch an
//     identifier.
func breakoutGrammar(toks []token) (string, bool) {
	nt := len(toks)
	if nt == 0 {
		return "", false
	}
	last := toks[nt-1]
	endComment := last.kind == tComment && last.text != "/*" && last.bare
	for i, t := range toks {
		switch t.kind {
		case tQuote:
			if !closingQuote(toks, i) {
				continue
			}
			if endComment && i < nt-2 && t.text != "`" && adjacent(toks, nt-2) {
				op := false
				for k := i + 1; k < nt-1; k++ {
					switch u := toks[k]; u.kind {
					case tQuote:
						op = false
						k = nt // another literal: not this shape
					case tOp:
						op = true
					case tPunct:
						switch u.text {
						case "|", "-", "+", "^", "&", "/", "%", "*", "?", "[", "=", "<", ">":
							op = true
						}
					case tWord:
						op = op || sqlExprWordSet.val(u.text)
					}
				}
				if op && nt-i <= 12 {
					return ReasonSQLComment, true
				}
			}
			k := next(toks, i+1)
			if k < nt && toks[k].text == ";" && i > 0 && (k == nt-1 || k == nt-2 && toks[nt-1].kind == tComment) &&
				(toks[i-1].kind == tWord || toks[i-1].kind == tVar) && !isDigits(toks[i-1].text[len(toks[i-1].text)-1:]) && loneQuote(toks) {
				return ReasonSQLStacked, true
			}
			if k == i+1 && k+1 < nt && t.text != "`" && (i == 0 || toks[i-1].kind == tWord || toks[i-1].kind == tNumber || toks[i-1].text == "\\") &&
				isBoolOp(toks[k]) && toks[k].kind == tWord && adjacent(toks, i) && adjacent(toks, k) {
				if u := toks[k+1]; u.kind == tQuote || u.kind == tNumber || u.text == "(" {
					return ReasonSQLTautology, true
				}
			}
		case tComment:
			if t.text != "/*" || i == 0 || i+1 >= nt {
				continue
			}
			p, q := toks[i-1], toks[i+1]
			if p.kind == tWord && q.kind == tWord && adjacent(toks, i-1) && isWordByte(t.follow) &&
				(sqlGlueWordSet.val(p.text) || sqlGlueWordSet.val(q.text)) {
				return ReasonSQLComment, true
			}
		case tNumber:
			// 1.e(ascii), 1.e.tables
			if j := strings.Index(t.text, ".e"); j > 0 && isDigits(t.text[:j]) {
				rest := t.text[j+2:]
				if rest == "" && adjacent(toks, i) && toks[i+1].text == "(" || strings.HasPrefix(rest, ".") && len(rest) > 1 {
					return ReasonSQLFunction, true
				}
			}
		}
	}
	if endComment && nt >= 3 && toks[nt-2].text == ";" && toks[0].kind == tWord {
		switch toks[0].text {
		case "drop", "delete", "insert", "update", "truncate", "alter", "create", "select", "exec", "execute", "shutdown", "declare":
			return ReasonSQLStacked, true
		}
	}
	return "", false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// loneQuote reports whether toks hold exactly one quote: one that closes
// a literal the value never opened.
func loneQuote(toks []token) bool {
	n := 0
	for _, t := range toks {
		if t.kind == tQuote {
			n++
		}
	}
	return n == 1
}
