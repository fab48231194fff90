package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hostdeck/core"
)

// statusErr is a face's own error type with a status of its own.
type statusErr struct{ status int }

func (e statusErr) Error() string   { return "face error" }
func (e statusErr) HTTPStatus() int { return e.status }

func TestErrorStatus(t *testing.T) {
	for _, tt := range []struct {
		err    error
		status int
		code   string
	}{
		{Errorf(405, "no"), 405, "method_not_allowed"},
		{fmt.Errorf("wrapped: %w", Errorf(413, "big")), 413, "too_large"},
		{statusErr{415}, 415, "unsupported_media_type"},
		{core.Invalid("name", "bad"), 400, "invalid"},
		{core.NotFound("client", "x"), 404, "not_found"},
		{core.Errorf(core.KindTooMany, "slow"), 429, "too_many"},
		{core.Errorf(core.KindCanceled, "gone"), 499, "canceled"},
		{errors.New("disk full"), 500, "internal"},
	} {
		if got := ErrorStatus(tt.err); got != tt.status || Code(got) != tt.code {
			t.Errorf("%v: status %d code %q, want %d %q", tt.err, got, Code(got), tt.status, tt.code)
		}
	}
}

// Outside Serve there is no face to render an error: the answer is the status
// text, with the headers the error asks for, never a face's format.
func TestWriteErrorWithoutServe(t *testing.T) {
	w := httptest.NewRecorder()
	e := Errorf(http.StatusMethodNotAllowed, "PUT is not allowed")
	e.Header = http.Header{"Allow": {"GET"}}
	WriteError(w, httptest.NewRequest("PUT", "/x", nil), e)
	if w.Code != 405 || w.Header().Get("Allow") != "GET" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") ||
		strings.TrimSpace(w.Body.String()) != "Method Not Allowed" {
		t.Fatalf("wrote %d %v %q", w.Code, w.Header(), w.Body)
	}
	w = httptest.NewRecorder()
	WriteError(w, httptest.NewRequest("GET", "/x", nil), core.TooMany(7*time.Second, "slow"))
	if w.Code != 429 || w.Header().Get("Retry-After") != "7" {
		t.Fatalf("wrote %d %v", w.Code, w.Header())
	}
}

func TestReadBody(t *testing.T) {
	big := strings.Repeat("a", MaxBody+1)
	for name, r := range map[string]*http.Request{
		"declared": httptest.NewRequest("POST", "/", strings.NewReader(big)),
		"chunked": func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader(big))
			r.ContentLength = -1
			return r
		}(),
	} {
		_, err := ReadBody(r)
		var he *Error
		if !errors.As(err, &he) || he.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: %v, want 413", name, err)
		}
	}
	raw, err := ReadBody(httptest.NewRequest("POST", "/", strings.NewReader(big[:MaxBody])))
	if err != nil || len(raw) != MaxBody {
		t.Fatalf("a body of MaxBody: %d bytes, %v", len(raw), err)
	}
}
