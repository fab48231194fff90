package ops_test

import (
	"slices"
	"strings"
	"testing"
)

// TestApplications drives the application tree as a client of the document
// would: create (an extension), list with filters, PATCH, the tree and the
// dependencies, responsible persons, and refused deletes.
func TestApplications(t *testing.T) {
	stores(t, func(t *testing.T, s *site) {
		a := s.as("POST", "/applications/", map[string]any{"name": "A", "run_user": "work", "application_type": 1}).want(t, 201)
		idA := a.num("id")
		if a.str("full_name") != "A" || a.get("parent_app") != nil || a.get("has_child") != false || a.num("application_type") != 1 || a.str("run_users") != "work" {
			t.Fatalf("created %s", a.raw)
		}
		if a.get("available_actions.view") != true || a.get("available_actions.view_app") != true {
			t.Errorf("admin's available_actions %v", a.get("available_actions"))
		}
		idB := s.as("POST", "/applications/", map[string]any{"name": "B", "parent_app": idA}).want(t, 201).num("id")
		idC := s.as("POST", "/applications/", map[string]any{"name": "C", "parent_app": idB}).want(t, 201).num("id")
		if got := s.as("GET", path("/applications/%v/", idC), nil).str("full_name"); got != "A.B.C" {
			t.Errorf("full_name %q, want A.B.C", got)
		}
		if s.as("GET", path("/applications/%v/", idA), nil).get("has_child") != true {
			t.Error("A has no child")
		}

		// Filters, in the store.
		if got := s.as("GET", "/applications/?full_path=A.B", nil).names("id"); !slices.Equal(got, []string{ftoa(idB)}) {
			t.Errorf("full_path=A.B: %v", got)
		}
		if got := s.as("GET", "/applications/?has_parent=0", nil).names("name"); !slices.Equal(got, []string{"A"}) {
			t.Errorf("has_parent=0: %v", got)
		}
		if got := s.as("GET", "/applications/?has_parent=1&name=C", nil).names("full_name"); !slices.Equal(got, []string{"A.B.C"}) {
			t.Errorf("has_parent=1&name=C: %v", got)
		}

		// Renaming a node renames its subtree; PATCH answers success.
		s.as("PATCH", path("/application/%v/", idA), map[string]any{"name": "root", "stop_cmd": "kill"}).want(t, 200)
		if got := s.as("GET", path("/applications/%v/", idC), nil).str("full_name"); got != "root.B.C" {
			t.Errorf("after rename: %q", got)
		}
		// A cycle is refused and changes nothing.
		s.as("PATCH", path("/applications/%v/", idA), map[string]any{"parent_app": idC}).code(t, 400, 10006)
		s.as("POST", path("/application/%v/child-apps/", idC), []any{map[string]any{"id": idA}}).code(t, 400, 10006)
		if s.as("GET", path("/applications/%v/", idA), nil).get("parent_app") != nil {
			t.Error("a refused cycle changed the parent")
		}

		// Child apps: a mapping, the child kept when it is removed.
		idD := s.as("POST", "/applications/", map[string]any{"name": "D"}).want(t, 201).num("id")
		added := s.as("POST", path("/application/%v/child-apps/", idA), []any{idD}).want(t, 200)
		if added.num("0.parent_app") != idA || added.str("0.full_name") != "root.D" {
			t.Errorf("added child %s", added.raw)
		}
		if got := s.as("GET", path("/application/%v/child-apps/", idA), nil).names("name"); !slices.Equal(got, []string{"B", "D"}) {
			t.Errorf("children %v", got)
		}
		s.as("DELETE", path("/application/%v/child-apps/", idA), []any{map[string]any{"id": idD}}).want(t, 200)
		if d := s.as("GET", path("/applications/%v/", idD), nil).want(t, 200); d.str("full_name") != "D" || d.get("parent_app") != nil {
			t.Errorf("removed child %s", d.raw)
		}

		// Dependencies and their reverse; a dependency cycle is refused.
		s.as("POST", path("/application/%v/required-apps/", idD), []any{map[string]any{"id": idC}}).want(t, 200)
		if got := s.as("GET", path("/application/%v/required-apps/", idD), nil).names("full_name"); !slices.Equal(got, []string{"root.B.C"}) {
			t.Errorf("required %v", got)
		}
		if got := s.as("GET", path("/application/%v/required-by-apps/", idC), nil).names("name"); !slices.Equal(got, []string{"D"}) {
			t.Errorf("required by %v", got)
		}
		s.as("POST", path("/application/%v/required-apps/", idC), []any{idD}).code(t, 400, 10006)

		// Deleting what still has children or dependants is refused, naming them.
		refused := s.as("DELETE", path("/applications/%v/", idB), nil).code(t, 400, 10007)
		if !strings.Contains(refused.str("message"), "root.B.C") {
			t.Errorf("refusal does not name the child: %s", refused.raw)
		}
		refused = s.as("DELETE", path("/applications/%v/", idC), nil).code(t, 400, 10007)
		if !strings.Contains(refused.str("message"), "D") {
			t.Errorf("refusal does not name the dependant: %s", refused.raw)
		}
		s.as("DELETE", path("/application/%v/required-apps/", idD), []any{idC}).want(t, 200)
		s.as("DELETE", path("/applications/%v/", idC), nil).want(t, 200)
		s.as("GET", path("/applications/%v/", idC), nil).code(t, 404, 10004)

		// Responsible persons are users, with their name, e-mail and mobile.
		uid, _ := s.user("dora")
		persons := s.as("POST", path("/application/%v/response-person/", idA), []any{map[string]any{"id": uid, "type": "ops"}}).want(t, 200)
		if persons.str("0.email") != "dora@example.test" || persons.str("0.type") != "ops" || persons.num("0.mobile") != 13800000000 {
			t.Errorf("added person %s", persons.raw)
		}
		list := s.as("GET", path("/application/%v/response-person/", idA), nil).want(t, 200)
		if list.num("count") != 1 || list.str("results.0.name") != "dora" {
			t.Errorf("persons %s", list.raw)
		}
		if got := s.as("GET", path("/applications/?response_persons=%v", uid), nil).names("name"); !slices.Equal(got, []string{"root"}) {
			t.Errorf("response_persons filter %v", got)
		}
		s.as("POST", path("/application/%v/response-person/", idA), []any{map[string]any{"id": uid, "type": "boss"}}).code(t, 400, 10006)
		s.as("DELETE", path("/application/%v/response-person/", idA), []any{map[string]any{"id": uid}}).want(t, 200)
		if n := s.as("GET", path("/application/%v/response-person/", idA), nil).num("count"); n != 0 {
			t.Errorf("%v persons after removal", n)
		}

		// get-by-users: the applications each user may see.
		byUsers := s.as("POST", "/applications/get-by-users/", []any{map[string]any{"id": uid}}).want(t, 200)
		if byUsers.num("0.user_id") != uid || len(byUsers.list("0.applications")) != 0 {
			t.Errorf("get-by-users %s", byUsers.raw)
		}
	})
}

