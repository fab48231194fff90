package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"hostdeck/core"
)

// Error is an HTTP error as a client sees it: a status, the error objects, and
// headers to set (Allow, WWW-Authenticate, Retry-After). Cause is for the log only.
type Error struct {
	Status  int
	Objects []ErrorObject
	Header  http.Header
	Cause   error
}

func (e *Error) Error() string {
	msg := strconv.Itoa(e.Status)
	if len(e.Objects) > 0 {
		msg += " " + e.Objects[0].Detail
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Cause }

// code names each status the way core names its kinds, so that one client sees the
// same codes from decoder and core errors.
func code(status int) string {
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

// Object returns one error object for status.
func Object(status int, detail string) ErrorObject {
	return ErrorObject{Status: strconv.Itoa(status), Code: code(status), Title: http.StatusText(status), Detail: detail}
}

// Errorf returns an Error with one object.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Objects: []ErrorObject{Object(status, fmt.Sprintf(format, args...))}}
}

// PointerError returns an Error about the member of the request document at pointer.
func PointerError(status int, pointer, format string, args ...any) *Error {
	e := Errorf(status, format, args...)
	e.Objects[0].Source = &Source{Pointer: pointer}
	return e
}

// ParameterError returns a 400 about a query parameter.
func ParameterError(param, format string, args ...any) *Error {
	e := Errorf(http.StatusBadRequest, format, args...)
	e.Objects[0].Source = &Source{Parameter: param}
	return e
}

// AttributePointer is the JSON Pointer of an attribute of the primary data.
func AttributePointer(name string) string { return "/data/attributes/" + escapePointer(name) }

// FromError is the one place where an error becomes what a client sees. An *Error
// passes through; a core error maps by kind (invalid 400 with the offending
// attribute as source.pointer, not_found 404, conflict 409, forbidden 403,
// unauthenticated 401, too_many 429, canceled 499, unavailable 503); anything else is a 500 whose
// detail is "internal error", the cause kept for the log.
func FromError(err error) *Error {
	if err == nil {
		return nil
	}
	var he *Error
	if errors.As(err, &he) {
		return he
	}
	status := StatusOf(core.ErrorKind(err))
	e := Errorf(status, "%s", core.ErrorMessage(err))
	e.Cause = err
	if status == http.StatusInternalServerError {
		e.Objects[0].Detail = "internal error"
	}
	if f := core.ErrorField(err); f != "" && status == http.StatusBadRequest {
		e.Objects[0].Source = &Source{Pointer: AttributePointer(f)}
	}
	return e
}

// WriteError sends err as a JSON:API error document and records it for the
// request's log line.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := FromError(err)
	RecordError(r, err)
	SetErrorHeaders(w, err)
	Write(w, e.Status, &Document{Errors: e.Objects})
}

// SetErrorHeaders sets the headers err asks for, in every face's envelope: an
// *Error's own (Allow, WWW-Authenticate), and Retry-After, in seconds, for a
// core KindTooMany refusal.
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
