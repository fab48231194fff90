package alfa_test

import (
	"context"
	"testing"

	"hostdeck/core"
)

// TestMemberOnEveryRoute: every alfa route is an administrator's. A member's
// well-formed request is 403 on each, decided by core's access policy; an unknown
// path is 404 to any user who authenticated.
func TestMemberOnEveryRoute(t *testing.T) {
	env, c, _ := start(t)
	srv := c.createServer("alpha", 5)
	cl := c.createClient("Lab One", map[string]any{"server_id": srv.ID})
	tasks := c.do("GET", "/tasks", nil).must(t, 200).list(t)
	hash, err := secretHasher().Hash(context.Background(), "member-password-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.CreateUser(context.Background(), &core.User{ID: "0190a0a0-0000-7000-8000-000000000001", Name: "member", Role: core.RoleMember, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	m := *c
	m.user, m.pass = "member", "member-password-1"
	server := data("servers", "", map[string]any{"name": "beta"})
	client := data("clients", "", map[string]any{"name": "Lab Two", "email": "two@example.test"})
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/servers", nil},
		{"GET", "/servers/" + srv.ID, nil},
		{"PATCH", "/servers/" + srv.ID, server},
		{"POST", "/servers/create", server},
		{"POST", "/servers/reboot_server?id=" + srv.ID, nil},
		{"DELETE", "/servers/" + srv.ID + "/delete", nil},
		{"GET", "/clients", nil},
		{"GET", "/clients/" + cl.ID, nil},
		{"PATCH", "/clients/" + cl.ID, data("clients", "", map[string]any{"phone": "1"})},
		{"POST", "/clients/create", client},
		{"POST", "/clients/owner_password", data("clients", cl.ID, map[string]any{"password": "owner-password-2"})},
		{"PATCH", "/clients/" + cl.ID + "/expire_date", data("clients", "", map[string]any{"expire_date": "2030-01-01"})},
		{"GET", "/clients/" + cl.ID + "/expire_dates_history", nil},
		{"GET", "/clients/" + cl.ID + "/demo_enable", nil},
		{"POST", "/clients/" + cl.ID + "/demo_disable", nil},
		{"GET", "/clients/" + cl.ID + "/send_success", nil},
		{"GET", "/clients/" + cl.ID + "/send_expire", nil},
		{"GET", "/clients/" + cl.ID + "/reboot", nil},
		{"DELETE", "/clients/" + cl.ID + "/delete", nil},
		{"POST", "/clients/" + cl.ID + "/transfer", data("clients", "", map[string]any{"server_id": srv.ID})},
		{"POST", "/cloud_admin_password", data("credentials", "", map[string]any{"password": "member-owned-1"})},
		{"GET", "/tasks", nil},
		{"GET", "/tasks/" + tasks[0].ID, nil},
		{"POST", "/tasks/" + tasks[0].ID + "/cancel", nil},
		{"GET", "/audit", nil},
	} {
		m.do(r.method, r.path, r.body).errorAt(t, 403, "")
	}
	m.do("GET", "/no/such/route", nil).errorAt(t, 404, "")
	c.do("GET", "/clients/"+cl.ID, nil).must(t, 200) // nothing changed
}
