package trs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/httpx/httpxtest"
	"hostdeck/api/trs"
	"hostdeck/core"
	"hostdeck/core/cloud"
	"hostdeck/internal/testenv"
)

// client drives the face over HTTP as an RS client or keystoneauth would.
type client struct {
	t     testing.TB
	base  string
	token string
	lang  string
}

type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func start(t *testing.T, o trs.Options) (*testenv.Env, *client, *client) {
	t.Helper()
	return startEnv(t, testenv.New(t), o)
}

// startEnv serves the face over env, under /trs/ and at /.
func startEnv(t *testing.T, env *testenv.Env, o trs.Options) (*testenv.Env, *client, *client) {
	t.Helper()
	o.Log, o.Registerer = env.Log, prometheus.NewRegistry()
	h := trs.NewHandler(env.Desktop, env.Session, env.Machine, env.Provision, env.HandOut, env.Catalogue, env.Identity, env.Login, o)
	mux := http.NewServeMux()
	mux.Handle("/trs/", http.StripPrefix("/trs", h))
	mux.Handle("/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return env, &client{t: t, base: srv.URL + "/trs"}, &client{t: t, base: srv.URL}
}

func (c *client) do(method, path, body string, hdr ...string) *response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		r.Header.Set("X-Auth-Token", c.token)
	}
	if c.lang != "" {
		r.Header.Set("Accept-Language", c.lang)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := &response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			c.t.Fatalf("%s %s: body is not a JSON object: %s", method, path, raw)
		}
	}
	if res.StatusCode >= 500 {
		c.t.Fatalf("%s %s: status %d: %s", method, path, res.StatusCode, raw)
	}
	return out
}

func (r *response) must(t testing.TB, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// trsError checks the TRS envelope and returns its code and message.
func (r *response) trsError(t testing.TB) (int, string, map[string]any) {
	t.Helper()
	r.must(t, http.StatusBadRequest)
	e, ok := r.body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object: %s", r.raw)
	}
	code, _ := e["code"].(float64)
	msg, _ := e["message"].(string)
	data, ok := e["data"].(map[string]any)
	if !ok || msg == "" || code == 0 {
		t.Fatalf("malformed envelope: %s", r.raw)
	}
	return int(code), msg, data
}

// keystoneError checks Keystone's error shape and status.
func (r *response) keystoneError(t testing.TB, status int) string {
	t.Helper()
	r.must(t, status)
	e, ok := r.body["error"].(map[string]any)
	if !ok || e["code"] != float64(status) || e["title"] != http.StatusText(status) || e["message"] == "" {
		t.Fatalf("not a Keystone error: %s", r.raw)
	}
	return e["message"].(string)
}

