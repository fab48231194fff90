package core

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"
)

// Kind classifies an error so that every face can map it to its own status and
// envelope in exactly one function.
type Kind string

const (
	KindInvalid         Kind = "invalid"         // bad input: 400/422
	KindNotFound        Kind = "not_found"       // unknown id: 404
	KindConflict        Kind = "conflict"        // state forbids it, duplicate: 409
	KindForbidden       Kind = "forbidden"       // authenticated but not allowed: 403
	KindUnauthenticated Kind = "unauthenticated" // no or wrong credentials: 401
	KindTooMany         Kind = "too_many"        // rate limited: 429
	KindUnavailable     Kind = "unavailable"     // a dependency (runtime, SMTP) is down: 503
	KindInternal        Kind = "internal"        // a bug or unexpected failure: 500, details logged only
	KindCanceled        Kind = "canceled"        // the caller gave up (the client went away): 499, not a failure
)

// Error is a domain error. Message is safe to show to a client; Err (the cause)
// is for logs only. Field names the offending input (an attribute name) when one applies.
//
// Reason is a stable machine-readable cause ("token_expired", "invalid_credentials",
// "domain_not_found", …) that a face may map to its own codes; Params holds the
// values a face's message templates name ({domain_name}, {user_name}, …).
type Error struct {
	Kind    Kind
	Message string
	Field   string
	Err     error
	Reason  string
	Params  map[string]string
	// RetryAfter is how long a KindTooMany refusal asks the client to wait
	// (faces send it as Retry-After).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind with a client-safe message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a KindInvalid error about one input field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns a KindNotFound error for a record of the given type.
func NotFound(what, id string) *Error {
	return &Error{Kind: KindNotFound, Message: fmt.Sprintf("%s %q not found", what, id)}
}

// Wrap gives err a kind and a client-safe message, keeping err as the cause.
func Wrap(kind Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...), Err: err}
}

// TooMany returns a KindTooMany error that asks the client to retry after wait
// (param "seconds": wait in whole seconds, rounded up).
func TooMany(wait time.Duration, format string, args ...any) *Error {
	e := Reasoned(KindTooMany, "", fmt.Sprintf(format, args...), "seconds", fmt.Sprint(Seconds(wait)))
	e.RetryAfter = wait
	return e
}

// ErrorRetryAfter is the wait a KindTooMany error asks for, in whole seconds
// (at least 1), or 0 for other errors.
func ErrorRetryAfter(err error) int {
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindTooMany {
		return 0
	}
	return max(Seconds(e.RetryAfter), 1)
}

// Reasoned returns an *Error of the given kind with a Reason and the Params its
// message templates use; params are key, value pairs.
func Reasoned(kind Kind, reason, message string, params ...string) *Error {
	e := &Error{Kind: kind, Reason: reason, Message: message}
	if len(params) > 1 {
		e.Params = make(map[string]string, len(params)/2)
		for i := 0; i+1 < len(params); i += 2 {
			e.Params[params[i]] = params[i+1]
		}
	}
	return e
}

// ErrorReason is the Reason of the first *Error in err's chain, or "".
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// ErrorParams is the Params of the first *Error in err's chain, or nil.
func ErrorParams(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Params
	}
	return nil
}

// ErrorKind reports the kind of err: the kind of the first *Error in its chain,
// KindInternal for any other non-nil error, and "" for nil, with two rules on
// the causes that every adapter wraps, so that none has to check them itself:
// a failure (internal or unavailable) whose chain holds context.Canceled is
// KindCanceled (the caller went away; the server is fine), and an internal
// error caused by a lost connection is KindUnavailable (lostConnection).
func ErrorKind(err error) Kind {
	if err == nil {
		return ""
	}
	k := KindInternal
	var e *Error
	if errors.As(err, &e) {
		k = e.Kind
	}
	if (k == KindInternal || k == KindUnavailable) && errors.Is(err, context.Canceled) {
		return KindCanceled
	}
	if k == KindInternal && lostConnection(err) {
		return KindUnavailable
	}
	return k
}

// lostConnection reports whether err's chain holds a network error or a
// connection the database driver found broken or could not use: the database
// or a runtime is down or restarting, which is a dependency unavailable, not a
// bug. A deadline (hostdeck's own timeout, a net.Error too) is not one. A
// driver error that says it is safe to retry (SafeToRetry, pgx's mark of a
// failure before anything reached the server, such as a closed connection)
// is one, and so is a database error whose SQLSTATE (SQLState, pgx's mark)
// says the connection failed (class 08) or the server is shutting down or
// starting up (57P01, 57P02, 57P03, as while PostgreSQL restarts).
func lostConnection(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && !errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var retry interface{ SafeToRetry() bool }
	if errors.As(err, &retry) && retry.SafeToRetry() {
		return true
	}
	var state interface{ SQLState() string }
	if errors.As(err, &state) {
		switch code := state.SQLState(); {
		case strings.HasPrefix(code, "08"), code == "57P01", code == "57P02", code == "57P03":
			return true
		}
	}
	for _, lost := range []error{driver.ErrBadConn, io.ErrUnexpectedEOF, syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE} {
		if errors.Is(err, lost) {
			return true
		}
	}
	return false
}

// ErrorMessage is the client-safe message of err. Internal errors never leak
// details; a cancellation says only that.
func ErrorMessage(err error) string {
	switch ErrorKind(err) {
	case KindInternal:
		return "internal error"
	case KindCanceled:
		return "the operation was canceled"
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorField is the input field an error is about, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// permanent marks a task error that must not be retried.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// Permanent marks err so that the task runner fails the task at once instead of retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked by Permanent, or is of a kind that a
// retry cannot fix (invalid input, unknown record, conflict, forbidden).
func IsPermanent(err error) bool {
	var p permanent
	if errors.As(err, &p) {
		return true
	}
	switch ErrorKind(err) {
	case KindInvalid, KindNotFound, KindConflict, KindForbidden:
		return true
	}
	return false
}

// Seconds is d rounded up to whole seconds, for messages.
func Seconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }
