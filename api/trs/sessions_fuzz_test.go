package trs

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"hostdeck/core"
)

// FuzzSessionQuery feeds arbitrary query strings to the sessions filter: it never
// panics, and what it rejects is KindInvalid (code 9).
func FuzzSessionQuery(f *testing.F) {
	for _, s := range []string{
		"user_id=in:a,b&last=true", "created_at=gte:2018-10-31T12:59:43&created_at=lt:2019-01-01",
		"created_at=in:x", "user_name=gt:a", "last=maybe", "instance_id=nin:", "created_at=gt:", "%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := httptest.NewRequest("GET", "/v1/sessions/", nil)
		r.URL.RawQuery = q
		if _, err := url.ParseQuery(q); err != nil {
			return
		}
		if _, err := sessionFilter(r); err != nil && core.ErrorKind(err) != core.KindInvalid {
			t.Fatalf("query %q: %v", q, err)
		}
	})
}