func get(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

func loginBody(user, domain, password, scope string) string {
	b := `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "` + user +
		`", "domain": {"name": "` + domain + `"}, "password": "` + password + `"}}}`
	if scope != "" {
		b += `, "scope": ` + scope
	}
	return b + `}}`
}

// login gets a token as keystoneauth does and returns it with the token body.
func login(t *testing.T, c *client, user, password, scope string) (string, map[string]any) {
	t.Helper()
	res := c.do("POST", "/v3/auth/tokens", loginBody(user, "Default", password, scope)).must(t, http.StatusCreated)
	tok := res.header.Get("X-Subject-Token")
	if len(tok) < 40 {
		t.Fatalf("X-Subject-Token = %q", tok)
	}
	return tok, res.body
}

func TestLoginThenInfoAndTasks(t *testing.T) {
	lic := &trs.License{CreatedAt: 1538141220, ExpireAt: 1545955200, ModulePackage: "rs_server", Name: "Laboratoria",
		Product: "RSserver", SurrogateName: "RSserver", UniqueID: "07-002-decf3c6c893561752802", Verified: true}
	env, c, root := start(t, trs.Options{Version: "1.2.3", License: lic})
	for _, cl := range []*client{c, root} {
		tok, body := login(t, cl, testenv.AdminUser, testenv.AdminPassword, "")
		exp, err := time.Parse("2006-01-02T15:04:05.000000Z", get(body, "token", "expires_at").(string))
		if err != nil || time.Until(exp) < 59*time.Minute || time.Until(exp) > 61*time.Minute {
			t.Fatalf("expires_at = %v (%v)", get(body, "token", "expires_at"), err)
		}
		if get(body, "token", "user", "name") != testenv.AdminUser || get(body, "token", "user", "domain", "name") != "Default" ||
			get(body, "token", "methods").([]any)[0] != "password" || get(body, "token", "issued_at") == nil {
			t.Fatalf("token body = %s", body)
		}
		cat := get(body, "token", "catalog").([]any)
		url := cat[0].(map[string]any)["endpoints"].([]any)[0].(map[string]any)["url"].(string)
		if url != cl.base+"/v3" {
			t.Fatalf("identity endpoint = %s, want %s/v3", url, cl.base)
		}
		cl.token = tok
		info := cl.do("GET", "/v1/info", "").must(t, http.StatusOK).body
		if get(info, "info", "version") != "1.2.3" || get(info, "info", "license", "unique_id") != lic.UniqueID ||
			get(info, "info", "license", "verified") != true || get(info, "info", "license", "created_at") != float64(1538141220) {
			t.Fatalf("info = %v", info)
		}
	}

	// Tasks: hostdeck's durable tasks, celery-style.
	env.Server(t, "s1", 5)
	name, email := "Lab1", "lab1@example.test"
	_, task, err := env.Cloud.CreateClient(env.AdminCtx(), cloud.ClientInput{Name: &name, Email: &email})
	if err != nil {
		t.Fatal(err)
	}
	list := c.do("GET", "/v1/tasks/", "").must(t, http.StatusOK).body
	ids := list["tasks"].([]any)
	found := false
	for i, id := range ids {
		found = found || id == task.ID
		if i > 0 && ids[i-1].(string) < id.(string) { // UUIDv7 ids sort by creation time
			t.Fatalf("tasks = %v, want newest first", ids)
		}
	}
	if !found {
		t.Fatalf("tasks = %v, want %s among them", ids, task.ID)
	}
	env.WaitTask(t, task.ID)
	tk := c.do("GET", "/v1/tasks/"+task.ID, "").must(t, http.StatusOK).body
	if tk["status"] != "SUCCESS" || tk["task_id"] != task.ID || tk["name"] != cloud.KindClientCreate ||
		tk["date_done"] == nil || tk["traceback"] != nil || tk["result"] == nil {
		t.Fatalf("task = %v", tk)
	}
	if got := root.do("GET", "/v1/tasks?limit=1", "").must(t, http.StatusOK).body["tasks"].([]any); len(got) != 1 {
		t.Fatalf("limit=1 gave %d", len(got))
	}
}

func TestInfoWithoutLicense(t *testing.T) {
	_, c, _ := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	info := c.do("GET", "/v1/info", "").must(t, http.StatusOK).body
	if _, ok := info["info"].(map[string]any)["license"]; ok || get(info, "info", "version") == "" {
		t.Fatalf("info = %v", info)
	}
}

func TestTokenErrorsInBothLanguages(t *testing.T) {
	env, c, _ := start(t, trs.Options{})
	cases := []struct{ lang, want string }{
		{"", "Unexpected error occurred. Please contact system administrator."},
		{"en-US,en;q=0.9", "Unexpected error occurred. Please contact system administrator."},
		{"ru-RU,ru;q=0.9,en;q=0.8", "Произошла непредвиденная ошибка. Обратитесь к системному администратору."},
		{"en;q=0.5, ru", "Произошла непредвиденная ошибка. Обратитесь к системному администратору."},
	}
	for _, tc := range cases {
		c.lang = tc.lang
		for _, tok := range []string{"", "bogus"} {
			c.token = tok
			code, msg, _ := c.do("GET", "/v1/info", "").trsError(t)
			if code != 24 || msg != tc.want {
				t.Fatalf("lang %q token %q: code %d message %q", tc.lang, tok, code, msg)
			}
		}
	}
	// A revoked token is refused the same way.
	c.lang = ""
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	c.do("DELETE", "/v3/auth/tokens", "", "X-Subject-Token", c.token).must(t, http.StatusNoContent)
	if code, _, _ := c.do("GET", "/v1/info", "").trsError(t); code != 24 {
		t.Fatalf("revoked token: code %d", code)
	}
	_ = env
}

func TestKeystoneErrors(t *testing.T) {
	_, c, root := start(t, trs.Options{})
	c.do("POST", "/v3/auth/tokens", loginBody(testenv.AdminUser, "Default", "wrong-password", "")).keystoneError(t, http.StatusUnauthorized)
	res := c.do("POST", "/v3/auth/tokens", loginBody(testenv.AdminUser, "Nowhere", testenv.AdminPassword, ""))
	res.keystoneError(t, http.StatusUnauthorized)
	if !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Keystone uri=") {
		t.Fatalf("WWW-Authenticate = %q", res.header.Get("WWW-Authenticate"))
	}
	c.do("GET", "/v3/users", "").keystoneError(t, http.StatusUnauthorized)
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	c.do("GET", "/v3/auth/tokens", "", "X-Subject-Token", "nope").keystoneError(t, http.StatusNotFound)
	c.do("GET", "/v3/nothing", "").keystoneError(t, http.StatusNotFound)
	c.do("PUT", "/v3/users", "{}").keystoneError(t, http.StatusMethodNotAllowed)
	// The version document is open.
	c.token = ""
	if v := c.do("GET", "/v3", "").must(t, http.StatusOK).body; get(v, "version", "status") != "stable" {
		t.Fatalf("version = %v", v)
	}
	for _, cl := range []*client{c, root} {
		v := cl.do("GET", "/", "").must(t, http.StatusMultipleChoices).body
		vals := get(v, "versions", "values").([]any)
		if href := vals[0].(map[string]any)["links"].([]any)[0].(map[string]any)["href"]; href != cl.base+"/v3/" {
			t.Fatalf("versions = %v", v)
		}
	}
}

