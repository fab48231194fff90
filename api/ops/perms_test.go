package ops_test

import (
	"slices"
	"testing"
)

// TestRoleGrant: a user whose only grant comes through a role sees exactly
// that application, with available_actions matching the grant, is refused
// (403) what the grant does not give, and loses it on the next request once
// it is revoked.
func TestRoleGrant(t *testing.T) {
	stores(t, func(t *testing.T, s *site) {
		shop := s.as("POST", "/applications/", map[string]any{"name": "shop"}).want(t, 201).num("id")
		other := s.as("POST", "/applications/", map[string]any{"name": "billing"}).want(t, 201).num("id")
		uid, basic := s.user("jo")
		rid := s.as("POST", "/roles/", map[string]any{"name": "shop-devs"}).want(t, 201).num("id")
		s.as("POST", path("/roles/%v/users/", rid), []any{uid}).want(t, 200)

		s.call("GET", "/applications/", basic, nil).want(t, 200)
		if n := s.call("GET", "/applications/", basic, nil).num("count"); n != 0 {
			t.Fatalf("a user without grants sees %v applications", n)
		}
		s.as("POST", path("/roles/%v/application/perms/", rid), map[string]any{"authorizations": []any{
			map[string]any{"id": shop, "app_name": "shop", "permission": map[string]any{"view_app": true, "deploy_app": true, "edit_app": false}},
		}}).want(t, 200)

		list := s.call("GET", "/applications/", basic, nil).want(t, 200)
		if got := list.names("name"); !slices.Equal(got, []string{"shop"}) {
			t.Fatalf("jo sees %v, want [shop]", got)
		}
		want := map[string]bool{"view": true, "view_app": true, "deploy": true, "deploy_app": true}
		for k, v := range list.get("results.0.available_actions").(map[string]any) {
			if v != want[k] {
				t.Errorf("available_actions.%s = %v, want %v", k, v, want[k])
			}
		}
		s.call("GET", path("/applications/%v/", shop), basic, nil).want(t, 200)
		s.call("PATCH", path("/applications/%v/", shop), basic, map[string]any{"description": "mine"}).code(t, 403, 10003)
		s.call("DELETE", path("/applications/%v/", shop), basic, nil).code(t, 403, 10003)
		s.call("GET", path("/applications/%v/", other), basic, nil).code(t, 404, 10004)
		if got := s.as("GET", "/applications/?user=jo", nil).names("name"); !slices.Equal(got, []string{"shop"}) {
			t.Errorf("?user=jo: %v", got)
		}
		if got := s.as("GET", "/applications/?role=shop-devs", nil).names("name"); !slices.Equal(got, []string{"shop"}) {
			t.Errorf("?role=shop-devs: %v", got)
		}

		// Read back from both sides.
		byRole := s.as("GET", path("/roles/%v/application/perms/", rid), nil).want(t, 200)
		if byRole.num("count") != 1 || byRole.num("results.0.id") != shop || byRole.get("results.0.permission.deploy_app") != true || byRole.get("results.0.permission.edit_app") != false {
			t.Errorf("role's app perms %s", byRole.raw)
		}
		byApp := s.as("GET", path("/applications/%v/authorization/roles/", shop), nil).want(t, 200)
		if byApp.str("results.0.role.name") != "shop-devs" || byApp.get("results.0.permission.view_app") != true {
			t.Errorf("app's role perms %s", byApp.raw)
		}

		// Revoked from the application's side: gone on the next request.
		s.as("PATCH", path("/applications/%v/authorization/roles/", shop), []any{map[string]any{"role": map[string]any{"id": rid}, "action": "delete"}}).want(t, 200)
		if n := s.call("GET", "/applications/", basic, nil).num("count"); n != 0 {
			t.Errorf("after revoking jo sees %v applications", n)
		}
		s.call("GET", path("/applications/%v/", shop), basic, nil).code(t, 404, 10004)

		// A user's own grant, from the application's side.
		s.as("PATCH", path("/applications/%v/authorization/users/", other), []any{map[string]any{"user": map[string]any{"id": uid}, "permission": map[string]any{"view_app": true, "edit_app": true}}}).want(t, 200)
		s.call("PATCH", path("/applications/%v/", other), basic, map[string]any{"description": "edited by jo"}).want(t, 200)
		byUser := s.as("GET", path("/users/%v/application/perms/?app_name=billing", uid), nil).want(t, 200)
		if byUser.num("count") != 1 || byUser.str("results.0.app_name") != "billing" || byUser.get("results.0.permission.edit_app") != true {
			t.Errorf("user's app perms %s", byUser.raw)
		}

		// Module permissions: view_app on the application module sees every app.
		s.as("POST", path("/users/%v/system/perms/", uid), map[string]any{"module_name": "application", "permissions": map[string]any{"view_app": true, "enable_app_mgmt": true}}).want(t, 200)
		if n := s.call("GET", "/applications/", basic, nil).num("count"); n != 2 {
			t.Errorf("with view_app on the module jo sees %v applications", n)
		}
		mods := s.as("GET", path("/users/%v/system/perms/", uid), nil).want(t, 200)
		if mods.str("1.module_name") != "application" || mods.get("1.permissions.view_app") != true || mods.get("1.permissions.create_app") != false {
			t.Errorf("module perms %s", mods.raw)
		}
		s.as("POST", path("/users/%v/system/perms/", uid), map[string]any{"module_name": "application", "permissions": map[string]any{"restart_app": true}}).code(t, 400, 30001)
		s.as("POST", path("/users/%v/system/perms/", uid), map[string]any{"module_name": "nonsense", "permissions": map[string]any{}}).code(t, 400, 30001)
		s.call("POST", path("/users/%v/system/perms/", uid), basic, map[string]any{"module_name": "应用管理", "permissions": map[string]any{"create_app": true}}).code(t, 400, 30002)
		s.as("POST", path("/users/%v/application/perms/", uid), map[string]any{"authorizations": []any{map[string]any{"id": shop, "permission": map[string]any{"fly": true}}}}).code(t, 400, 30001)
	})
}

