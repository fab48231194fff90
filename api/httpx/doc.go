// Package httpx is the HTTP infrastructure every hostdeck face runs on: a method
// router whose 404 and 405 are errors like any other, the one mapping from core
// error kinds to HTTP statuses, the request body cap, and the middleware every
// face runs behind (path cleaning, panic recovery, one log line and Prometheus
// metrics per request, 499 for a client that went away, the peer's address), and
// the rendered answers of list routes kept while their data are unchanged
// (Answers).
//
// It knows no face's wire format. Each face renders every error (its handlers',
// the router's 404 and 405, a panic) in its own envelope with the one
// ErrorWriter it gives Serve, and writes its own documents.
package httpx
