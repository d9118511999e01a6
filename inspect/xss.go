package inspect

import (
	"strings"

	"github.com/corazawaf/libinjection-go"
)

// XSS reasons.
const (
	ReasonXSSFingerprint = "html_fingerprint" // libinjection's HTML5 tokenizer found script
	ReasonXSSTag         = "html_script_tag"  // a tag that runs or loads script
	ReasonXSSEvent       = "html_event_handler"
	ReasonXSSScheme      = "script_uri"    // javascript:, vbscript:, data:text/html
	ReasonXSSSink        = "js_sink"       // alert(, eval(, document.cookie, ...
	ReasonXSSCSS         = "css_script"    // expression(, -moz-binding, behavior:
	ReasonXSSTemplate    = "template_expr" // {{constructor.constructor(...)}}
	ReasonXSSEntity      = "xml_entity"    // <!ENTITY ... SYSTEM
)

// dangerousTags run, load or redirect to script by themselves, or change
// how the rest of the page is parsed.
var dangerousTags = map[string]bool{
	"script": true, "iframe": true, "frame": true, "frameset": true, "object": true,
	"embed": true, "applet": true, "base": true, "meta": true, "link": true, "style": true,
	"svg": false, "math": false, "html": true, "body": true, "xss": true, "layer": true,
	"ilayer": true, "bgsound": true, "plaintext": true, "xmp": true, "noscript": true,
	"template": true, "isindex": true, "vmlframe": true, "import": true, "portal": true,
	"handler": true, "listener": true, "animate": true, "set": true, "foreignobject": true,
	"noembed": true, "noframes": true, "iframe2": false, "xml": false, "video": false,
	"audio": false, "marquee": false, "textarea": false, "title": false,
}

// eventStems are prefixes of DOM event handler names; "on" followed by one
// of them and '=' is an event handler attribute even without a tag.
var eventStems = []string{
	"load", "error", "mouse", "click", "dblclick", "key", "focus", "blur", "change", "submit",
	"reset", "select", "input", "abort", "drag", "drop", "scroll", "wheel", "touch", "pointer",
	"animation", "transition", "before", "after", "begin", "end", "repeat", "resize", "unload",
	"hashchange", "popstate", "pageshow", "pagehide", "message", "storage", "online", "offline",
	"play", "pause", "seek", "volume", "timeupdate", "canplay", "ended", "durationchange",
	"copy", "cut", "paste", "contextmenu", "toggle", "show", "invalid", "search", "readystate",
	"propertychange", "filterchange", "start", "finish", "bounce", "activate", "deactivate",
	"help", "zoom", "move", "wheel", "cellchange", "dataavailable", "datasetc", "errorupdate",
	"rowe", "rows", "losecapture", "control", "layoutcomplete", "webkit", "moz", "forminput",
	"formchange", "auxclick", "gotpointer", "lostpointer", "securitypolicy", "loadstart",
	"progress", "suspend", "emptied", "stalled", "waiting", "ratechange", "cuechange",
	"close", "cancel", "open", "visibility", "fullscreen", "slotchange", "encrypted",
	"orientation", "device", "print", "language", "mark", "track", "svg", "timer", "content",
}

// detectXSS reports cross-site scripting in v; lower is v lower-cased;
// the form with whitespace and control characters removed (compact) is
// built in cbuf when needed.
//
// flags are v's byte flags (scanBytes): every scheme scanSchemes looks for
// ends with ':', and every attribute scanEventAttr finds is followed by
// '=', so they run only on values with those bytes.
func detectXSS(v, lower string, flags uint64, cbuf []byte) (string, bool) {
	hasLT := flags&fAngle != 0 && strings.IndexByte(lower, '<') >= 0
	if hasLT {
		if r, ok := scanTags(lower); ok {
			return r, true
		}
	}
	if flags&fColon != 0 {
		if r, ok := scanSchemes(lower, compactFormBuf(lower, cbuf)); ok {
			return r, true
		}
	}
	if flags&fEq != 0 {
		if r, ok := scanEventAttr(lower, hasLT); ok {
			return r, true
		}
	}
	if r, ok := scanJS(lower, cbuf); ok {
		return r, true
	}
	// libinjection also flags an XML declaration and bare style=
	// attributes, which data fields carry innocently; require one of our
	// own signs of script in that case: a '<' or a quote. Without a '<',
	// its tokenizer makes no tag, comment or doctype, and an attribute
	// value follows a name only after '=': so it is not run at all on a
	// value that has neither '<' nor both '=' and a quote (the result
	// would be false or unused).
	if (hasLT || strings.IndexByte(v, '=') >= 0 && strings.ContainsAny(lower, "\"'`")) && libinjection.IsXSS(v) {
		if !xmlPrologOnly(lower) {
			return ReasonXSSFingerprint, true
		}
	}
	return "", false
}

// xmlPrologOnly reports whether the only markup in s is an XML
// declaration or processing instruction ("<?xml ...?>") followed by
// harmless elements.
func xmlPrologOnly(s string) bool {
	i := strings.Index(s, "<?xml")
	if i < 0 {
		return false
	}
	end := strings.Index(s[i:], "?>")
	if end < 0 {
		return true
	}
	rest := s[:i] + s[i+end+2:]
	return !libinjection.IsXSS(rest)
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' }

func isAlnum(c byte) bool { return isAlpha(c) || '0' <= c && c <= '9' }

// maxAttrScan bounds the attribute text examined after one tag name.
const maxAttrScan = 4096

// scanTags walks every '<' of lower-cased s and judges the tag after it.
func scanTags(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != '<' {
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == ' ' || s[j] == '/' || s[j] == '!' || s[j] == '?' || s[j] == '%' || s[j] < 0x20) {
			j++
		}
		k := j
		for k < len(s) && (isAlnum(s[k]) || s[k] == ':' || s[k] == '-' || s[k] == '_') {
			k++
		}
		if k == j {
			continue
		}
		name := s[j:k]
		if c := strings.LastIndexByte(name, ':'); c >= 0 {
			name = name[c+1:] // <x:script xmlns:x=...>
		}
		if dangerousTags[name] && (k == len(s) || !isAlnum(s[k])) {
			return ReasonXSSTag, true
		}
		if name == "entity" || name == "doctype" {
			if strings.Contains(s[k:], "system") || strings.Contains(s[k:], "public") || strings.Contains(s[k:], "entity") {
				return ReasonXSSEntity, true
			}
		}
		// Attributes up to the end of the tag (or the value).
		// The attributes run to the tag's '>', or, in a value with no
		// '>', to the next '<': scanning to the end from every '<' would
		// make "<a <a <a ..." quadratic.
		end := strings.IndexByte(s[k:], '>')
		if end < 0 {
			end = strings.IndexByte(s[k:], '<')
		}
		if end < 0 || end > maxAttrScan {
			end = min(len(s)-k, maxAttrScan)
		}
		attrs := s[k : k+end]
		if eventIn(attrs, true) {
			return ReasonXSSEvent, true
		}
		if strings.Contains(attrs, "style") && cssScript(attrs) {
			return ReasonXSSCSS, true
		}
		if strings.Contains(attrs, "xlink:href") || strings.Contains(attrs, "formaction") || strings.Contains(attrs, "ev:handler") {
			return ReasonXSSTag, true
		}
		if name == "include" && strings.HasSuffix(s[j:k], ":include") || strings.HasPrefix(s[j:], "xml:namespace") || strings.Contains(attrs, "xmlns:xi=") {
			return ReasonXSSEntity, true // XInclude, IE's <?xml:namespace import
		}
	}
	return "", false
}

// eventIn finds an event handler attribute: "on" plus letters and '=',
// not preceded by a letter. With any, every name counts (we are inside a
// tag); otherwise only known event names.
func eventIn(s string, any bool) bool {
	for i := 0; i+3 < len(s); i++ {
		if s[i] != 'o' || s[i+1] != 'n' || (i > 0 && isAlnum(s[i-1])) {
			continue
		}
		k := i + 2
		for k < len(s) && isAlpha(s[k]) {
			k++
		}
		if k-i-2 < 3 {
			continue
		}
		e := k
		for e < len(s) && (s[e] == ' ' || s[e] < 0x20) {
			e++
		}
		if e >= len(s) || s[e] != '=' || (e+1 < len(s) && s[e+1] == '=') {
			continue
		}
		if any || knownEvent(s[i+2:k]) {
			return true
		}
	}
	return false
}

