package jsonapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"hostdeck/api/httpx"
	"hostdeck/core"
)

// Error is an error as a JSON:API client sees it: a status and the error objects
// of the document. Cause is for the log only.
type Error struct {
	Status  int
	Objects []ErrorObject
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

// HTTPStatus is the status the document is sent with (see httpx.ErrorStatus).
func (e *Error) HTTPStatus() int { return e.Status }

// Object returns one error object for status, its code in httpx's vocabulary.
func Object(status int, detail string) ErrorObject {
	return ErrorObject{Status: strconv.Itoa(status), Code: httpx.Code(status), Title: http.StatusText(status), Detail: detail}
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

// headerError returns an Error about a request header.
func headerError(status int, header, format string, args ...any) *Error {
	e := Errorf(status, format, args...)
	e.Objects[0].Source = &Source{Header: header}
	return e
}

// AttributePointer is the JSON Pointer of an attribute of the primary data.
func AttributePointer(name string) string { return "/data/attributes/" + escapePointer(name) }

// FromError is err as a JSON:API error. An *Error passes through; an
// *httpx.Error (no route, a method not allowed, a body too large) is one object
// with its status and message; a core error maps by kind (httpx.StatusOf: invalid
// 400 with the offending attribute as source.pointer, not_found 404, conflict 409,
// forbidden 403, unauthenticated 401, too_many 429, canceled 499, unavailable
// 503); anything else is a 500 whose detail is "internal error", the cause kept
// for the log.
func FromError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var he *httpx.Error
	if errors.As(err, &he) {
		e := Errorf(he.Status, "%s", he.Message)
		e.Cause = err
		return e
	}
	status := httpx.StatusOf(core.ErrorKind(err))
	e = Errorf(status, "%s", core.ErrorMessage(err))
	e.Cause = err
	if status == http.StatusInternalServerError {
		e.Objects[0].Detail = "internal error"
	}
	if f := core.ErrorField(err); f != "" && status == http.StatusBadRequest {
		e.Objects[0].Source = &Source{Pointer: AttributePointer(f)}
	}
	return e
}
