package main

import (
	"net/http"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/inspect"
	"github.com/guardsdk/guard/schema"
)

// Request-body schemas: a body that breaks its route's schema is refused
// before any handler runs, with a 400 problem listing the invalid fields
// (never their values). The handlers keep their own checks.
var (
	// The account rules (username shape, password length) stay with the
	// register handler, which answers them with specific codes
	// (invalid_username, invalid_password); the schema fixes the shape and
	// bounds the strings a login makes the server hash.
	credentialsSchema = []byte(`{"type":"object","required":["username","password"],
	  "properties":{
	    "username":{"type":"string","maxLength":256},
	    "password":{"type":"string","maxLength":1024}}}`)
	// Whether a title is present and how long title and body may be are
	// the handler's rules (invalid_title, invalid_body); the schema fixes
	// the shape.
	noteSchema = []byte(`{"type":"object",
	  "properties":{"title":{"type":"string"},"body":{"type":"string"}}}`)
)

// inputOptions are the input stages of guardOptions: strict JSON bodies
// validated against their route's schema, then inspection of the path,
// query and bodies for SQL injection, XSS, path traversal and command
// injection (blocked with a 403 problem that never echoes the value).
//
// Passwords are hashed and never rendered, so any character is allowed in
// them; CSP reports quote the blocked script by design (package csp caps
// and reduces them); Sentry envelopes are only forwarded.
func inputOptions() []guard.Option {
	return []guard.Option{
		schema.Option(schema.Config{
			MaxBodyBytes: maxBody,
			Routes: []schema.Route{
				{Method: http.MethodPost, Route: "/api/v1/auth/register", Schema: credentialsSchema},
				{Method: http.MethodPost, Route: "/api/v1/auth/login", Schema: credentialsSchema},
				{Method: http.MethodPost, Route: "/api/v1/notes", Schema: noteSchema},
			},
		}),
		inspect.Option(inspect.Config{
			MaxBodyBytes: maxBody,
			Allow: []inspect.Allow{
				{Method: http.MethodPost, Route: "/api/v1/auth/register", Field: "body.password"},
				{Method: http.MethodPost, Route: "/api/v1/auth/login", Field: "body.password"},
				{Method: http.MethodPost, Route: cspReportPath},
				// Sentry envelopes are newline-delimited JSON checked by
				// the tunnel itself and forwarded, never interpreted here.
				{Method: http.MethodPost, Route: sentryTunnelPath},
			},
		}),
	}
}
