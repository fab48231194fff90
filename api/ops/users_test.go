package ops_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestUsersAndRoles: the users are hostdeck's users; disabling one stops its
// password and keys at once; roles are groups with members.
func TestUsersAndRoles(t *testing.T) {
	stores(t, func(t *testing.T, s *site) {
		id, basic := s.user("erin")
		if got := s.as("GET", "/users/?status=enabled&email=erin@example.test", nil).names("username"); !slices.Equal(got, []string{"erin"}) {
			t.Errorf("users by e-mail: %v", got)
		}
		u := s.as("PATCH", path("/users/%v/", id), map[string]any{"phone": "+86 138 0000 0001"}).want(t, 200)
		if u.str("phone") != "+86 138 0000 0001" || u.str("status") != "enabled" || u.str("username") != "erin" {
			t.Errorf("patched %s", u.raw)
		}
		key := s.call("POST", "/auth-tokens/", basic, map[string]any{"name": "erin's"}).want(t, 201).str("value")

		s.as("POST", path("/users/%v/actions/disable/", id), nil).want(t, 200)
		s.call("GET", path("/users/%v/", id), basic, nil).code(t, 401, 10002)
		s.call("GET", path("/users/%v/", id), "Token "+key, nil).code(t, 401, 10002)
		if got := s.as("GET", "/users/?status=disabled", nil).names("username"); !slices.Equal(got, []string{"erin"}) {
			t.Errorf("disabled users: %v", got)
		}
		s.as("POST", path("/users/%v/actions/enable/", id), nil).want(t, 200)
		s.call("GET", path("/users/%v/", id), "Token "+key, nil).want(t, 200)

		// A user sees itself, not the others.
		s.call("GET", "/users/1/", basic, nil).code(t, 403, 10003)

		// Roles and their members.
		role := s.as("POST", "/roles/", map[string]any{"name": "ops-team"}).want(t, 201)
		rid := role.num("id")
		if role.str("creator") != "admin" {
			t.Errorf("role %s", role.raw)
		}
		s.as("POST", path("/roles/%v/users/", rid), []any{map[string]any{"id": id}}).want(t, 200)
		members := s.as("GET", path("/roles/%v/users/", rid), nil).want(t, 200)
		if len(members.list("")) != 1 || members.str("0.username") != "erin" {
			t.Errorf("members %s", members.raw)
		}
		s.as("PATCH", path("/roles/%v/", rid), map[string]any{"name": "sre"}).want(t, 200)
		if got := s.as("GET", "/roles/?name=sre", nil).names("id"); !slices.Equal(got, []string{ftoa(rid)}) {
			t.Errorf("roles named sre: %v", got)
		}
		s.as("DELETE", path("/users/%v/roles/", id), []any{rid}).want(t, 200)
		if n := len(s.as("GET", path("/roles/%v/users/", rid), nil).list("")); n != 0 {
			t.Errorf("%d members after removal", n)
		}
		s.as("POST", path("/users/%v/roles/", id), []any{map[string]any{"id": rid}}).want(t, 200)
		s.as("DELETE", path("/roles/%v/", rid), nil).want(t, 200)
		s.as("GET", path("/roles/%v/", rid), nil).code(t, 404, 10004)
		s.as("POST", path("/roles/%v/users/", 999), []any{id}).code(t, 404, 10004)
	})
}

// TestPasswords: change-password checks the original (300001), and
// forget-password sends a real e-mail whose link sets a new password once; an
// unknown address gets the same answer and no e-mail.
func TestPasswords(t *testing.T) {
	stores(t, func(t *testing.T, s *site) {
		id, basic := s.user("finn")
		s.call("POST", path("/users/%v/actions/change-password/", id), basic, map[string]any{"original_password": "wrong", "new_password": "N3w-password-finn"}).code(t, 400, 300001)
		s.call("POST", path("/users/%v/actions/change-password/", id), basic, map[string]any{"original_password": "Passw0rd-finn", "new_password": "N3w-password-finn"}).want(t, 200)
		s.call("GET", path("/users/%v/", id), basic, nil).code(t, 401, 10002)
		newBasic := basicAuth("finn", "N3w-password-finn")
		s.call("GET", path("/users/%v/", id), newBasic, nil).want(t, 200)

		s.call("POST", "/users/0/actions/forget-password/", "", map[string]any{"email": "nobody@example.test"}).want(t, 200)
		s.call("POST", "/users/0/actions/forget-password/", "", map[string]any{"email": "finn@example.test"}).want(t, 200)
		msgs := s.env.Mail.WaitFor(t, 1, 10*time.Second)
		if len(msgs) != 1 || !slices.Contains(msgs[0].To, "finn@example.test") {
			t.Fatalf("mails %+v", msgs)
		}
		m := regexp.MustCompile(`token=([0-9A-Za-z_%-]+)`).FindStringSubmatch(msgs[0].Body)
		if m == nil {
			t.Fatalf("no reset link in %q", msgs[0].Body)
		}
		token := strings.ReplaceAll(m[1], "%3D", "=")
		s.call("POST", "/users/actions/reset-password/", "", map[string]any{"token": token, "new_password": "Th1rd-password-finn"}).want(t, 200)
		s.call("POST", "/users/actions/reset-password/", "", map[string]any{"token": token, "new_password": "F0urth-password-finn"}).code(t, 401, 10002)
		s.call("GET", path("/users/%v/", id), basicAuth("finn", "Th1rd-password-finn"), nil).want(t, 200)
		time.Sleep(100 * time.Millisecond)
		if n := len(s.env.Mail.Messages()); n != 1 {
			t.Errorf("%d e-mails; an unknown address must get none", n)
		}
	})
}

