package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/httpx/httpxtest"
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
	big := `{"data":{"type":"x","attributes":{"name":"` + strings.Repeat("a", MaxBody) + `"}}}`
	r := request("POST", "/x", MediaType, big)
	_, err := Decode(r)
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("err = %v, want 413", err)
	}
	r = request("POST", "/x", MediaType, big)
	r.ContentLength = -1 // chunked: no length up front
	if _, err := Decode(r); !errors.As(err, &e) || e.Status != 413 {
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
		r := httptest.NewRequest("GET", "/alfa/clients?"+tt.query, nil)
		r.URL.Path = "/clients" // as after http.StripPrefix("/alfa")
		r = r.WithContext(contextWithRecord(r, &record{prefix: "/alfa"}))
		links, meta := ListLinks(r, q, tt.total)
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
		w := httptest.NewRecorder()
		WriteError(w, httptest.NewRequest("GET", "/", nil), tt.err)
		if w.Code != tt.status || w.Header().Get("Content-Type") != MediaType || strings.Contains(w.Body.String(), "secret") {
			t.Errorf("%v: wrote %d %s", tt.err, w.Code, w.Body)
		}
		checkErrorDoc(t, w.Code, w.Body.Bytes())
	}
	if FromError(nil) != nil {
		t.Error("FromError(nil) != nil")
	}
}

// testServer is a face-like handler: a router behind Serve, with metrics and logs.
func testServer(t *testing.T) (http.Handler, *prometheus.Registry, *bytes.Buffer) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg); err != nil { // a second face shares the collectors
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	rt := NewRouter(nil)
	rt.Handle("GET", "/items", func(w http.ResponseWriter, r *http.Request) error {
		Write(w, 200, &Document{Data: []*Resource{}, Links: Links{"self": URLPath(r, r.URL.Path)}})
		return nil
	})
	rt.Handle("POST", "/items/{id}", func(w http.ResponseWriter, r *http.Request) error {
		return core.Invalid("name", "bad name")
	})
	rt.Handle("GET", "/items/{id}", func(w http.ResponseWriter, r *http.Request) error {
		if r.PathValue("id") == "boom" {
			panic("boom")
		}
		return errors.New("db password leaked")
	})
	return Serve(rt, Options{Face: "test", Log: log, Metrics: m}), reg, &logs
}

func TestServe(t *testing.T) {
	h, reg, logs := testServer(t)
	mux := http.NewServeMux()
	mux.Handle("/pre/", http.StripPrefix("/pre", h))
	mux.Handle("/", h)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/items", 200, ""},
		{"GET", "/items/", 200, ""},
		{"GET", "/pre/items/", 200, ""},
		{"DELETE", "/items", 405, "GET"},
		{"PUT", "/items/1", 405, "GET, POST"},
		{"POST", "/items/1/", 400, ""},
		{"GET", "/nope", 404, ""},
		{"GET", "/items/1/x", 404, ""},
		{"GET", "/items/boom", 500, ""},
		{"GET", "/items/1", 500, ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		r.Header.Set("Authorization", "Basic c2VjcmV0OnNlY3JldA==")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != tt.status {
			t.Errorf("%s %s = %d, want %d: %s", tt.method, tt.path, w.Code, tt.status, w.Body)
			continue
		}
		if w.Header().Get("Content-Type") != MediaType {
			t.Errorf("%s %s: Content-Type %q", tt.method, tt.path, w.Header().Get("Content-Type"))
		}
		if tt.allow != "" && w.Header().Get("Allow") != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, w.Header().Get("Allow"), tt.allow)
		}
		if w.Code >= 400 {
			objs := checkErrorDoc(t, w.Code, w.Body.Bytes())
			if w.Code == 500 && objs[0].Detail != "internal error" {
				t.Errorf("500 detail %q", objs[0].Detail)
			}
		}
		if tt.path == "/pre/items/" && !strings.Contains(w.Body.String(), `"self":"/pre/items"`) {
			t.Errorf("prefix not kept in links: %s", w.Body)
		}
	}

	// One log line per request, with the route pattern; credentials never.
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != len(tests) {
		t.Errorf("%d log lines for %d requests:\n%s", len(lines), len(tests), logs)
	}
	if strings.Contains(logs.String(), "c2VjcmV0") {
		t.Error("credentials logged")
	}
	for _, want := range []string{`"route":"/items/{id}"`, `"route":"unmatched"`, `"face":"test"`, `"panic":"boom"`, `"stack":`, `db password leaked`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}

	counts := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "hostdeck_http_requests_total":
				counts[labels["route"]+" "+labels["method"]+" "+labels["code"]] += m.GetCounter().GetValue()
			case "hostdeck_http_request_duration_seconds":
				if labels["face"] != "test" || m.GetHistogram().GetSampleCount() == 0 {
					t.Errorf("histogram %v", labels)
				}
			}
		}
	}
	for key, want := range map[string]float64{
		"/items GET 200": 3, "/items DELETE 405": 1, "/items/{id} PUT 405": 1, "/items/{id} POST 400": 1,
		"unmatched GET 404": 2, "/items/{id} GET 500": 2,
	} {
		if counts[key] != want {
			t.Errorf("requests_total{%s} = %v, want %v (all: %v)", key, counts[key], want, counts)
		}
	}
}

