package trs_test

import (
	"net/http"
	"testing"

	"hostdeck/api/trs"
	"hostdeck/core"
	"hostdeck/core/desktop/provision"
	"hostdeck/internal/testenv"
)

func ids(t *testing.T, v any, key string) []string {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("not a list: %v", v)
	}
	out := make([]string, len(list))
	for i, x := range list {
		if key == "" {
			out[i], _ = x.(string)
			continue
		}
		out[i], _ = x.(map[string]any)[key].(string)
	}
	return out
}

func TestServers(t *testing.T) {
	env, c, root := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	root.token = c.token
	env.Server(t, "node-1", 20)

	pid, _ := get(c.do("POST", "/v1/projects/", `{"project":{"name":"lab","flavor_id":"`+smallFlavor+`","image_id":"`+sampleImage+`",
		"operation_mode":"1","max_instances":3,"instance_init_script":"ZWNobyBoaQ=="}}`).must(t, http.StatusOK).body, "project", "id").(string)
	uid := get(c.do("POST", "/v3/users", `{"user": {"name": "student1", "password": "student-pass-1"}}`).must(t, http.StatusCreated).body, "user", "id").(string)
	uid2 := get(c.do("POST", "/v3/users", `{"user": {"name": "student2", "password": "student-pass-2"}}`).must(t, http.StatusCreated).body, "user", "id").(string)
	gid := get(c.do("POST", "/v3/groups", `{"group": {"name": "class-a"}}`).must(t, http.StatusCreated).body, "group", "id").(string)

	// Created as the document's example sends it, plus the project and a group.
	created := c.do("POST", "/v1/servers/", `{"server":{"name": "test_vm", "count": 2, "description": "Test TRS vm",
		"project_id": "`+pid+`", "groups": ["`+gid+`"]}}`).must(t, http.StatusOK)
	sids := ids(t, created.body["servers"], "id")
	if len(sids) != 2 || len(created.body["reservation_id"].(string)) != 10 {
		t.Fatalf("created = %s", created.raw)
	}
	tasks, _, err := env.Svc.ListTasks(env.AdminCtx(), core.TaskFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tasks {
		if tk.Kind == provision.KindMachineCreate {
			if got := env.WaitTask(t, tk.ID); got.Status != core.TaskSuccess {
				t.Fatalf("task %s: %s", got.Status, got.Error)
			}
		}
	}

	one := root.do("GET", "/v1/servers/"+sids[0]+"?with_os_object=true", "").must(t, http.StatusOK)
	s := one.body["server"].(map[string]any)
	if s["id"] != sids[0] || s["project_id"] != pid || s["assigned"] != true || len(s["users"].([]any)) != 0 ||
		ids(t, s["groups"], "")[0] != gid {
		t.Fatalf("server = %s", one.raw)
	}
	os := s["os_server"].(map[string]any)
	if os["status"] != "ACTIVE" || os["name"] != "trs-01" || os["OS-EXT-STS:vm_state"] != "active" ||
		os["OS-EXT-STS:power_state"] != float64(1) || get(os, "flavor", "id") != smallFlavor ||
		get(os, "image", "id") != sampleImage || os["created"] == "" || len(os["addresses"].(map[string]any)) != 1 {
		t.Fatalf("os_server = %s", one.raw)
	}

	// The list is kept while what it shows is unchanged: an assignment is in
	// the next one.
	usersOf := func(id string) []string {
		t.Helper()
		for _, x := range root.do("GET", "/v1/servers/?with_os_object=true", "").must(t, http.StatusOK).body["servers"].([]any) {
			if m := x.(map[string]any); m["id"] == id {
				return ids(t, m["users"], "")
			}
		}
		t.Fatalf("server %s is not listed", id)
		return nil
	}
	if got := usersOf(sids[0]); len(got) != 0 {
		t.Fatalf("users before = %v", got)
	}

	// Users both ways; mode 1 keeps one user per machine.
	c.do("POST", "/v1/servers/"+sids[0]+"/users/", `{"users": ["`+uid+`"]}`).must(t, http.StatusNoContent)
	if got := usersOf(sids[0]); len(got) != 1 || got[0] != uid {
		t.Fatalf("users listed = %v", got)
	}
	if code, _, _ := c.do("POST", "/v1/servers/"+sids[0]+"/users/", `{"users": ["`+uid2+`"]}`).trsError(t); code != 9 {
		t.Fatalf("second user: code %d", code)
	}
	c.do("POST", "/v1/users/"+uid2+"/servers/", `{"servers": ["`+sids[1]+`"]}`).must(t, http.StatusNoContent)
	if got := ids(t, c.do("GET", "/v1/servers/"+sids[0]+"/users/", "").must(t, http.StatusOK).body["users"], "id"); len(got) != 1 || got[0] != uid {
		t.Fatalf("users = %v", got)
	}
	mine := c.do("GET", "/v1/users/"+uid2+"/servers/", "").must(t, http.StatusOK)
	if l := mine.body["servers"].([]any); len(l) != 1 || get(l[0].(map[string]any), "instance_id") != sids[1] ||
		get(l[0].(map[string]any), "project_name") != "lab" {
		t.Fatalf("user's servers = %s", mine.raw)
	}
	if got := ids(t, c.do("GET", "/v1/servers/"+sids[1]+"/groups/", "").must(t, http.StatusOK).body["groups"], "id"); len(got) != 1 {
		t.Fatalf("groups = %v", got)
	}

	// Filters with modifiers.
	if l := c.do("GET", "/v1/servers/?project_id=in:"+pid+",other&assigned=true", "").must(t, http.StatusOK).body["servers"].([]any); len(l) != 2 {
		t.Fatalf("filtered = %v", l)
	}
	if l := c.do("GET", "/v1/servers/?user="+uid, "").must(t, http.StatusOK).body["servers"].([]any); len(l) != 1 {
		t.Fatalf("by user = %v", l)
	}
	if l := c.do("GET", "/v1/servers/?project_id=neq:"+pid, "").must(t, http.StatusOK).body["servers"].([]any); len(l) != 0 {
		t.Fatalf("other projects = %v", l)
	}

	// PUT replaces the lists; DELETE removes one assignment.
	put := c.do("PUT", "/v1/servers/"+sids[0], `{"server":{"users": [], "groups": []}}`).must(t, http.StatusOK)
	if get(put.body, "server", "assigned") != false {
		t.Fatalf("put = %s", put.raw)
	}
	if l := c.do("GET", "/v1/servers/?assigned=neq:true", "").must(t, http.StatusOK).body["servers"].([]any); len(l) != 1 {
		t.Fatalf("unassigned = %v", l)
	}
	c.do("POST", "/v1/groups/"+gid+"/servers/", `{"servers": ["`+sids[0]+`"]}`).must(t, http.StatusNoContent)
	c.do("DELETE", "/v1/servers/"+sids[0]+"/groups/"+gid, "").must(t, http.StatusNoContent)
	c.do("DELETE", "/v1/servers/"+sids[1]+"/users/"+uid2, "").must(t, http.StatusNoContent)
	if code, _, _ := c.do("DELETE", "/v1/servers/"+sids[1]+"/users/"+uid2, "").trsError(t); code != 9 {
		t.Fatalf("delete twice: code %d", code)
	}

	// Quota: a third machine fits, a fourth is code 12 with the project's name.
	c.do("POST", "/v1/servers/", `{"server":{"project_id": "`+pid+`"}}`).must(t, http.StatusOK)
	if code, msg, _ := c.do("POST", "/v1/servers/", `{"server":{"project_id": "`+pid+`"}}`).trsError(t); code != 12 || msg != "Quota exceeded for TRS project «lab». Please contact system administrator." {
		t.Fatalf("quota: %d %s", code, msg)
	}

	// Bad input and unknown ids: the envelope, never a 500.
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/v1/servers/", `{"server":{"count": 1}}`}, // no project and an unscoped token
		{"POST", "/v1/servers/", `{"server":{"project_id": "` + pid + `", "count": "x"}}`},
		{"POST", "/v1/servers/", `{"server":{"project_id": "` + pid + `", "count": 0}}`},
		{"POST", "/v1/servers/", `{"server":{"project_id": "` + unknownImage + `"}}`},
		{"POST", "/v1/servers/", `{"server":{"project_id": "` + pid + `", "users": "nope"}}`},
		{"POST", "/v1/servers/", `{"server": 5}`},
		{"POST", "/v1/servers/", `{"server":{}} trailing`},
		{"PUT", "/v1/servers/" + unknownImage, `{"server":{"users": []}}`},
		{"PUT", "/v1/servers/not-a-uuid", `{"server":{"users": []}}`},
		{"GET", "/v1/servers/" + unknownImage, ""},
		{"GET", "/v1/servers/?project_id=in:", ""},
		{"GET", "/v1/servers/?assigned=gt:true", ""},
		{"GET", "/v1/servers/?assigned=maybe", ""},
		{"GET", "/v1/servers/?with_os_object=perhaps", ""},
		{"POST", "/v1/servers/" + sids[0] + "/users/", `{"users": "x"}`},
		{"POST", "/v1/servers/" + sids[0] + "/users/", `{}`},
		{"POST", "/v1/servers/" + sids[0] + "/groups/", `{"groups": ["` + unknownImage + `"]}`},
		{"POST", "/v1/users/" + uid + "/servers/", `{"servers": ["` + unknownImage + `"]}`},
		{"POST", "/v1/groups/" + unknownImage + "/servers/", `{"servers": ["` + sids[0] + `"]}`},
		{"GET", "/v1/users/" + unknownImage + "/servers/", ""},
		{"DELETE", "/v1/servers/" + sids[0] + "/groups/" + unknownImage, ""},
	} {
		if code, msg, _ := c.do(tc.method, tc.path, tc.body).trsError(t); code != 9 && code != 16 {
			t.Errorf("%s %s %s: code %d %s, want 9 (or 16 for an unknown user)", tc.method, tc.path, tc.body, code, msg)
		}
	}
}

