package jsonapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"hostdeck/api/httpx"
)

// checkClientError asserts err is an *Error or an *httpx.Error (never a core
// error, never a 500) with a 4xx status whose written form is a JSON:API error
// document.
func checkClientError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	var he *httpx.Error
	if !errors.As(err, &e) && !errors.As(err, &he) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	e = FromError(err)
	if e.Status < 400 || e.Status > 499 {
		t.Fatalf("status %d for %v", e.Status, err)
	}
	w := httptest.NewRecorder()
	Write(w, e.Status, &Document{Errors: e.Objects})
	if w.Code != e.Status || w.Header().Get("Content-Type") != MediaType {
		t.Fatalf("wrote %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	checkErrorDoc(t, w.Code, w.Body.Bytes())
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"data":null}`, `{"data":{"type":"x"}}`,
		`{"data":{"type":"servers","id":"1","attributes":{"name":"a","capacity":3,"status":null}}}`,
		`{"data":{"type":"clients","attributes":{"expire_date":"2030-01-01","demo":true},"relationships":{"server":{"data":{"type":"servers","id":"s"}}}}}`,
		`{"data":{"type":"x"}} trailing`, `{"data":{"type":"x","a/b":1}}`, "\xff\xfe",
	} {
		f.Add(s, MediaType)
	}
	f.Add(`{"data":{"type":"x"}}`, "application/json; charset=utf-8")
	f.Add(`{"data":{"type":"x"}}`, MediaType+"; ext=x")
	f.Fuzz(func(t *testing.T, body, ct string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		b, err := Decode(r)
		if err != nil {
			checkClientError(t, err)
			return
		}
		// Every getter on every attribute, then Finish: errors stay 4xx documents.
		for name := range b.attrs {
			switch len(name) % 5 {
			case 0:
				b.String(name)
			case 1:
				b.Int(name)
			case 2:
				b.Bool(name)
			case 3:
				b.NullableDate(name)
			case 4:
				b.Reject(name, "no")
			}
		}
		for name := range b.rels {
			b.RelationshipID(name, "servers")
		}
		for _, err := range []error{b.CheckType("x"), b.CheckID("1"), b.NoID(), b.Finish()} {
			if err != nil {
				checkClientError(t, err)
			}
		}
	})
}

func FuzzPage(f *testing.F) {
	for _, s := range []string{
		"", "page[number]=2&page[size]=10", "page%5Bsize%5D=1000", "sort=-name,created_at", "sort=,",
		"filter[status]=a&filter[nope]=b", "include=x", "page=1", "filter=", "page[number]=-0", "a=b&c",
	} {
		f.Add(s, 7)
	}
	spec := ListSpec{Filters: []string{"status", "name"}, Sorts: []string{"name", "created_at"}}
	f.Fuzz(func(t *testing.T, query string, total int) {
		values, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		q, err := ParseList(values, spec)
		if err != nil {
			checkClientError(t, err)
			var e *Error
			if errors.As(err, &e) && (e.Objects[0].Source == nil || e.Objects[0].Source.Parameter == "") {
				t.Fatalf("no source.parameter: %v", err)
			}
			return
		}
		if q.Number < 1 || q.Size < 1 || q.Size > MaxPageSize {
			t.Fatalf("page out of range: %+v", q)
		}
		if p := q.Page(); p.Offset < 0 || p.Limit != q.Size {
			t.Fatalf("core page %+v", p)
		}
		if total < 0 {
			total = -total
		}
		r := httptest.NewRequest(http.MethodGet, "/list", nil)
		r.URL.RawQuery = query
		links, _ := ListLinks(r, q, total%1_000_000)
		for name, l := range links {
			u, err := url.Parse(l)
			if err != nil {
				t.Fatalf("%s link %q: %v", name, l, err)
			}
			if _, err := ParseList(u.Query(), spec); err != nil {
				t.Fatalf("%s link %q does not parse back: %v", name, l, err)
			}
		}
	})
}