func knownEvent(name string) bool {
	for _, st := range eventStems {
		if strings.HasPrefix(name, st) {
			return true
		}
	}
	return false
}

// scanEventAttr finds an attribute-breakout event handler outside a tag:
// `" onmouseover=alert(1)`.
func scanEventAttr(s string, hasLT bool) (string, bool) {
	i := strings.Index(s, "on")
	if i < 0 {
		return "", false
	}
	// Only after a quote, slash or space, which is how an attribute is
	// started when breaking out of another attribute's value.
	for ; i >= 0 && i+2 < len(s); i = nextIndex(s, "on", i+2) {
		if i > 0 {
			p := s[i-1]
			if !(p == '"' || p == '\'' || p == '`' || p == '/' || p == ' ' || p == '\t' || p == '\n' || p == '\f' || p == ';') {
				continue
			}
		}
		if eventIn(s[i:], false) {
			// Prose says "on load=..."? Unlikely: the name must be glued.
			return ReasonXSSEvent, true
		}
		// Any on*= name at the start of the value, or right after a
		// quote that ends an attribute, with nothing or script after it.
		if p := strings.TrimLeft(s[:i], " \t\n\f"); p == "" || p == "\"" || p == "'" || strings.HasSuffix(p, "\"") || strings.HasSuffix(p, "'") {
			if eventIn(s[i:], true) {
				eq := strings.IndexByte(s[i:], '=')
				rest := strings.TrimLeft(s[i+eq+1:], " \t\n\f")
				if rest == "" || strings.ContainsAny(rest, "(`") || rest[0] == '"' || rest[0] == '\'' {
					return ReasonXSSEvent, true
				}
			}
		}
	}
	for _, a := range [...]string{"formaction=", "xlink:href=", "srcdoc=", "ev:handler="} {
		if i := strings.Index(s, a); i > 0 && (s[i-1] == '"' || s[i-1] == '\'' || s[i-1] == ' ' || s[i-1] == '/') {
			return ReasonXSSEvent, true
		}
	}
	return "", false
}

func nextIndex(s, sub string, from int) int {
	if from >= len(s) {
		return -1
	}
	j := strings.Index(s[from:], sub)
	if j < 0 {
		return -1
	}
	return from + j
}

// scanSchemes finds URLs with script schemes. compact has whitespace and
// control characters removed ("jav\tascript:" is how browsers read it).
func scanSchemes(lower, compact string) (string, bool) {
	for _, sch := range [...]string{"javascript:", "vbscript:", "livescript:", "mocha:", "vbs:", "jscript:"} {
		i := strings.Index(compact, sch)
		if i < 0 {
			continue
		}
		rest := compact[i+len(sch):]
		if len(rest) == 0 {
			// "javascript:" at the end is a fragment of a payload, unless
			// it is prose ("learn javascript:").
			if i == 0 || !isAlpha(compact[i-1]) {
				if !strings.Contains(lower, sch+" ") {
					return ReasonXSSScheme, true
				}
			}
			continue
		}
		// Prose uses "JavaScript: the good parts"; script has code after it.
		if j := strings.Index(lower, sch); j >= 0 && j+len(sch) < len(lower) && lower[j+len(sch)] == ' ' {
			if !strings.ContainsAny(rest, "()=;`'\"[]{}/") {
				continue
			}
		}
		return ReasonXSSScheme, true
	}
	if i := strings.Index(compact, "data:"); i >= 0 {
		rest := compact[i+5:]
		if strings.HasPrefix(rest, "text/html") || strings.HasPrefix(rest, "image/svg") ||
			strings.HasPrefix(rest, "application/x-") || strings.HasPrefix(rest, "text/javascript") ||
			strings.HasPrefix(rest, "application/javascript") || strings.HasPrefix(rest, "text/xml") ||
			strings.HasPrefix(rest, ",<") || (strings.HasPrefix(rest, ",") && strings.IndexByte(rest, '<') >= 0) {
			return ReasonXSSScheme, true
		}
	}
	return "", false
}

