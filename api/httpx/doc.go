// Package httpx is what every hostdeck face shares: the JSON:API v1.1 envelope, a
// strict request decoder, the list query parser (page, filter, sort) with its
// links, the one mapping from core error kinds to HTTP statuses, a small method
// router, and the middleware every face runs behind (path cleaning, logging, panic
// recovery, Prometheus metrics).
//
// It holds no face-specific rule: a face decides its routes, resource shapes and
// which filters and sort fields it offers, and core decides everything else.
package httpx
