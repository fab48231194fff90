package trs_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"hostdeck/api/rsproto"
	"hostdeck/api/trs"
	"hostdeck/core"
	"hostdeck/core/quota"
	"hostdeck/internal/testenv"
)

func TestSessions(t *testing.T) {
	env, c, root := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	root.token = c.token
	vm := &core.Instance{Name: "trs-01", ProjectID: "p1", State: core.StateActive}
	if err := env.Store.CreateInstance(context.Background(), vm); err != nil {
		t.Fatal(err)
	}

	// Recorded as the document's example sends it, for the token's user.
	rec := c.do("POST", "/v1/sessions/", `{"session": {"instance_id": "`+vm.ID+`", "conn_type": "web",
		"client_ip": "192.168.0.2", "client_os": "Ubuntu 16.04", "client_info": "RSclient 0.1.0"}}`).must(t, http.StatusOK)
	s, _ := rec.body["session"].(map[string]any)
	if s["instance_id"] != vm.ID || s["user_id"] != env.Admin.ID || s["user_name"] != "admin" || s["connection"] != "web" ||
		s["closed_at"] != nil || s["client_ip"] != "192.168.0.2" || s["client_os"] != "Ubuntu 16.04" ||
		s["client_info"] != "RSclient 0.1.0" || len(s["created_at"].(string)) != len("2018-10-31T12:59:43") {
		t.Fatalf("session = %s", rec.raw)
	}
	if s["session_id"] == "" {
		t.Fatalf("no session_id: %s", rec.raw)
	}
	second := root.do("POST", "/v1/sessions", `{"session": {"instance_id": "`+vm.ID+`", "conn_type": "client"}}`).must(t, http.StatusOK)
	secondID := get(second.body, "session", "session_id").(string)

	list := c.do("GET", "/v1/sessions/", "").must(t, http.StatusOK)
	ss, _ := list.body["sessions"].([]any)
	if len(ss) != 2 || get(ss[0].(map[string]any), "session_id") != secondID || get(ss[1].(map[string]any), "closed_at") == nil {
		t.Fatalf("sessions = %s", list.raw)
	}
	count := func(query string, want int) {
		t.Helper()
		res := c.do("GET", "/v1/sessions/count"+query, "").must(t, http.StatusOK)
		if res.body["count"] != float64(want) {
			t.Fatalf("count%s = %s, want %d", query, res.raw, want)
		}
		l := c.do("GET", "/v1/sessions/"+query, "").must(t, http.StatusOK)
		if ss, _ := l.body["sessions"].([]any); len(ss) != want {
			t.Fatalf("list%s = %s, want %d", query, l.raw, want)
		}
	}
	count("", 2)
	count("?last=true", 1)
	count("?connection_type=web", 1)
	count("?user_id="+env.Admin.ID, 2)
	count("?user_id=neq:"+env.Admin.ID, 0)
	count("?user_name=in:admin,bob&instance_id="+vm.ID, 2)
	count("?instance_name=trs-01&project_id=p1", 2)
	count("?created_at=gte:2000-01-01T00:00:00&created_at=lt:2999-01-01", 2)
	count("?created_at=lt:2000-01-01", 0)

	// Bad input: the envelope with code 9, never a 500.
	for _, body := range []string{
		`{"session": {"instance_id": "00000000-0000-0000-0000-00000000beef"}}`,
		`{"session": {"instance_id": "not-a-uuid"}}`,
		`{"session": {"conn_type": "web"}}`,
		`{"session": {"instance_id": "` + vm.ID + `", "conn_type": "rdp"}}`,
		`{"session": {"instance_id": "` + vm.ID + `", "client_ip": "999.1.1.1"}}`,
		`{"session": {"instance_id": 5}}`,
		`{"instance_id": "` + vm.ID + `"}`,
		`{"session": {}} trailing`,
		`[1]`,
	} {
		if code, _, _ := c.do("POST", "/v1/sessions/", body).trsError(t); code != rsproto.CodeInvalidBody {
			t.Errorf("POST %s: code %d", body, code)
		}
	}
	for _, q := range []string{"?last=maybe", "?connection_type=rdp", "?created_at=2020-01-01", "?created_at=gt:yesterday",
		"?user_name=gt:a", "?user_id=in:", "?created_at=gt:"} {
		if code, _, _ := c.do("GET", "/v1/sessions/"+q, "").trsError(t); code != rsproto.CodeInvalidBody {
			t.Errorf("GET %s: code %d", q, code)
		}
		if code, _, _ := c.do("GET", "/v1/sessions/count"+q, "").trsError(t); code != rsproto.CodeInvalidBody {
			t.Errorf("GET count%s: code %d", q, code)
		}
	}
	// Without a token: the token error.
	anon := &client{t: t, base: c.base}
	if code, _, _ := anon.do("GET", "/v1/sessions/", "").trsError(t); code != rsproto.CodeInvalidToken {
		t.Fatalf("anonymous code %d", code)
	}
}

