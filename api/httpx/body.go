package httpx

import (
	"errors"
	"io"
	"net/http"
)

// MaxBody is the largest request body a face reads (1 MiB). Serve caps every
// body at it.
const MaxBody = 1 << 20

// ReadBody reads r's body whole: a body over MaxBody is a 413 *Error, one that
// cannot be read a 400 *Error.
func ReadBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBody {
		return nil, tooLarge()
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge()
		}
		return nil, &Error{Status: http.StatusBadRequest, Message: "request body could not be read", Cause: err}
	}
	if len(raw) > MaxBody {
		return nil, tooLarge()
	}
	return raw, nil
}

func tooLarge() *Error {
	return Errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", MaxBody)
}