// cssScript finds script in CSS: IE's expression(), Mozilla's bindings,
// behaviors and url(javascript:...).
func cssScript(s string) bool {
	return strings.Contains(s, "expression(") || strings.Contains(s, "-moz-binding") ||
		strings.Contains(s, "behavior:") || strings.Contains(s, "behaviour:") ||
		strings.Contains(s, "url(javascript") || strings.Contains(s, "url(\"javascript") ||
		strings.Contains(s, "url('javascript") || strings.Contains(s, "@import")
}

// jsSinks are functions whose call in a parameter is the usual proof of
// script execution. The bool says whether the name must be glued to the
// parenthesis (prose says "please confirm (yes)").
var jsSinks = []string{
	"alert", "prompt", "confirm", "eval", "settimeout", "setinterval", "execscript",
	"msgbox", "fromcharcode", "atob", "unescape", "import", "fetch", "write", "writeln",
	"function", "constructor", "globaleval", "execcommand", "createelement", "getscript",
	"jquery", "$.get", "$.getscript", "open", "showmodaldialog", "geturl", "execute",
}

// jsObjects are DOM and JS properties whose mention marks script.
var jsObjects = []string{
	"document.cookie", "document.domain", "document.write", "document.location",
	"document.url", "document.body", "document[", "window.location", "window.name",
	"window[", "location.href", "location.hash", "location.search", "location=", "location.replace",
	".innerhtml", ".outerhtml", "constructor.constructor", "__proto__", ".prototype.",
	"string.fromcharcode", "top[", "self[", "parent[", "globalthis", "frames[", "opener.",
	"document)[", "(document)", "textcontent=", ".sort.call", ".call`", ".apply(", ".call(",
	"newfunction(", "xmlhttprequest", "navigator.sendbeacon", "import(", "srcdoc=",
	"document.createelement", "localstorage", "sessionstorage", "postmessage(",
	"$on", "${alert", "{alert", "[alert", "=alert", "=eval", "=prompt", "=confirm",
}

// scanJS finds script syntax: sink calls in lower (where the name must be
// glued to its parenthesis: prose says "please confirm (yes)") and DOM
// objects in compact, both with JS comments removed.
//
// One pass over lower gives the set of bytes it holds (jsMask); every
// search below is for a literal, which can occur only where all of its
// bytes do, in lower or in the strings made from it by removing bytes
// (compact, comments stripped). Sink names are then looked for only in
// front of the bytes that can follow a call, DOM objects only around
// their first punctuation byte. FuzzScanJS checks this against the
// former substring searches.
func scanJS(lower string, cbuf []byte) (string, bool) {
	present := jsMask(lower)
	s := lower
	if present&jsCommentOpen == jsCommentOpen && strings.Contains(s, "/*") {
		s = stripBlockComments(s)
	}
	if present&jsSinkNext != 0 && anyMayOccur(jsSinkPatterns, present) && jsSinkCall(s) {
		return ReasonXSSSink, true
	}
	// The other searches look in the compact form, built only when one of
	// them may find something.
	objects := anyMayOccur(jsObjectAll, present)
	fuck := present&(jsBit['!']|jsBit['[']) == jsBit['!']|jsBit['[']
	template := present&jsBit['{'] != 0
	css := present&(jsBit[':']|jsBit['(']) != 0 && anyMayOccur(cssScripts, present)
	if !objects && !fuck && !template && !css {
		return "", false
	}
	if compact := compactFormBuf(lower, cbuf); compact != lower {
		s = compact
		if present&jsCommentOpen == jsCommentOpen && strings.Contains(s, "/*") {
			s = stripBlockComments(s)
		}
	}
	if objects && jsObject(s, present) {
		return ReasonXSSSink, true
	}
	if fuck && jsFuck(s) {
		return ReasonXSSSink, true
	}
	if template && strings.Contains(s, "{{") && (strings.Contains(s, "constructor") || strings.Contains(s, "$eval") || strings.Contains(s, "$on") || strings.Contains(s, "alert")) {
		return ReasonXSSTemplate, true
	}
	if css && cssScriptIn(s, present) && strings.ContainsAny(s, ":(") {
		return ReasonXSSCSS, true
	}
	return "", false
}

