package ops_test

import (
	"net/http"
	"strings"
	"testing"

	"hostdeck/internal/testenv"
)

// TestAuthentication: no credentials, wrong ones, Basic, and a key by Token
// and Bearer; 401s carry WWW-Authenticate: Token.
func TestAuthentication(t *testing.T) {
	s := start(t, testenv.Options{})
	a := s.call("GET", "/applications/", "", nil).code(t, 401, 10001)
	if got := a.header.Get("WWW-Authenticate"); got != "Token" {
		t.Errorf("WWW-Authenticate %q, want Token", got)
	}
	s.call("GET", "/applications/", "Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", nil).code(t, 401, 10002)
	s.call("GET", "/applications/", "Basic "+"YWRtaW46d3Jvbmc=", nil).code(t, 401, 10002) // admin:wrong
	s.call("GET", "/applications/", "Digest abc", nil).code(t, 401, 10002)
	s.as("GET", "/applications/", nil).want(t, 200)

	key := s.as("POST", "/auth-tokens/", map[string]any{"name": "ci"}).want(t, 201).str("value")
	for _, scheme := range []string{"Token ", "Bearer ", "token "} {
		s.call("GET", "/users/", scheme+key, nil).want(t, 200)
	}
	// Only forget-password is open.
	s.call("POST", "/users/1/actions/forget-password/", "", map[string]any{"email": "nobody@example.test"}).want(t, 200)
	s.call("GET", "/users/1/", "", nil).code(t, 401, 10001)
}

// TestPaths: both spellings of /application(s)/, with and without the
// trailing slash, answer the same; unknown routes and methods are the global
// 10004 and 10005.
func TestPaths(t *testing.T) {
	s := start(t, testenv.Options{})
	id := s.as("POST", "/applications/", map[string]any{"name": "web"}).want(t, 201).num("id")
	for _, p := range []string{"/applications/%v/", "/applications/%v", "/application/%v/", "/application/%v"} {
		if got := s.as("GET", path(p, id), nil).want(t, 200).str("name"); got != "web" {
			t.Errorf("GET %s: name %q", path(p, id), got)
		}
	}
	s.as("GET", "/application/", nil).want(t, 200)
	s.as("GET", "/applications/999/", nil).code(t, 404, 10004)
	s.as("GET", "/applications/web/", nil).code(t, 404, 10004)
	s.as("GET", "/no-such-thing/", nil).code(t, 404, 10004)
	a := s.as("PUT", "/applications/", nil).code(t, 405, 10005)
	if a.header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
}

// TestBadInput: malformed JSON, wrong types, unknown fields, oversized and
// control characters are 4xx in the envelope, never 500; messages in Chinese
// on request.
func TestBadInput(t *testing.T) {
	s := start(t, testenv.Options{})
	cases := []struct {
		name   string
		body   any
		status int
	}{
		{"malformed", `{"name": "x"`, 400},
		{"python dict", `{'name': 'x'}`, 400},
		{"wrong type", `{"name": 5}`, 400},
		{"unknown field", `{"name": "x", "colour": "red"}`, 400},
		{"two values", `{"name": "x"} {}`, 400},
		{"empty", ``, 400},
		{"control character", `{"name": "a\u0007b"}`, 400},
		{"too long", `{"name": "` + strings.Repeat("n", 300) + `"}`, 400},
		{"oversized", `{"name": "` + strings.Repeat("n", 2<<20) + `"}`, 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := s.as("POST", "/applications/", c.body).want(t, c.status)
			if a.num("error_code") != 10006 || a.str("message") == "" || a.str("detail") == "" {
				t.Errorf("answer %s", a.raw)
			}
		})
	}
	if n := s.as("GET", "/applications/", nil).num("count"); n != 0 {
		t.Errorf("%v applications after bad input, want none", n)
	}
	zh := s.call("GET", "/applications/1/", s.admin, nil, "Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8").code(t, 404, 10004)
	if zh.str("message") != "未找到" || !strings.Contains(zh.str("detail"), "not found") {
		t.Errorf("Chinese answer %s", zh.raw)
	}
	en := s.call("GET", "/applications/1/", s.admin, nil, "Accept-Language", "en-US,zh;q=0.5").code(t, 404, 10004)
	if !strings.Contains(en.str("message"), "not found") {
		t.Errorf("English answer %s", en.raw)
	}
	s.as("GET", "/applications/?page_size=1001", nil).code(t, 400, 10006)
	s.as("GET", "/applications/?page=0", nil).code(t, 400, 10006)
	s.as("GET", "/applications/?has_parent=maybe", nil).code(t, 400, 10006)
}

// TestPages: {count, next, prev, previous, results} with relative links that
// keep the other parameters, page_number as page, null at the ends, and an
// empty page past the end.
func TestPages(t *testing.T) {
	s := start(t, testenv.Options{})
	for i := range 25 {
		s.as("POST", "/applications/", map[string]any{"name": path("app-%02d", i)}).want(t, 201)
	}
	first := s.as("GET", "/application/?has_parent=0", nil).want(t, 200)
	if first.num("count") != 25 || len(first.list("results")) != 10 || first.get("prev") != nil {
		t.Fatalf("first page %s", first.raw)
	}
	if next := first.str("next"); next != "/ops/application/?has_parent=0&page=2" {
		t.Errorf("next %q", next)
	}
	last := s.as("GET", "/applications/?page_number=3&page_size=10", nil).want(t, 200)
	if len(last.list("results")) != 5 || last.get("next") != nil || last.str("prev") != "/ops/applications/?page=2&page_size=10" || last.str("previous") != last.str("prev") {
		t.Errorf("last page %s", last.raw)
	}
	if got := last.names("name")[0]; got != "app-20" {
		t.Errorf("page 3 starts with %s", got)
	}
	past := s.as("GET", "/applications/?page=9", nil).want(t, 200)
	if len(past.list("results")) != 0 || past.num("count") != 25 {
		t.Errorf("past the end %s", past.raw)
	}
	// page and page_number without page_size: page_number is the size.
	if n := len(s.as("GET", "/applications/?page=1&page_number=4", nil).want(t, 200).list("results")); n != 4 {
		t.Errorf("page=1&page_number=4: %d results, want 4", n)
	}
	if a := s.as("GET", "/applications/?page_size=5", nil); a.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", a.header.Get("Content-Type"))
	}
	_ = http.StatusOK
}
