package trs_test

import (
	"fmt"
	"net/http"
	"testing"

	"hostdeck/api/trs"
	"hostdeck/core/identity"
	"hostdeck/internal/testenv"
)

// TestMemberOnAdminRoutes: a member's token on every administrator's /v1 route
// is error 6 (HTTP 400), decided by core's access policy, for requests that an
// administrator would have answered; the routes open to every token answer.
func TestMemberOnAdminRoutes(t *testing.T) {
	env, c, _ := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	const project = `{"project": {"name": "%s", "flavor_id": "0a7e5c1d-7f3b-4c2a-9d10-000000000001", "image_id": "1b8f6d2e-8a4c-4d3b-8e21-000000000001"}}`
	pid := get(c.do("POST", "/v1/projects", fmt.Sprintf(project, "lab")).must(t, http.StatusOK).body, "project", "id").(string)
	gname := "students"
	g, err := env.Identity.CreateGroup(env.AdminCtx(), identity.GroupInput{Name: &gname})
	if err != nil {
		t.Fatal(err)
	}
	sam := member(t, env, "sam")
	m := &client{t: t, base: c.base}
	m.token, _ = login(t, m, "sam", "sam-password", "")
	uid, gid, some := sam.ID, g.ID, "0190a0a0-0000-7000-8000-0000000000aa"

	for _, r := range []struct{ method, path, body string }{
		{"GET", "/v1/tasks", ""},
		{"GET", "/v1/tasks/" + some, ""},
		{"POST", "/v1/projects", fmt.Sprintf(project, "mine")},
		{"GET", "/v1/projects", ""},
		{"GET", "/v1/projects/actions/get-settings", ""},
		{"GET", "/v1/projects/" + pid, ""},
		{"PUT", "/v1/projects/" + pid, `{"project": {"description": "mine"}}`},
		{"GET", "/v1/projects/" + pid + "/statistics", ""},
		{"POST", "/v1/projects/" + pid + "/actions/auto-allocate-users", ""},
		{"GET", "/v1/users", ""},
		{"GET", "/v1/users/" + uid, ""},
		{"POST", "/v1/users/" + uid + "/floating-ip", ""},
		{"PUT", "/v1/users/" + uid + "/floating-ip", ""},
		{"DELETE", "/v1/users/" + uid + "/floating-ip", ""},
		{"GET", "/v1/sessions", ""},
		{"GET", "/v1/sessions/count", ""},
		{"POST", "/v1/volume-assignments", `{"user_id": "` + uid + `", "project_id": "` + pid + `", "volume_id": "v1"}`},
		{"GET", "/v1/volume-assignments", ""},
		{"GET", "/v1/volume-assignments/1", ""},
		{"DELETE", "/v1/volume-assignments/1", ""},
		{"POST", "/v1/servers", `{"server": {"project_id": "` + pid + `"}}`},
		{"GET", "/v1/servers", ""},
		{"GET", "/v1/servers/" + some, ""},
		{"PUT", "/v1/servers/" + some, `{"server": {"users": []}}`},
		{"POST", "/v1/servers/" + some + "/users", `{"users": ["` + uid + `"]}`},
		{"GET", "/v1/servers/" + some + "/users", ""},
		{"DELETE", "/v1/servers/" + some + "/users/" + uid, ""},
		{"POST", "/v1/servers/" + some + "/groups", `{"groups": ["` + gid + `"]}`},
		{"GET", "/v1/servers/" + some + "/groups", ""},
		{"DELETE", "/v1/servers/" + some + "/groups/" + gid, ""},
		{"POST", "/v1/users/" + uid + "/servers", `{"servers": ["` + some + `"]}`},
		{"GET", "/v1/users/" + uid + "/servers", ""},
		{"POST", "/v1/groups/" + gid + "/servers", `{"servers": ["` + some + `"]}`},
		{"GET", "/v1/groups/" + gid + "/servers", ""},
	} {
		if code, _, _ := m.do(r.method, r.path, r.body).trsError(t); code != 6 {
			t.Errorf("member %s %s: code %d, want 6", r.method, r.path, code)
		}
	}
	for _, path := range []string{"/v1/info", "/v1/flavors", "/v1/images"} {
		m.do("GET", path, "").must(t, http.StatusOK)
	}
}
