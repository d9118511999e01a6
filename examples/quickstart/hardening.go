package main

import (
	"net/http"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/csp"
	"github.com/guardsdk/guard/csrf"
	"github.com/guardsdk/guard/headers"
)

// cspReportPath is where browsers POST Content-Security-Policy violation
// reports, in both the report-uri and the Reporting API (report-to)
// formats.
const cspReportPath = "/csp-report"

// hardeningOptions are the HTTP hardening stages of guardOptions.
//
// Security headers: the strict API defaults of package headers (CSP
// default-src 'none'; frame-ancestors 'none', nosniff, X-Frame-Options
// DENY, Referrer-Policy, Permissions-Policy, COOP and CORP same-origin,
// X-XSS-Protection 0; Cache-Control no-store on authenticated responses;
// Strict-Transport-Security only over HTTPS), with violations reported
// to cspReportPath. ReportTo also makes the stage send the matching
// Reporting-Endpoints header.
//
// CSRF: the Fetch Metadata check. The API authenticates with bearer
// tokens, not cookies, and non-browser clients (curl, scripts, SDKs)
// send neither Sec-Fetch-Site nor Origin, so they pass; a browser's
// cross-site POST is refused with a 403 problem. The report endpoint is
// exempt: browsers send reports outside the page's context, and it
// changes no state.
func hardeningOptions() []guard.Option {
	policy := csp.API().ReportURI(cspReportPath).ReportTo("csp", cspReportPath)
	return []guard.Option{
		headers.Option(headers.WithCSP(policy)),
		csrf.Option(csrf.Bypass(http.MethodPost, cspReportPath)),
	}
}

// newCSPReports is the violation report endpoint, publishing one
// csp_violation event per report to g. Body size (64 KiB) and rate (one
// token bucket for the process) are capped by package csp's defaults.
func newCSPReports(g *guard.Guard) (http.Handler, error) {
	return csp.NewReportHandler(g, csp.ReportConfig{})
}
