package trs_test

import (
	"net/http"
	"testing"

	"hostdeck/api/trs"
	"hostdeck/core"
	"hostdeck/internal/testenv"
)

// The seeded catalogue (migration 0003).
const (
	smallFlavor  = "0a7e5c1d-7f3b-4c2a-9d10-000000000001"
	sampleImage  = "1b8f6d2e-8a4c-4d3b-8e21-000000000001"
	unknownImage = "00000000-0000-0000-0000-00000000beef"
)

func TestProjects(t *testing.T) {
	_, c, root := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	root.token = c.token

	// The catalogue names what a project may use.
	fl := c.do("GET", "/v1/flavors/", "").must(t, http.StatusOK)
	if fs, _ := fl.body["flavors"].([]any); len(fs) < 3 {
		t.Fatalf("flavors = %s", fl.raw)
	}
	im := c.do("GET", "/v1/images/", "").must(t, http.StatusOK)
	if is, _ := im.body["images"].([]any); len(is) < 3 {
		t.Fatalf("images = %s", im.raw)
	}

	// Created as the document's example sends it: booleans and the mode as strings.
	created := c.do("POST", "/v1/projects/", `{"project":{"name":"test_proj","enabled":"True","description":"Test Project_2",
		"flavor_id":"`+smallFlavor+`","image_id":"`+sampleImage+`","network_id":"39523179-37b5-4fd7-bf14-a1f7134a6b1f",
		"operation_mode":"2","availability_zone":"nova","instance_name_pattern":"lab-***","min_reserve_vm":2}}`).must(t, http.StatusOK)
	id, _ := get(created.body, "project", "id").(string)
	if id == "" {
		t.Fatalf("create: %s", created.raw)
	}

	one := root.do("GET", "/v1/projects/"+id+"?with_os_object=true", "").must(t, http.StatusOK)
	p := one.body["project"].(map[string]any)
	if p["operation_mode"] != "2" || p["flavor_id"] != smallFlavor || p["instance_name_pattern"] != "lab-***" ||
		p["min_reserve_vm"] != float64(2) || p["instance_init_script"] != nil {
		t.Fatalf("project = %s", one.raw)
	}
	if get(p, "os_project", "project_type") != "TRS" || get(p, "os_project", "name") != "test_proj" {
		t.Fatalf("os_project = %s", one.raw)
	}

	upd := c.do("PUT", "/v1/projects/"+id, `{"project":{"enabled":false,"instance_init_script":"IyEvYmluL3NoCmVjaG8gaGk="}}`).must(t, http.StatusOK)
	if get(upd.body, "project", "instance_init_script") != "IyEvYmluL3NoCmVjaG8gaGk=" || get(upd.body, "project", "enabled") != false {
		t.Fatalf("update = %s", upd.raw)
	}

	list := c.do("GET", "/v1/projects/?operation_mode=2&enabled=false", "").must(t, http.StatusOK)
	if ps, _ := list.body["projects"].([]any); len(ps) != 1 {
		t.Fatalf("list = %s", list.raw)
	}
	none := c.do("GET", "/v1/projects/?operation_mode=1", "").must(t, http.StatusOK)
	if ps, _ := none.body["projects"].([]any); len(ps) != 0 {
		t.Fatalf("filtered list = %s", none.raw)
	}

	st := c.do("GET", "/v1/projects/"+id+"/statistics", "").must(t, http.StatusOK)
	if get(st.body, "statistics", "created_trs_servers") != float64(0) {
		t.Fatalf("statistics = %s", st.raw)
	}
	set := c.do("GET", "/v1/projects/actions/get-settings", "").must(t, http.StatusOK)
	if get(set.body, "project_settings", "instance_name_pattern") != "trs-**" || get(set.body, "project_settings", "default_availability_zone") != "nova" {
		t.Fatalf("settings = %s", set.raw)
	}

	// Bad input: the envelope, code 9, never a 500.
	for _, body := range []string{
		`{"project":{"name":"x","flavor_id":"` + smallFlavor + `","image_id":"` + unknownImage + `"}}`, // unknown image
		`{"project":{"name":"test_proj","flavor_id":"` + smallFlavor + `","image_id":"` + sampleImage + `"}}`,
		`{"project":{"name":"y","flavor_id":"` + smallFlavor + `","image_id":"` + sampleImage + `","operation_mode":"3"}}`,
		`{"project":{"name":"z","flavor_id":"` + smallFlavor + `","image_id":"` + sampleImage + `","instance_init_script":"%%%"}}`,
		`{"project":{"name":"w","enabled":"maybe"}}`,
		`{"project":{"name":"v","min_reserve_vm":"many"}}`,
		`{"project": 5}`,
		`{"project":{}} trailing`,
		`{}`,
	} {
		if code, msg, _ := c.do("POST", "/v1/projects/", body).trsError(t); code != 9 {
			t.Errorf("%s: code %d %s, want 9", body, code, msg)
		}
	}
	// The user filter: the projects a user has a role on; the domain by name or id.
	uid := get(c.do("POST", "/v3/users", `{"user": {"name": "student1", "password": "student-pass-1"}}`).must(t, http.StatusCreated).body, "user", "id").(string)
	if ps, _ := c.do("GET", "/v1/projects/?user="+uid, "").must(t, http.StatusOK).body["projects"].([]any); len(ps) != 0 {
		t.Fatalf("projects of a user without roles = %v", ps)
	}
	c.do("PUT", "/v3/projects/"+id+"/users/"+uid+"/roles/member", "").must(t, http.StatusNoContent)
	mine := c.do("GET", "/v1/projects/?user="+uid, "").must(t, http.StatusOK)
	if ps, _ := mine.body["projects"].([]any); len(ps) != 1 || get(ps[0].(map[string]any), "id") != id {
		t.Fatalf("projects of the member = %s", mine.raw)
	}
	for _, d := range []string{"default", "Default"} {
		if ps, _ := c.do("GET", "/v1/projects/?domain="+d, "").must(t, http.StatusOK).body["projects"].([]any); len(ps) != 1 {
			t.Fatalf("projects of domain %s = %v", d, ps)
		}
	}

	if code, msg, _ := c.do("GET", "/v1/projects/"+unknownImage, "").trsError(t); code != 9 {
		t.Errorf("unknown project: code %d %s, want 9", code, msg)
	}
	c.token = "not-a-token"
	if code, _, _ := c.do("GET", "/v1/projects/", "").trsError(t); code != 24 {
		t.Errorf("bad token: code %d, want 24", code)
	}
}

