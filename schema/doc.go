// Package schema is guard's request-body validation stage: per-route JSON
// Schema (github.com/santhosh-tekuri/jsonschema/v6, drafts 4 to 2020-12)
// over strictly decoded bodies, with a 400 problem body that lists the
// invalid fields without echoing what was sent.
//
//	g, err := guard.New(
//		schema.Option(schema.Config{Routes: []schema.Route{
//			{Method: "POST", Route: "/notes", Schema: noteSchema},
//		}}),
//		inspect.Option(inspect.Config{}),
//	)
//
// # Strict decoding
//
// A body is exactly one JSON value: duplicate object keys, data after the
// value and nesting beyond Options.MaxDepth (64) are rejected with 400
// malformed_body or body_too_deep. Unknown members are rejected too: an
// object schema that declares "properties" and says nothing about other
// members is treated as "additionalProperties": false, except for
// branches of allOf/anyOf/oneOf and schemas using $ref, if or
// patternProperties (Options.AllowUnknown turns this off). Formats are
// asserted, not just annotations. External $refs are refused at compile
// time: a schema never makes the process read a file or the network.
//
// # Problem body
//
// A body that breaks its schema gets 400 invalid_body with the extension
// member "errors", sorted and at most guard.MaxProblemErrors long:
//
//	{"type":"about:blank","title":"Bad Request","status":400,
//	 "code":"invalid_body","detail":"The request body does not match its schema.",
//	 "errors":[{"pointer":"/title","keyword":"maxLength"},
//	           {"pointer":"/tags/1","keyword":"enum"}]}
//
// Pointers are RFC 6901 JSON pointers built from array indexes and the
// property names the schema declares; a key the client chose (matched by
// patternProperties or additionalProperties) shows as "*", and undeclared
// members are reported at their object, unnamed. No value, and no
// validator message (which quotes values), reaches the client.
//
// # Typed fields and inspection
//
// The stage runs at Phase, just before guard.PhaseInspect. After a body
// validates, it tells the inspect stage (inspect.SkipFields) which string
// fields the schema types strictly — an enum or const, or the formats
// uuid, date, date-time, time, duration, ipv4, ipv6 and hostname — so
// injection heuristics do not run on values that cannot carry an attack
// (numbers and booleans are never inspected). "email" and "uri" are not
// strict: valid addresses and URLs can hold SQL or script. Config.NoSkip
// keeps inspection on every field.
//
// Routes without a schema are not read. A schema given without a Method
// applies to every method but GET, HEAD and OPTIONS. Other media types
// than JSON (application/json, *+json) get 415 on a schema route; a
// missing or empty body gets 400 body_required.
//
// # Concurrency
//
// Compiled schemas and the stage are safe for concurrent use.
package schema
