package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"hostdeck/core"
)

// Error is an error the HTTP layer finds itself, outside any use case: no route
// (404), a method the route does not take (405, with Allow), a body over MaxBody
// (413) or one that cannot be read (400). Message is safe to show the client;
// Header holds headers the answer must carry; Cause is for the log only.
type Error struct {
	Status  int
	Message string
	Header  http.Header
	Cause   error
}

// Errorf returns an Error with the message format makes.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	msg := strconv.Itoa(e.Status) + " " + e.Message
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Cause }

// HTTPStatus is the status the error is answered with (see ErrorStatus).
func (e *Error) HTTPStatus() int { return e.Status }

// ErrorWriter renders err in a face's own envelope. Each face has exactly one and
// gives it to Serve; WriteError calls it for every error, after recording the
// error for the request's log line and setting the headers it asks for.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// WriteError answers r with err: it records err for the request's log line, sets
// the headers err asks for (SetErrorHeaders) and has the face's ErrorWriter (the
// one given to Serve) render it. Outside Serve it writes the status text as
// text/plain.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	RecordError(r, err)
	SetErrorHeaders(w, err)
	if rec := recordFrom(r.Context()); rec != nil && rec.write != nil {
		rec.write(w, r, err)
		return
	}
	status := ErrorStatus(err)
	http.Error(w, http.StatusText(status), status)
}

// RecordError notes err for the request's log line when a face writes its own
// error answer rather than returning the error (billmgr, whose errors are
// documents with status 200).
func RecordError(r *http.Request, err error) {
	if rec := recordFrom(r.Context()); rec != nil {
		rec.err = err
	}
}

// SetErrorHeaders sets the headers err asks for, in every face's envelope: an
// *Error's own (Allow), and Retry-After, in seconds, for a core KindTooMany
// refusal.
func SetErrorHeaders(w http.ResponseWriter, err error) {
	var he *Error
	if errors.As(err, &he) {
		for k, vs := range he.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
	}
	if n := core.ErrorRetryAfter(err); n > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(n))
	}
}

// StatusOf is the HTTP status of an error kind, for faces that answer with real
// statuses: invalid 400, unauthenticated 401, forbidden 403, not found 404,
// conflict 409, too many 429, canceled 499, unavailable 503, anything else 500.
func StatusOf(k core.Kind) int {
	switch k {
	case core.KindInvalid:
		return http.StatusBadRequest
	case core.KindUnauthenticated:
		return http.StatusUnauthorized
	case core.KindForbidden:
		return http.StatusForbidden
	case core.KindNotFound:
		return http.StatusNotFound
	case core.KindConflict:
		return http.StatusConflict
	case core.KindTooMany:
		return http.StatusTooManyRequests
	case core.KindUnavailable:
		return http.StatusServiceUnavailable
	case core.KindCanceled:
		return StatusClientClosedRequest
	}
	return http.StatusInternalServerError
}

// ErrorStatus is the HTTP status of err: that of the first error in its chain
// with an HTTPStatus method (an *Error, or a face's own error type), else
// StatusOf its core kind.
func ErrorStatus(err error) int {
	var s interface{ HTTPStatus() int }
	if errors.As(err, &s) {
		return s.HTTPStatus()
	}
	return StatusOf(core.ErrorKind(err))
}

// Code names a status the way core names its kinds ("invalid", "not_found", …,
// and "method_not_allowed", "too_large" and the like for statuses no kind has),
// so that logs and clients see one vocabulary whatever found the error.
func Code(status int) string {
	switch status {
	case http.StatusBadRequest:
		return string(core.KindInvalid)
	case http.StatusUnauthorized:
		return string(core.KindUnauthenticated)
	case http.StatusForbidden:
		return string(core.KindForbidden)
	case http.StatusNotFound:
		return string(core.KindNotFound)
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusNotAcceptable:
		return "not_acceptable"
	case http.StatusConflict:
		return string(core.KindConflict)
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusTooManyRequests:
		return string(core.KindTooMany)
	case http.StatusServiceUnavailable:
		return string(core.KindUnavailable)
	case StatusClientClosedRequest:
		return string(core.KindCanceled)
	}
	return string(core.KindInternal)
}
