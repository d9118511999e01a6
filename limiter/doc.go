// Package limiter is guard's rate limiter.
package limiter
