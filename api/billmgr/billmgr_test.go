package billmgr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/billmgr"
	"hostdeck/api/httpx/httpxtest"
	"hostdeck/core"
	"hostdeck/core/cloud"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/identity"
	"hostdeck/core/services"
	"hostdeck/internal/testenv"
)

const ubuntu2204 = "f8f2573f-56c4-44c5-8469-84eee4aa64e7"

// How a call sends its parameters.
const (
	viaGET       = "get"
	viaForm      = "form"
	viaMultipart = "multipart"
)

type panel struct {
	t   testing.TB
	env *testenv.Env
	url string
}

// start serves the face under /billmgr/ with the document's images seeded.
func start(tb testing.TB, o testenv.Options) *panel {
	tb.Helper()
	env := testenv.NewWith(tb, o)
	if _, err := env.Hosting.SeedRescueImages(env.AdminCtx()); err != nil {
		tb.Fatal(err)
	}
	h := billmgr.NewHandler(env.Hosting, env.Catalogue, env.Login, billmgr.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	mux := http.NewServeMux()
	mux.Handle("/billmgr/", http.StripPrefix("/billmgr", h))
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return &panel{t: tb, env: env, url: srv.URL + "/billmgr/"}
}

// call sends kv (name, value pairs) the way via says and decodes the JSON answer;
// every answer, errors included, must be status 200 with a doc.
func (p *panel) call(via string, kv ...string) map[string]any {
	p.t.Helper()
	vals := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		vals.Set(kv[i], kv[i+1])
	}
	var req *http.Request
	var err error
	switch via {
	case viaGET:
		req, err = http.NewRequest(http.MethodGet, p.url+"?"+vals.Encode(), nil)
	case viaForm:
		req, err = http.NewRequest(http.MethodPost, p.url, strings.NewReader(vals.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	case viaMultipart:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for i := 0; i+1 < len(kv); i += 2 {
			mw.WriteField(kv[i], kv[i+1])
		}
		mw.Close()
		req, err = http.NewRequest(http.MethodPost, p.url, &buf)
		if req != nil {
			req.Header.Set("Content-Type", mw.FormDataContentType())
		}
	}
	if err != nil {
		p.t.Fatal(err)
	}
	return p.do(req)
}

func (p *panel) do(req *http.Request) map[string]any {
	p.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	var out struct {
		Doc map[string]any `json:"doc"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Doc == nil {
		p.t.Fatalf("not a doc: %s (%v)", raw, err)
	}
	return out.Doc
}

// ok fails on an error document.
func (p *panel) ok(doc map[string]any) map[string]any {
	p.t.Helper()
	if e, bad := doc["error"]; bad {
		p.t.Fatalf("error document: %v", e)
	}
	return doc
}

// wantError checks the panel's error shape and its type and object.
func wantError(t testing.TB, doc map[string]any, typ, obj string) {
	t.Helper()
	e, _ := doc["error"].(map[string]any)
	if e == nil {
		t.Fatalf("want error %s/%s, got %v", typ, obj, doc)
	}
	msg, _ := e["msg"].(map[string]any)
	if e["$type"] != typ || e["$object"] != obj || msg == nil || msg["$"] == "" {
		t.Fatalf("error = %v, want %s/%s", e, typ, obj)
	}
}

// str reads {"$": v} at key k.
func str(m map[string]any, k string) string {
	v, _ := m[k].(map[string]any)
	s, _ := v["$"].(string)
	return s
}

func elems(doc map[string]any) []map[string]any {
	list, _ := doc["elem"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		m, _ := e.(map[string]any)
		out = append(out, m)
	}
	return out
}

// login opens a session with func=auth (multipart, as the document's curl does).
func (p *panel) login(user, password string) string {
	p.t.Helper()
	doc := p.ok(p.call(viaMultipart, "func", "auth", "username", user, "password", password, "out", "json"))
	id := str(doc, "auth")
	if len(id) < 16 {
		p.t.Fatalf("auth = %v", doc)
	}
	return id
}

// activeClient makes a client whose instance is active and returns its elid.
func (p *panel) activeClient(session, name string) string {
	p.t.Helper()
	email := strings.ToLower(name) + "@example.test"
	c, tk, err := p.env.Cloud.CreateClient(p.env.AdminCtx(), cloud.ClientInput{Name: &name, Email: &email})
	if err != nil {
		p.t.Fatal(err)
	}
	if done := p.env.WaitTask(p.t, tk.ID); done.Status != core.TaskSuccess {
		p.t.Fatalf("create: %s", done.Error)
	}
	for _, e := range elems(p.ok(p.call(viaGET, "func", "instances", "auth", session, "out", "json"))) {
		if str(e, "uuid") == c.InstanceID {
			return str(e, "id")
		}
	}
	p.t.Fatalf("instance of %s not listed", name)
	return ""
}

// waitTasks waits for the tasks of a confirmed action.
func (p *panel) waitTasks(doc map[string]any) {
	p.t.Helper()
	p.ok(doc)
	ts, _ := doc["task"].([]any)
	if _, ok := doc["ok"]; !ok || len(ts) == 0 {
		p.t.Fatalf("action answer = %v", doc)
	}
	for _, x := range ts {
		id, _ := x.(map[string]any)["$"].(string)
		if done := p.env.WaitTask(p.t, id); done.Status != core.TaskSuccess {
			p.t.Fatalf("%s: %s %s", done.Kind, done.Status, done.Error)
		}
	}
}

func (p *panel) status(session, elid string) string {
	p.t.Helper()
	for _, e := range elems(p.ok(p.call(viaGET, "func", "instances", "auth", session, "out", "json"))) {
		if str(e, "id") == elid {
			return str(e, "status")
		}
	}
	p.t.Fatalf("elid %s not listed", elid)
	return ""
}

// TestRescueWalk follows the document: auth, preview, rescue, unrescue, with the
// three encodings, plus the list and the plain actions on a list of elids.
func TestRescueWalk(t *testing.T) {
	p := start(t, testenv.Options{})
	p.env.Server(t, "s1", 10)
	sess := p.login(testenv.AdminUser, testenv.AdminPassword)
	elid := p.activeClient(sess, "Walk")

	list := elems(p.ok(p.call(viaGET, "func", "instances", "auth", sess, "out", "json")))
	if len(list) != 1 || str(list[0], "name") == "" || str(list[0], "status") != "active" || str(list[0], "ip") == "" {
		t.Fatalf("instances = %v", list)
	}

	// Preview: no sok, nothing changes; slist holds the zones and the images.
	doc := p.ok(p.call(viaMultipart, "func", "instances.fleio.rescue", "auth", sess, "out", "json", "elid", elid))
	slist, _ := doc["slist"].([]any)
	if len(slist) != 2 {
		t.Fatalf("slist = %v", doc["slist"])
	}
	zone := slist[0].(map[string]any)
	boot := slist[1].(map[string]any)
	if zone["$name"] != "zone" || boot["$name"] != "select_boot" {
		t.Fatalf("slist names = %v, %v", zone["$name"], boot["$name"])
	}
	if z := zone["val"].([]any); len(z) != 2 || z[0].(map[string]any)["$key"] != "pub" || z[1].(map[string]any)["$key"] != "own" {
		t.Fatalf("zones = %v", z)
	}
	found := false
	for _, v := range boot["val"].([]any) {
		m := v.(map[string]any)
		if m["$key"] == ubuntu2204 {
			found = m["$"] == "Ubuntu 22.04" && m["$depend"] == "pub"
		}
	}
	if !found {
		t.Fatalf("Ubuntu 22.04 not offered: %v", boot["val"])
	}
	if st := p.status(sess, elid); st != "active" {
		t.Fatalf("preview changed the state to %s", st)
	}

	// Rescue as the document's second example: select_boot_from_iso, form-urlencoded.
	p.waitTasks(p.call(viaForm, "func", "instances.fleio.rescue", "auth", sess, "out", "json", "sok", "ok",
		"elid", elid, "select_boot_from_iso", ubuntu2204, "zone", "pub", "password", "MyPassword1"))
	if st := p.status(sess, elid); st != "rescue" {
		t.Fatalf("state after rescue = %s", st)
	}
	// Rescue again: the state is named in the panel's error.
	doc = p.call(viaMultipart, "func", "instances.fleio.rescue", "auth", sess, "out", "json", "sok", "ok",
		"elid", elid, "select_boot", ubuntu2204, "zone", "pub")
	wantError(t, doc, "status", "elid")
	if msg := doc["error"].(map[string]any)["msg"].(map[string]any)["$"].(string); !strings.Contains(msg, "rescue") {
		t.Fatalf("message = %q", msg)
	}

	p.waitTasks(p.call(viaGET, "func", "instances.fleio.unrescue", "auth", sess, "out", "json", "elid", elid))
	if st := p.status(sess, elid); st != "active" {
		t.Fatalf("state after unrescue = %s", st)
	}

	// Plain actions on a comma-separated list.
	elid2 := p.activeClient(sess, "Walk2")
	both := elid + "," + elid2
	p.waitTasks(p.call(viaForm, "func", "instances.fleio.stop", "auth", sess, "out", "json", "elid", both))
	if p.status(sess, elid) != "stopped" || p.status(sess, elid2) != "stopped" {
		t.Fatal("not stopped")
	}
	p.waitTasks(p.call(viaForm, "func", "instances.fleio.start", "auth", sess, "out", "json", "elid", both))
	p.waitTasks(p.call(viaForm, "func", "instances.fleio.reboot", "auth", sess, "out", "json", "elid", both))
	if p.status(sess, elid) != "active" || p.status(sess, elid2) != "active" {
		t.Fatal("not active after start and reboot")
	}

	// Every change was audited under the face's name.
	evs, _, err := p.env.Svc.ListAudit(p.env.AdminCtx(), core.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.Face == billmgr.Face {
			seen[ev.Action] = true
		}
	}
	for _, a := range []string{"billmgr.session.create", "instance.rescue", "instance.unrescue", "instance.stop", "instance.start", "instance.reboot"} {
		if !seen[a] {
			t.Errorf("no %s audit event from the face (have %v)", a, seen)
		}
	}
}

// TestBadInput: bad input of every kind is the panel's error document, status 200.
func TestBadInput(t *testing.T) {
	p := start(t, testenv.Options{})
	p.env.Server(t, "s1", 10)
	sess := p.login(testenv.AdminUser, testenv.AdminPassword)
	elid := p.activeClient(sess, "Bad")
	rescue := []string{"func", "instances.fleio.rescue", "auth", sess, "out", "json", "sok", "ok", "elid", elid}
	for _, tt := range []struct {
		name     string
		kv       []string
		typ, obj string
	}{
		{"no func", []string{"auth", sess, "out", "json"}, "missed", "func"},
		{"unknown func", []string{"func", "nope.nothing", "auth", sess, "out", "json"}, "missed", "func"},
		{"no auth", []string{"func", "instances", "out", "json"}, "auth", "auth"},
		{"bad session", []string{"func", "instances", "auth", "0123456789abcdef", "out", "json"}, "auth", "auth"},
		{"bad authinfo", []string{"func", "instances", "authinfo", "admin:wrong-password", "out", "json"}, "auth", "auth"},
		{"authinfo without colon", []string{"func", "instances", "authinfo", "admin", "out", "json"}, "value", "authinfo"},
		{"auth without password", []string{"func", "auth", "username", "admin", "out", "json"}, "missed", "password"},
		{"missing elid", []string{"func", "instances.fleio.unrescue", "auth", sess, "out", "json"}, "missed", "elid"},
		{"elid not a number", []string{"func", "instances.fleio.unrescue", "auth", sess, "out", "json", "elid", "abc"}, "value", "elid"},
		{"negative elid", []string{"func", "instances.fleio.stop", "auth", sess, "out", "json", "elid", "-3"}, "value", "elid"},
		{"unknown elid", []string{"func", "instances.fleio.unrescue", "auth", sess, "out", "json", "elid", "99999"}, "missed", "elid"},
		{"unrescue when active", []string{"func", "instances.fleio.unrescue", "auth", sess, "out", "json", "elid", elid}, "status", "elid"},
		{"start when active", []string{"func", "instances.fleio.start", "auth", sess, "out", "json", "elid", elid}, "status", "elid"},
		{"no image", append(rescue, "zone", "pub"), "missed", "select_boot"},
		{"bad UUID", append(rescue, "zone", "pub", "select_boot", "f8f2573f"), "value", "select_boot"},
		{"unknown image", append(rescue, "zone", "pub", "select_boot", "0190b6c4-6d5a-7000-8000-0000000000ff"), "missed", "select_boot"},
		{"wrong zone", append(rescue, "zone", "own", "select_boot", ubuntu2204), "missed", "select_boot"},
		{"bad zone", append(rescue, "zone", "private", "select_boot", ubuntu2204), "value", "zone"},
		{"no zone", append(rescue, "select_boot", ubuntu2204), "missed", "zone"},
		{"password with newline", append(rescue, "zone", "pub", "select_boot", ubuntu2204, "password", "a\nb"), "value", "password"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, via := range []string{viaGET, viaForm, viaMultipart} {
				wantError(t, p.call(via, tt.kv...), tt.typ, tt.obj)
			}
		})
	}
	if st := p.status(sess, elid); st != "active" {
		t.Fatalf("bad input changed the state to %s", st)
	}

	send := func(method, ct string, body io.Reader) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, p.url+"?out=json&func=instances&auth="+sess, body)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		return p.do(req)
	}
	big := strings.NewReader("func=instances&x=" + strings.Repeat("a", 2<<20))
	wantError(t, send(http.MethodPost, "application/x-www-form-urlencoded", big), "toolarge", "body")
	wantError(t, send(http.MethodPost, "application/json", strings.NewReader(`{"func":"instances"}`)), "value", "Content-Type")
	wantError(t, send(http.MethodPost, "multipart/form-data", strings.NewReader("x")), "value", "Content-Type")
	wantError(t, send(http.MethodPost, "multipart/form-data; boundary=zz", strings.NewReader("--zz\r\nbroken")), "value", "body")
	wantError(t, send(http.MethodPut, "", nil), "value", "method")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("upload", "x.iso")
	fw.Write([]byte("iso"))
	mw.Close()
	wantError(t, send(http.MethodPost, mw.FormDataContentType(), &buf), "value", "upload")
	// A POST without a body and without a content type reads the query string.
	if l := elems(p.ok(send(http.MethodPost, "", nil))); len(l) != 1 {
		t.Fatalf("instances = %v", l)
	}
}

// TestXMLOutput: without out=json the same document comes as XML.
func TestXMLOutput(t *testing.T) {
	p := start(t, testenv.Options{})
	resp, err := http.Get(p.url + "?func=instances.fleio.rescue&elid=1&authinfo=" + url.QueryEscape(testenv.AdminUser+":"+testenv.AdminPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var doc struct {
		XMLName xml.Name `xml:"doc"`
		Error   struct {
			Type   string `xml:"type,attr"`
			Object string `xml:"object,attr"`
			Msg    string `xml:"msg"`
		} `xml:"error"`
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") || xml.Unmarshal(raw, &doc) != nil {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	if doc.Error.Type != "missed" || doc.Error.Object != "elid" || doc.Error.Msg == "" {
		t.Fatalf("xml error = %+v (%s)", doc.Error, raw)
	}

	p.env.Server(t, "s1", 10)
	sess := p.login(testenv.AdminUser, testenv.AdminPassword)
	elid := p.activeClient(sess, "Xml")
	resp, err = http.PostForm(p.url, url.Values{"func": {"instances.fleio.rescue"}, "auth": {sess}, "elid": {elid}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ = io.ReadAll(resp.Body)
	var preview struct {
		Slist []struct {
			Name string `xml:"name,attr"`
			Val  []struct {
				Key    string `xml:"key,attr"`
				Depend string `xml:"depend,attr"`
				Text   string `xml:",chardata"`
			} `xml:"val"`
		} `xml:"slist"`
	}
	if err := xml.Unmarshal(raw, &preview); err != nil || len(preview.Slist) != 2 || preview.Slist[1].Name != "select_boot" {
		t.Fatalf("xml preview = %+v, %v (%s)", preview, err, raw)
	}
	if v := preview.Slist[1].Val; len(v) < 14 || v[0].Key == "" || v[0].Text == "" || v[0].Depend != "pub" {
		t.Fatalf("xml images = %+v", v)
	}
}

// TestImagesAndMembers: admins add images; a member sees pub images and their own
// (with $name), acts only on their instances, and cannot add images.
func TestImagesAndMembers(t *testing.T) {
	p := start(t, testenv.Options{})
	ctx := p.env.AdminCtx()
	p.env.Server(t, "s1", 10)
	admin := p.login(testenv.AdminUser, testenv.AdminPassword)
	adminElid := p.activeClient(admin, "AdminLab")
	for _, name := range []string{"alice", "bob"} {
		pw := name + "-password-1"
		if _, err := p.env.Identity.CreateUser(ctx, identity.UserInput{Name: &name, Password: &pw}); err != nil {
			t.Fatal(err)
		}
	}
	doc := p.ok(p.call(viaForm, "func", "image.edit", "auth", admin, "out", "json", "sok", "ok",
		"name", "Centos 9 x64", "ref", "hostdeck/sample-client:latest", "zone", "own", "owner", "alice"))
	own := str(doc, "id")
	if !core.ValidID(own) {
		t.Fatalf("image.edit = %v", doc)
	}
	wantError(t, p.call(viaForm, "func", "image.edit", "auth", admin, "out", "json", "sok", "ok", "name", "x", "ref", "x:1", "zone", "own", "owner", "nobody"), "missed", "owner")
	wantError(t, p.call(viaForm, "func", "image.edit", "auth", admin, "out", "json", "sok", "ok", "name", "x", "zone", "pub"), "missed", "ref")

	alice := p.login("alice", "alice-password-1")
	wantError(t, p.call(viaForm, "func", "image.edit", "auth", alice, "out", "json", "sok", "ok", "name", "x", "ref", "x:1"), "access", "func")
	// The form and a request missing its fields are an administrator's too.
	wantError(t, p.call(viaForm, "func", "image.edit", "auth", alice, "out", "json"), "access", "func")
	wantError(t, p.call(viaForm, "func", "image.edit", "auth", alice, "out", "json", "sok", "ok"), "access", "func")
	if l := elems(p.ok(p.call(viaGET, "func", "instances", "auth", alice, "out", "json"))); len(l) != 0 {
		t.Fatalf("alice sees %v", l)
	}
	wantError(t, p.call(viaGET, "func", "instances.fleio.rescue", "auth", alice, "out", "json", "elid", adminElid), "missed", "elid")

	// Alice's project instance: she sees it, and her own image in the preview.
	u, _ := p.env.Store.GetUserByName(context.Background(), "alice")
	proj := &core.Project{ID: "0190b6c4-6d5a-7000-8000-00000000a11c", Name: "alice-proj", OwnerID: u.ID}
	if err := p.env.Store.CreateProject(context.Background(), proj); err != nil {
		t.Fatal(err)
	}
	srvs, _, _ := p.env.Store.ListServers(context.Background(), core.ServerFilter{})
	if err := p.env.Store.CreateInstance(context.Background(), &core.Instance{Name: "alice-vm", ServerID: srvs[0].ID, ProjectID: proj.ID, State: core.StateActive}); err != nil {
		t.Fatal(err)
	}
	l := elems(p.ok(p.call(viaGET, "func", "instances", "authinfo", "alice:alice-password-1", "out", "json")))
	if len(l) != 1 || str(l[0], "name") != "alice-vm" {
		t.Fatalf("alice sees %v", l)
	}
	hasOwn := func(session, elid string) bool {
		doc := p.ok(p.call(viaGET, "func", "instances.fleio.rescue", "auth", session, "out", "json", "elid", elid))
		for _, v := range doc["slist"].([]any)[1].(map[string]any)["val"].([]any) {
			m := v.(map[string]any)
			if m["$key"] == own {
				if m["$depend"] != "own" || m["$name"] != "Centos 9 x64" {
					t.Fatalf("own image entry = %v", m)
				}
				return true
			}
		}
		return false
	}
	if !hasOwn(alice, str(l[0], "id")) {
		t.Fatal("alice does not see her image")
	}
	if hasOwn(admin, adminElid) != true { // admins see every image
		t.Fatal("admin does not see alice's image")
	}
	bob := p.login("bob", "bob-password-1")
	wantError(t, p.call(viaGET, "func", "instances.fleio.rescue", "auth", bob, "out", "json", "elid", str(l[0], "id")), "missed", "elid")
}

// TestSessionIdleExpiry: a session lives an hour after its last use.
func TestSessionIdleExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	p := start(t, testenv.Options{Clock: clock})
	sess := p.login(testenv.AdminUser, testenv.AdminPassword)
	who := func() map[string]any { return p.call(viaGET, "func", "whoami", "auth", sess, "out", "json") }
	advance(59 * time.Minute)
	if d := p.ok(who()); str(d, "user") != testenv.AdminUser {
		t.Fatalf("whoami = %v", d)
	}
	advance(59 * time.Minute) // 118 minutes old, but used 59 minutes ago
	p.ok(who())
	advance(61 * time.Minute)
	wantError(t, who(), "auth", "auth")
	// A new login works, and the expired session stays dead.
	p.ok(p.call(viaGET, "func", "whoami", "auth", p.login(testenv.AdminUser, testenv.AdminPassword), "out", "json"))
	wantError(t, who(), "auth", "auth")
}

// seedInstances stores n instances directly (no tasks), named prefix-000…, in
// project (none when empty), a minute apart and after those already stored; it
// returns them oldest first.
func seedInstances(tb testing.TB, env *testenv.Env, prefix, project string, n int) []*core.Instance {
	tb.Helper()
	_, before, err := env.Store.ListInstances(context.Background(), core.InstanceFilter{Page: core.Page{Limit: 1}})
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(before) * time.Minute)
	out := make([]*core.Instance, 0, n)
	err = env.Store.InTx(context.Background(), func(q services.Queries) error {
		for i := range n {
			at := start.Add(time.Duration(i) * time.Minute)
			in := &core.Instance{Name: fmt.Sprintf("%s-%03d", prefix, i), ServerID: "srv-1", ProjectID: project,
				State: core.StateActive, Address: "10.0.0.1", CreatedAt: at, UpdatedAt: at}
			if err := q.CreateInstance(context.Background(), in); err != nil {
				return err
			}
			out = append(out, in)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// names are the names of a list's elems, in order.
func names(doc map[string]any) []string {
	out := []string{}
	for _, e := range elems(doc) {
		out = append(out, str(e, "name"))
	}
	return out
}

// wantPage checks a func=instances answer: its p_num, p_cnt, p_elems and names.
func wantPage(t testing.TB, doc map[string]any, num, cnt, total string, want ...string) {
	t.Helper()
	if _, ok := doc["elem"].([]any); !ok {
		t.Fatalf("elem is not a list: %v", doc)
	}
	if str(doc, "p_num") != num || str(doc, "p_cnt") != cnt || str(doc, "p_elems") != total {
		t.Fatalf("p_num, p_cnt, p_elems = %q, %q, %q; want %s, %s, %s", str(doc, "p_num"), str(doc, "p_cnt"), str(doc, "p_elems"), num, cnt, total)
	}
	if got := names(doc); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("names = %v, want %v", got, want)
	}
}

// TestInstancesPages: func=instances pages with p_num and p_cnt and says the
// total in p_elems; a member's pages and total hold only the member's instances.
func TestInstancesPages(t *testing.T) {
	p := start(t, testenv.Options{})
	ctx := context.Background()
	vm := seedInstances(t, p.env, "vm", "", 7)
	gone := seedInstances(t, p.env, "gone", "", 1)[0]
	if _, err := p.env.Store.UpdateInstance(ctx, gone.ID, core.InstanceUpdate{State: ptrTo(core.StateDeleted)}); err != nil {
		t.Fatal(err)
	}
	name := func(ins []*core.Instance, i ...int) []string {
		out := []string{}
		for _, j := range i {
			out = append(out, ins[j].Name)
		}
		return out
	}
	admin := p.login(testenv.AdminUser, testenv.AdminPassword)
	list := func(kv ...string) map[string]any {
		t.Helper()
		return p.ok(p.call(viaGET, append([]string{"func", "instances", "auth", admin, "out", "json"}, kv...)...))
	}

	// Defaults: page 1 of 100; deleted instances are neither listed nor counted.
	wantPage(t, list(), "1", "100", "7", name(vm, 0, 1, 2, 3, 4, 5, 6)...)
	wantPage(t, list("p_num", "", "p_cnt", " "), "1", "100", "7", name(vm, 0, 1, 2, 3, 4, 5, 6)...)
	// Pages of 3: the first, the middle, the last (short), and past the end.
	wantPage(t, list("p_cnt", "3"), "1", "3", "7", name(vm, 0, 1, 2)...)
	wantPage(t, list("p_cnt", "3", "p_num", "2"), "2", "3", "7", name(vm, 3, 4, 5)...)
	wantPage(t, list("p_cnt", "3", "p_num", "3"), "3", "3", "7", name(vm, 6)...)
	wantPage(t, list("p_cnt", "3", "p_num", "4"), "4", "3", "7")
	wantPage(t, list("p_num", "1000000000"), "1000000000", "100", "7")
	// p_num alone keeps the default size; p_cnt above the maximum is served as it.
	wantPage(t, list("p_num", "2"), "2", "100", "7")
	wantPage(t, list("p_cnt", "5000"), "1", "1000", "7", name(vm, 0, 1, 2, 3, 4, 5, 6)...)
	wantPage(t, list("p_cnt", "99999999999999999999999"), "1", "1000", "7", name(vm, 0, 1, 2, 3, 4, 5, 6)...)
	// The body's parameters page too, as every other one.
	wantPage(t, p.ok(p.call(viaMultipart, "func", "instances", "auth", admin, "out", "json", "p_cnt", "2", "p_num", "4")), "4", "2", "7", name(vm, 6)...)

	// Bad values: the panel's error, with the parameter as its object.
	for _, tt := range []struct{ param, value string }{
		{"p_num", "abc"}, {"p_num", "0"}, {"p_num", "-1"}, {"p_num", "1.5"}, {"p_num", "+2"},
		{"p_num", "1000000001"}, {"p_num", "99999999999999999999999"},
		{"p_cnt", "x"}, {"p_cnt", "0"}, {"p_cnt", "-5"}, {"p_cnt", "2e3"},
	} {
		for _, via := range []string{viaGET, viaForm, viaMultipart} {
			doc := p.call(via, "func", "instances", "auth", admin, "out", "json", tt.param, tt.value)
			if t.Failed() {
				return
			}
			wantError(t, doc, "value", tt.param)
		}
	}

	// A member: only the instances of her project, in her pages and her total.
	pw := "alice-password-1"
	alice, err := p.env.Identity.CreateUser(p.env.AdminCtx(), identity.UserInput{Name: ptrTo("alice"), Password: &pw})
	if err != nil {
		t.Fatal(err)
	}
	proj := &core.Project{Name: "alice-proj", OwnerID: alice.ID}
	if err := p.env.Store.CreateProject(ctx, proj); err != nil {
		t.Fatal(err)
	}
	hers := seedInstances(t, p.env, "alice", proj.ID, 3)
	herGone := seedInstances(t, p.env, "alice-gone", proj.ID, 1)[0]
	if _, err := p.env.Store.UpdateInstance(ctx, herGone.ID, core.InstanceUpdate{State: ptrTo(core.StateDeleted)}); err != nil {
		t.Fatal(err)
	}
	mine := func(kv ...string) map[string]any {
		t.Helper()
		return p.ok(p.call(viaGET, append([]string{"func", "instances", "authinfo", "alice:" + pw, "out", "json"}, kv...)...))
	}
	wantPage(t, mine(), "1", "100", "3", name(hers, 0, 1, 2)...)
	wantPage(t, mine("p_cnt", "2"), "1", "2", "3", name(hers, 0, 1)...)
	wantPage(t, mine("p_cnt", "2", "p_num", "2"), "2", "2", "3", name(hers, 2)...)
	wantPage(t, mine("p_cnt", "2", "p_num", "3"), "3", "2", "3")
	// The admin's total now counts hers too.
	wantPage(t, list("p_cnt", "4", "p_num", "3"), "3", "4", "10", name(hers, 1, 2)...)
	// What she sees follows what shows it to her (the answers she was given are
	// kept, by user, while it stays as it was): a machine assigned to her.
	if err := p.env.Store.AddMachineAssignment(ctx, &machine.MachineAssignment{MachineID: vm[0].ID,
		SubjectType: machine.SubjectUser, SubjectID: alice.ID}); err != nil {
		t.Fatal(err)
	}
	wantPage(t, mine(), "1", "100", "4", append(name(vm, 0), name(hers, 0, 1, 2)...)...)
	wantPage(t, list("p_cnt", "4", "p_num", "3"), "3", "4", "10", name(hers, 1, 2)...)
}

// TestInstancesPagesXML: the XML answer carries p_num, p_cnt and p_elems as
// elements beside the elem ones.
func TestInstancesPagesXML(t *testing.T) {
	p := start(t, testenv.Options{})
	vm := seedInstances(t, p.env, "vm", "", 3)
	resp, err := http.Get(p.url + "?func=instances&p_cnt=2&p_num=2&authinfo=" + url.QueryEscape(testenv.AdminUser+":"+testenv.AdminPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var doc struct {
		Num   string `xml:"p_num"`
		Cnt   string `xml:"p_cnt"`
		Elems string `xml:"p_elems"`
		Elem  []struct {
			Name string `xml:"name"`
			ID   string `xml:"id"`
		} `xml:"elem"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if doc.Num != "2" || doc.Cnt != "2" || doc.Elems != "3" || len(doc.Elem) != 1 || doc.Elem[0].Name != vm[2].Name || doc.Elem[0].ID == "" {
		t.Fatalf("xml page = %+v (%s)", doc, raw)
	}
}

func ptrTo[T any](v T) *T { return &v }

// The face answers every error with a 200 document, but a client that closes its
// connection while core is still authenticating it is logged and counted as 499.
func TestClientGone(t *testing.T) {
	store, busy := testenv.Stall(testenv.SQLite(t), "leaver")
	env := testenv.NewWith(t, testenv.Options{Store: store})
	o := httpxtest.NewRecorder()
	srv := httptest.NewServer(billmgr.NewHandler(env.Hosting, env.Catalogue, env.Login, billmgr.Options{Log: o.Log, Registerer: o.Registry}))
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest("GET", srv.URL+"/?out=json&func=instances&authinfo=leaver:some-password", nil)
	o.ClientGone(t, req, busy)
}