func TestCleanPath(t *testing.T) {
	h, _, _ := testServer(t)
	for _, p := range []string{"/items", "/items/", "/items//", "//items", "/x/../items"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != 200 {
			t.Errorf("GET %s = %d: %s", p, w.Code, w.Body)
		}
	}
}

// A face's own error writer answers panics, bodies are capped for every face, and
// metrics are registered on the face's Registerer.
func TestServeFaceOptions(t *testing.T) {
	reg := prometheus.NewRegistry()
	var got error
	rt := NewRouter(nil)
	rt.Handle("GET", "/boom", func(w http.ResponseWriter, r *http.Request) error { panic("boom") })
	rt.Handle("POST", "/read", func(w http.ResponseWriter, r *http.Request) error {
		_, got = io.ReadAll(r.Body)
		return got
	})
	h := Serve(rt, Options{Face: "own", Registerer: reg, WriteError: func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(599)
	}})

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	if rec.Code != 599 || core.ErrorKind(got) != core.KindInternal {
		t.Fatalf("panic: %d %v", rec.Code, got)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/read", strings.NewReader(strings.Repeat("a", MaxBody+1))))
	var tooBig *http.MaxBytesError
	if !errors.As(got, &tooBig) {
		t.Fatalf("oversized body: %d %v", rec.Code, got)
	}
	mfs, err := reg.Gather()
	series := 0
	for _, mf := range mfs {
		if mf.GetName() == "hostdeck_http_requests_total" {
			series = len(mf.GetMetric())
		}
	}
	if err != nil || series != 2 {
		t.Fatalf("request series = %d, %v", series, err)
	}
}

// A request whose client went away is a 499 in the log line and the metrics,
// whatever the face wrote, unless it answered in full or panicked.
func TestServeClientGone(t *testing.T) {
	gone := func(ctx context.Context) context.Context {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		return ctx
	}
	tests := []struct {
		name   string
		gone   bool // the client closed the connection (the request context is cancelled)
		handle HandlerFunc
		status int
	}{
		{"store error", true, func(w http.ResponseWriter, r *http.Request) error {
			return core.Wrap(core.KindInternal, r.Context().Err(), "list clients")
		}, 499},
		{"error without the cause", true, func(w http.ResponseWriter, r *http.Request) error {
			return errors.New("driver: interrupted")
		}, 499},
		{"reported unavailable", true, func(w http.ResponseWriter, r *http.Request) error {
			return core.Wrap(core.KindUnavailable, r.Context().Err(), "runtime")
		}, 499},
		{"nothing written", true, func(w http.ResponseWriter, r *http.Request) error { return nil }, 499},
		{"own envelope", true, func(w http.ResponseWriter, r *http.Request) error {
			RecordError(r, errors.New("driver: interrupted"))
			WriteJSON(w, 400, map[string]int{"code": 1})
			return nil
		}, 499},
		{"recorded cancellation", false, func(w http.ResponseWriter, r *http.Request) error {
			return fmt.Errorf("call: %w", context.Canceled)
		}, 499},
		{"answered", true, func(w http.ResponseWriter, r *http.Request) error {
			Write(w, 200, &Document{Data: []*Resource{}})
			return nil
		}, 200},
		{"panic", true, func(w http.ResponseWriter, r *http.Request) error { panic("boom") }, 500},
		{"failure", false, func(w http.ResponseWriter, r *http.Request) error { return errors.New("disk full") }, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := httpxtest.NewRecorder()
			rt := NewRouter(nil)
			rt.Handle("GET", "/items", tt.handle)
			h := Serve(rt, Options{Face: "test", Log: o.Log, Registerer: o.Registry})
			r := httptest.NewRequest("GET", "/items", nil)
			if tt.gone {
				r = r.WithContext(gone(r.Context()))
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			line, _ := o.RequestLine(t)
			wantLevel, wantCanceled := "INFO", any(true)
			if tt.status != 499 {
				wantCanceled = nil
			}
			if tt.status >= 500 {
				wantLevel = "ERROR"
			}
			if line["status"] != int64(tt.status) || line["canceled"] != wantCanceled || line["level"] != wantLevel {
				t.Errorf("logged %v, want status %d, canceled %v, level %s", line, tt.status, wantCanceled, wantLevel)
			}
			want := map[string]float64{fmt.Sprintf("test /items GET %d", tt.status): 1}
			if got := o.Requests(t); !maps.Equal(got, want) {
				t.Errorf("requests_total = %v, want %v", got, want)
			}
		})
	}
}
