package satellite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/satellite"
	"hostdeck/api/trs"
	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/login"
	"hostdeck/core/quota"
	"hostdeck/core/tenancy"
	"hostdeck/internal/testenv"
)

const adminToken = "satellite-admin-token"

// client drives the face over HTTP as the satellite's admin tooling would.
type client struct {
	t    testing.TB
	base string
	auth string
}

type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func start(t *testing.T, o testenv.Options) (*testenv.Env, *client) {
	t.Helper()
	env := testenv.NewWith(t, o)
	h := satellite.NewHandler(env.Tenancy, env.Billing, env.Quota, env.Login, satellite.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	mux := http.NewServeMux()
	mux.Handle("/satellite/", http.StripPrefix("/satellite", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return env, &client{t: t, base: srv.URL + "/satellite", auth: adminToken}
}

func startToken(t *testing.T) (*testenv.Env, *client) {
	t.Helper()
	return start(t, testenv.Options{Config: core.Config{OperatorToken: adminToken}})
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
	if c.auth != "" {
		r.Header.Set("Authorization", c.auth)
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
	out := &response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			c.t.Fatalf("%s %s: body is not a JSON object: %s", method, path, raw)
		}
		if strings.HasSuffix(out.raw, "\n") {
			c.t.Fatalf("%s %s: body ends with a newline", method, path)
		}
	}
	return out
}

// want checks the status (and, for errors, the document's error shape).
func (r *response) want(t testing.TB, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if status >= 400 {
		if _, ok := r.body["error"].(string); !ok || len(r.body) != 2 {
			t.Fatalf("error body %s is not {error, detail}", r.raw)
		}
		if _, ok := r.body["detail"].(string); !ok {
			t.Fatalf("error body %s has no detail string", r.raw)
		}
	}
	return r
}

func (r *response) wantEmpty(t testing.TB) {
	t.Helper()
	r.want(t, http.StatusOK)
	if r.raw != "" {
		t.Fatalf("body %q, want empty", r.raw)
	}
}

func (r *response) wantError(t testing.TB, status int, msg string) {
	t.Helper()
	r.want(t, status)
	if got := r.body["error"]; !strings.Contains(got.(string), msg) {
		t.Fatalf("error %q, want it to contain %q", got, msg)
	}
}

func str(r *response, path ...string) string {
	var v any = r.body
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

func TestAuth(t *testing.T) {
	env, c := startToken(t)

	c.auth = ""
	res := c.do("GET", "/api/user/a@b.test", "")
	res.want(t, http.StatusForbidden)
	if res.raw != `{"error":"Forbidden","detail":""}` {
		t.Fatalf("missing token: %s", res.raw)
	}
	c.auth = "wrong"
	if res := c.do("GET", "/api/user/a@b.test", ""); res.status != 403 || res.raw != `{"error":"Forbidden","detail":""}` {
		t.Fatalf("wrong token: %d %s", res.status, res.raw)
	}
	c.auth = "Bearer " + adminToken // the raw header is compared
	c.do("GET", "/api/user/a@b.test", "").want(t, http.StatusForbidden)
	c.auth = adminToken
	c.do("GET", "/api/user/a@b.test", "").wantError(t, http.StatusNotFound, "does not exist")
	// Unknown routes and methods answer in the same shape, after auth.
	c.do("GET", "/api/nothing", "").want(t, http.StatusNotFound)
	c.do("PATCH", "/api/user/a@b.test", "").want(t, http.StatusMethodNotAllowed)

	// A hostdeck API token of an admin works too; a member's does not.
	c.auth = env.Token(t, testenv.AdminUser, testenv.AdminPassword)
	c.do("POST", "/api/user", `{"email":"m@mail.test","fullName":"M","password":"secret-1"}`).want(t, http.StatusOK)
	c.do("GET", "/api/user/m@mail.test", "").want(t, http.StatusOK)
	// It reaches satellite accounts only: not its own (a hostdeck administrator).
	c.do("GET", "/api/user/"+testenv.AdminUser, "").wantError(t, http.StatusNotFound, "does not exist")
	c.auth = adminToken
	c.auth = env.Token(t, "m@mail.test", "secret-1")
	c.do("GET", "/api/user/m@mail.test", "").wantError(t, http.StatusForbidden, "Forbidden")

	// Without a configured admin token.
	_, c2 := start(t, testenv.Options{})
	res = c2.do("GET", "/api/user/a@b.test", "")
	if res.status != 403 || res.raw != `{"error":"Authorization not enabled.","detail":""}` {
		t.Fatalf("not enabled: %d %s", res.status, res.raw)
	}
}

func TestUsers(t *testing.T) {
	env, c := startToken(t)
	res := c.do("POST", "/api/user", `{"email":"alice@mail.test","fullName":"Alice Test","password":"password"}`).want(t, http.StatusOK)
	id := str(res, "id")
	if !core.ValidID(id) || str(res, "email") != "alice@mail.test" || str(res, "fullName") != "Alice Test" {
		t.Fatalf("created: %s", res.raw)
	}
	if v, ok := res.body["passwordHash"]; !ok || v != "" {
		t.Fatalf("passwordHash must be shown empty: %s", res.raw)
	}
	if v, ok := res.body["shortName"]; !ok || v != "" {
		t.Fatalf("shortName: %s", res.raw)
	}

	for _, tc := range []struct{ body, msg string }{
		{`{"email":"alice@mail.test","fullName":"A","password":"password"}`, "already exists"},
	} {
		c.do("POST", "/api/user", tc.body).wantError(t, http.StatusConflict, tc.msg)
	}
	for _, tc := range []struct{ body, msg string }{
		{`{"email":"not-an-email","password":"password"}`, "email"},
		{`{"email":"bob@mail.test","password":"1234567"}`, "at least 8"},
		{`{"password":"password"}`, "email is not set"},
		{`{"email":"bob@mail.test"}`, "password is not set"},
		{`{"email":1}`, "failed to unmarshal"},
		{`not json`, "failed to unmarshal"},
		{``, "failed to unmarshal"},
	} {
		c.do("POST", "/api/user", tc.body).wantError(t, http.StatusBadRequest, tc.msg)
	}
	big := `{"email":"` + strings.Repeat("a", 2<<20) + `"}`
	c.do("POST", "/api/user", big).want(t, http.StatusRequestEntityTooLarge)

	res = c.do("GET", "/api/user/alice@mail.test", "").want(t, http.StatusOK)
	if str(res, "user", "id") != id || str(res, "user", "fullName") != "Alice Test" || str(res, "user", "email") != "alice@mail.test" {
		t.Fatalf("get: %s", res.raw)
	}
	if res.body["user"].(map[string]any)["projectLimit"] != float64(tenancy.DefaultProjectLimit) {
		t.Fatalf("projectLimit: %s", res.raw)
	}
	if len(res.body["projects"].([]any)) != 0 || len(res.body["coupons"].([]any)) != 0 {
		t.Fatalf("projects and coupons must be empty lists: %s", res.raw)
	}

	c.do("PUT", "/api/user/alice@mail.test", `{"shortName":"myNickName"}`).wantEmpty(t)
	c.do("PUT", "/api/user/alice@mail.test", `{"projectLimit":1}`).wantEmpty(t)
	c.do("PUT", "/api/user/alice@mail.test", `{"email":"alice+2@mail.test"}`).wantEmpty(t)
	c.do("GET", "/api/user/alice@mail.test", "").want(t, http.StatusNotFound)
	res = c.do("GET", "/api/user/alice+2@mail.test", "").want(t, http.StatusOK)
	u := res.body["user"].(map[string]any)
	if u["shortName"] != "myNickName" || u["projectLimit"] != float64(1) || u["fullName"] != "Alice Test" {
		t.Fatalf("after updates: %s", res.raw)
	}
	c.do("PUT", "/api/user/alice+2@mail.test", `{"projectLimit":-1}`).want(t, http.StatusBadRequest)
	c.do("PUT", "/api/user/alice+2@mail.test", `{"projectLimit":"ten"}`).want(t, http.StatusBadRequest)
	c.do("PUT", "/api/user/alice+2@mail.test", `{"email":"bad"}`).want(t, http.StatusBadRequest)
	c.do("PUT", "/api/user/nobody@mail.test", `{"fullName":"x"}`).want(t, http.StatusNotFound)
	c.do("POST", "/api/user", `{"email":"taken@mail.test","password":"password"}`).want(t, http.StatusOK)
	c.do("PUT", "/api/user/alice+2@mail.test", `{"email":"taken@mail.test"}`).want(t, http.StatusConflict)

	// projectLimit is enforced; an owner cannot be deleted.
	res = c.do("POST", "/api/project", `{"ownerId":"`+id+`","projectName":"one"}`).want(t, http.StatusOK)
	pid := str(res, "projectId")
	c.do("POST", "/api/project", `{"ownerId":"`+id+`","projectName":"two"}`).wantError(t, http.StatusConflict, "project limit")
	res = c.do("GET", "/api/user/alice+2@mail.test", "").want(t, http.StatusOK)
	ps := res.body["projects"].([]any)
	if len(ps) != 1 || ps[0].(map[string]any)["id"] != pid || ps[0].(map[string]any)["ownerId"] != id || ps[0].(map[string]any)["name"] != "one" {
		t.Fatalf("projects: %s", res.raw)
	}
	c.do("DELETE", "/api/user/alice+2@mail.test", "").wantError(t, http.StatusConflict, "project(s)")
	c.do("DELETE", "/api/project/"+pid, "").wantEmpty(t)
	c.do("DELETE", "/api/user/alice+2@mail.test", "").wantEmpty(t)
	c.do("GET", "/api/user/alice+2@mail.test", "").want(t, http.StatusNotFound)
	c.do("DELETE", "/api/user/alice+2@mail.test", "").want(t, http.StatusNotFound)

	// Every change is audited with the face's name.
	events, _, err := env.Svc.ListAudit(env.AdminCtx(), core.AuditFilter{TargetID: &id})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 5 {
		t.Fatalf("audit events of the user: %d", len(events))
	}
	for _, e := range events {
		if e.Face != satellite.Face || e.Actor != "satellite-admin" {
			t.Fatalf("audit event %+v", e)
		}
	}
}

func TestCoupons(t *testing.T) {
	clk := testenv.NewClock(time.Date(2026, 5, 19, 0, 34, 13, 0, time.UTC))
	_, c := start(t, testenv.Options{Config: core.Config{OperatorToken: adminToken}, Clock: clk.Now})
	uid := str(c.do("POST", "/api/user", `{"email":"c@mail.test","password":"password"}`).want(t, 200), "id")
	desc := "promotional coupon (valid for 2 billing cycles)"
	for _, tc := range []struct{ body, msg string }{
		{`{"duration":2,"amount":3000,"description":"d"}`, "user ID is not set"},
		{`{"userId":"` + uid + `","amount":3000,"description":"d"}`, "duration is not set"},
		{`{"userId":"` + uid + `","duration":2,"description":"d"}`, "amount is not set"},
		{`{"userId":"` + uid + `","duration":2,"amount":3000}`, "description is not set"},
		{`{"userId":"nope","duration":2,"amount":3000,"description":"d"}`, "UUID"},
		{`{"userId":"` + uid + `","duration":-1,"amount":3000,"description":"d"}`, "duration"},
		{`{"userId":"` + uid + `","duration":"2","amount":3000,"description":"d"}`, "failed to unmarshal"},
	} {
		c.do("POST", "/api/coupon", tc.body).wantError(t, http.StatusBadRequest, tc.msg)
	}
	c.do("POST", "/api/coupon", `{"userId":"0190b6c4-6d5a-7000-8000-0000000000ff","duration":2,"amount":3000,"description":"d"}`).
		want(t, http.StatusNotFound)

	res := c.do("POST", "/api/coupon", `{"userId":"`+uid+`","duration":2,"amount":3000,"description":"`+desc+`"}`).want(t, 200)
	if len(res.body) != 1 || !core.ValidID(str(res, "id")) {
		t.Fatalf("create answers {id}: %s", res.raw)
	}
	cid := str(res, "id")
	res = c.do("GET", "/api/coupon/"+cid, "").want(t, 200)
	want := map[string]any{"id": cid, "userId": uid, "duration": float64(2), "amount": float64(3000), "description": desc,
		"type": float64(0), "status": float64(0), "created": "2026-05-19T00:34:13Z"}
	for k, v := range want {
		if res.body[k] != v {
			t.Fatalf("coupon %s = %v, want %v (%s)", k, res.body[k], v, res.raw)
		}
	}
	// Two billing cycles (calendar months) later it is expired.
	clk.Set(time.Date(2026, 7, 19, 0, 34, 13, 0, time.UTC))
	res = c.do("GET", "/api/coupon/"+cid, "").want(t, 200)
	if res.body["status"] != float64(2) {
		t.Fatalf("expired coupon: %s", res.raw)
	}
	res = c.do("GET", "/api/user/c@mail.test", "").want(t, 200)
	cs := res.body["coupons"].([]any)
	if len(cs) != 1 || cs[0].(map[string]any)["id"] != cid || cs[0].(map[string]any)["status"] != float64(2) {
		t.Fatalf("user's coupons: %s", res.raw)
	}
	if got := c.do("GET", "/api/coupon/"+strings.ToUpper(cid), "").want(t, 200); str(got, "id") != cid {
		t.Fatalf("upper-case id: %s", got.raw)
	}
	c.do("DELETE", "/api/coupon/"+cid, "").wantEmpty(t)
	c.do("GET", "/api/coupon/"+cid, "").want(t, http.StatusNotFound)
	c.do("DELETE", "/api/coupon/"+cid, "").want(t, http.StatusNotFound)
}

// An id in a path that is not a UUID is a 400 with the original server's
// error for the route, before any lookup (and after authentication); a
// well-formed unknown one is a 404.
func TestMalformedPathIDs(t *testing.T) {
	_, c := startToken(t)
	unknown := "0190b6c4-6d5a-7000-8000-0000000000ff"
	for _, tc := range []struct{ method, path, body, msg string }{
		{"GET", "/api/coupon/%s", "", "invalid couponId"},
		{"DELETE", "/api/coupon/%s", "", "invalid couponid"},
		{"GET", "/api/project/%s", "", "invalid project-uuid"},
		{"PUT", "/api/project/%s", `{"projectName":"x"}`, "invalid project-uuid"},
		{"PUT", "/api/project/%s", `not json`, "invalid project-uuid"},
		{"DELETE", "/api/project/%s", "", "invalid project-uuid"},
		{"GET", "/api/project/%s/usage", "", "invalid project-uuid"},
		{"GET", "/api/project/%s/limit", "", "invalid project-uuid"},
		{"POST", "/api/project/%s/limit?usage=1TB", "", "invalid project-uuid"},
		{"PUT", "/api/project/%s/limit?rate=x", "", "invalid project-uuid"},
	} {
		for id, detail := range map[string]string{
			"not-a-uuid":                           "uuid: invalid string length 10 expected 36",
			"0190b6c4-6d5a-7000-8000-00000000zzzz": "uuid: invalid string",
			"0190b6c4x6d5a-7000-8000-0000000000ff": "uuid: invalid string",
		} {
			res := c.do(tc.method, fmt.Sprintf(tc.path, id), tc.body)
			if want := `{"error":"` + tc.msg + `","detail":"` + detail + `"}`; res.status != http.StatusBadRequest || res.raw != want {
				t.Errorf("%s %s: %d %s, want 400 %s", tc.method, fmt.Sprintf(tc.path, id), res.status, res.raw, want)
			}
		}
		if tc.method == "GET" {
			c.do(tc.method, fmt.Sprintf(tc.path, unknown), "").want(t, http.StatusNotFound)
		}
	}
	anon := &client{t: t, base: c.base}
	anon.do("GET", "/api/coupon/not-a-uuid", "").wantError(t, http.StatusForbidden, "Forbidden")
}

func TestProjects(t *testing.T) {
	env, c := startToken(t)
	uid := str(c.do("POST", "/api/user", `{"email":"p@mail.test","password":"password"}`).want(t, 200), "id")
	for _, tc := range []struct{ body, msg string }{
		{`{"projectName":"x"}`, "OwnerID is not set"},
		{`{"ownerId":"` + uid + `"}`, "ProjectName is not set"},
		{`{"ownerId":"bad","projectName":"x"}`, "UUID"},
		{`[]`, "failed to unmarshal"},
	} {
		c.do("POST", "/api/project", tc.body).wantError(t, http.StatusBadRequest, tc.msg)
	}
	c.do("POST", "/api/project", `{"ownerId":"0190b6c4-6d5a-7000-8000-0000000000ff","projectName":"x"}`).want(t, http.StatusNotFound)
	res := c.do("POST", "/api/project", `{"ownerId":"`+uid+`","projectName":"My Second Project"}`).want(t, 200)
	pid := str(res, "projectId")
	if len(res.body) != 1 || !core.ValidID(pid) {
		t.Fatalf("create: %s", res.raw)
	}

	res = c.do("GET", "/api/project/"+pid, "").want(t, 200)
	if str(res, "id") != pid || str(res, "name") != "My Second Project" || str(res, "ownerId") != uid || res.body["maxBuckets"] != float64(tenancy.DefaultBucketsLimit) {
		t.Fatalf("get: %s", res.raw)
	}
	c.do("PUT", "/api/project/"+pid, `{"projectName":"My new Project Name","description":"My new awesome description!"}`).wantEmpty(t)
	res = c.do("GET", "/api/project/"+pid, "").want(t, 200)
	if str(res, "name") != "My new Project Name" || str(res, "description") != "My new awesome description!" {
		t.Fatalf("after put: %s", res.raw)
	}
	c.do("PUT", "/api/project/"+pid, `{"projectName":""}`).want(t, http.StatusBadRequest)
	c.do("PUT", "/api/project/"+pid, `{"projectName":5}`).want(t, http.StatusBadRequest)
	c.do("GET", "/api/project/0190b6c4-6d5a-7000-8000-0000000000ff", "").want(t, http.StatusNotFound)

	res = c.do("GET", "/api/project/"+pid+"/usage", "").want(t, 200)
	if res.raw != `{"result":"no project usage exist"}` {
		t.Fatalf("usage: %s", res.raw)
	}

	// Limits: the defaults, then set through the query string and a form body.
	res = c.do("GET", "/api/project/"+pid+"/limit", "").want(t, 200)
	if res.raw != `{"usage":{"amount":"50.00 GB","bytes":50000000000},"bandwidth":{"amount":"50.00 GB","bytes":50000000000},"rate":{"rps":0},"maxBuckets":100}` {
		t.Fatalf("default limits: %s", res.raw)
	}
	c.do("POST", "/api/project/"+pid+"/limit?usage=1TiB", "").wantEmpty(t)
	c.do("PUT", "/api/project/"+pid+"/limit?rate=7&buckets=3", "").wantEmpty(t)
	form := url.Values{"bandwidth": {"1MB"}}.Encode()
	c.do("POST", "/api/project/"+pid+"/limit", form, "Content-Type", "application/x-www-form-urlencoded").wantEmpty(t)
	res = c.do("GET", "/api/project/"+pid+"/limit", "").want(t, 200)
	if res.raw != `{"usage":{"amount":"1.0 TiB","bytes":1099511627776},"bandwidth":{"amount":"1.00 MB","bytes":1000000},"rate":{"rps":7},"maxBuckets":3}` {
		t.Fatalf("limits after set: %s", res.raw)
	}
	for _, q := range []string{"usage=-1GB", "bandwidth=-5", "rate=-1", "buckets=-2"} {
		c.do("POST", "/api/project/"+pid+"/limit?"+q, "").wantError(t, http.StatusBadRequest, "must not be negative")
	}
	for _, q := range []string{"usage=lots", "usage=5XB", "rate=1.5", "buckets=x"} {
		c.do("POST", "/api/project/"+pid+"/limit?"+q, "").want(t, http.StatusBadRequest)
	}
	c.do("POST", "/api/project/0190b6c4-6d5a-7000-8000-0000000000ff/limit?usage=1GB", "").want(t, http.StatusNotFound)

	// Usage this month blocks deletion.
	if err := env.Store.PutProjectUsage(context.Background(), &quota.ProjectUsage{ProjectID: pid, Month: quota.UsageMonth(time.Now()), EgressBytes: 10}); err != nil {
		t.Fatal(err)
	}
	c.do("GET", "/api/project/"+pid+"/usage", "").wantError(t, http.StatusConflict, "usage for current month exists")
	c.do("DELETE", "/api/project/"+pid, "").wantError(t, http.StatusConflict, "usage")
	if err := env.Store.PutProjectUsage(context.Background(), &quota.ProjectUsage{ProjectID: pid, Month: quota.UsageMonth(time.Now())}); err != nil {
		t.Fatal(err)
	}
	c.do("DELETE", "/api/project/"+pid, "").wantEmpty(t)
	c.do("GET", "/api/project/"+pid, "").want(t, http.StatusNotFound)
	c.do("DELETE", "/api/project/"+pid, "").want(t, http.StatusNotFound)
}

// TestProjectWithInstances: a TRS project's machines count against the
// satellite's limits, and block its deletion.
func TestProjectWithInstances(t *testing.T) {
	env, c := startToken(t)
	ctx := env.AdminCtx()
	env.Server(t, "node-1", 10)
	name, mode := "pool", desktop.ModeSimultaneous
	p, err := env.Desktop.CreatePool(ctx, desktop.PoolInput{Name: &name, OperationMode: &mode,
		FlavorID: ptr("0a7e5c1d-7f3b-4c2a-9d10-000000000001"), ImageID: ptr("1b8f6d2e-8a4c-4d3b-8e21-000000000001")})
	if err != nil {
		t.Fatal(err)
	}
	// A project without limits shows zeros (unlimited).
	res := c.do("GET", "/api/project/"+p.ID+"/limit", "").want(t, 200)
	if res.raw != `{"usage":{"amount":"0 B","bytes":0},"bandwidth":{"amount":"0 B","bytes":0},"rate":{"rps":0},"maxBuckets":0}` {
		t.Fatalf("limits of a TRS project: %s", res.raw)
	}
	c.do("POST", "/api/project/"+p.ID+"/limit?buckets=1", "").wantEmpty(t)
	if _, err := env.Provision.CreateMachines(ctx, p.ID, 1, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Provision.CreateMachines(ctx, p.ID, 1, nil, nil); core.ErrorReason(err) != quota.ReasonBucketsExceeds {
		t.Fatalf("past buckets: %v", err)
	}
	c.do("DELETE", "/api/project/"+p.ID, "").want(t, http.StatusConflict)
}

// TestRateLimitThroughTRS logs the owner in on the trs face with a token scoped
// to a satellite project whose rate is 2 requests a second: the third quick call
// is a 429.
func TestRateLimitThroughTRS(t *testing.T) {
	env, c := startToken(t)
	uid := str(c.do("POST", "/api/user", `{"email":"rate@mail.test","password":"password"}`).want(t, 200), "id")
	pid := str(c.do("POST", "/api/project", `{"ownerId":"`+uid+`","projectName":"rated"}`).want(t, 200), "projectId")
	c.do("POST", "/api/project/"+pid+"/limit?rate=2", "").wantEmpty(t)

	srv := httptest.NewServer(trs.NewHandler(env.Desktop, env.Session, env.Machine, env.Provision, env.HandOut, env.Catalogue, env.Identity, env.Login, trs.Options{Log: env.Log}))
	t.Cleanup(srv.Close)
	auth := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"rate@mail.test","domain":{"id":"default"},"password":"password"}}},"scope":{"project":{"id":"` + pid + `"}}}}`
	res, err := http.Post(srv.URL+"/v3/auth/tokens", "application/json", strings.NewReader(auth))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	tok := res.Header.Get("X-Subject-Token")
	if res.StatusCode != http.StatusCreated || tok == "" {
		t.Fatalf("login: %d", res.StatusCode)
	}
	statuses := []int{}
	for range 8 {
		r, _ := http.NewRequest("GET", srv.URL+"/v1/info", nil)
		r.Header.Set("X-Auth-Token", tok)
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		// TRS errors are HTTP 400 with a code: throttling is code 28, with
		// Retry-After.
		throttled := strings.Contains(string(body), `"code":28`)
		if throttled && (res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "rate limit") || res.Header.Get("Retry-After") != "1") {
			t.Fatalf("throttled: %d %q %s", res.StatusCode, res.Header.Get("Retry-After"), body)
		}
		statuses = append(statuses, res.StatusCode)
	}
	if statuses[0] != http.StatusOK || statuses[len(statuses)-1] != http.StatusBadRequest {
		t.Fatalf("statuses %v: want the first allowed and the last refused", statuses)
	}

	// An admin's token scoped to the project is limited on this face too: 429
	// in the face's own shape.
	l, err := env.Login.LoginPassword(context.Background(), login.PasswordLogin{UserName: testenv.AdminUser, Password: testenv.AdminPassword,
		Opens: core.TokenAPI, Scope: login.ProjectScope{ID: pid}}, testenv.Origin)
	if err != nil {
		t.Fatal(err)
	}
	c.auth = l.Secret
	var last *response
	for range 8 {
		last = c.do("GET", "/api/project/"+pid, "")
	}
	last.wantError(t, http.StatusTooManyRequests, "rate limit")
}

func ptr[T any](v T) *T { return &v }