// TestServersProjectScope: without project_id the machine goes to the token's project.
// With no room left, machine creation is code 13 naming the project, in both
// languages, never code 9 (nothing is wrong with the body): with no server at
// all, and with the one server full, machines asked one by one or several at once.
func TestServersNoRoom(t *testing.T) {
	env, c, _ := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	pid, _ := get(c.do("POST", "/v1/projects/", `{"project":{"name":"lab","flavor_id":"`+smallFlavor+`","image_id":"`+sampleImage+`",
		"operation_mode":"1"}}`).must(t, http.StatusOK).body, "project", "id").(string)
	noRoom := func(what, body string) {
		t.Helper()
		code, msg, data := c.do("POST", "/v1/servers/", body).trsError(t)
		if code != 13 || msg != "Unable to create instance in project lab. Please contact system administrator." || data["project_name"] != "lab" {
			t.Fatalf("%s: code %d %q %v", what, code, msg, data)
		}
		code, msg, _ = c.do("POST", "/v1/servers/", body, "Accept-Language", "ru").trsError(t)
		if code != 13 || msg != "Не удалось создать виртуальную машину в проекте lab. Обратитесь к системному администратору." {
			t.Fatalf("%s (ru): code %d %q", what, code, msg)
		}
	}
	one := `{"server":{"project_id": "` + pid + `"}}`
	noRoom("no server", one)

	env.Server(t, "node-1", 2)
	c.do("POST", "/v1/servers/", one).must(t, http.StatusOK)
	noRoom("two more on one place", `{"server":{"project_id": "`+pid+`", "count": 2}}`)
	c.do("POST", "/v1/servers/", one).must(t, http.StatusOK)
	noRoom("full server", one)
}

func TestServersProjectScope(t *testing.T) {
	env, c, _ := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	env.Server(t, "node-1", 5)
	pid, _ := get(c.do("POST", "/v1/projects/", `{"project":{"name":"scoped","flavor_id":"`+smallFlavor+`","image_id":"`+sampleImage+`"}}`).
		must(t, http.StatusOK).body, "project", "id").(string)
	c.do("PUT", "/v3/projects/"+pid+"/users/"+env.Admin.ID+"/roles/admin", "").must(t, http.StatusNoContent)
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, `{"project": {"id": "`+pid+`"}}`)
	created := c.do("POST", "/v1/servers/", `{"server":{"name": "vm"}}`).must(t, http.StatusOK)
	sid := ids(t, created.body["servers"], "id")[0]
	if got := get(c.do("GET", "/v1/servers/"+sid, "").must(t, http.StatusOK).body, "server", "project_id"); got != pid {
		t.Fatalf("project = %v, want %s", got, pid)
	}
}
