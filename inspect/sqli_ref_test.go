package inspect

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/corazawaf/libinjection-go"
)

// The SQL rules as they were before their word lists were put behind
// filters: TestSQLiRef and FuzzSQLiRef check refDetectSQLi and detectSQLi
// agree.

// sqlCmp are comparison operators, word and symbolic.
func refIsSQLCmp(t token) bool {
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

func refIsBoolOp(t token) bool {
	switch t.kind {
	case tWord:
		return t.text == "or" || t.text == "and" || t.text == "xor" || t.text == "div"
	case tOp:
		return t.text == "||" || t.text == "&&"
	}
	return false
}

func refIsOperand(t token) bool {
	switch t.kind {
	case tNumber, tVar:
		return true
	case tWord:
		return !sqlStatements[t.text] && !refIsBoolOp(t)
	}
	return false
}

// detectSQLi reports SQL injection in v, whose lower-cased form is lower.
func refDetectSQLi(v, lower string, toks []token) (string, bool) {
	if ok, _ := libinjection.IsSQLi(v); ok {
		return ReasonSQLFingerprint, true
	}
	if r, ok := refSqlRules(toks); ok {
		return r, true
	}
	// Comments inside keywords ("un/**/ion sel/**/ect").
	if strings.Contains(lower, "/*") {
		stripped := refStripBlockComments(lower)
		if stripped != lower {
			var buf [64]token
			if r, ok := refSqlRules(sqlLex(stripped, buf[:0])); ok {
				return r, true
			}
		}
	}
	return "", false
}

func refStripBlockComments(s string) string {
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
func refNext(toks []token, i int) int {
	for i < len(toks) && toks[i].kind == tComment && toks[i].text == "/*" {
		i++
	}
	return i
}

// literalComparison reports whether toks are just a comparison of two
// literals, "1=1" or "'x'!='y'", optionally followed by a comment.
func refLiteralComparison(toks []token) bool {
	i, ok := refLiteralAt(toks, 0)
	if !ok || i >= len(toks) || toks[i].kind != tOp {
		return false
	}
	switch toks[i].text { // equality: "123<456" is arithmetic, "1=1" a tautology
	case "=", "==", "!=", "<>", "<=>":
	default:
		return false
	}
	j, ok := refLiteralAt(toks, i+1)
	return ok && (j == len(toks) || j == len(toks)-1 && toks[j].kind == tComment)
}

// literalAt returns the index after the number or quoted string at i.
func refLiteralAt(toks []token, i int) (int, bool) {
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
func refMarkPhrases(toks []token) {
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tQuote || toks[i].follow != 0 {
			continue
		}
		j := i + 1
		for j < len(toks) && (toks[j].kind == tWord && !refIsBoolOp(toks[j]) && !sqlStatements[toks[j].text] || toks[j].kind == tNumber || toks[j].kind == tPunct && (toks[j].text == "," || toks[j].text == "." || toks[j].text == "-")) {
			j++
		}
		if j > i+1 && j < len(toks) && toks[j].kind == tQuote && toks[j].text == toks[i].text {
			toks[i].follow, toks[j].follow = 'p', 'p'
			i = j
		}
	}
}

func refSqlRules(toks []token) (string, bool) {
	if r, ok := refBreakoutGrammar(toks); ok {
		return r, true
	}
	if len(toks) >= 3 && len(toks) <= 8 && refLiteralComparison(toks) {
		return ReasonSQLTautology, true
	}
	refMarkPhrases(toks)
	breakout := false // a closing quote or paren has been seen: we are past the app's literal
	depth := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		n := refNext(toks, i+1)
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
			if t.text != "/*" && i > 0 && refBreakoutBefore(toks, i) && refCommentEndsInput(toks, i) {
				return ReasonSQLComment, true
			}
		case tQuote:
			if refClosingQuote(toks, i) {
				breakout = true
				// 'union ..., 'alter ...: a keyword straight after the
				// quote, not itself quoted ("'union' member" is a word).
				if t.text == "'" && nt.kind == tWord && (nt.text == "union" || nt.text == "select" || nt.text == "alter" || nt.text == "insert" || nt.text == "delete" || nt.text == "drop" || nt.text == "exec" || nt.text == "having" || nt.text == "waitfor") {
					k := refNext(toks, n+1)
					if k >= len(toks) || toks[k].kind == tComment || toks[k].kind == tPunct && toks[k].text != "," && toks[k].text != "." ||
						nt.text == "union" && (toks[k].text == "select" || toks[k].text == "all" || toks[k].text == "distinct") ||
						nt.text == "alter" && sqlDDLObjects[toks[k].text] {
						return ReasonSQLClause, true
					}
				}
			}
		case tVar:
			if sqlObjects[t.text] {
				return ReasonSQLSystemObject, true
			}
			if strings.HasPrefix(t.text, "@@") && len(t.text) > 2 {
				return ReasonSQLSystemObject, true
			}
		case tOp:
			if t.text == "::" && nt.kind == tWord && sqlTypes[nt.text] && i > 0 {
				return ReasonSQLTypeCast, true
			}
			if refIsBoolOp(t) {
				if r, ok := refBoolExpr(toks, n, breakout); ok {
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
				if nt.kind == tWord && sqlStatements[nt.text] && refStackedStatement(toks, n) {
					return ReasonSQLStacked, true
				}
				// "; --" ending the value: terminate the query, comment the rest.
				if nt.kind == tComment && n == len(toks)-1 && refCommentEndsInput(toks, n) && (i == 0 || breakout) {
					return ReasonSQLComment, true
				}
			}
		case tWord:
			w := t.text
			if sqlObjects[w] {
				return ReasonSQLSystemObject, true
			}
			if spaced, ok := sqlFuncs[w]; ok && nt.kind == tPunct && nt.text == "(" {
				if spaced || (n == i+1 && refAdjacent(toks, i)) {
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
						if !refSqlContext(toks, i) {
							continue
						}
					}
					return ReasonSQLFunction, true
				}
			}
			if refIsBoolOp(t) {
				if r, ok := refBoolExpr(toks, n, breakout); ok {
					return r, true
				}
			}
			switch w {
			case "union":
				k := n
				for k < len(toks) && (toks[k].text == "all" || toks[k].text == "distinct" || toks[k].text == "distinctrow" || toks[k].text == "(") {
					k = refNext(toks, k+1)
				}
				if k < len(toks) && toks[k].text == "select" {
					return ReasonSQLUnion, true
				}
			case "select":
				if refSelectInjection(toks, i, n, breakout) {
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
					k := refNext(toks, n+1)
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
				if k := refNext(toks, n+1); n < len(toks) && k < len(toks) && refIsOperand(toks[n]) && refIsSQLCmp(toks[k]) {
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
				if nt.kind == tWord && sqlDDLObjects[nt.text] && nt.text != "if" && nt.text != "or" && nt.text != "user" {
					k := refNext(toks, n+1)
					if k < len(toks) && (toks[k].kind == tWord || toks[k].kind == tQuote) {
						k2 := refNext(toks, k+1)
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
					if k2 := refNext(toks, k+1); k2 < len(toks) && toks[k2].kind == tQuote {
						k = k2
					}
					if k3 := refNext(toks, k+1); k3 < len(toks) && toks[k3].text == "from" {
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
func refAdjacent(toks []token, i int) bool {
	return i+1 < len(toks) && toks[i].pos+len(toks[i].text) == toks[i+1].pos
}

// breakoutBefore reports whether the tokens before the comment at i end a
// literal: a quote, optionally followed by closing parens and semicolons.
func refBreakoutBefore(toks []token, i int) bool {
	for k := i - 1; k >= 0; k-- {
		switch {
		case toks[k].kind == tQuote:
			return refClosingQuote(toks, k)
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
func refCommentEndsInput(toks []token, i int) bool {
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
func refClosingQuote(toks []token, i int) bool {
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
	if t.text == "'" && prev.kind == tWord && i+1 < len(toks) && refAdjacent(toks, i) && toks[i+1].kind == tWord {
		switch toks[i+1].text {
		case "s", "t", "d", "ll", "re", "ve", "m":
			return false
		}
	}
	return true
}

// sqlContext reports whether the tokens around i carry other SQL syntax:
// a quote, a SQL keyword, a comment or a comparison.
func refSqlContext(toks []token, i int) bool {
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
			if sqlStatements[t.text] || t.text == "from" || t.text == "where" || t.text == "limit" || refIsBoolOp(t) {
				return true
			}
			if _, ok := sqlFuncs[t.text]; ok && k+1 < len(toks) && toks[k+1].text == "(" {
				return true
			}
		case tOp:
			if refIsSQLCmp(t) || t.text == "||" {
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
func refStackedStatement(toks []token, i int) bool {
	k := refNext(toks, i+1)
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
	if nt.kind == tComment && (nt.text == "/*" || refCommentEndsInput(toks, k)) {
		return true // a real comment, not an option like --update
	}
	switch toks[i].text {
	case "drop", "create", "alter", "truncate":
		return nt.kind == tWord && sqlDDLObjects[nt.text] || nt.kind == tPunct && nt.text == "["
	case "insert", "replace":
		return nt.text == "into" || nt.text == "/*"
	case "delete":
		return nt.text == "from"
	case "update":
		k2 := refNext(toks, k+1)
		return nt.kind == tWord && (k2 >= len(toks) || toks[k2].text == "set" || toks[k2].text == ";" || toks[k2].kind == tComment)
	case "select":
		return nt.kind != tWord || sqlFuncs[nt.text] || sqlObjects[nt.text] || nt.text == "if" ||
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
		k2 := refNext(toks, k+1)
		return k2 < len(toks) && (toks[k2].text == "from" || toks[k2].text == "to")
	case "desc", "describe", "show":
		k2 := refNext(toks, k+1)
		return nt.kind == tWord && (k2 >= len(toks) || toks[k2].text == ";" || toks[k2].kind == tComment) ||
			toks[i].text == "show" && (nt.text == "tables" || nt.text == "databases" || nt.text == "grants")
	case "print":
		return nt.kind == tVar
	case "union":
		return nt.text == "select" || nt.text == "all"
	case "call", "do":
		k2 := refNext(toks, k+1)
		return nt.kind == tWord && k2 < len(toks) && toks[k2].text == "("
	}
	return false
}

// boolExpr looks at the expression after OR/AND/XOR at i. It is injection
// when, after a breakout, a comparison or subquery follows; or when the
// comparison is between literals or the same column ("or 1=1", "or a=a").
func refBoolExpr(toks []token, i int, breakout bool) (string, bool) {
	k := i
	for k < len(toks) && (toks[k].text == "(" || toks[k].text == "not" || toks[k].text == "!") {
		k = refNext(toks, k+1)
	}
	if k >= len(toks) {
		return "", false
	}
	lhs := toks[k]
	if lhs.kind == tNumber && !breakout {
		// or 1-- / or 1#: a true literal, then the rest of the query cut off.
		if c := refNext(toks, k+1); c == len(toks)-1 && toks[c].kind == tComment && toks[c].bare {
			return ReasonSQLTautology, true
		}
	}
	if lhs.kind == tWord && (lhs.text == "true" || lhs.text == "false" || lhs.text == "null") {
		if breakout {
			return ReasonSQLTautology, true // ' or true
		}
		if c := refNext(toks, k+1); c < len(toks) && toks[c].kind == tComment && refCommentEndsInput(toks, c) {
			return ReasonSQLTautology, true // or true--
		}
	}
	if lhs.kind == tWord {
		if _, isFunc := sqlFuncs[lhs.text]; isFunc && k+1 < len(toks) && toks[k+1].text == "(" && breakout {
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
			if j < len(toks) && toks[j].text == "(" && (j > k+1 || refAdjacent(toks, k)) {
				return ReasonSQLFunction, true
			}
		}
		if lhs.text == "select" && refSelectInjection(toks, k, refNext(toks, k+1), breakout) {
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
	} else if !refIsOperand(lhs) {
		return "", false
	}
	c := refNext(toks, k+1)
	// PostgreSQL casts on the left side: '...'::jsonb
	for c+1 < len(toks) && toks[c].text == "::" {
		c = refNext(toks, c+2)
	}
	if c >= len(toks) {
		// "' or 1" / "or 88": a dangling operand after a breakout.
		return "", false
	}
	if c < len(toks) && toks[c].text == "not" && c+1 < len(toks) && refIsSQLCmp(toks[c+1]) {
		c++ // "x not like", "x not similar to"
	}
	if !refIsSQLCmp(toks[c]) {
		return "", false
	}
	if breakout && (toks[c].text == "notnull" || toks[c].text == "isnull") {
		return ReasonSQLTautology, true // ' or email notnull
	}
	symbolic := toks[c].kind == tOp || toks[c].text == "?"
	if breakout && symbolic {
		return ReasonSQLTautology, true
	}
	r := refNext(toks, c+1)
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
		r = refNext(toks, r+1)
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
func refSelectInjection(toks []token, i, n int, breakout bool) bool {
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
		if spaced, ok := sqlFuncs[nt.text]; ok && (spaced || n+1 < len(toks) && toks[n+1].text == "(") {
			return true
		}
		if sqlObjects[nt.text] || nt.text == "if" || nt.text == "case" {
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
func refBreakoutGrammar(toks []token) (string, bool) {
	nt := len(toks)
	if nt == 0 {
		return "", false
	}
	last := toks[nt-1]
	endComment := last.kind == tComment && last.text != "/*" && last.bare
	for i, t := range toks {
		switch t.kind {
		case tQuote:
			if !refClosingQuote(toks, i) {
				continue
			}
			if endComment && i < nt-2 && t.text != "`" && refAdjacent(toks, nt-2) {
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
						op = op || sqlExprWords[u.text]
					}
				}
				if op && nt-i <= 12 {
					return ReasonSQLComment, true
				}
			}
			k := refNext(toks, i+1)
			if k < nt && toks[k].text == ";" && i > 0 && (k == nt-1 || k == nt-2 && toks[nt-1].kind == tComment) &&
				(toks[i-1].kind == tWord || toks[i-1].kind == tVar) && !refIsDigits(toks[i-1].text[len(toks[i-1].text)-1:]) && refLoneQuote(toks) {
				return ReasonSQLStacked, true
			}
			if k == i+1 && k+1 < nt && t.text != "`" && (i == 0 || toks[i-1].kind == tWord || toks[i-1].kind == tNumber || toks[i-1].text == "\\") &&
				refIsBoolOp(toks[k]) && toks[k].kind == tWord && refAdjacent(toks, i) && refAdjacent(toks, k) {
				if u := toks[k+1]; u.kind == tQuote || u.kind == tNumber || u.text == "(" {
					return ReasonSQLTautology, true
				}
			}
		case tComment:
			if t.text != "/*" || i == 0 || i+1 >= nt {
				continue
			}
			p, q := toks[i-1], toks[i+1]
			if p.kind == tWord && q.kind == tWord && refAdjacent(toks, i-1) && isWordByte(t.follow) &&
				(sqlGlueWords[p.text] || sqlGlueWords[q.text]) {
				return ReasonSQLComment, true
			}
		case tNumber:
			// 1.e(ascii), 1.e.tables
			if j := strings.Index(t.text, ".e"); j > 0 && refIsDigits(t.text[:j]) {
				rest := t.text[j+2:]
				if rest == "" && refAdjacent(toks, i) && toks[i+1].text == "(" || strings.HasPrefix(rest, ".") && len(rest) > 1 {
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

func refIsDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// loneQuote reports whether toks hold exactly one quote: one that closes
// a literal the value never opened.
func refLoneQuote(toks []token) bool {
	n := 0
	for _, t := range toks {
		if t.kind == tQuote {
			n++
		}
	}
	return n == 1
}

func checkSQLi(t testing.TB, v string) {
	t.Helper()
	lower := lowerASCII(v)
	var b1, b2 [64]token
	r1, ok1 := detectSQLi(v, lower, scanBytes(v), sqlLex(lower, b1[:0]))
	r2, ok2 := refDetectSQLi(v, lower, sqlLex(lower, b2[:0]))
	if r1 != r2 || ok1 != ok2 {
		t.Fatalf("detectSQLi(%q) = %q %v, before %q %v", v, r1, ok1, r2, ok2)
	}
}

func FuzzSQLiRef(f *testing.F) {
	for _, s := range []string{"1' OR '1'='1", "admin'--", "1 UNION ALL SELECT a,b FROM users", "1; DROP TABLE users--", "'; WAITFOR DELAY '0:0:5'--",
		"1 AND SLEEP(5)", "un/**/ion sel/**/ect password from users", "id'::int", "Ring the bell twice; the flat is on the second floor.",
		"x' or name like '%", "a'or'a", "1.e(ascii", "select @@version", "exec master..xp_cmdshell 'dir'", "Energy gel, lemon (box of 24)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSQLi(t, s)
	})
}

// sqliFragments are the pieces TestSQLiRef builds values from.
var sqliFragments = func() []string {
	fs := []string{"'", "\"", "`", "(", ")", ",", ";", ".", "--", "-- ", "#", "/*", "*/", "/*!", "/**/", "@", "@@", "=", "<>", "!=", "<", ">", "||",
		"&&", "::", "?", " ", "\n", "1", "0x41", "1.e", "1.e(", "true", "null", "not", "is", "in", "like", "from", "where", "limit", "by", "all",
		"distinct", "when", "then", "end", "as", "set", "into", "outfile", "delay", "time", "with", "master", "immediate", "xp_", "sp_", "analyse",
		"a", "x", "the", "bell", "s", "t", "it", "don", "union", "select", "waitfor", "exec", "execute", "declare", "into", "order",
		"group", "having", "procedure", "case", "limit", "collate", "create", "drop", "alter", "truncate", "as", "shutdown", "or",
		"and", "xor", "div", "analyze", "outfile", "dumpfile"}
	for _, m := range []map[string]bool{sqlObjects, sqlFuncs, sqlTypes, sqlStatements, sqlDDLObjects, sqlGlueWords, sqlExprWords} {
		for w := range m {
			fs = append(fs, w)
		}
	}
	sortStrings(fs)
	return fs
}()

// TestSQLiRef compares detectSQLi with refDetectSQLi on the corpus and on
// values generated from sqliFragments.
func TestSQLiRef(t *testing.T) {
	forCorpus(t, func(row corpusRow) {
		checkSQLi(t, row.Payload)
	})
	rng := rand.New(rand.NewPCG(61, 67))
	var b strings.Builder
	for range cases(200000) {
		b.Reset()
		for k := rng.IntN(8); k >= 0; k-- {
			b.WriteString(sqliFragments[rng.IntN(len(sqliFragments))])
			if rng.IntN(2) == 0 {
				b.WriteByte(' ')
			}
		}
		checkSQLi(t, b.String())
	}
}

// checkInert fails when sqlRulesInert passes v and sqlRules finds
// something in its tokens (or detectSQLi would strip comments).
func checkInert(t testing.TB, v string) bool {
	t.Helper()
	if !sqlRulesInert(v, scanBytes(v)) {
		return false
	}
	lower := lowerASCII(v)
	if r, ok := sqlRules(sqlLex(lower, nil)); ok || strings.Contains(lower, "/*") {
		t.Fatalf("sqlRulesInert(%q) = true, but sqlRules finds %q", v, r)
	}
	if r, ok := refSqlRules(sqlLex(lower, nil)); ok {
		t.Fatalf("sqlRulesInert(%q) = true, but the former sqlRules finds %q", v, r)
	}
	return true
}

func FuzzSQLInert(f *testing.F) {
	for _, s := range []string{"Ring the bell twice; the flat is on the second floor.", "Energy gel, lemon (box of 24)", "1.e(1)", "x; drop table y",
		"a or 1", "select 1", "3.eggs", "_select (", "order by 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkInert(t, s)
	})
}

// TestSQLInert checks sqlRulesInert against sqlRules on the corpus and on
// values made of the bytes it lets through, SQL words and near-words.
func TestSQLInert(t *testing.T) {
	passed := 0
	forCorpus(t, func(row corpusRow) {
		for _, v := range []string{row.Payload, "x " + row.Payload, strings.ToUpper(row.Payload)} {
			if checkInert(t, v) {
				passed++
			}
		}
	})
	frags := []string{" ", ".", ",", "(", ")", ";", "!", "^", "~", "!~", "'", "\"", "`", "-", "=", "1", "24", "0x41", "1.e", "1.e(", "1.e.x", "3.eggs", ".5", "1e5", "1.E(", "_",
		"a", "x", "the", "bell", "ring", "flat", "lemon", "box", "of", "if", "in", "is", "not", "like", "null", "true", "from", "where", "by",
		"all", "on", "to", "set", "mod", "exists", "_select", "selects", "xselect", "Select", "UNION", "Or", "DiV",
		"x'", "';", "x';", "'x'", "x\";", "1'", "' (", ") '", "x`;"}
	// Shapes of the rules, in the bytes the gate lets through or next to them.
	for _, v := range []string{"abc';", "abc'; ", "x') ;", "a'or'a", "a' or 'a", "1=1", "x;drop table y", "1.e(1)", "1.e.tables",
		"x'|y--", "select * from t", "union select 1", "a@b", "(a)=(a)", "x ! 1", "a ^ b", "~a", "a; select 1", "a;shutdown"} {
		checkInert(t, v)
	}
	for w := range sqlInertWordSet.m {
		frags = append(frags, w)
	}
	sortStrings(frags)
	rng := rand.New(rand.NewPCG(101, 103))
	var b strings.Builder
	for range cases(300000) {
		b.Reset()
		for k := rng.IntN(8); k >= 0; k-- {
			b.WriteString(frags[rng.IntN(len(frags))])
			if rng.IntN(2) == 0 {
				b.WriteByte(' ')
			}
		}
		if checkInert(t, b.String()) {
			passed++
		}
	}
	if passed < cases(50000) {
		t.Fatalf("only %d values passed sqlRulesInert: the test checks too little", passed)
	}
	t.Logf("%d values passed sqlRulesInert", passed)
}