// TestHostGrants: host flags on a server (hosts are hostdeck's servers), from
// both sides, on the mended and the as-written paths.
func TestHostGrants(t *testing.T) {
	stores(t, func(t *testing.T, s *site) {
		srv := s.env.Server(t, "web-1", 4)
		uid, _ := s.user("kim")
		rid := s.as("POST", "/roles/", map[string]any{"name": "oncall"}).want(t, 201).num("id")
		s.as("POST", path("/users/%v/host/perms/", uid), map[string]any{"authorizations": []any{
			map[string]any{"id": srv.Number, "hostname": "web-1", "permission": map[string]any{"login_host": true, "restart_host": true}},
		}}).want(t, 200)
		s.as("PATCH", path("/hosts/%v/authorization/roles/", srv.Number), []any{map[string]any{"role": map[string]any{"id": rid}, "permission": map[string]any{"view_host": true}}}).want(t, 200)
		byUser := s.as("GET", path("/users/%v/host/perms/?hostname=web-1", uid), nil).want(t, 200)
		if byUser.str("results.0.hostname") != "web-1" || byUser.get("results.0.permission.login_host") != true || byUser.get("results.0.permission.delete_host") != false {
			t.Errorf("user's host perms %s", byUser.raw)
		}
		if got := s.as("GET", path("/host/%v/authorization/roles/", srv.Number), nil).want(t, 200).str("results.0.role.name"); got != "oncall" {
			t.Errorf("host's roles via /host/: %q", got)
		}
		if got := s.as("GET", path("/hosts/%v/authorization/users/", srv.Number), nil).want(t, 200).str("results.0.user.username"); got != "kim" {
			t.Errorf("host's users: %q", got)
		}
	})
}
