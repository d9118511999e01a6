package guard

import (
	"net/http"
	"strconv"
)

// ContentTypeProblem is the media type of guard's error bodies (RFC 9457).
const ContentTypeProblem = "application/problem+json"

// Decision is what a Stage returns: allow, or deny with a status and a
// reason. Denying is a result, not an error.
//
// The zero Decision allows the request.
type Decision struct {
	// Status is the HTTP status to answer with; 0 means allow.
	Status int
	// Reason is a short machine-readable code, such as "rate_limited",
	// rendered as the problem body's "code" member and carried by events.
	// It must be a constant chosen by the stage, never request data.
	Reason string
	// Detail is a human-readable sentence for the client. Like Reason it
	// must never contain request data: guard does not escape or filter it.
	Detail string
	// Stage is the name of the stage that denied; the pipeline fills it.
	Stage string
	// Errors lists the invalid fields of a 400 response, rendered as the
	// problem body's "errors" member. Like Reason, each entry must be
	// built by the stage from names it vetted (a JSON pointer into its
	// own schema, a constant keyword), never from request values.
	Errors []FieldError
}

// FieldError is one invalid field of a request: where, and which rule
// it broke. It carries no value.
type FieldError struct {
	// Pointer locates the field, as an RFC 6901 JSON pointer ("/title").
	Pointer string
	// Keyword names the rule the field broke ("maxLength", "required").
	Keyword string
}

// Allow is the Decision that lets a request through.
func Allow() Decision { return Decision{} }

// Deny returns a Decision that answers with status (400–599), a constant
// reason code and a constant detail sentence.
func Deny(status int, reason, detail string) Decision {
	return Decision{Status: status, Reason: reason, Detail: detail}
}

// Allowed reports whether d lets the request through.
func (d Decision) Allowed() bool { return d.Status == 0 }

// ProblemJSON renders d as an RFC 9457 problem body:
//
//	{"type":"about:blank","title":"Too Many Requests","status":429,
//	 "code":"rate_limited","detail":"..."}
//
// Only the status, its standard title and the stage's constant reason and
// detail appear: nothing from the request is echoed. A status outside
// 400–599 renders as 500. Errors, when present, render as an extension
// member listing pointers and keywords (at most MaxProblemErrors):
//
//	"errors":[{"pointer":"/title","keyword":"maxLength"}]
func (d Decision) ProblemJSON() []byte {
	status := d.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	title := http.StatusText(status)
	if title == "" {
		title = "Error"
	}
	b := make([]byte, 0, 96+len(d.Reason)+len(d.Detail))
	b = append(b, `{"type":"about:blank","title":`...)
	b = strconv.AppendQuote(b, title)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	if d.Reason != "" {
		b = append(b, `,"code":`...)
		b = appendJSONString(b, d.Reason)
	}
	if d.Detail != "" {
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, d.Detail)
	}
	if len(d.Errors) > 0 {
		b = append(b, `,"errors":[`...)
		for i, e := range d.Errors[:min(len(d.Errors), MaxProblemErrors)] {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"pointer":`...)
			b = appendJSONString(b, e.Pointer)
			b = append(b, `,"keyword":`...)
			b = appendJSONString(b, e.Keyword)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}', '\n')
}

// MaxProblemErrors bounds the field errors a problem body lists.
const MaxProblemErrors = 20

// StatusCode returns the status to write for d, 500 when d's status is not
// an error status.
func (d Decision) StatusCode() int {
	if d.Status < 400 || d.Status > 599 {
		return http.StatusInternalServerError
	}
	return d.Status
}

// appendJSONString appends s as a JSON string, escaping what JSON requires
// and the HTML-significant characters, so a body is safe in any context.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// Problem reasons used by guard's core.
const (
	ReasonPanic = "internal_error"
)