func TestAutoAllocateUsers(t *testing.T) {
	env, c, _ := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	env.Server(t, "node-1", 10)
	pid, _ := get(c.do("POST", "/v1/projects/", `{"project":{"name":"lab","flavor_id":"`+smallFlavor+`","image_id":"`+sampleImage+`"}}`).must(t, http.StatusOK).body, "project", "id").(string)
	uid := get(c.do("POST", "/v3/users", `{"user": {"name": "student1", "password": "student-pass-1"}}`).must(t, http.StatusCreated).body, "user", "id").(string)
	c.do("PUT", "/v3/projects/"+pid+"/users/"+uid+"/roles/member", "").must(t, http.StatusNoContent)
	c.do("POST", "/v1/servers/", `{"server":{"name": "vm", "count": 1, "project_id": "`+pid+`"}}`).must(t, http.StatusOK)

	tid, _ := c.do("POST", "/v1/projects/"+pid+"/actions/auto-allocate-users", "").must(t, http.StatusOK).body["task_id"].(string)
	if got := env.WaitTask(t, tid); got.Status != core.TaskSuccess {
		t.Fatalf("task: %s %s", got.Status, got.Error)
	}
	if got := ids(t, c.do("GET", "/v1/users/"+uid+"/servers/", "").must(t, http.StatusOK).body["servers"], "id"); len(got) != 1 {
		t.Fatalf("servers of the member = %v", got)
	}
	if code, _, _ := c.do("POST", "/v1/projects/"+uid+"/actions/auto-allocate-users", "").trsError(t); code != 9 {
		t.Fatalf("unknown project: code %d", code)
	}
}
