package main

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// routes of every face, as method and path with {placeholders}.
var faceRoutes = map[string][]string{
	"alfa": {
		"GET /servers", "GET /servers/{id}", "PUT /servers/{id}", "PATCH /servers/{id}", "POST /servers/create",
		"GET /servers/reboot_server", "POST /servers/reboot_server", "DELETE /servers/{id}/delete",
		"GET /clients", "GET /clients/{id}", "PUT /clients/{id}", "PATCH /clients/{id}", "POST /clients/create",
		"POST /clients/owner_password", "PUT /clients/{id}/expire_date", "PATCH /clients/{id}/expire_date",
		"GET /clients/{id}/expire_dates_history", "POST /clients/{id}/demo_enable", "GET /clients/{id}/demo_disable",
		"POST /clients/{id}/send_success", "GET /clients/{id}/send_expire", "POST /clients/{id}/reboot",
		"DELETE /clients/{id}/delete", "POST /clients/{id}/transfer", "POST /cloud_admin_password",
		"GET /tasks", "GET /tasks/{id}", "POST /tasks/{id}/cancel", "GET /audit",
	},
	"trs": {
		"GET /v3", "POST /v3/auth/tokens", "GET /v3/auth/tokens", "DELETE /v3/auth/tokens",
		"POST /v3/users", "GET /v3/users", "GET /v3/users/{id}", "PATCH /v3/users/{id}", "DELETE /v3/users/{id}",
		"POST /v3/users/{id}/password", "POST /v3/groups", "GET /v3/groups", "GET /v3/groups/{id}/users",
		"PUT /v3/groups/{id}/users/{id}", "DELETE /v3/groups/{id}/users/{id}", "GET /v3/roles",
		"PUT /v3/projects/{id}/users/{id}/roles/{id}", "POST /v3/credentials", "GET /v3/credentials",
		"GET /v3/credentials/{id}", "DELETE /v3/credentials/{id}",
		"GET /v1/info", "GET /v1/tasks", "GET /v1/tasks/{id}", "POST /v1/projects", "GET /v1/projects",
		"GET /v1/projects/actions/get-settings", "GET /v1/projects/{id}", "PUT /v1/projects/{id}",
		"GET /v1/projects/{id}/statistics", "POST /v1/projects/{id}/actions/auto-allocate-users",
		"GET /v1/flavors", "GET /v1/images", "GET /v1/users", "GET /v1/users/{id}",
		"POST /v1/users/{id}/floating-ip", "PUT /v1/users/{id}/floating-ip", "DELETE /v1/users/{id}/floating-ip",
		"POST /v1/sessions", "GET /v1/sessions", "GET /v1/sessions/count", "POST /v1/volume-assignments",
		"GET /v1/volume-assignments", "GET /v1/volume-assignments/{id}", "DELETE /v1/volume-assignments/{id}",
		"POST /v1/servers", "GET /v1/servers", "GET /v1/servers/{id}", "PUT /v1/servers/{id}",
		"POST /v1/servers/{id}/users", "GET /v1/servers/{id}/users", "DELETE /v1/servers/{id}/users/{id}",
		"POST /v1/servers/{id}/groups", "GET /v1/servers/{id}/groups", "DELETE /v1/servers/{id}/groups/{id}",
		"POST /v1/users/{id}/servers", "GET /v1/users/{id}/servers", "POST /v1/groups/{id}/servers", "GET /v1/groups/{id}/servers",
	},
	"broker": {
		"POST /v1/request-vm", "POST /v1/get-vm", "POST /v1/get-projects", "POST /v1/server-remove-user", "POST /v1/change-password",
	},
	"satellite": {
		"POST /api/user", "GET /api/user/{id}", "PUT /api/user/{id}", "DELETE /api/user/{id}", "POST /api/coupon",
		"GET /api/coupon/{id}", "DELETE /api/coupon/{id}", "POST /api/project", "GET /api/project/{id}",
		"PUT /api/project/{id}", "DELETE /api/project/{id}", "GET /api/project/{id}/usage", "GET /api/project/{id}/limit",
		"POST /api/project/{id}/limit", "PUT /api/project/{id}/limit",
	},
}

