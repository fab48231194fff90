package ops

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"hostdeck/core/apps"
	"hostdeck/internal/testenv"
)

// FuzzOpsWire feeds arbitrary bodies to the face's decoders and arbitrary
// query strings to its page and filter readers: what fails is a 4xx of the
// face's own, never a panic.
func FuzzOpsWire(f *testing.F) {
	for _, s := range []string{
		`{"name": "A", "parent_app": 1, "child_apps": [2, {"id": "3"}], "response_person": [{"id": 1, "type": "dev"}]}`,
		`[{"id": 1}, {"id": 2}]`, `[1, 2]`, `{"id": 1}`, `[{"id": 1, "id": 2}]`, `[{"id": 1}, ["id": 2]]`,
		`{"authorizations": [{"id": 1, "app_name": "a", "permissions": {"view_app": true}}]}`,
		`{"module_name": "application", "permissions": {"add_app": true}}`, `null`, `{`, ``, `"x"`, `[null]`,
		"page=2&page_size=10&has_parent=1&response_persons=1,2", "page=1&page_number=4", "page_size=1001", "op_time__gt=1700000000",
		"op_time__lt=2026-01-01T00:00:00+08:00", "page=99999999999999999999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(what string, err error) {
			if err == nil {
				return
			}
			if st := httpStatus(err); st < 400 || st >= 500 {
				t.Fatalf("%s %q: %d %v", what, s, st, err)
			}
		}
		for _, v := range []any{&appInput{}, &userInput{}, &linkInput{}, &keyInput{}, &moduleGrant{}, &hostInput{}, &struct {
			Authorizations []authorization `json:"authorizations"`
		}{}} {
			check("decode", decodeBytes([]byte(s), v))
		}
		r := httptest.NewRequest("POST", "/", strings.NewReader(s))
		_, err := decodeRefs(r)
		check("refs", err)
		r = httptest.NewRequest("POST", "/", strings.NewReader(s))
		_, err = decodeArray[resourceEntry](r)
		check("entries", err)
		v, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		q := query{v}
		_, _, _, err = q.page()
		check("page", err)
		_, err = q.time("op_time__gt", "op_time__lt")
		check("time", err)
		_, err = q.numbers("response_persons")
		check("numbers", err)
		_, err = q.flag("has_parent")
		check("flag", err)
	})
}

// httpStatus is the status an error is answered with.
func httpStatus(err error) int {
	st, _, _, _ := statusOf(err)
	return st
}

// FuzzOpsHandler sends arbitrary methods, paths and bodies through the whole
// face over a real core, as the admin: every answer is below 500, and every
// error is the face's envelope.
func FuzzOpsHandler(f *testing.F) {
	env := testenv.NewWith(f, testenv.Options{})
	h := NewHandler(Services{Core: env.Svc, Identity: env.Identity, Login: env.Login, Apps: env.Apps, Fleet: env.Fleet, Links: env.Links}, Options{})
	ctx := env.AdminCtx()
	if _, err := env.Apps.Create(ctx, appsInput("seed")); err != nil {
		f.Fatal(err)
	}
	f.Add("GET", "/applications/?page=2&has_parent=1", "")
	f.Add("POST", "/applications/", `{"name": "x", "parent_app": 1}`)
	f.Add("PATCH", "/application/1/", `{"parent_app": 1}`)
	f.Add("POST", "/application/1/child-apps/", `[{"id": 1}]`)
	f.Add("DELETE", "/application/1/response-person/", `[{"id": 99}]`)
	f.Add("POST", "/users/1/system/perms/", `{"module_name": "应用管理", "permissions": {"view_app": true}}`)
	f.Add("PATCH", "/hosts/1/authorization/users/", `[{"user": {"id": 1}, "action": "delete"}]`)
	f.Add("GET", "/audit/authorize-operations/resources/?perm_name=login&resource_id=1", "")
	f.Add("POST", "/auth-tokens/", `{"name": "k"}`)
	f.Add("POST", "/hosts/", `{"name": "h", "host_type": "PHY_HOST", "ip_address": [{"address": "10.0.0.1", "addr_type": "PUBLIC"}]}`)
	f.Add("PATCH", "/host/1/", `{"cpu": -1}`)
	f.Add("GET", "/users/%zz/", "")
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		u, err := url.ParseRequestURI(path)
		if err != nil || len(method) == 0 || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			return
		}
		r := httptest.NewRequest("GET", "/", strings.NewReader(body))
		r.Method, r.URL, r.RequestURI = method, u, path
		r.SetBasicAuth(testenv.AdminUser, testenv.AdminPassword)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var e errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code == 0 || e.Message == "" {
				t.Fatalf("%s %s: error body %q", method, path, w.Body)
			}
		}
	})
}

func appsInput(name string) apps.AppInput { return apps.AppInput{Name: &name} }
