package main

import (
	"net/http"
	"time"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/limiter"
)

// rateLimits are the quickstart's limits. The zero value means the
// plan's: login 5 per 5 minutes per client address, register 3 per hour
// per client address, and 1000 per hour for everything else, per user
// (per client address when anonymous). Every request spends from the
// default budget too; all budgets that apply are decided together.
type rateLimits struct {
	Login, Register, Default limiter.Limit
}

func (l rateLimits) orPlan() rateLimits {
	if l.Login == (limiter.Limit{}) {
		l.Login = limiter.Per(5, 5*time.Minute)
	}
	if l.Register == (limiter.Limit{}) {
		l.Register = limiter.PerHour(3)
	}
	if l.Default == (limiter.Limit{}) {
		l.Default = limiter.PerHour(1000)
	}
	return l
}

// rateLimitOptions is the rate-limiting stage of guardOptions. Its state
// lives in the configured store (memory, bolt or redis: shared by every
// process on redis). A denial is a 429 problem with Retry-After; every
// response carries X-RateLimit-* and the IETF draft RateLimit-Policy and
// RateLimit fields for the tightest budget.
func rateLimitOptions(l rateLimits) []guard.Option {
	l = l.orPlan()
	return []guard.Option{limiter.Option(
		limiter.WithHeaders(limiter.HeadersXRateLimit|limiter.HeadersDraft),
		limiter.WithRules(
			limiter.Rule{Name: "login", Method: http.MethodPost, Route: "/api/v1/auth/login",
				Key: limiter.ByIP(), Limits: []limiter.Limit{l.Login}},
			limiter.Rule{Name: "register", Method: http.MethodPost, Route: "/api/v1/auth/register",
				Key: limiter.ByIP(), Limits: []limiter.Limit{l.Register}},
			limiter.Rule{Name: "default", Key: limiter.ByPrincipalOrIP(),
				Limits: []limiter.Limit{l.Default}},
		),
	)}
}