// What malformed requests are made of.
var (
	badIDs    = []string{"0190b6c4-6d5a-7000-8000-0000000000ff", "not-a-uuid", "%00", "a%0d%0ab", strings.Repeat("i", 5000), "-1", "%E2%80%A8"}
	badBodies = []string{
		"", "{", `{"a":`, "null", "[]", `"text"`, "123", "{}", `{"x":1}{"y":2}`, "\x00\x01\x02",
		`{"data":{"type":"clients","attributes":{"name":"a","name":"b"}}}`,
		`{"data":{"type":5,"attributes":[]}}`, `{"data":{"type":"servers","attributes":{"name":{"a":1},"capacity":"many"}}}`,
		`{"user":{"name":5,"password":[],"enabled":"yes"}}`, `{"project":{"name":"\u0000","flavor_id":7,"count":-1}}`,
		`{"server":{"project_id":"x","count":1e400}}`, `{"email":["a"],"password":{"x":1},"projectLimit":-5}`,
		`{"auth":{"identity":{"methods":"password"}}}`, `{"user":"u","password":"p","conn_type":9}`,
		`{"a":"` + strings.Repeat("\\ud800", 2000) + `"}`, `{"deep":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	}
	badQueries = []string{"", "page[size]=-1&page[number]=x", "filter[nope]=1&sort=--x", "limit=abc&marker=%00",
		"project_id=in:" + strings.Repeat(",", 2000), "with_os_object=maybe&user=" + strings.Repeat("u", 300),
		"usage=-1TB&rate=x&buckets=1e99&bandwidth=%FF", "filter[email]=" + strings.Repeat("A", 50_000), "name=" + strings.Repeat("%25", 20_000)}
	placeholder = regexp.MustCompile(`\{[a-z_]+\}`)
)

// Malformed requests on every route of every face, authenticated and not: each
// answer is a 4xx (or a success for what a lenient dialect accepts), never a
// 5xx, and the process stays up.
func TestMalformedRequestsNever5xx(t *testing.T) {
	p := start(t, "HOSTDECK_SATELLITE_TOKEN="+satToken)
	b := p.base
	adminTok := keystoneLogin(t, b, "admin", procAdminPassword)
	auths := map[string][][]string{
		"alfa":      {nil, {"Authorization", basic("admin", procAdminPassword)}},
		"trs":       {nil, {"X-Auth-Token", adminTok}},
		"broker":    {nil, {"X-Auth-Token", adminTok}},
		"satellite": {nil, {"Authorization", satToken}},
	}
	// Records to match, so that filters are evaluated against rows.
	p.call("POST", "/servers/create", map[string]any{"name": "node-1", "capacity": 5})
	p.call("POST", "/clients/create", map[string]any{"name": "Lab One", "email": "owner@lab.example"})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	sent, byClass := 0, map[int]int{}
	var fivexx []string
	record := func(what string, status int) {
		sent++
		byClass[status/100]++
		if status >= 500 {
			fivexx = append(fivexx, fmt.Sprintf("%d %s", status, what))
		}
	}
	for face, routes := range faceRoutes {
		for _, route := range routes {
			method, path, _ := strings.Cut(route, " ")
			// Reads take malformed queries, writes malformed bodies (and a query
			// each): every variant with one id, every id with a few variants.
			variants := badBodies
			if method == http.MethodGet || method == http.MethodDelete {
				variants = badQueries
			}
			for i, id := range badIDs {
				target := placeholder.ReplaceAllString(path, id)
				for j, v := range variants {
					if i > 0 && (j > 2 || !strings.Contains(path, "{")) {
						continue
					}
					body, q := v, badQueries[(i+j)%len(badQueries)]
					if method == http.MethodGet || method == http.MethodDelete {
						body, q = "", v
					}
					for _, auth := range auths[face] {
						h := append([]string{"Content-Type", "application/json"}, auth...)
						if face == "alfa" && j%2 == 0 {
							h[1] = "application/vnd.api+json"
						}
						req, err := http.NewRequest(method, b+"/"+face+target+"?"+q, strings.NewReader(body))
						if err != nil {
							continue // an id that makes no URL at all
						}
						for k := 0; k+1 < len(h); k += 2 {
							req.Header.Set(h[k], h[k+1])
						}
						res, err := client.Do(req)
						if err != nil {
							t.Fatalf("%s %s: %v (the process: %v)", method, target, err, p.cmd.ProcessState)
						}
						res.Body.Close()
						record(fmt.Sprintf("%s %s/%s %.80q", method, face, target, body), res.StatusCode)
					}
				}
			}
		}
	}
	// billmgr: every function with malformed parameters, in a query and a form body.
	for _, fn := range []string{"", "auth", "whoami", "instances", "instances.fleio.rescue", "instances.fleio.unrescue",
		"instances.fleio.reboot", "instances.fleio.start", "instances.fleio.stop", "image", "image.edit", "nope\x00"} {
		for _, extra := range []url.Values{
			{}, {"elid": {"abc"}}, {"elid": {"-1,0,99999999999999999999"}}, {"elid": {strings.Repeat("1,", 500)}},
			{"sok": {"ok"}, "select_boot": {"%00"}, "zone": {"???"}, "password": {"a\x00b"}},
			{"p_num": {"-3"}, "p_cnt": {"1e9"}}, {"out": {"yaml"}}, {"name": {strings.Repeat("n", 5000)}, "ref": {"\n"}, "sok": {"ok"}},
		} {
			for _, auth := range []string{"", "admin:" + procAdminPassword, "admin", ":"} {
				v := url.Values{"func": {fn}, "out": {"json"}}
				for k, vs := range extra {
					v[k] = vs
				}
				if auth != "" {
					v.Set("authinfo", auth)
				}
				res, err := client.Get(b + "/billmgr/?" + v.Encode())
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				record("billmgr GET "+v.Encode(), res.StatusCode)
				res, err = client.Post(b+"/billmgr/", "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				record("billmgr POST "+v.Encode(), res.StatusCode)
			}
		}
	}
	t.Logf("reliability: %d malformed requests on every route of the five faces: %d 2xx, %d 3xx, %d 4xx, %d 5xx",
		sent, byClass[2], byClass[3], byClass[4], byClass[5])
	for _, f := range fivexx[:min(len(fivexx), 20)] {
		t.Errorf("5xx: %s", f)
	}
	if alfaBasic(t, b, "admin", procAdminPassword) != http.StatusOK {
		t.Fatal("hostdeck does not answer after the sweep")
	}
}
