package jsonapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"hostdeck/api/httpx"
	"hostdeck/core"
)

// checkErrorDoc asserts that body is a JSON:API error document with a 4xx status
// matching status, and returns its error objects.
func checkErrorDoc(t testing.TB, status int, body []byte) []ErrorObject {
	t.Helper()
	var doc struct {
		Data   json.RawMessage `json:"data"`
		Errors []ErrorObject   `json:"errors"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, body)
	}
	if doc.Data != nil || len(doc.Errors) == 0 {
		t.Fatalf("not an error document: %s", body)
	}
	for _, o := range doc.Errors {
		if o.Status != fmt.Sprint(status) {
			t.Fatalf("error object status %q, response %d", o.Status, status)
		}
	}
	return doc.Errors
}

func request(method, target, ct, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	return r
}

func TestDecodeErrors(t *testing.T) {
	const ct = MediaType
	tests := []struct {
		name    string
		ct      string
		body    string
		status  int
		pointer string
	}{
		{"no content type", "", `{"data":{"type":"x"}}`, 415, ""},
		{"text/plain", "text/plain", `{"data":{"type":"x"}}`, 415, ""},
		{"charset param", MediaType + "; charset=utf-8", `{"data":{"type":"x"}}`, 415, ""},
		{"ext param", MediaType + `; ext="https://example.com/ext"`, `{"data":{"type":"x"}}`, 415, ""},
		{"empty", ct, ``, 400, ""},
		{"malformed", ct, `{"data":`, 400, ""},
		{"trailing garbage", ct, `{"data":{"type":"x"}} x`, 400, ""},
		{"two documents", ct, `{"data":{"type":"x"}}{}`, 400, ""},
		{"array", ct, `[]`, 400, ""},
		{"null", ct, `null`, 400, ""},
		{"string", ct, `"x"`, 400, ""},
		{"no data", ct, `{}`, 400, "/data"},
		{"unknown top member", ct, `{"data":{"type":"x"},"foo":1}`, 400, "/foo"},
		{"data null", ct, `{"data":null}`, 400, "/data"},
		{"data array", ct, `{"data":[]}`, 400, "/data"},
		{"data string", ct, `{"data":"x"}`, 400, "/data"},
		{"no type", ct, `{"data":{"attributes":{}}}`, 400, "/data/type"},
		{"type number", ct, `{"data":{"type":1}}`, 400, "/data/type"},
		{"id number", ct, `{"data":{"type":"x","id":1}}`, 400, "/data/id"},
		{"attributes array", ct, `{"data":{"type":"x","attributes":[]}}`, 400, "/data/attributes"},
		{"relationships string", ct, `{"data":{"type":"x","relationships":"s"}}`, 400, "/data/relationships"},
		{"unknown data member", ct, `{"data":{"type":"x","name":"a"}}`, 400, "/data/name"},
		{"pointer escaping", ct, `{"data":{"type":"x","a/b~":1}}`, 400, "/data/a~1b~0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(request("POST", "/x", tt.ct, tt.body))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Status != tt.status {
				t.Fatalf("status = %d, want %d (%v)", e.Status, tt.status, err)
			}
			if tt.pointer != "" && (e.Objects[0].Source == nil || e.Objects[0].Source.Pointer != tt.pointer) {
				t.Fatalf("source = %+v, want pointer %q", e.Objects[0].Source, tt.pointer)
			}
		})
	}
}

func TestDecodeAcceptsJSON(t *testing.T) {
	for _, ct := range []string{MediaType, MediaType + `; profile="https://example.com/p"`, "application/json", "application/json; charset=utf-8"} {
		b, err := Decode(request("POST", "/x", ct, `{"data":{"type":"servers","id":"1","attributes":{"name":"a"}},"meta":{}}`))
		if err != nil {
			t.Fatalf("%s: %v", ct, err)
		}
		if b.Type != "servers" || b.ID != "1" || !b.HasID {
			t.Fatalf("%s: body = %+v", ct, b)
		}
	}
}

func TestDecodeTooLarge(t *testing.T) {
	big := `{"data":{"type":"x","attributes":{"name":"` + strings.Repeat("a", httpx.MaxBody) + `"}}}`
	r := request("POST", "/x", MediaType, big)
	_, err := Decode(r)
	if e := FromError(err); e.Status != http.StatusRequestEntityTooLarge || e.Objects[0].Code != "too_large" {
		t.Fatalf("err = %v, want 413 too_large", err)
	}
	r = request("POST", "/x", MediaType, big)
	r.ContentLength = -1 // chunked: no length up front
	if _, err := Decode(r); FromError(err).Status != 413 {
		t.Fatalf("chunked: err = %v, want 413", err)
	}
}

func TestAttributes(t *testing.T) {
	body := `{"data":{"type":"x","attributes":{
		"s":"str","n":3,"f":1.5,"b":true,"d":"2030-01-02","t":"2030-01-02T10:00:00+03:00","null":null,
		"bad_s":1,"bad_n":"3","bad_b":"yes","bad_d":"02.01.2030","null_s":null,"extra":1,"secret":"x"
	},"relationships":{"server":{"data":{"type":"servers","id":"S"}},"other":{"data":null}}}}`
	b, err := DecodeBytes([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if s := b.String("s"); s == nil || *s != "str" {
		t.Errorf("s = %v", s)
	}
	if n := b.Int("n"); n == nil || *n != 3 {
		t.Errorf("n = %v", n)
	}
	if v := b.Bool("b"); v == nil || !*v {
		t.Errorf("b = %v", v)
	}
	if d := b.NullableDate("d"); d == nil || *d == nil || (*d).Format("2006-01-02") != "2030-01-02" {
		t.Errorf("d = %v", d)
	}
	if d := b.NullableDate("t"); d == nil || *d == nil || !(*d).Equal((*d).UTC()) || (*d).UTC().Hour() != 7 {
		t.Errorf("t = %v", d)
	}
	if d := b.NullableDate("null"); d == nil || *d != nil {
		t.Errorf("null = %v", d)
	}
	if b.String("absent") != nil || b.Int("absent") != nil || b.NullableDate("absent") != nil {
		t.Error("absent attribute read as present")
	}
	if id := b.RelationshipID("server", "servers"); id == nil || *id != "S" {
		t.Errorf("server = %v", id)
	}
	if id := b.RelationshipID("other", "servers"); id != nil {
		t.Errorf("other = %v", *id)
	}
	b.Int("f")
	b.String("bad_s")
	b.Int("bad_n")
	b.Bool("bad_b")
	b.NullableDate("bad_d")
	b.String("null_s")
	b.Reject("secret", "not here")
	err = b.Finish()
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 {
		t.Fatalf("Finish = %v, want 400", err)
	}
	var got []string
	for _, o := range e.Objects {
		got = append(got, o.Source.Pointer)
	}
	want := []string{"/data/attributes/f", "/data/attributes/bad_s", "/data/attributes/bad_n", "/data/attributes/bad_b",
		"/data/attributes/bad_d", "/data/attributes/null_s", "/data/attributes/secret", "/data/attributes/extra"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("pointers\n got %v\nwant %v", got, want)
	}
}

func TestTypeAndID(t *testing.T) {
	b, _ := DecodeBytes([]byte(`{"data":{"type":"clients","id":"a"}}`))
	for _, c := range []struct {
		err    error
		status int
	}{
		{b.CheckType("servers"), 409}, {b.CheckID("b"), 409}, {b.NoID(), 403},
	} {
		var e *Error
		if !errors.As(c.err, &e) || e.Status != c.status {
			t.Errorf("err = %v, want %d", c.err, c.status)
		}
	}
	if b.CheckType("clients") != nil || b.CheckID("a") != nil {
		t.Error("matching type or id refused")
	}
	if err := b.Finish(); err != nil {
		t.Errorf("Finish = %v", err)
	}
}

func TestCheckAccept(t *testing.T) {
	tests := []struct {
		accept string
		ok     bool
	}{
		{"", true},
		{"*/*", true},
		{"application/json", true},
		{MediaType, true},
		{MediaType + "; q=0.5", true},
		{MediaType + `; profile="https://example.com/a https://example.com/b"`, true},
		{MediaType + "; charset=utf-8", false},
		{MediaType + `; ext="https://example.com/ext"`, false},
		{MediaType + "; charset=utf-8, " + MediaType, true},
		{MediaType + "; charset=utf-8, application/json", false},
		{`text/html, ` + MediaType + `; profile="a,b"; foo=1`, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.accept != "" {
			r.Header.Set("Accept", tt.accept)
		}
		err := CheckAccept(r)
		if (err == nil) != tt.ok {
			t.Errorf("Accept %q: err = %v, want ok=%v", tt.accept, err, tt.ok)
		}
		var e *Error
		if err != nil && (!errors.As(err, &e) || e.Status != 406) {
			t.Errorf("Accept %q: err = %v, want 406", tt.accept, err)
		}
	}
}

func TestParseList(t *testing.T) {
	spec := ListSpec{Filters: []string{"status", "name"}, Sorts: []string{"name", "created_at"}}
	tests := []struct {
		query string
		param string // offending parameter; "" = ok
		want  ListQuery
	}{
		{"", "", ListQuery{Number: 1, Size: 20}},
		{"page[number]=3&page[size]=10", "", ListQuery{Number: 3, Size: 10}},
		{"page%5Bnumber%5D=2", "", ListQuery{Number: 2, Size: 20}},
		{"page[size]=100", "", ListQuery{Number: 1, Size: 100}},
		{"sort=-created_at,name", "", ListQuery{Number: 1, Size: 20, Sort: []string{"-created_at", "name"}}},
		{"filter[status]=active&filter[name]=a%20b", "", ListQuery{Number: 1, Size: 20, Filter: map[string]string{"status": "active", "name": "a b"}}},
		{"id=x&fields[clients]=name", "", ListQuery{Number: 1, Size: 20}},
		{"page[number]=0", "page[number]", ListQuery{}},
		{"page[number]=-1", "page[number]", ListQuery{}},
		{"page[number]=x", "page[number]", ListQuery{}},
		{"page[number]=99999999999999999999", "page[number]", ListQuery{}},
		{"page[size]=0", "page[size]", ListQuery{}},
		{"page[size]=101", "page[size]", ListQuery{}},
		{"page[size]=1.5", "page[size]", ListQuery{}},
		{"page[offset]=1", "page[offset]", ListQuery{}},
		{"page=1", "page", ListQuery{}},
		{"page[size]=1&page[size]=2", "page[size]", ListQuery{}},
		{"filter[email]=x", "filter[email]", ListQuery{}},
		{"filter=x", "filter", ListQuery{}},
		{"sort=email", "sort", ListQuery{}},
		{"sort=name,", "sort", ListQuery{}},
		{"sort=--name", "sort", ListQuery{}},
		{"include=server", "include", ListQuery{}},
	}
	for _, tt := range tests {
		v, _ := url.ParseQuery(tt.query)
		q, err := ParseList(v, spec)
		if tt.param != "" {
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 || e.Objects[0].Source == nil || e.Objects[0].Source.Parameter != tt.param {
				t.Errorf("%q: err = %v, want 400 about %s", tt.query, err, tt.param)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.query, err)
			continue
		}
		if tt.want.Filter == nil {
			tt.want.Filter = map[string]string{}
		}
		if fmt.Sprint(q) != fmt.Sprint(tt.want) {
			t.Errorf("%q: got %+v, want %+v", tt.query, q, tt.want)
		}
	}
	q, _ := ParseList(url.Values{"page[number]": {"3"}, "page[size]": {"10"}, "sort": {"name"}}, spec)
	if p := q.Page(); p.Offset != 20 || p.Limit != 10 || len(p.Sort) != 1 {
		t.Errorf("Page() = %+v", p)
	}
	if ListQuery.FilterPtr(q, "status") != nil {
		t.Error("absent filter is set")
	}
}

func TestListLinks(t *testing.T) {
	tests := []struct {
		query                   string
		total                   int
		first, prev, next, last string
	}{
		{"page[number]=2&page[size]=10&filter[status]=active", 35, "1", "1", "3", "4"},
		{"", 0, "1", "", "", "1"},
		{"page[size]=10", 10, "1", "", "", "1"},
		{"page[number]=4&page[size]=10", 35, "1", "3", "", "4"},
		{"page[number]=9&page[size]=10", 35, "1", "4", "", "4"},
	}
	for _, tt := range tests {
		v, _ := url.ParseQuery(tt.query)
		q, err := ParseList(v, ListSpec{Filters: []string{"status"}})
		if err != nil {
			t.Fatal(err)
		}
		var links Links
		var meta map[string]any
		face := httpx.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			links, meta = ListLinks(r, q, tt.total)
		}), httpx.Options{Prefix: "/alfa"})
		face.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/clients?"+tt.query, nil))
		if meta["total"] != tt.total {
			t.Errorf("meta = %v", meta)
		}
		for name, want := range map[string]string{"first": tt.first, "prev": tt.prev, "next": tt.next, "last": tt.last} {
			got, ok := links[name]
			if want == "" {
				if ok {
					t.Errorf("%q: %s = %q, want none", tt.query, name, got)
				}
				continue
			}
			u, err := url.Parse(got)
			if err != nil || u.Path != "/alfa/clients" {
				t.Errorf("%q: %s = %q", tt.query, name, got)
				continue
			}
			if n := u.Query().Get("page[number]"); n != want {
				t.Errorf("%q: %s page = %s, want %s", tt.query, name, n, want)
			}
			if strings.Contains(tt.query, "filter") && u.Query().Get("filter[status]") != "active" {
				t.Errorf("%q: %s lost the filter: %s", tt.query, name, got)
			}
		}
	}
}

func TestFromError(t *testing.T) {
	tests := []struct {
		err     error
		status  int
		detail  string
		pointer string
	}{
		{core.Invalid("name", "name is required"), 400, "name is required", "/data/attributes/name"},
		{core.Errorf(core.KindInvalid, "bad"), 400, "bad", ""},
		{core.NotFound("client", "x"), 404, `client "x" not found`, ""},
		{core.Errorf(core.KindConflict, "busy"), 409, "busy", ""},
		{core.Errorf(core.KindForbidden, "no"), 403, "no", ""},
		{core.Errorf(core.KindUnauthenticated, "who"), 401, "who", ""},
		{core.Errorf(core.KindTooMany, "slow down"), 429, "slow down", ""},
		{core.Errorf(core.KindUnavailable, "down"), 503, "down", ""},
		{core.Wrap(core.KindInternal, errors.New("secret dsn"), "db"), 500, "internal error", ""},
		{errors.New("secret dsn"), 500, "internal error", ""},
		{fmt.Errorf("wrapped: %w", core.Invalid("email", "bad email")), 400, "bad email", "/data/attributes/email"},
		{ParameterError("page[size]", "too big"), 400, "too big", ""},
		{httpx.Errorf(405, "PUT is not allowed"), 405, "PUT is not allowed", ""},
		{&httpx.Error{Status: 413, Message: "too big", Cause: errors.New("secret")}, 413, "too big", ""},
	}
	for _, tt := range tests {
		e := FromError(tt.err)
		o := e.Objects[0]
		if e.Status != tt.status || o.Status != fmt.Sprint(tt.status) || o.Detail != tt.detail || o.Title == "" || o.Code == "" {
			t.Errorf("%v: got %d %+v", tt.err, e.Status, o)
		}
		ptr := ""
		if o.Source != nil {
			ptr = o.Source.Pointer
		}
		if ptr != tt.pointer {
			t.Errorf("%v: pointer %q, want %q", tt.err, ptr, tt.pointer)
		}
		if httpx.ErrorStatus(e) != tt.status {
			t.Errorf("%v: httpx.ErrorStatus = %d", tt.err, httpx.ErrorStatus(e))
		}
		w := httptest.NewRecorder()
		Write(w, e.Status, &Document{Errors: e.Objects})
		if w.Code != tt.status || w.Header().Get("Content-Type") != MediaType || strings.Contains(w.Body.String(), "secret") {
			t.Errorf("%v: wrote %d %s", tt.err, w.Code, w.Body)
		}
		checkErrorDoc(t, w.Code, w.Body.Bytes())
	}
	if FromError(nil) != nil {
		t.Error("FromError(nil) != nil")
	}
}
