package safe

import (
	"sync"

	"github.com/microcosm-cc/bluemonday"
)

// Text returns s with every element removed and the remaining text
// HTML-escaped: the result is plain text, safe in HTML element content and
// in quoted attribute values. Use it for names, titles and comments that
// must not carry markup.
//
//	safe.Text(`<b>Bob</b> <script>x()</script>`) == "Bob "
func Text(s string) string { return textPolicy().Sanitize(s) }

// UGC returns s sanitised as user-generated rich text: the formatting
// elements of HTML WYSIWYG editors and Markdown (paragraphs, emphasis,
// lists, tables, headings, code, quotes, links, images) are kept; scripts,
// styles, event handlers, forms, frames and every URL scheme but http,
// https and mailto are removed. Links get rel="nofollow noreferrer
// noopener" and open absolute URLs in a new tab.
func UGC(s string) string { return ugcPolicy().Sanitize(s) }

// TextPolicy returns a new copy of the policy behind Text, to extend.
func TextPolicy() *bluemonday.Policy { return bluemonday.StrictPolicy() }

// UGCPolicy returns a new copy of the policy behind UGC, to extend (the
// shared one is never modified, so callers cannot weaken it for others).
func UGCPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true) // adds rel="noopener" too
	p.RequireParseableURLs(true)
	return p
}

// Policies are built once: bluemonday policies are safe for concurrent
// Sanitize calls once configured.
var (
	textPolicy = sync.OnceValue(TextPolicy)
	ugcPolicy  = sync.OnceValue(UGCPolicy)
)