// anyMayOccur reports whether one of ps has all of its bytes in present.
func anyMayOccur(ps []jsObjectPattern, present uint64) bool {
	for i := range ps {
		if present&ps[i].mask == ps[i].mask {
			return true
		}
	}
	return false
}

// jsSinkPatterns are jsSinks with their masks; jsObjectAll every entry of
// jsObjects that counts.
var jsSinkPatterns, jsObjectAll = func() (sinks, objects []jsObjectPattern) {
	for _, name := range jsSinks {
		sinks = append(sinks, jsObjectPattern{text: name, mask: jsMask(name)})
	}
	objects = append(objects, jsObjectWords...)
	for _, ps := range jsObjectsByAnchor {
		objects = append(objects, ps...)
	}
	return sinks, objects
}()

// jsBit maps a byte to its bit in a jsMask: a bit per lower-case letter
// and per punctuation byte, one for digits, one for the other bytes; none
// for whitespace and control bytes (which compact drops) or upper-case
// letters (which lower has none of).
var jsBit = func() (t [256]uint64) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = 1 << (c - 'a')
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 1 << 26
	}
	for i, c := range []byte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") {
		t[c] = 1 << (27 + i)
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = 1 << 59
	}
	return t
}()

// jsMask returns the bits of the bytes of s.
func jsMask(s string) uint64 {
	var m uint64
	for i := 0; i < len(s); i++ {
		m |= jsBit[s[i]]
	}
	return m
}

var (
	jsCommentOpen = jsBit['/'] | jsBit['*']
	// jsSinkNext are the bytes that follow a sink name in a call: ( ` )
	// ?. .call [ and ; after '='.
	jsSinkNext = jsBit['('] | jsBit['`'] | jsBit[')'] | jsBit['?'] | jsBit['.'] | jsBit['['] | jsBit[';']
)

// jsSinksByLast lists jsSinks by their last letter (every name ends in
// one).
var jsSinksByLast = func() (t [26][]string) {
	for _, name := range jsSinks {
		l := name[len(name)-1] - 'a'
		t[l] = append(t[l], name)
	}
	return t
}()

// jsSinkCall reports whether s has a sink name, not glued to a word
// before it, followed by a call: name( name` (name)( name?.( name.call
// name[ and =name;. Common words ("open", "write") called need a dot
// before them or script in their arguments.
func jsSinkCall(s string) bool {
	for k := 1; k < len(s); k++ {
		c := s[k]
		if jsBit[c]&jsSinkNext == 0 {
			continue
		}
		l := s[k-1]
		if l < 'a' || l > 'z' {
			continue
		}
		for _, name := range jsSinksByLast[l-'a'] {
			i := k - len(name)
			if i < 0 || s[i:k] != name {
				continue
			}
			if i > 0 && (isAlnum(s[i-1]) || s[i-1] == '_') {
				continue
			}
			switch {
			case c == '(' || c == '`':
				if name == "open" || name == "write" || name == "writeln" || name == "execute" || name == "import" || name == "function" || name == "constructor" || name == "fetch" {
					// Common words: need a dot before or code after.
					if !(i > 0 && s[i-1] == '.') && !jsArgs(s[k:]) {
						continue
					}
				}
				return true
			case c == ')' && k+1 < len(s) && s[k+1] == '(': // (alert)(1)
				return true
			case c == '?' && strings.HasPrefix(s[k:], "?.(") || c == '?' && strings.HasPrefix(s[k:], "?.call"): // alert?.(1)
				return true
			case c == '.' && (strings.HasPrefix(s[k:], ".call") || strings.HasPrefix(s[k:], ".apply") || strings.HasPrefix(s[k:], ".bind")):
				return true
			case c == '[' || c == ';' && i > 0 && s[i-1] == '=':
				return true
			}
		}
	}
	return false
}