func TestFloatingIPsOverHTTP(t *testing.T) {
	env, c, _ := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	admin := env.Admin.ID

	none := c.do("GET", "/v1/users/", "").must(t, http.StatusOK)
	if us, _ := none.body["users"].([]any); us == nil || len(us) != 0 {
		t.Fatalf("users = %s", none.raw)
	}
	one := c.do("GET", "/v1/users/"+admin, "").must(t, http.StatusOK)
	if us, _ := one.body["user"].([]any); len(us) != 1 || get(us[0].(map[string]any), "floating_ip_id") != nil {
		t.Fatalf("user = %s", one.raw)
	}

	const fipID = "c3bdc5ba-cdff-49d0-b84c-ac9329ab1410"
	c.do("POST", "/v1/users/"+admin+"/floating-ip", `{"floating_ip_id": "`+fipID+`"}`).must(t, http.StatusNoContent)
	list := c.do("GET", "/v1/users/", "").must(t, http.StatusOK)
	us, _ := list.body["users"].([]any)
	if len(us) != 1 {
		t.Fatalf("users = %s", list.raw)
	}
	u := us[0].(map[string]any)
	if u["id"] != admin || u["floating_ip_id"] != fipID || u["floating_ip_address"] != "172.24.4.1" {
		t.Fatalf("users = %s", list.raw)
	}
	// A second POST is refused; PUT changes it.
	if code, _, _ := c.do("POST", "/v1/users/"+admin+"/floating-ip", "").trsError(t); code != rsproto.CodeInvalidBody {
		t.Fatalf("second POST code %d", code)
	}
	c.do("PUT", "/v1/users/"+admin+"/floating-ip", `{"floating_ip_id": "172.24.4.77"}`).must(t, http.StatusNoContent)
	one = c.do("GET", "/v1/users/"+admin+"/", "").must(t, http.StatusOK)
	if get(one.body["user"].([]any)[0].(map[string]any), "floating_ip_address") != "172.24.4.77" {
		t.Fatalf("after PUT = %s", one.raw)
	}
	c.do("DELETE", "/v1/users/"+admin+"/floating-ip", "").must(t, http.StatusNoContent)
	if us, _ := c.do("GET", "/v1/users", "").must(t, http.StatusOK).body["users"].([]any); len(us) != 0 {
		t.Fatal("released floating IP still listed")
	}

	// Unknown users and bad bodies: code 9.
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/v1/users/00000000-0000-0000-0000-00000000beef", ""},
		{"GET", "/v1/users/nope", ""},
		{"POST", "/v1/users/nope/floating-ip", ""},
		{"POST", "/v1/users/00000000-0000-0000-0000-00000000beef/floating-ip", ""},
		{"DELETE", "/v1/users/" + admin + "/floating-ip", ""},
		{"PUT", "/v1/users/" + admin + "/floating-ip", ""},
		{"POST", "/v1/users/" + admin + "/floating-ip", `{"floating_ip_id": 7}`},
		{"POST", "/v1/users/" + admin + "/floating-ip", `{"floating_ip_id": "10.0.0.1"}`},
		{"POST", "/v1/users/" + admin + "/floating-ip", `{"floating_ip_id": "garbage"}`},
		{"POST", "/v1/users/" + admin + "/floating-ip", `{"floating_ip_id": "` + fipID + `"} x`},
	} {
		if code, _, _ := c.do(tc.method, tc.path, tc.body).trsError(t); code != rsproto.CodeInvalidBody {
			t.Errorf("%s %s %s: code %d", tc.method, tc.path, tc.body, code)
		}
	}
}

