package alfa_test

import (
	"bytes"
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

	"hostdeck/api/alfa"
	"hostdeck/api/alfa/jsonapi"
	"hostdeck/api/httpx"
	"hostdeck/api/httpx/httpxtest"
	"hostdeck/core"
	"hostdeck/core/cloud"
	"hostdeck/core/fleet"
	"hostdeck/internal/testenv"
)

// client drives the face over HTTP as an admin frontend would.
type client struct {
	t          testing.TB
	base       string // e.g. http://127.0.0.1:1234/alfa
	user, pass string
}

type response struct {
	status int
	header http.Header
	raw    []byte
	doc    document
}

type document struct {
	Data     json.RawMessage       `json:"data"`
	Errors   []jsonapi.ErrorObject `json:"errors"`
	Links    map[string]string     `json:"links"`
	Meta     map[string]any        `json:"meta"`
	Included []resource            `json:"included"`
}

type resource struct {
	Type          string                     `json:"type"`
	ID            string                     `json:"id"`
	Attributes    map[string]any             `json:"attributes"`
	Relationships map[string]json.RawMessage `json:"relationships"`
	Links         map[string]string          `json:"links"`
}

// start serves the face under /alfa/ (as `hostdeck serve` mounts it) and at / (as on
// its own listener).
func start(t *testing.T) (*testenv.Env, *client, *client) {
	t.Helper()
	env := testenv.New(t)
	h := alfa.NewHandler(env.Cloud, env.Fleet, env.Login, alfa.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	mux := http.NewServeMux()
	mux.Handle("/alfa/", http.StripPrefix("/alfa", h))
	mux.Handle("/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return env,
		&client{t: t, base: srv.URL + "/alfa", user: testenv.AdminUser, pass: testenv.AdminPassword},
		&client{t: t, base: srv.URL, user: testenv.AdminUser, pass: testenv.AdminPassword}
}

func (c *client) req(method, path, ct string, body io.Reader, hdr ...string) *response {
	c.t.Helper()
	r, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.user != "" {
		r.SetBasicAuth(c.user, c.pass)
	}
	if ct != "" {
		r.Header.Set("Content-Type", ct)
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
	checkDoc(c.t, method+" "+path, out)
	return out
}

// do sends body (a string is sent as is, anything else as JSON) as JSON:API.
func (c *client) do(method, path string, body any) *response {
	c.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), jsonapi.MediaType
	default:
		j, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(j), jsonapi.MediaType
	}
	return c.req(method, path, ct, rd)
}

// must fails the test unless the response has the status.
func (r *response) must(t testing.TB, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

func (r *response) one(t testing.TB) resource {
	t.Helper()
	var res resource
	if err := json.Unmarshal(r.doc.Data, &res); err != nil {
		t.Fatalf("data is not one resource: %s", r.raw)
	}
	return res
}

func (r *response) list(t testing.TB) []resource {
	t.Helper()
	var res []resource
	if err := json.Unmarshal(r.doc.Data, &res); err != nil {
		t.Fatalf("data is not a collection: %s", r.raw)
	}
	return res
}

// errorAt asserts an error document with status whose first error points at pointer
// ("" = any).
func (r *response) errorAt(t testing.TB, status int, pointer string) {
	t.Helper()
	r.must(t, status)
	if len(r.doc.Errors) == 0 {
		t.Fatalf("no errors: %s", r.raw)
	}
	if pointer == "" {
		return
	}
	for _, e := range r.doc.Errors {
		if e.Source != nil && e.Source.Pointer == pointer {
			return
		}
	}
	t.Fatalf("no error points at %s: %s", pointer, r.raw)
}

// checkDoc validates a response against JSON:API: never a 500, a JSON:API
// Content-Type, the v1.1 schema, data xor errors, included only with data, string
// ids, types present.
func checkDoc(t testing.TB, what string, r *response) {
	t.Helper()
	if r.status >= 500 {
		t.Fatalf("%s: %d: %s", what, r.status, r.raw)
	}
	if r.status == http.StatusNoContent {
		if len(r.raw) != 0 {
			t.Fatalf("%s: 204 with a body", what)
		}
		return
	}
	if ct := r.header.Get("Content-Type"); ct != jsonapi.MediaType {
		t.Fatalf("%s: Content-Type %q", what, ct)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.raw, &top); err != nil {
		t.Fatalf("%s: body is not a JSON object: %s", what, r.raw)
	}
	_, hasData := top["data"]
	_, hasErrors := top["errors"]
	if hasData == hasErrors {
		t.Fatalf("%s: need exactly one of data and errors: %s", what, r.raw)
	}
	if _, ok := top["included"]; ok && !hasData {
		t.Fatalf("%s: included without data", what)
	}
	validateSchema(t, what, r.raw)
	if err := json.Unmarshal(r.raw, &r.doc); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if hasErrors {
		if r.status < 400 {
			t.Fatalf("%s: errors with status %d", what, r.status)
		}
		for _, e := range r.doc.Errors {
			if e.Status != fmt.Sprint(r.status) || e.Title == "" || e.Detail == "" {
				t.Fatalf("%s: error object %+v with status %d", what, e, r.status)
			}
		}
		return
	}
	var objs []map[string]any
	if d := bytes.TrimSpace(top["data"]); len(d) > 0 && d[0] == '[' {
		json.Unmarshal(d, &objs)
	} else if string(d) != "null" {
		var o map[string]any
		json.Unmarshal(d, &o)
		objs = append(objs, o)
	}
	var inc []map[string]any
	json.Unmarshal(top["included"], &inc)
	for _, o := range append(objs, inc...) {
		typ, _ := o["type"].(string)
		id, isString := o["id"].(string)
		if typ == "" || !isString || id == "" {
			t.Fatalf("%s: resource without a string type and id: %v", what, o)
		}
	}
}

// data builds a request document.
func data(typ, id string, attrs map[string]any) map[string]any {
	d := map[string]any{"type": typ, "attributes": attrs}
	if id != "" {
		d["id"] = id
	}
	return map[string]any{"data": d}
}

// waitTask polls GET /tasks/{id} until the task is finished.
func (c *client) waitTask(id string) resource {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := c.do("GET", "/tasks/"+id, nil).must(c.t, 200).one(c.t)
		switch res.Attributes["status"] {
		case "SUCCESS":
			return res
		case "FAILURE", "REVOKED":
			c.t.Fatalf("task %s (%s) ended %s: %v", id, res.Attributes["kind"], res.Attributes["status"], res.Attributes["error"])
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("task %s still %v", id, res.Attributes["status"])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// accepted checks a 202 task answer and waits for the task to succeed.
func (c *client) accepted(r *response, kind string) resource {
	c.t.Helper()
	r.must(c.t, http.StatusAccepted)
	task := r.one(c.t)
	if task.Type != "tasks" || task.Attributes["kind"] != kind {
		c.t.Fatalf("202 data is not a %s task: %s", kind, r.raw)
	}
	if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/tasks/"+task.ID) {
		c.t.Fatalf("Location %q", loc)
	}
	return c.waitTask(task.ID)
}

func (c *client) createServer(name string, capacity int) resource {
	c.t.Helper()
	return c.do("POST", "/servers/create", data("servers", "", map[string]any{
		"name": name, "runtime": "sim", "capacity": capacity, "location": "lab",
	})).must(c.t, http.StatusCreated).one(c.t)
}

// createClient creates a client and waits until its cloud is ready.
func (c *client) createClient(name string, attrs map[string]any) resource {
	c.t.Helper()
	if attrs == nil {
		attrs = map[string]any{}
	}
	attrs["name"] = name
	if _, ok := attrs["email"]; !ok {
		attrs["email"] = strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.test"
	}
	r := c.do("POST", "/clients/create", data("clients", "", attrs))
	c.accepted(r, cloud.KindClientCreate)
	if len(r.doc.Included) != 1 || r.doc.Included[0].Type != "clients" {
		c.t.Fatalf("create: included is not the client: %s", r.raw)
	}
	return c.do("GET", "/clients/"+r.doc.Included[0].ID, nil).must(c.t, 200).one(c.t)
}

func TestAuth(t *testing.T) {
	env, c, _ := start(t)

	anon := *c
	anon.user = ""
	r := anon.do("GET", "/servers", nil)
	r.errorAt(t, 401, "")
	if got := r.header.Get("WWW-Authenticate"); got != `Basic realm="hostdeck"` {
		t.Errorf("WWW-Authenticate %q", got)
	}
	anon.do("GET", "/no/such/route", nil).must(t, 401) // routes are not revealed

	wrong := *c
	wrong.pass = "wrong-password"
	wrong.do("GET", "/servers", nil).errorAt(t, 401, "")
	unknown := *c
	unknown.user = "nobody"
	unknown.do("GET", "/servers", nil).errorAt(t, 401, "")

	c.do("GET", "/servers", nil).must(t, 200)

	// A member (not an admin) is refused.
	hash, err := secretHasher().Hash(context.Background(), "member-password-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.CreateUser(context.Background(), &core.User{ID: "0190a0a0-0000-7000-8000-000000000001", Name: "member", Role: core.RoleMember, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	member := *c
	member.user, member.pass = "member", "member-password-1"
	member.do("GET", "/servers", nil).errorAt(t, 403, "")

	// Rotation: the old password fails at once, the new one works.
	c.do("POST", "/cloud_admin_password", data("credentials", "", map[string]any{"password": "short"})).
		errorAt(t, 400, "/data/attributes/password")
	c.do("POST", "/cloud_admin_password", data("credentials", "", map[string]any{"password": 12345678})).
		errorAt(t, 400, "/data/attributes/password")
	c.do("POST", "/cloud_admin_password", data("clients", "", map[string]any{"password": "new-password-2"})).
		errorAt(t, 409, "/data/type")
	c.do("POST", "/cloud_admin_password", data("credentials", "", map[string]any{"password": "new-password-2"})).must(t, 204)
	c.do("GET", "/servers", nil).errorAt(t, 401, "")
	c.pass = "new-password-2"
	c.do("GET", "/servers", nil).must(t, 200)

	audit := c.do("GET", "/audit?filter[action]=user.password", nil).must(t, 200).list(t)
	if len(audit) != 1 || audit[0].Attributes["face"] != "alfa" || audit[0].Attributes["actor"] != testenv.AdminUser {
		t.Errorf("audit of the rotation: %+v", audit)
	}
}

func TestTooManyLogins(t *testing.T) {
	_, c, _ := start(t)
	wrong := *c
	wrong.pass = "wrong-password"
	var last *response
	for range 8 {
		last = wrong.do("GET", "/servers", nil)
		if last.status == http.StatusTooManyRequests {
			break
		}
		last.must(t, 401)
	}
	last.errorAt(t, 429, "")
}

func TestRoutes(t *testing.T) {
	_, c, root := start(t)
	c.do("GET", "/nope", nil).errorAt(t, 404, "")
	c.do("GET", "/", nil).errorAt(t, 404, "")
	r := c.do("DELETE", "/servers", nil)
	r.errorAt(t, 405, "")
	if r.header.Get("Allow") != "GET" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	r = c.do("GET", "/servers/create", nil)
	r.errorAt(t, 405, "")
	if r.header.Get("Allow") != "POST" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	if got := c.do("POST", "/clients/x/delete", nil).must(t, 405).header.Get("Allow"); got != "DELETE" {
		t.Errorf("Allow %q", got)
	}
	// Trailing slashes are optional; both mounts answer.
	for _, cl := range []*client{c, root} {
		for _, p := range []string{"/servers", "/servers/", "/clients/", "/tasks/", "/audit/"} {
			cl.do("GET", p, nil).must(t, 200)
		}
	}
	// Links carry the mount prefix.
	links := c.do("GET", "/servers/", nil).doc.Links
	if !strings.HasPrefix(links["self"], "/alfa/servers?") {
		t.Errorf("links under /alfa: %v", links)
	}
	if links := root.do("GET", "/servers", nil).doc.Links; !strings.HasPrefix(links["self"], "/servers?") {
		t.Errorf("links at /: %v", links)
	}
	// Content negotiation.
	c.req("GET", "/servers", "", nil, "Accept", jsonapi.MediaType+"; charset=utf-8").errorAt(t, 406, "")
	c.req("GET", "/servers", "", nil, "Accept", jsonapi.MediaType).must(t, 200)
	c.req("GET", "/servers", "", nil, "Accept", "application/json").must(t, 200)
	// Unknown ids are 404, malformed ones too.
	for _, p := range []string{"/servers/0190a0a0-0000-7000-8000-000000000000", "/servers/x", "/clients/x",
		"/clients/0190a0a0-0000-7000-8000-000000000000", "/tasks/x", "/clients/x/expire_dates_history"} {
		c.do("GET", p, nil).errorAt(t, 404, "")
	}
	// Query errors name the parameter.
	for _, q := range []string{"page[size]=1000", "page[number]=0", "sort=phone", "filter[phone]=1", "include=server"} {
		r := c.do("GET", "/clients?"+q, nil)
		r.must(t, 400)
		if r.doc.Errors[0].Source == nil || r.doc.Errors[0].Source.Parameter == "" {
			t.Errorf("%s: no source.parameter: %s", q, r.raw)
		}
	}
}

func TestServers(t *testing.T) {
	env, c, _ := start(t)
	r := c.do("POST", "/servers/create", data("servers", "", map[string]any{"name": "alpha", "runtime": "sim", "capacity": 5, "location": "msk"}))
	r.must(t, 201)
	alpha := r.one(t)
	if r.header.Get("Location") != "/alfa/servers/"+alpha.ID {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	if a := alpha.Attributes; a["name"] != "alpha" || a["capacity"] != 5.0 || a["status"] != "active" || a["runtime"] != "sim" || a["location"] != "msk" {
		t.Errorf("created %v", a)
	}
	c.do("POST", "/servers/create", data("servers", "", map[string]any{"name": "beta", "capacity": 10})).must(t, 201)
	off := c.do("POST", "/servers/create", data("servers", "", map[string]any{"name": "gamma", "status": "disabled"})).must(t, 201).one(t)

	// Only active servers are listed.
	list := c.do("GET", "/servers?sort=-capacity", nil).must(t, 200)
	names := []string{}
	for _, s := range list.list(t) {
		names = append(names, s.Attributes["name"].(string))
	}
	if strings.Join(names, ",") != "beta,alpha" || list.doc.Meta["total"] != 2.0 {
		t.Errorf("active servers by -capacity: %v (meta %v)", names, list.doc.Meta)
	}
	page := c.do("GET", "/servers?page[size]=1&sort=name", nil).must(t, 200)
	if len(page.list(t)) != 1 || page.doc.Links["next"] == "" || page.doc.Links["prev"] != "" {
		t.Errorf("page 1 of 2: %s", page.raw)
	}
	next := strings.TrimPrefix(page.doc.Links["next"], "/alfa")
	if p2 := c.do("GET", next, nil).must(t, 200).list(t); len(p2) != 1 || p2[0].Attributes["name"] != "beta" {
		t.Errorf("next page: %v", p2)
	}
	if l := c.do("GET", "/servers?filter[runtime]=sim", nil).must(t, 200).list(t); len(l) != 2 {
		t.Errorf("filter[runtime]=sim: %v", l)
	}

	// Detail with live load.
	env.Sim.SetLoad(alpha.ID, 42.5, 1<<30, 4<<30)
	d := c.do("GET", "/servers/"+alpha.ID, nil).must(t, 200).one(t)
	load, _ := d.Attributes["load"].(map[string]any)
	if load == nil || load["reachable"] != true || load["cpu_percent"] != 42.5 || load["capacity"] != 5.0 || load["clients"] != 0.0 || load["last_heartbeat"] == nil || load["checked_at"] == nil {
		t.Errorf("load %v", d.Attributes["load"])
	}
	env.Sim.SetUnreachable(alpha.ID, true)
	load = c.do("GET", "/servers/"+alpha.ID, nil).must(t, 200).one(t).Attributes["load"].(map[string]any)
	if load["reachable"] != false || load["error"] == nil {
		t.Errorf("unreachable load %v", load)
	}
	env.Sim.SetUnreachable(alpha.ID, false)

	// Update, PUT and PATCH alike; the id in the body must match.
	for _, m := range []string{"PUT", "PATCH"} {
		u := c.do(m, "/servers/"+alpha.ID, data("servers", alpha.ID, map[string]any{"location": "spb-" + m})).must(t, 200).one(t)
		if u.Attributes["location"] != "spb-"+m || u.Attributes["name"] != "alpha" {
			t.Errorf("%s: %v", m, u.Attributes)
		}
	}
	c.do("PATCH", "/servers/"+alpha.ID, data("servers", off.ID, map[string]any{"name": "x"})).errorAt(t, 409, "/data/id")
	c.do("PATCH", "/servers/"+alpha.ID, data("clients", "", map[string]any{"name": "x"})).errorAt(t, 409, "/data/type")
	c.do("PATCH", "/servers/"+alpha.ID, data("servers", "", map[string]any{"capacity": 0})).errorAt(t, 400, "/data/attributes/capacity")
	c.do("PATCH", "/servers/"+alpha.ID, data("servers", "", map[string]any{"status": "broken"})).errorAt(t, 400, "/data/attributes/status")
	c.do("PATCH", "/servers/"+alpha.ID, data("servers", "", map[string]any{"runtime": "nope"})).errorAt(t, 400, "/data/attributes/runtime")
	c.do("PATCH", "/servers/0190a0a0-0000-7000-8000-000000000000", data("servers", "", map[string]any{"name": "x"})).errorAt(t, 404, "")
	c.do("POST", "/servers/create", data("servers", "", map[string]any{"name": "alpha"})).errorAt(t, 409, "")

	// Reboot, as GET and POST with ?id=.
	c.accepted(c.do("GET", "/servers/reboot_server?id="+alpha.ID, nil), fleet.KindServerReboot)
	c.accepted(c.do("POST", "/servers/reboot_server/?id="+alpha.ID, nil), fleet.KindServerReboot)
	r = c.do("GET", "/servers/reboot_server", nil)
	r.must(t, 400)
	if r.doc.Errors[0].Source == nil || r.doc.Errors[0].Source.Parameter != "id" {
		t.Errorf("reboot without id: %s", r.raw)
	}
	c.do("GET", "/servers/reboot_server?id=0190a0a0-0000-7000-8000-000000000000", nil).errorAt(t, 404, "")

	// Delete: a conflict while clients live there.
	cl := c.createClient("Lab One", map[string]any{"server_id": alpha.ID})
	c.do("DELETE", "/servers/"+alpha.ID+"/delete", nil).errorAt(t, 409, "")
	c.accepted(c.do("DELETE", "/clients/"+cl.ID+"/delete", nil), cloud.KindClientDelete)
	c.do("DELETE", "/servers/"+alpha.ID+"/delete", nil).must(t, 204)
	c.do("GET", "/servers/"+alpha.ID, nil).errorAt(t, 404, "")
	c.do("DELETE", "/servers/"+alpha.ID+"/delete", nil).errorAt(t, 404, "")
}

func TestClientLifecycle(t *testing.T) {
	env, c, _ := start(t)
	one := c.createServer("one", 10)
	two := c.createServer("two", 10)

	r := c.do("POST", "/clients/create", data("clients", "", map[string]any{
		"name": "Lab Alpha", "email": "owner@alpha.test", "phone": "+7 900", "lang": "en", "expire_date": "2031-05-01",
	}))
	r.must(t, 202)
	task := r.one(t)
	if r.header.Get("Location") != "/alfa/tasks/"+task.ID {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	created := r.doc.Included[0]
	if created.Attributes["status"] != "creating" || created.Attributes["available"] != false {
		t.Errorf("included client %v", created.Attributes)
	}
	var rel struct {
		Data jsonapi.Identifier `json:"data"`
	}
	json.Unmarshal(task.Relationships["target"], &rel)
	if rel.Data.ID != created.ID || rel.Data.Type != "clients" {
		t.Errorf("task target %s: the included client is not linked", task.Relationships["target"])
	}
	done := c.waitTask(task.ID)
	if done.Attributes["progress"] != 100.0 && done.Attributes["result"] == nil {
		t.Errorf("finished task %v", done.Attributes)
	}

	cl := c.do("GET", "/clients/"+created.ID, nil).must(t, 200).one(t)
	a := cl.Attributes
	if a["status"] != "active" || a["available"] != true || a["url"] == "" || a["expire_date"] != "2031-05-01" ||
		a["lang"] != "en" || a["owner_login"] == "" || a["demo"] != false {
		t.Fatalf("ready client %v", a)
	}
	serverID := a["server_id"].(string)
	if serverID != one.ID && serverID != two.ID {
		t.Errorf("placed on %s", serverID)
	}
	msgs := env.Mail.WaitFor(t, 1, 10*time.Second)
	if msgs[0].To[0] != "owner@alpha.test" {
		t.Errorf("welcome mail to %v", msgs[0].To)
	}

	// Listing, filters and sort.
	c.createClient("Lab Beta", map[string]any{"server_id": one.ID})
	list := c.do("GET", "/clients?sort=-created_at", nil).must(t, 200).list(t)
	if len(list) != 2 || list[0].Attributes["name"] != "Lab Beta" {
		t.Errorf("clients by -created_at: %v", list)
	}
	if l := c.do("GET", "/clients?filter[email]=alpha", nil).must(t, 200).list(t); len(l) != 1 || l[0].ID != cl.ID {
		t.Errorf("filter[email]: %v", l)
	}
	if l := c.do("GET", "/clients?filter[server_id]="+one.ID+"&filter[status]=active", nil).must(t, 200).list(t); len(l) < 1 {
		t.Errorf("filter[server_id]: %v", l)
	}

	// Edit; the password is not editable here.
	u := c.do("PATCH", "/clients/"+cl.ID, data("clients", cl.ID, map[string]any{"phone": "+7 901", "name": "Lab Alpha 2"})).must(t, 200).one(t)
	if u.Attributes["phone"] != "+7 901" || u.Attributes["name"] != "Lab Alpha 2" || u.Attributes["email"] != "owner@alpha.test" {
		t.Errorf("edited %v", u.Attributes)
	}
	c.do("PUT", "/clients/"+cl.ID, data("clients", "", map[string]any{"owner_password": "x"})).errorAt(t, 400, "/data/attributes/owner_password")
	c.do("PUT", "/clients/"+cl.ID, data("clients", "", map[string]any{"password": "x"})).errorAt(t, 400, "/data/attributes/password")
	c.do("PUT", "/clients/"+cl.ID, data("clients", "", map[string]any{"server_id": two.ID})).errorAt(t, 400, "/data/attributes/server_id")

	// Expiry date: three spellings, every change kept.
	for _, d := range []any{"2031-06-01", "2031-07-01T12:00:00Z", nil} {
		got := c.do("PUT", "/clients/"+cl.ID+"/expire_date", data("clients", "", map[string]any{"expire_date": d})).must(t, 200).one(t)
		want := d
		if s, ok := d.(string); ok {
			want = s[:10]
		}
		if got.Attributes["expire_date"] != want {
			t.Errorf("expire_date %v → %v", d, got.Attributes["expire_date"])
		}
	}
	c.do("PATCH", "/clients/"+cl.ID+"/expire_date", data("clients", cl.ID, map[string]any{"expire_date": "2032-01-01"})).must(t, 200)
	hist := c.do("GET", "/clients/"+cl.ID+"/expire_dates_history", nil).must(t, 200)
	changes := hist.list(t)
	if len(changes) != 5 || hist.doc.Meta["total"] != 5.0 {
		t.Fatalf("history: %s", hist.raw)
	}
	first, last := changes[0].Attributes, changes[4].Attributes
	if changes[0].Type != "expire-changes" || first["old"] != nil || first["new"] != "2031-05-01" ||
		last["old"] != nil || last["new"] != "2032-01-01" || last["actor"] != testenv.AdminUser || last["source"] != "127.0.0.1" || last["at"] == nil {
		t.Errorf("history %v … %v", first, last)
	}
	if p := c.do("GET", "/clients/"+cl.ID+"/expire_dates_history?page[size]=2&page[number]=3", nil).must(t, 200); len(p.list(t)) != 1 || p.doc.Links["next"] != "" {
		t.Errorf("history page 3: %s", p.raw)
	}

	// Every action, GET and POST alike.
	c.accepted(c.do("GET", "/clients/"+cl.ID+"/demo_enable", nil), cloud.KindClientDemo)
	if c.do("GET", "/clients/"+cl.ID, nil).one(t).Attributes["demo"] != true {
		t.Error("demo not enabled")
	}
	c.accepted(c.do("POST", "/clients/"+cl.ID+"/demo_disable", nil), cloud.KindClientDemo)
	if c.do("GET", "/clients/"+cl.ID, nil).one(t).Attributes["demo"] != false {
		t.Error("demo not disabled")
	}
	before := len(env.Mail.Messages())
	c.accepted(c.do("POST", "/clients/"+cl.ID+"/send_success", nil), cloud.KindClientSendSuccess)
	c.accepted(c.do("GET", "/clients/"+cl.ID+"/send_expire", nil), cloud.KindClientSendExpire)
	env.Mail.WaitFor(t, before+2, 10*time.Second)
	c.accepted(c.do("GET", "/clients/"+cl.ID+"/reboot", nil), cloud.KindClientReboot)
	c.accepted(c.do("POST", "/clients/"+cl.ID+"/reboot/", nil), cloud.KindClientReboot)
	c.accepted(c.do("POST", "/clients/owner_password", data("clients", cl.ID, map[string]any{"password": "lab-owner-pw-1"})), cloud.KindClientOwnerPassword)
	c.accepted(c.do("POST", "/clients/owner_password", data("clients", "", map[string]any{"client_id": cl.ID, "password": "lab-owner-pw-2"})), cloud.KindClientOwnerPassword)

	// Transfer to the other server.
	cur := c.do("GET", "/clients/"+cl.ID, nil).one(t).Attributes["server_id"].(string)
	dst := one.ID
	if cur == one.ID {
		dst = two.ID
	}
	c.do("POST", "/clients/"+cl.ID+"/transfer", data("clients", "", map[string]any{"server_id": cur})).errorAt(t, 400, "/data/attributes/server_id")
	c.accepted(c.do("POST", "/clients/"+cl.ID+"/transfer", map[string]any{"data": map[string]any{
		"type": "clients", "relationships": map[string]any{"server": map[string]any{"data": map[string]any{"type": "servers", "id": dst}}},
	}}), cloud.KindClientTransfer)
	moved := c.do("GET", "/clients/"+cl.ID, nil).one(t)
	if moved.Attributes["server_id"] != dst || moved.Attributes["available"] != true {
		t.Errorf("after transfer %v", moved.Attributes)
	}

	// Tasks and audit.
	tasks := c.do("GET", "/tasks?filter[target_id]="+cl.ID+"&page[size]=100", nil).must(t, 200)
	if n := tasks.doc.Meta["total"].(float64); n < 10 {
		t.Errorf("%v tasks for the client", n)
	}
	if l := c.do("GET", "/tasks?filter[kind]=client.transfer&filter[status]=SUCCESS", nil).must(t, 200).list(t); len(l) != 1 {
		t.Errorf("transfer tasks: %v", l)
	}
	audit := c.do("GET", "/audit?filter[target_id]="+cl.ID+"&page[size]=100", nil).must(t, 200).list(t)
	seen := map[string]bool{}
	for _, e := range audit {
		if e.Type != "audit-events" {
			t.Fatalf("audit type %q", e.Type)
		}
		if e.Attributes["face"] == "alfa" {
			seen[e.Attributes["action"].(string)] = true
		}
	}
	for _, action := range []string{"client.create", "client.update", "client.demo_enable", "client.demo_disable", "client.send_success",
		"client.send_expire", "client.reboot", "client.owner_password", "client.transfer"} {
		if !seen[action] {
			t.Errorf("no audit event %s from alfa (%v)", action, seen)
		}
	}

	// Delete, then actions are conflicts.
	c.accepted(c.do("DELETE", "/clients/"+cl.ID+"/delete", nil), cloud.KindClientDelete)
	if s := c.do("GET", "/clients/"+cl.ID, nil).must(t, 200).one(t).Attributes["status"]; s != "deleted" {
		t.Errorf("deleted client status %v", s)
	}
	c.do("GET", "/clients/"+cl.ID+"/reboot", nil).errorAt(t, 409, "")
}

func TestCancelTask(t *testing.T) {
	_, c, _ := start(t)
	c.createServer("one", 10)
	cl := c.createClient("Lab Cancel", nil)
	r := c.do("GET", "/clients/"+cl.ID+"/reboot", nil).must(t, 202)
	id := r.one(t).ID
	res := c.do("POST", "/tasks/"+id+"/cancel", nil)
	switch res.status {
	case 200: // revoked before it ran, or asked to stop
		if res.one(t).Type != "tasks" {
			t.Errorf("cancel answer %s", res.raw)
		}
	case 409: // it had already finished
	default:
		t.Errorf("cancel: %d %s", res.status, res.raw)
	}
	c.do("POST", "/tasks/0190a0a0-0000-7000-8000-000000000000/cancel", nil).errorAt(t, 404, "")
	c.do("GET", "/tasks/"+id+"/cancel", nil).must(t, 405)
}

func TestBadInput(t *testing.T) {
	_, c, _ := start(t)
	srv := c.createServer("one", 10)
	cl := c.createClient("Lab Bad", nil)
	unknown := "0190a0a0-0000-7000-8000-000000000000"
	type route struct{ method, path, typ string }
	routes := []route{
		{"POST", "/servers/create", "servers"},
		{"PUT", "/servers/" + srv.ID, "servers"},
		{"PATCH", "/servers/" + srv.ID, "servers"},
		{"POST", "/clients/create", "clients"},
		{"PUT", "/clients/" + cl.ID, "clients"},
		{"PATCH", "/clients/" + cl.ID, "clients"},
		{"POST", "/clients/owner_password", "clients"},
		{"PUT", "/clients/" + cl.ID + "/expire_date", "clients"},
		{"PATCH", "/clients/" + cl.ID + "/expire_date", "clients"},
		{"POST", "/clients/" + cl.ID + "/transfer", "clients"},
		{"POST", "/cloud_admin_password", "credentials"},
	}
	big := `{"data":{"type":"x","attributes":{"name":"` + strings.Repeat("a", httpx.MaxBody) + `"}}}`
	for _, rt := range routes {
		t.Run(rt.method+rt.path, func(t *testing.T) {
			send := func(body string) *response {
				return c.req(rt.method, rt.path, jsonapi.MediaType, strings.NewReader(body))
			}
			send(`{"data":`).errorAt(t, 400, "")
			send(`{"data":{"type":"`+rt.typ+`"}} {}`).errorAt(t, 400, "")
			send(`[]`).errorAt(t, 400, "")
			send(`{}`).errorAt(t, 400, "/data")
			send(`{"data":{"attributes":{}}}`).errorAt(t, 400, "/data/type")
			send(`{"data":{"type":"nope","attributes":{}}}`).errorAt(t, 409, "/data/type")
			send(`{"data":{"type":"`+rt.typ+`","attributes":{"bogus":1}}}`).errorAt(t, 400, "/data/attributes/bogus")
			send(`{"data":{"type":"`+rt.typ+`","attributes":[]}}`).errorAt(t, 400, "/data/attributes")
			send(big).errorAt(t, 413, "")
			c.req(rt.method, rt.path, "text/plain", strings.NewReader(`{"data":{"type":"`+rt.typ+`"}}`)).errorAt(t, 415, "")
			c.req(rt.method, rt.path, jsonapi.MediaType+"; charset=utf-8", strings.NewReader(`{"data":{"type":"`+rt.typ+`"}}`)).errorAt(t, 415, "")
			c.req(rt.method, rt.path, "", nil).errorAt(t, 415, "")
		})
	}

	// Wrong attribute types point at the attribute.
	typed := []struct {
		method, path, typ, attr string
		value                   any
	}{
		{"POST", "/servers/create", "servers", "name", 1},
		{"POST", "/servers/create", "servers", "capacity", "ten"},
		{"POST", "/servers/create", "servers", "capacity", 1.5},
		{"POST", "/servers/create", "servers", "status", true},
		{"PATCH", "/servers/" + srv.ID, "servers", "address", []int{1}},
		{"POST", "/clients/create", "clients", "email", 5},
		{"POST", "/clients/create", "clients", "expire_date", "01.02.2030"},
		{"POST", "/clients/create", "clients", "expire_date", 20300101},
		{"POST", "/clients/create", "clients", "server_id", 1},
		{"PATCH", "/clients/" + cl.ID, "clients", "lang", nil},
		{"PUT", "/clients/" + cl.ID + "/expire_date", "clients", "expire_date", "tomorrow"},
		{"POST", "/clients/owner_password", "clients", "password", 12345678},
		{"POST", "/clients/" + cl.ID + "/transfer", "clients", "server_id", false},
		{"POST", "/cloud_admin_password", "credentials", "password", nil},
	}
	for _, tt := range typed {
		attrs := map[string]any{tt.attr: tt.value}
		if tt.path == "/clients/owner_password" {
			attrs["client_id"] = cl.ID
		}
		c.do(tt.method, tt.path, data(tt.typ, "", attrs)).errorAt(t, 400, "/data/attributes/"+tt.attr)
	}

	// Missing required attributes, as core decides.
	c.do("POST", "/servers/create", data("servers", "", map[string]any{})).errorAt(t, 400, "/data/attributes/name")
	c.do("POST", "/clients/create", data("clients", "", map[string]any{"email": "a@b.test"})).errorAt(t, 400, "/data/attributes/name")
	c.do("POST", "/clients/create", data("clients", "", map[string]any{"name": "x"})).errorAt(t, 400, "/data/attributes/email")
	c.do("POST", "/clients/create", data("clients", "", map[string]any{"name": "x", "email": "not-mail"})).errorAt(t, 400, "/data/attributes/email")
	c.do("POST", "/clients/create", data("clients", "", map[string]any{"name": "x", "email": "a@b.test", "lang": "de"})).errorAt(t, 400, "/data/attributes/lang")
	c.do("POST", "/clients/create", data("clients", "", map[string]any{"name": "x", "email": "a@b.test", "server_id": unknown})).errorAt(t, 400, "/data/attributes/server_id")
	c.do("POST", "/clients/create", data("clients", unknown, map[string]any{"name": "x", "email": "a@b.test"})).errorAt(t, 403, "/data/id")
	c.do("PUT", "/clients/"+cl.ID+"/expire_date", data("clients", "", map[string]any{})).errorAt(t, 400, "/data/attributes/expire_date")
	c.do("POST", "/clients/owner_password", data("clients", "", map[string]any{"password": "long-enough-1"})).errorAt(t, 400, "/data/id")
	c.do("POST", "/clients/owner_password", data("clients", cl.ID, map[string]any{})).errorAt(t, 400, "/data/attributes/password")
	c.do("POST", "/clients/owner_password", data("clients", cl.ID, map[string]any{"client_id": unknown, "password": "long-enough-1"})).errorAt(t, 409, "/data/id")
	c.do("POST", "/clients/"+cl.ID+"/transfer", data("clients", "", map[string]any{})).errorAt(t, 400, "/data/attributes/server_id")
	c.do("POST", "/cloud_admin_password", data("credentials", "", map[string]any{})).errorAt(t, 400, "/data/attributes/password")

	// Unknown ids.
	c.do("PATCH", "/clients/"+unknown, data("clients", "", map[string]any{"name": "x"})).errorAt(t, 404, "")
	c.do("PUT", "/clients/"+unknown+"/expire_date", data("clients", "", map[string]any{"expire_date": nil})).errorAt(t, 404, "")
	c.do("POST", "/clients/owner_password", data("clients", unknown, map[string]any{"password": "long-enough-1"})).errorAt(t, 404, "")
	c.do("POST", "/clients/"+unknown+"/transfer", data("clients", "", map[string]any{"server_id": srv.ID})).errorAt(t, 404, "")
	c.do("PATCH", "/clients/"+cl.ID, data("clients", unknown, map[string]any{"name": "x"})).errorAt(t, 409, "/data/id")
	for _, a := range []string{"demo_enable", "demo_disable", "send_success", "send_expire", "reboot"} {
		c.do("GET", "/clients/"+unknown+"/"+a, nil).errorAt(t, 404, "")
		c.do("POST", "/clients/x/"+a, nil).errorAt(t, 404, "")
	}
	c.do("DELETE", "/clients/"+unknown+"/delete", nil).errorAt(t, 404, "")
	c.do("GET", "/clients/"+cl.ID+"/send_expire", nil).errorAt(t, 409, "") // no expiry date
}

// A client that closes its connection while core is still answering is logged and
// counted as 499, not as a server error (on SQLite and PostgreSQL alike).
func TestClientGone(t *testing.T) {
	for _, st := range testenv.Stores {
		t.Run(st.Name, func(t *testing.T) {
			store, busy := testenv.Stall(st.Open(t), "leaver")
			env := testenv.NewWith(t, testenv.Options{Store: store})
			o := httpxtest.NewRecorder()
			srv := httptest.NewServer(alfa.NewHandler(env.Cloud, env.Fleet, env.Login, alfa.Options{Log: o.Log, Registerer: o.Registry}))
			t.Cleanup(srv.Close)
			req, _ := http.NewRequest("GET", srv.URL+"/clients", nil)
			req.SetBasicAuth("leaver", "some-password")
			o.ClientGone(t, req, busy)
		})
	}
}

// A filter value is bounded (core.MaxFilterLen): a longer one is a 400 naming its
// filter[...] parameter, never a 500 from the database; one at the limit works.
// enumerated names the list filters whose values are enumerated.
var enumerated = map[string]bool{"status": true, "kind": true, "runtime": true}

// A filter whose values are enumerated (statuses, task kinds, runtimes) refuses
// a value none can have with a 400 naming the parameter and the values
// allowed, rather than answering an empty list; the values themselves filter.
func TestEnumeratedFilters(t *testing.T) {
	_, c, _ := start(t)
	c.createServer("node-1", 5)
	c.createClient("Lab One", nil)
	for _, f := range []struct {
		path, filter, good string
		allowed            []string
	}{
		{"/clients", "status", "deleted", []string{"creating", "active", "failed", "transferring", "deleting", "deleted"}},
		{"/tasks", "status", "SUCCESS", []string{"PENDING", "STARTED", "SUCCESS", "FAILURE", "RETRY", "REVOKED"}},
		{"/tasks", "kind", "client.create", []string{"client.create", "client.reboot", "periodic.reconcile"}},
		{"/servers", "runtime", "sim", []string{"sim"}},
	} {
		param := "filter[" + f.filter + "]"
		for _, bad := range []string{"bogus", strings.ToUpper(f.good), strings.ToLower(f.good) + " ", ""} {
			if bad == f.good {
				bad = strings.ToLower(bad)
			}
			r := c.do("GET", f.path+"?"+url.Values{param: {bad}}.Encode(), nil)
			r.errorAt(t, 400, "")
			e := r.doc.Errors[0]
			if e.Source == nil || e.Source.Parameter != param || !strings.Contains(e.Detail, param) {
				t.Errorf("%s %s=%q: %s", f.path, param, bad, r.raw)
			}
			for _, v := range f.allowed {
				if !strings.Contains(e.Detail, v) {
					t.Errorf("%s %s=%q: detail %q does not name %s", f.path, param, bad, e.Detail, v)
				}
			}
		}
		c.do("GET", f.path+"?"+url.Values{param: {f.good}}.Encode(), nil).must(t, 200)
	}
	if l := c.do("GET", "/tasks?filter[kind]=client.create", nil).must(t, 200).list(t); len(l) != 1 {
		t.Errorf("filter[kind]=client.create: %v", l)
	}
}

func TestLongFilter(t *testing.T) {
	_, c, _ := start(t)
	email := strings.Repeat("e", core.MaxEmailLen-len("@lab.example")) + "@lab.example" // the longest kept
	c.createServer("node-1", 5)
	c.createClient("Long Mail", map[string]any{"email": email})
	for _, f := range []struct{ path, filter string }{
		{"/clients", "email"}, {"/clients", "name"}, {"/clients", "server_id"}, {"/clients", "status"},
		{"/tasks", "kind"}, {"/tasks", "status"}, {"/tasks", "target_id"},
		{"/audit", "actor"}, {"/audit", "action"}, {"/audit", "target_id"},
		{"/servers", "runtime"},
	} {
		param := "filter[" + f.filter + "]"
		r := c.do("GET", f.path+"?"+url.Values{param: {strings.Repeat("A", 50_000)}}.Encode(), nil)
		r.errorAt(t, 400, "")
		if e := r.doc.Errors[0]; e.Source == nil || e.Source.Parameter != param || !strings.Contains(e.Detail, param) ||
			!strings.Contains(e.Detail, "256") {
			t.Errorf("%s %s: %s", f.path, param, r.raw)
		}
		r = c.do("GET", f.path+"?"+url.Values{param: {strings.Repeat("A", core.MaxFilterLen)}}.Encode(), nil)
		if enumerated[f.filter] {
			r.must(t, 400) // not too long, but no such value (TestEnumeratedFilters)
			if e := r.doc.Errors[0]; strings.Contains(e.Detail, "256") {
				t.Errorf("%s %s of 256 bytes refused as too long: %s", f.path, param, r.raw)
			}
			continue
		}
		r.must(t, 200)
	}
	if got := c.do("GET", "/clients?"+url.Values{"filter[email]": {email}}.Encode(), nil).must(t, 200).list(t); len(got) != 1 {
		t.Errorf("filter by the longest e-mail kept found %d clients, want 1", len(got))
	}
}

// The client list is answered from the answer kept while the clients and their
// instances are unchanged: a change made anywhere (here straight in the store,
// as another replica would) is in the next answer.
func TestListFollowsChanges(t *testing.T) {
	env, c, _ := start(t)
	srv := c.createServer("node", 10)
	ctx := context.Background()
	const path = "/clients?page[size]=2&sort=name"
	total := func() float64 {
		t.Helper()
		return c.do("GET", path, nil).must(t, 200).doc.Meta["total"].(float64)
	}
	if n := total(); n != 0 {
		t.Fatalf("total = %v", n)
	}
	in := &core.Instance{Name: "hd-kept", ServerID: srv.ID, State: core.StateActive}
	if err := env.Store.CreateInstance(ctx, in); err != nil {
		t.Fatal(err)
	}
	cl := &core.Client{Name: "aaa", Email: "aaa@example.test", Lang: "en", ServerID: srv.ID, InstanceID: in.ID, Status: core.ClientActive}
	if err := env.Store.CreateClient(ctx, cl); err != nil {
		t.Fatal(err)
	}
	first := func() resource {
		t.Helper()
		l := c.do("GET", path, nil).must(t, 200).list(t)
		if len(l) == 0 || l[0].ID != cl.ID {
			t.Fatalf("list = %+v", l)
		}
		return l[0]
	}
	if n := total(); n != 1 {
		t.Fatalf("total after a create = %v", n)
	}
	if a := first().Attributes["available"]; a != true {
		t.Fatalf("available = %v", a)
	}
	// The instance is the page's related record: its change shows too.
	if _, err := env.Store.UpdateInstance(ctx, in.ID, core.InstanceUpdate{State: core.Ptr(core.StateStopped)}); err != nil {
		t.Fatal(err)
	}
	if a := first().Attributes["available"]; a != false {
		t.Fatalf("available after the instance stopped = %v", a)
	}
	if _, err := env.Store.UpdateClient(ctx, cl.ID, core.ClientUpdate{Status: core.Ptr(core.ClientDeleted)}); err != nil {
		t.Fatal(err)
	}
	if n := total(); n != 0 {
		t.Fatalf("total after a delete = %v", n)
	}
	// Another page, or other parameters, is another answer.
	if l := c.do("GET", "/clients?page[size]=2&sort=name&filter[status]=deleted", nil).must(t, 200).list(t); len(l) != 1 {
		t.Fatalf("deleted = %+v", l)
	}
}