func TestKeystoneAdministration(t *testing.T) {
	env, c, _ := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")

	u := c.do("POST", "/v3/users", `{"user": {"name": "student1", "password": "student-pass-1", "email": "s1@example.test", "domain_id": "default", "enabled": true}}`).
		must(t, http.StatusCreated).body["user"].(map[string]any)
	uid := u["id"].(string)
	if u["name"] != "student1" || u["domain_id"] != "default" || u["enabled"] != true || u["password"] != nil {
		t.Fatalf("user = %v", u)
	}
	c.do("POST", "/v3/users", `{"user": {"name": "student1", "password": "student-pass-1"}}`).keystoneError(t, http.StatusConflict)
	users := c.do("GET", "/v3/users?name=student1", "").must(t, http.StatusOK).body
	if len(users["users"].([]any)) != 1 || get(users, "links", "self") == nil {
		t.Fatalf("users = %v", users)
	}
	up := c.do("PATCH", "/v3/users/"+uid, `{"user": {"email": "new@example.test"}}`).must(t, http.StatusOK).body
	if get(up, "user", "email") != "new@example.test" {
		t.Fatalf("patched = %v", up)
	}

	g := c.do("POST", "/v3/groups", `{"group": {"name": "class-a", "description": "first class"}}`).must(t, http.StatusCreated).body["group"].(map[string]any)
	gid := g["id"].(string)
	c.do("PUT", "/v3/groups/"+gid+"/users/"+uid, "").must(t, http.StatusNoContent)
	members := c.do("GET", "/v3/groups/"+gid+"/users", "").must(t, http.StatusOK).body["users"].([]any)
	if len(members) != 1 {
		t.Fatalf("members = %v", members)
	}
	if gs := c.do("GET", "/v3/groups", "").must(t, http.StatusOK).body["groups"].([]any); len(gs) != 1 {
		t.Fatalf("groups = %v", gs)
	}
	c.do("DELETE", "/v3/groups/"+gid+"/users/"+uid, "").must(t, http.StatusNoContent)
	c.do("DELETE", "/v3/groups/"+gid+"/users/"+uid, "").keystoneError(t, http.StatusNotFound)

	p := &core.Project{Name: "course"}
	if err := env.Store.CreateProject(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	// Not granted yet: the scoped login fails.
	scope := `{"project": {"name": "course", "domain": {"id": "default"}}}`
	c2 := &client{t: t, base: c.base}
	c2.do("POST", "/v3/auth/tokens", loginBody("student1", "Default", "student-pass-1", scope)).keystoneError(t, http.StatusUnauthorized)
	c.do("PUT", "/v3/projects/"+p.ID+"/users/"+uid+"/roles/Member", "").must(t, http.StatusNoContent)
	c.do("PUT", "/v3/projects/"+p.ID+"/users/"+uid+"/roles/owner", "").keystoneError(t, http.StatusNotFound)
	tok, body := login(t, c2, "student1", "student-pass-1", scope)
	if get(body, "token", "project", "id") != p.ID || get(body, "token", "roles").([]any)[0].(map[string]any)["name"] != "member" {
		t.Fatalf("scoped token = %v", body)
	}
	// The admin inspects it; its owner may too; a member cannot administer.
	if v := c.do("GET", "/v3/auth/tokens", "", "X-Subject-Token", tok).must(t, http.StatusOK).body; get(v, "token", "user", "id") != uid {
		t.Fatalf("inspected = %v", v)
	}
	c2.token = tok
	c2.do("HEAD", "/v3/auth/tokens", "", "X-Subject-Token", tok).must(t, http.StatusOK)
	c2.do("GET", "/v3/users", "").keystoneError(t, http.StatusForbidden)
	if code, _, _ := c2.do("GET", "/v1/tasks", "").trsError(t); code != 6 {
		t.Fatalf("member on tasks: code %d", code)
	}
	c2.do("GET", "/v1/info", "").must(t, http.StatusOK)

	c.do("DELETE", "/v3/users/"+uid, "").must(t, http.StatusNoContent)
	c.do("DELETE", "/v3/users/"+uid, "").keystoneError(t, http.StatusNotFound)
	if code, _, _ := c2.do("GET", "/v1/info", "").trsError(t); code != 24 {
		t.Fatalf("deleted user's token: code %d", code)
	}
	if roles := c.do("GET", "/v3/roles", "").must(t, http.StatusOK).body["roles"].([]any); len(roles) != 2 {
		t.Fatalf("roles = %v", roles)
	}
}

func TestBadInput(t *testing.T) {
	_, c, _ := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")

	// TRS routes: the envelope with code 9, never a 500.
	for _, path := range []string{"/v1/tasks/not-a-uuid", "/v1/tasks/0190b6c4-6d5a-7000-8000-0000000000ff",
		"/v1/tasks?limit=abc", "/v1/tasks?limit=0", "/v1/tasks?limit=100000", "/v1/nothing"} {
		if code, _, _ := c.do("GET", path, "").trsError(t); code != 9 {
			t.Fatalf("GET %s: code %d", path, code)
		}
	}
	res := c.do("POST", "/v1/info", "{}")
	if code, _, _ := res.trsError(t); code != 9 || res.header.Get("Allow") != "GET" {
		t.Fatalf("POST /v1/info: code %d, Allow %q", code, res.header.Get("Allow"))
	}

	// Keystone bodies: 400 in Keystone's shape.
	bodies := []string{
		`{`, `[]`, `"x"`, `null`, `{} garbage`, `{"auth": 5}`, `{"auth": {"identity": []}}`,
		`{"auth": {"identity": {"methods": "password"}}}`, `{"auth": {"identity": {"methods": ["token"]}}}`,
		`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": 1}}}}}`,
		`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "a", "domain": {"name": "Default"}}}}}}`,
		`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "a", "password": "x"}}}}}`,
		loginBody("a", "Default", "b", `{"project": {"name": "p"}}`),
		loginBody("a", "Default", "b", `{"domain": {"id": "default"}}`),
		loginBody("a", "Default", "b", `7`),
		`{"auth": {"identity": {"methods": ["password"]}}}` + strings.Repeat(" ", 1<<20),
	}
	for _, b := range bodies {
		c.do("POST", "/v3/auth/tokens", b).keystoneError(t, http.StatusBadRequest)
	}
	for _, b := range []string{`{"user": {"name": "x", "password": 12345678}}`, `{"user": {"enabled": "yes"}}`, `{"user": null}`, `{}`, ``} {
		c.do("POST", "/v3/users", b).keystoneError(t, http.StatusBadRequest)
	}
	c.do("PATCH", "/v3/users/not-a-uuid", `{"user": {"name": "x"}}`).keystoneError(t, http.StatusNotFound)
	c.do("PUT", "/v3/groups/bad/users/bad", "").keystoneError(t, http.StatusNotFound)
	big := bytes.Repeat([]byte("a"), 2<<20)
	c.do("POST", "/v3/groups", `{"group": {"name": "`+string(big)+`"}}`).keystoneError(t, http.StatusBadRequest)
}

// After the licence's end /v1 answers code 2 naming the server's address;
// /v1/info still shows the licence and Keystone still logs in.
func TestLicenseEnded(t *testing.T) {
	env := testenv.NewWith(t, testenv.Options{Config: core.Config{LicenseExpiresAt: time.Now().Add(-time.Minute)}})
	_, c, _ := startEnv(t, env, trs.Options{License: &trs.License{ExpireAt: time.Now().Add(-time.Minute).Unix(), Name: "Lab"}})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	if get(c.do("GET", "/v1/info", "").must(t, http.StatusOK).body, "info", "license", "name") != "Lab" {
		t.Fatal("info without the licence")
	}
	code, msg, _ := c.do("GET", "/v1/projects/", "").trsError(t)
	if code != 2 || !strings.Contains(msg, c.base) {
		t.Fatalf("projects after the licence: code %d %q", code, msg)
	}
}

// A client that closes its connection while core is still deciding its login or
// its token is logged and counted as 499, not as "authentication server is not
// available" (on SQLite and PostgreSQL alike).
func TestClientGone(t *testing.T) {
	const token = "token-of-a-client-that-leaves"
	for _, st := range testenv.Stores {
		t.Run(st.Name, func(t *testing.T) {
			store, busy := testenv.Stall(st.Open(t), "leaver")
			env := testenv.NewWith(t, testenv.Options{Store: store})
			o := httpxtest.NewRecorder()
			srv := httptest.NewServer(trs.NewHandler(env.Desktop, env.Session, env.Machine, env.Provision, env.HandOut, env.Catalogue, env.Identity, env.Login, trs.Options{Log: o.Log, Registerer: o.Registry}))
			t.Cleanup(srv.Close)
			req, _ := http.NewRequest("POST", srv.URL+"/v3/auth/tokens", strings.NewReader(loginBody("leaver", "Default", "some-password", "")))
			req.Header.Set("Content-Type", "application/json")
			o.ClientGone(t, req, busy)

			store, busy = testenv.Stall(st.Open(t), core.TokenHash(token))
			env = testenv.NewWith(t, testenv.Options{Store: store})
			o = httpxtest.NewRecorder()
			srv = httptest.NewServer(trs.NewHandler(env.Desktop, env.Session, env.Machine, env.Provision, env.HandOut, env.Catalogue, env.Identity, env.Login, trs.Options{Log: o.Log, Registerer: o.Registry}))
			t.Cleanup(srv.Close)
			req, _ = http.NewRequest("GET", srv.URL+"/v1/projects/", nil)
			req.Header.Set("X-Auth-Token", token)
			o.ClientGone(t, req, busy)
		})
	}
}

// Every list filter takes values of at most core.MaxFilterLen bytes and in:/nin:
// lists of at most core.MaxFilterValues members: more is error 9 (400 on /v3)
// naming the parameter, never a 500; a value at the limit works.
func TestLongFilter(t *testing.T) {
	_, c, _ := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	long, atLimit := strings.Repeat("A", 50_000), strings.Repeat("A", core.MaxFilterLen)
	many := "in:" + strings.Repeat("a,", core.MaxFilterValues) + "a"
	for _, f := range []struct{ path, param, value string }{
		{"/v1/servers/", "project_id", long}, {"/v1/servers/", "project_id", "in:a," + long}, {"/v1/servers/", "project_id", many},
		{"/v1/servers/", "assigned", long}, {"/v1/servers/", "user", long}, {"/v1/servers/", "group", long},
		{"/v1/sessions/", "user_id", long}, {"/v1/sessions/", "user_name", "nin:" + long}, {"/v1/sessions/", "instance_id", many},
		{"/v1/sessions/", "instance_name", long}, {"/v1/sessions/", "project_id", long}, {"/v1/sessions/", "connection_type", long},
		{"/v1/sessions/count", "user_name", long},
		{"/v1/projects/", "name", long}, {"/v1/projects/", "domain", long}, {"/v1/projects/", "user", long},
		{"/v1/volume-assignments/", "user_id", long}, {"/v1/volume-assignments/", "project_id", long},
		{"/v1/volume-assignments/", "volume_id", "in:x," + long},
	} {
		code, _, data := c.do("GET", f.path+"?"+url.Values{f.param: {f.value}}.Encode(), "").trsError(t)
		if detail, _ := data["detail"].(string); code != 9 || !strings.HasPrefix(detail, f.param+": ") {
			t.Errorf("%s?%s=%.20s…: code %d, detail %q", f.path, f.param, f.value, code, detail)
		}
		if f.param == "assigned" || f.param == "connection_type" || f.value == many {
			continue // these take only a few values
		}
		c.do("GET", f.path+"?"+url.Values{f.param: {atLimit}}.Encode(), "").must(t, 200)
	}
	for _, path := range []string{"/v3/users", "/v3/groups"} {
		for _, param := range []string{"name", "domain_id"} {
			msg := c.do("GET", path+"?"+param+"="+long, "").keystoneError(t, http.StatusBadRequest)
			if !strings.HasPrefix(msg, param+": ") {
				t.Errorf("%s?%s: %q", path, param, msg)
			}
			c.do("GET", path+"?"+param+"="+atLimit, "").must(t, 200)
		}
	}
	for _, param := range []string{"user_id", "type"} {
		msg := c.do("GET", "/v3/credentials?"+param+"="+long, "").keystoneError(t, http.StatusBadRequest)
		if !strings.HasPrefix(msg, param+": ") {
			t.Errorf("/v3/credentials?%s: %q", param, msg)
		}
	}
	c.do("GET", "/v3/credentials?type="+atLimit, "").must(t, 200)
}
