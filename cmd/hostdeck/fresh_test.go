package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// The document's flavour and image every TRS project of these tests uses.
const (
	trsFlavor = "0a7e5c1d-7f3b-4c2a-9d10-000000000001"
	trsImage  = "1b8f6d2e-8a4c-4d3b-8e21-000000000001"
)

// trsProject creates a mode 1 TRS project and returns its id.
func trsProject(t *testing.T, base, tok, name string) string {
	t.Helper()
	a := send(t, nil, "POST", base+"/trs/v1/projects/", `{"project":{"name":"`+name+`","flavor_id":"`+trsFlavor+`","image_id":"`+trsImage+`",
		"operation_mode":"1","instance_name_pattern":"`+name+`-**"}}`, "X-Auth-Token", tok, "Content-Type", jsonType)
	if a.status != http.StatusOK {
		t.Fatalf("create project %s: %d %s", name, a.status, a.body)
	}
	return a.json(t)["project"].(map[string]any)["id"].(string)
}

// handOut has user ask the broker for a machine and polls get-vm until it is
// handed out; it returns the machine's id.
func handOut(t *testing.T, base, user, password string) string {
	t.Helper()
	a := send(t, nil, "POST", base+"/broker/v1/request-vm/", `{"user":"`+user+`","password":"`+password+`",
		"user_domain_name":"default","conn_type":"web","os":"linux"}`, "Content-Type", jsonType)
	req, _ := a.json(t)["request_id"].(string)
	if a.status != http.StatusOK || req == "" {
		t.Fatalf("request-vm %s: %d %s", user, a.status, a.body)
	}
	tok := a.header.Get("X-Auth-Token")
	deadline := time.Now().Add(30 * time.Second)
	for {
		a = send(t, nil, "POST", base+"/broker/v1/get-vm/", `{"request":"`+req+`"}`, "X-Auth-Token", tok, "Content-Type", jsonType)
		body := a.json(t)
		if a.status != http.StatusOK {
			t.Fatalf("get-vm %s: %d %s", user, a.status, a.body)
		}
		if body["status"] == "completed" {
			return body["server"].(map[string]any)["id"].(string)
		}
		if time.Now().After(deadline) {
			t.Fatalf("get-vm %s still %s after 30s", user, a.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// billmgrCall calls a billmgr func as the admin's session and returns doc,
// failing on an error document.
func billmgrCall(t *testing.T, base, session string, form url.Values) map[string]any {
	t.Helper()
	form.Set("auth", session)
	form.Set("out", "json")
	a := send(t, nil, "POST", base+"/billmgr/", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	var body struct {
		Doc map[string]any `json:"doc"`
	}
	if err := json.Unmarshal([]byte(a.body), &body); err != nil || body.Doc == nil || body.Doc["error"] != nil {
		t.Fatalf("billmgr %s: %d %s", form.Get("func"), a.status, a.body)
	}
	return body.Doc
}

// billmgrStatus is the status func=instances shows for the instance uuid, or "".
func billmgrStatus(t *testing.T, base, session, uuid string) (elid, status string) {
	t.Helper()
	doc := billmgrCall(t, base, session, url.Values{"func": {"instances"}})
	elems, _ := doc["elem"].([]any)
	for _, e := range elems {
		m := e.(map[string]any)
		v := func(k string) string { s, _ := m[k].(map[string]any)["$"].(string); return s }
		if v("uuid") == uuid {
			return v("id"), v("status")
		}
	}
	return "", ""
}

// A fresh `hostdeck serve` does every face's main job with no server added
// first: trs creates a machine, the broker hands that one out and builds
// another, billmgr rescues one, alfa places a client; all on server "local".
func TestFreshServeDoesEveryFacesJob(t *testing.T) {
	p := start(t, "HOSTDECK_SIM_DELAY=100ms")
	b := p.base
	tok := keystoneLogin(t, b, "admin", procAdminPassword)
	pid := trsProject(t, b, tok, "lab")
	a := send(t, nil, "POST", b+"/trs/v1/servers/", `{"server":{"project_id":"`+pid+`"}}`, "X-Auth-Token", tok, "Content-Type", jsonType)
	if a.status != http.StatusOK {
		t.Fatalf("trs machine: %d %s", a.status, a.body)
	}
	made := a.json(t)["servers"].([]any)[0].(map[string]any)["id"].(string)

	for _, u := range []string{"student1", "student2"} {
		uid := trsUser(t, b, tok, u, u+"-password", "member")
		if a := send(t, nil, "PUT", b+"/trs/v3/projects/"+pid+"/users/"+uid+"/roles/member", "", "X-Auth-Token", tok); a.status != http.StatusNoContent {
			t.Fatalf("grant %s: %d %s", u, a.status, a.body)
		}
	}
	if got := handOut(t, b, "student1", "student1-password"); got != made {
		t.Errorf("student1 got %s, want the free machine %s", got, made)
	}
	built := handOut(t, b, "student2", "student2-password") // none free: the broker builds one
	if built == made {
		t.Errorf("student2 was handed student1's machine")
	}

	session := billmgrLogin(t, b, "admin", procAdminPassword)
	elid, status := billmgrStatus(t, b, session, built)
	if elid == "" || status != "active" {
		t.Fatalf("billmgr instance %s: elid %q, status %q", built, elid, status)
	}
	billmgrCall(t, b, session, url.Values{"func": {"instances.fleio.rescue"}, "elid": {elid}, "sok": {"ok"},
		"select_boot": {"f8f2573f-56c4-44c5-8469-84eee4aa64e7"}, "zone": {"pub"}})
	if tasks := waitTasks(t, p, "instance.rescue", 1, 30*time.Second); str(tasks[0], "status") != "SUCCESS" {
		t.Fatalf("rescue task: %s %s", str(tasks[0], "status"), str(tasks[0], "error"))
	}
	if _, status := billmgrStatus(t, b, session, built); status != "rescue" {
		t.Fatalf("after rescue: status %q", status)
	}

	if code, _ := p.call("POST", "/clients/create", map[string]any{"name": "Lab One", "email": "owner@lab.example"}); code != http.StatusAccepted {
		t.Fatalf("alfa client: %d", code)
	}
	if tasks := waitTasks(t, p, "client.create", 1, 30*time.Second); str(tasks[0], "status") != "SUCCESS" {
		t.Fatalf("client task: %s %s", str(tasks[0], "status"), str(tasks[0], "error"))
	}
	servers := p.all("/servers")
	if len(servers) != 1 || str(servers[0], "name") != "local" || str(servers[0], "runtime") != "sim" ||
		servers[0].Attributes["capacity"] != float64(100) {
		t.Fatalf("servers = %+v", servers)
	}
}

// The local server is registered once: deleted by an operator, it is not back
// after a restart. With --local-server=false (HOSTDECK_LOCAL_SERVER=false)
// there is none, and a trs machine is code 13 naming the project, not code 9.
func TestLocalServerOnce(t *testing.T) {
	data := t.TempDir()
	p := start(t, "HOSTDECK_DATA="+data)
	servers := p.all("/servers")
	if len(servers) != 1 || str(servers[0], "name") != "local" {
		t.Fatalf("servers of a fresh start = %+v", servers)
	}
	if code, _ := p.call("DELETE", "/servers/"+servers[0].ID+"/delete", nil); code != http.StatusNoContent {
		t.Fatalf("delete local: %d", code)
	}
	p.stop()
	p = start(t, "HOSTDECK_DATA="+data)
	if servers := p.all("/servers"); len(servers) != 0 {
		t.Fatalf("servers after a restart = %+v", servers)
	}
	p.stop()

	for _, off := range []struct{ args, env []string }{{env: []string{"HOSTDECK_LOCAL_SERVER=false"}}, {args: []string{"--local-server=false"}}} {
		p := startArgs(t, off.args, off.env...)
		if servers := p.all("/servers"); len(servers) != 0 {
			t.Fatalf("%v: servers = %+v", off, servers)
		}
		tok := keystoneLogin(t, p.base, "admin", procAdminPassword)
		pid := trsProject(t, p.base, tok, "lab")
		a := send(t, nil, "POST", p.base+"/trs/v1/servers/", `{"server":{"project_id":"`+pid+`"}}`, "X-Auth-Token", tok, "Content-Type", jsonType)
		e, _ := a.json(t)["error"].(map[string]any)
		if a.status != http.StatusBadRequest || e["code"] != float64(13) ||
			e["message"] != "Unable to create instance in project lab. Please contact system administrator." {
			t.Fatalf("%v: trs machine with no server: %d %s", off, a.status, a.body)
		}
		p.stop()
	}
}
