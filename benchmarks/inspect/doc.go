// Package inspect benchmarks guard's input inspection stage side by side
// with Coraza running the OWASP Core Rule Set, on the same request: ten
// typical query parameters and a 2 KB JSON body. See benchmarks/README.md.
package inspect