// jsObjectPattern is an entry of jsObjects, with the position of its
// first byte that is not a letter (its anchor; -1 for words), the bits
// of its bytes, and whether it counts only with script syntax around it
// (plain text mentions it).
type jsObjectPattern struct {
	text   string
	anchor int
	mask   uint64
	risky  bool
}

// jsObjectsByAnchor lists the entries of jsObjects by their anchor byte;
// jsObjectWords has the words. ".apply(" and ".call(" are left out: they
// count only beside a sink, which jsSinkCall has looked for.
var jsObjectsByAnchor, jsObjectWords = func() (t [256][]jsObjectPattern, words []jsObjectPattern) {
	for _, o := range jsObjects {
		if o == ".apply(" || o == ".call(" {
			continue
		}
		p := jsObjectPattern{text: o, anchor: -1, mask: jsMask(o),
			risky: o[0] == '.' || o == "$on" || o == ".prototype." || o == "location=" || o == "opener." || o == "localstorage" || o == "sessionstorage" || o == "(document)"}
		for i := 0; i < len(o); i++ {
			if !isAlpha(o[i]) {
				p.anchor = i
				break
			}
		}
		if p.anchor < 0 {
			words = append(words, p)
		} else {
			t[o[p.anchor]] = append(t[o[p.anchor]], p)
		}
	}
	return t, words
}()

// jsObject reports whether s holds an entry of jsObjects; those that
// plain text may mention need script syntax (one of ();=[]`) too.
// present has the bits of every byte of s.
func jsObject(s string, present uint64) bool {
	code := -1 // whether s has script syntax, computed once
	found := func(p *jsObjectPattern) bool {
		if !p.risky {
			return true
		}
		if code < 0 {
			code = 0
			if strings.ContainsAny(s, "();=[]`") {
				code = 1
			}
		}
		return code == 1
	}
	for i := range jsObjectWords {
		p := &jsObjectWords[i]
		if present&p.mask == p.mask && strings.Contains(s, p.text) && found(p) {
			return true
		}
	}
	for k := 0; k < len(s); k++ {
		ps := jsObjectsByAnchor[s[k]]
		for i := range ps {
			p := &ps[i]
			start := k - p.anchor
			if present&p.mask != p.mask || start < 0 || start+len(p.text) > len(s) || s[start:start+len(p.text)] != p.text {
				continue
			}
			if found(p) {
				return true
			}
		}
	}
	return false
}

// cssScriptIn is cssScript(s), each search run only when s may hold its
// bytes (present has the bits of every byte of s).
func cssScriptIn(s string, present uint64) bool {
	for _, p := range cssScripts {
		if present&p.mask == p.mask && strings.Contains(s, p.text) {
			return true
		}
	}
	return false
}

var cssScripts = func() (ps []jsObjectPattern) {
	for _, t := range []string{"expression(", "-moz-binding", "behavior:", "behaviour:", "url(javascript", "url(\"javascript", "url('javascript", "@import"} {
		ps = append(ps, jsObjectPattern{text: t, mask: jsMask(t)})
	}
	return ps
}()

// jsArgs reports whether s, starting at '(' or '`', looks like a call with
// script-ish arguments: a quote, a nested call, a property access.
func jsArgs(s string) bool {
	end := strings.IndexByte(s, ')')
	if end < 0 {
		end = len(s)
	}
	a := s[1:end]
	return strings.ContainsAny(a, "'\"`.(){}[]+=") || a == "" && (end+1 < len(s) && (s[end+1] == ';' || s[end+1] == '}' || s[end+1] == '('))
}

// jsFuck finds script written with only []()!+ (JSFuck and its kin):
// "!![]" (true), or "![]" twice where no Markdown image ("![](url)")
// explains it. s is the compact form.
func jsFuck(s string) bool {
	if strings.Contains(s, "!![]") {
		return true
	}
	n := 0
	for i := strings.Index(s, "![]"); i >= 0; i = nextIndex(s, "![]", i+3) {
		if i+3 < len(s) && s[i+3] == '(' {
			return false
		}
		n++
	}
	return n >= 2
}