func TestVolumeAssignmentsOverHTTP(t *testing.T) {
	env, c, _ := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	created := c.do("POST", "/v1/projects/", `{"project":{"name":"vols","flavor_id":"`+smallFlavor+`","image_id":"`+sampleImage+`"}}`).must(t, http.StatusOK)
	pid := get(created.body, "project", "id").(string)
	uid := env.Admin.ID

	res := c.do("POST", "/v1/volume-assignments/", `{"user_id": "`+uid+`", "project_id": "`+pid+`", "volume_id": "c8327ff2-eb85-4495-ab68-df4aa36d7ae0"}`).must(t, http.StatusOK)
	va, _ := res.body["volume-assignment"].(map[string]any)
	if va["id"] != float64(1) || va["user_id"] != uid || va["project_id"] != pid || va["volume_id"] != "c8327ff2-eb85-4495-ab68-df4aa36d7ae0" || len(va) != 4 {
		t.Fatalf("created = %s", res.raw)
	}
	c.do("POST", "/v1/volume-assignments", `{"volume-assignment": {"user_id": "`+uid+`", "project_id": "`+pid+`", "volume_id": "vol-2"}}`).must(t, http.StatusOK)

	lst := func(query string, want int) {
		t.Helper()
		res := c.do("GET", "/v1/volume-assignments/"+query, "").must(t, http.StatusOK)
		if as, _ := res.body["volume-assignments"].([]any); len(as) != want {
			t.Fatalf("list%s = %s, want %d", query, res.raw, want)
		}
	}
	lst("", 2)
	lst("?user_id="+uid+"&project_id="+pid, 2)
	lst("?volume_id=vol-2", 1)
	lst("?volume_id=nin:vol-2", 1)
	lst("?project_id=in:x,y", 0)

	one := c.do("GET", "/v1/volume-assignments/2", "").must(t, http.StatusOK)
	if get(one.body, "volume-assignment", "volume_id") != "vol-2" {
		t.Fatalf("get = %s", one.raw)
	}
	c.do("DELETE", "/v1/volume-assignments/2", "").must(t, http.StatusNoContent)
	lst("", 1)

	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/v1/volume-assignments/2", ""},
		{"GET", "/v1/volume-assignments/abc", ""},
		{"GET", "/v1/volume-assignments/-1", ""},
		{"GET", "/v1/volume-assignments/99999999999999999999999", ""},
		{"DELETE", "/v1/volume-assignments/2", ""},
		{"GET", "/v1/volume-assignments/?user_id=gt:a", ""},
		{"POST", "/v1/volume-assignments/", `{"user_id": "` + uid + `", "project_id": "` + pid + `", "volume_id": "c8327ff2-eb85-4495-ab68-df4aa36d7ae0"}`},
		{"POST", "/v1/volume-assignments/", `{"user_id": "` + uid + `", "project_id": "` + pid + `"}`},
		{"POST", "/v1/volume-assignments/", `{"user_id": "nope", "project_id": "` + pid + `", "volume_id": "v"}`},
		{"POST", "/v1/volume-assignments/", `{"user_id": "` + uid + `", "project_id": "00000000-0000-0000-0000-00000000beef", "volume_id": "v"}`},
		{"POST", "/v1/volume-assignments/", `{"user_id": 1}`},
		{"POST", "/v1/volume-assignments/", ``},
	} {
		if code, _, _ := c.do(tc.method, tc.path, tc.body).trsError(t); code != rsproto.CodeInvalidBody {
			t.Errorf("%s %s %s: code %d", tc.method, tc.path, tc.body, code)
		}
	}
	// The project's buckets limit (satellite) counts user volumes: code 12 past it.
	if _, err := env.Quota.SetLimits(env.AdminCtx(), pid, quota.ProjectLimitsInput{Buckets: ptr(1)}); err != nil {
		t.Fatal(err)
	}
	code, msg, _ := c.do("POST", "/v1/volume-assignments/", `{"user_id": "`+uid+`", "project_id": "`+pid+`", "volume_id": "vol-3"}`).trsError(t)
	if code != 12 || !strings.Contains(msg, "vols") {
		t.Fatalf("past buckets: code %d %q", code, msg)
	}
}