// TestProductLines: create (an extension), list, add and remove apps.
func TestProductLines(t *testing.T) {
	stores(t, func(t *testing.T, s *site) {
		line := s.as("POST", "/productions/", map[string]any{"name": "mall", "description": "the shop"}).want(t, 201)
		id := line.num("id")
		if line.get("available_actions.reboot") != true || line.get("available_actions.edit") != true {
			t.Errorf("line %s", line.raw)
		}
		app := s.as("POST", "/applications/", map[string]any{"name": "cart"}).want(t, 201).num("id")
		other := s.as("POST", "/applications/", map[string]any{"name": "search"}).want(t, 201).num("id")
		s.as("POST", path("/productions/%v/applications/", id), []any{map[string]any{"id": app}, map[string]any{"id": other}}).want(t, 200)
		if got := s.as("GET", path("/productions/%v/applications/?name=cart", id), nil).names("name"); !slices.Equal(got, []string{"cart"}) {
			t.Errorf("line's apps named cart: %v", got)
		}
		if got := s.as("GET", path("/applications/%v/", app), nil).num("production"); got != id {
			t.Errorf("production %v, want %v", got, id)
		}
		s.as("DELETE", path("/productions/%v/", id), nil).code(t, 400, 10007)
		s.as("DELETE", path("/productions/%v/applications/", id), []any{app, other}).want(t, 200)
		if n := s.as("GET", path("/productions/%v/applications/", id), nil).num("count"); n != 0 {
			t.Errorf("%v apps left", n)
		}
		if got := s.as("GET", "/productions/?name=mall", nil).names("description"); !slices.Equal(got, []string{"the shop"}) {
			t.Errorf("lines %v", got)
		}
		s.as("PATCH", path("/productions/%v/", id), map[string]any{"name": "mall-2"}).want(t, 200)
		s.as("DELETE", path("/productions/%v/", id), nil).want(t, 200)
		s.as("GET", path("/productions/%v/", id), nil).code(t, 404, 10004)
	})
}

func ftoa(f float64) string { return path("%v", f) }