// TestKeys: a key is 40 hex characters shown once, masked afterwards, acts as
// its creator and stops when deleted.
func TestKeys(t *testing.T) {
	stores(t, func(t *testing.T, s *site) {
		_, basic := s.user("gail")
		k := s.call("POST", "/auth-tokens/", basic, map[string]any{"name": "deploy bot", "description": "CI"}).want(t, 201)
		value := k.str("value")
		if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(value) || k.str("creator") != "gail" {
			t.Fatalf("created %s", k.raw)
		}
		id := k.num("id")
		got := s.call("GET", path("/auth-tokens/%v/", id), "Token "+value, nil).want(t, 200)
		if got.str("value") != value[:4]+"…" || strings.Contains(got.raw, value) {
			t.Errorf("read back %s", got.raw)
		}
		if n := s.call("GET", "/auth-tokens/?value="+value, basic, nil).num("count"); n != 1 {
			t.Errorf("filter by value: %v", n)
		}
		s.call("PATCH", path("/auth-tokens/%v/", id), basic, map[string]any{"name": "bot"}).want(t, 200)
		if got := s.call("GET", "/auth-tokens/?name=bot", basic, nil).names("description"); !slices.Equal(got, []string{"CI"}) {
			t.Errorf("keys named bot: %v", got)
		}
		// The admin sees every key; another user's key is unknown to a user.
		if n := s.as("GET", "/auth-tokens/", nil).num("count"); n != 1 {
			t.Errorf("admin sees %v keys", n)
		}
		_, other := s.user("hal")
		s.call("GET", path("/auth-tokens/%v/", id), other, nil).code(t, 404, 10004)
		s.call("DELETE", path("/auth-tokens/%v/", id), basic, nil).want(t, 200)
		s.call("GET", "/users/", "Token "+value, nil).code(t, 401, 10002)
	})
}

// TestNavigators: CRUD with http(s) URLs only.
func TestNavigators(t *testing.T) {
	stores(t, func(t *testing.T, s *site) {
		n := s.as("POST", "/external-navigators/", map[string]any{"name": "grafana", "img": "/imgs/grafana.png", "url": "https://grafana.example.test/"}).want(t, 201)
		id := n.num("id")
		if n.str("creator") != "admin" || n.str("img") != "/imgs/grafana.png" {
			t.Errorf("created %s", n.raw)
		}
		s.as("POST", "/external-navigators/", map[string]any{"name": "evil", "img": "/x.png", "url": "javascript:alert(1)"}).code(t, 400, 10006)
		s.as("PATCH", path("/external-navigators/%v/", id), map[string]any{"url": "http://grafana.internal/"}).want(t, 200)
		if got := s.as("GET", path("/external-navigators/%v", id), nil).str("url"); got != "http://grafana.internal/" {
			t.Errorf("url %q", got)
		}
		if got := s.as("GET", "/external-navigators/?name=grafana", nil).names("name"); !slices.Equal(got, []string{"grafana"}) {
			t.Errorf("list %v", got)
		}
		_, basic := s.user("ivy")
		s.call("GET", "/external-navigators/", basic, nil).code(t, 403, 10003)
		s.as("DELETE", path("/external-navigators/%v/", id), nil).want(t, 200)
		s.as("GET", path("/external-navigators/%v/", id), nil).code(t, 404, 10004)
	})
}
