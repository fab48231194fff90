package ops_test

import (
	"slices"
	"strings"
	"testing"
)

// TestAudit: the changes of the other tests leave rows in the five lists,
// written by the change itself, with the document's op_type values, the
// operator and a readable op_detail; grants leave one row per flag changed.
func TestAudit(t *testing.T) {
	stores(t, func(t *testing.T, s *site) {
		id := s.as("POST", "/applications/", map[string]any{"name": "api", "run_user": "www"}).want(t, 201).num("id")
		s.as("PATCH", path("/applications/%v/", id), map[string]any{"run_user": "work"}).want(t, 200)
		apps := s.as("GET", "/audit/app-operations/?app_name=api", nil).want(t, 200)
		if got := apps.names("op_type"); !slices.Equal(got, []string{"update", "add"}) {
			t.Fatalf("app operations %v: %s", got, apps.raw)
		}
		if d := apps.str("results.0.op_detail"); !strings.Contains(d, `"www"`) || !strings.Contains(d, `"work"`) {
			t.Errorf("op_detail %q does not say before and after", d)
		}
		if apps.str("results.0.operator") != "admin" || apps.str("results.0.app_name") != "api" || apps.str("results.0.op_time") == "" {
			t.Errorf("row %s", apps.raw)
		}
		if n := s.as("GET", "/audit/app-operations/?op_type=delete", nil).num("count"); n != 0 {
			t.Errorf("%v deletes", n)
		}
		if n := s.as("GET", "/audit/app-operations/?op_time__gt=2100-01-01", nil).num("count"); n != 0 {
			t.Errorf("%v rows in the next century", n)
		}

		// A host added elsewhere (another face's servers are ops hosts).
		s.env.Server(t, "db-1", 2)
		hosts := s.as("GET", "/audit/host-operations/?hostname=db-1", nil).want(t, 200)
		if got := hosts.names("op_type"); !slices.Equal(got, []string{"add"}) || hosts.str("results.0.hostname") != "db-1" {
			t.Errorf("host operations %s", hosts.raw)
		}

		// Grants: one row per flag changed, none for a flag already so.
		uid, _ := s.user("lee")
		grant := map[string]any{"authorizations": []any{map[string]any{"id": id, "permission": map[string]any{"view_app": true, "deploy_app": true, "edit_app": false}}}}
		s.as("POST", path("/users/%v/application/perms/", uid), grant).want(t, 200)
		s.as("POST", path("/users/%v/application/perms/", uid), grant).want(t, 200)
		res := s.as("GET", "/audit/authorize-operations/resources/?resource_type=application&authorized_target_name=lee", nil).want(t, 200)
		if res.num("count") != 2 {
			t.Fatalf("resource authorization rows %s", res.raw)
		}
		if perms := res.names("perm_name"); !slices.Contains(perms, "view_app") || !slices.Contains(perms, "deploy_app") {
			t.Errorf("perm names %v", perms)
		}
		if res.num("results.0.resource_id") != id || res.str("results.0.action") != "enable" || res.str("results.0.authorized_target_type") != "user" {
			t.Errorf("row %s", res.raw)
		}
		if n := s.as("GET", "/audit/authorize-operations/resources/?perm_name=deploy_app", nil).num("count"); n != 1 {
			t.Errorf("perm_name=deploy_app: %v rows", n)
		}

		s.as("POST", path("/users/%v/system/perms/", uid), map[string]any{"module_name": "navigator", "permissions": map[string]any{"view_navigator": true}}).want(t, 200)
		s.as("POST", path("/users/%v/system/perms/", uid), map[string]any{"module_name": "navigator", "permissions": map[string]any{"view_navigator": false}}).want(t, 200)
		mods := s.as("GET", "/audit/authorize-operations/modules/", nil).want(t, 200)
		if got := mods.names("action"); !slices.Equal(got, []string{"disable", "enable"}) || mods.str("results.0.module_name") != "导航管理" || mods.str("results.0.perm_name") != "view_navigator" {
			t.Errorf("module authorization rows %s", mods.raw)
		}
		if n := s.as("GET", "/audit/authorize-operations/modules/?action=enable&module_name=navigator", nil).num("count"); n != 1 {
			t.Errorf("enable rows: %v", n)
		}
		if n := s.as("GET", "/audit/dns-operations/", nil).want(t, 200).num("count"); n != 0 {
			t.Errorf("%v DNS rows before any DNS change", n)
		}
		// The lists are never editable.
		s.as("DELETE", "/audit/app-operations/", nil).code(t, 405, 10005)
	})
}
