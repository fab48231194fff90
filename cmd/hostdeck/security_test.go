package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests drive a real hostdeck process from outside, as the hardening
// probes did: every face's credential against every other face's
// user-changing routes, the login throttle under a burst, and what a password
// change ends.

const satToken = "sat-secret-token"

// exchange is one HTTP exchange.
type exchange struct {
	status int
	header http.Header
	body   string
}

func (a exchange) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(a.body), &m); err != nil {
		t.Fatalf("not JSON: %s", a.body)
	}
	return m
}

// send makes one request; headers are name, value pairs.
func send(t *testing.T, c *http.Client, method, url, body string, headers ...string) exchange {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return exchange{res.StatusCode, res.Header, string(b)}
}

// from is a client whose connections come from the loopback address ip, so a
// test can be several addresses at once.
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 100}}
}

const jsonType = "application/json"

func keystoneLogin(t *testing.T, base, user, password string) string {
	t.Helper()
	a := send(t, nil, "POST", base+"/trs/v3/auth/tokens", `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"`+
		user+`","domain":{"id":"default"},"password":"`+password+`"}}}}}`, "Content-Type", jsonType)
	if a.status != http.StatusCreated {
		t.Fatalf("login %s: %d %s", user, a.status, a.body)
	}
	return a.header.Get("X-Subject-Token")
}

func billmgrLogin(t *testing.T, base, user, password string) string {
	t.Helper()
	a := send(t, nil, "POST", base+"/billmgr/", url.Values{"func": {"auth"}, "username": {user}, "password": {password}, "out": {"json"}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded")
	var doc struct {
		Doc struct {
			Auth struct {
				ID string `json:"$id"`
			} `json:"auth"`
		} `json:"doc"`
	}
	if json.Unmarshal([]byte(a.body), &doc); doc.Doc.Auth.ID == "" {
		t.Fatalf("billmgr login %s: %s", user, a.body)
	}
	return doc.Doc.Auth.ID
}

// billmgrWho is func=whoami with a session: the user name, or "" when refused.
func billmgrWho(t *testing.T, base, session string) string {
	t.Helper()
	a := send(t, nil, "GET", base+"/billmgr/?func=whoami&out=json&auth="+session, "")
	var doc struct {
		Doc struct {
			User struct {
				V string `json:"$"`
			} `json:"user"`
		} `json:"doc"`
	}
	json.Unmarshal([]byte(a.body), &doc)
	return doc.Doc.User.V
}

func alfaBasic(t *testing.T, base, user, password string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/alfa/servers", nil)
	req.SetBasicAuth(user, password)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// userID creates a user on the trs face with the admin's token.
func trsUser(t *testing.T, base, tok, name, password, role string) string {
	t.Helper()
	a := send(t, nil, "POST", base+"/trs/v3/users", `{"user":{"name":"`+name+`","password":"`+password+`","role":"`+role+`"}}`,
		"X-Auth-Token", tok, "Content-Type", jsonType)
	if a.status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", name, a.status, a.body)
	}
	return a.json(t)["user"].(map[string]any)["id"].(string)
}

// Every face's credential, tried against every other face's user-changing
// routes: a face reaches only the accounts it owns.
func TestCrossFaceAccounts(t *testing.T) {
	p := start(t, "HOSTDECK_SATELLITE_TOKEN="+satToken)
	b := p.base
	adminTok := keystoneLogin(t, b, "admin", procAdminPassword)
	adminID := send(t, nil, "GET", b+"/trs/v3/auth/tokens", "", "X-Auth-Token", adminTok, "X-Subject-Token", adminTok).
		json(t)["token"].(map[string]any)["user"].(map[string]any)["id"].(string)
	opsID := trsUser(t, b, adminTok, "ops-admin", "ops-admin-pass", "admin")
	studentID := trsUser(t, b, adminTok, "student1", "student-pass-1", "member")
	sat := func(method, path, body string, auth string) exchange {
		return send(t, nil, method, b+"/satellite"+path, body, "Authorization", auth)
	}
	a := sat("POST", "/api/user", `{"email":"cust@mail.test","fullName":"Cust","password":"cust-password"}`, satToken)
	if a.status != http.StatusOK {
		t.Fatalf("satellite user: %d %s", a.status, a.body)
	}
	custID := a.json(t)["id"].(string)

	// The satellite token, and an administrator's token presented to the
	// satellite API, reach satellite accounts only: hostdeck's accounts exchange
	// as unknown ones, whatever the route.
	probes := 0
	for _, auth := range []string{satToken, adminTok} {
		for _, name := range []string{"admin", "ops-admin", "student1"} {
			for _, r := range []struct{ method, path, body string }{
				{"GET", "/api/user/" + name, ""},
				{"PUT", "/api/user/" + name, `{"password":"sat0wned-pw"}`},
				{"PUT", "/api/user/" + name, `{"email":"renamed@mail.test"}`},
				{"DELETE", "/api/user/" + name, ""},
			} {
				probes++
				if a := sat(r.method, r.path, r.body, auth); a.status != http.StatusNotFound || !strings.Contains(a.body, `"error"`) {
					t.Errorf("satellite %s %s %s: %d %s, want 404", r.method, r.path, r.body, a.status, a.body)
				}
			}
		}
		for _, id := range []string{adminID, opsID, studentID} {
			probes += 2
			if a := sat("POST", "/api/coupon", `{"userId":"`+id+`","duration":1,"amount":100,"description":"x"}`, auth); a.status != http.StatusNotFound {
				t.Errorf("coupon for a hostdeck account: %d %s", a.status, a.body)
			}
			if a := sat("POST", "/api/project", `{"ownerId":"`+id+`","projectName":"p"}`, auth); a.status != http.StatusNotFound {
				t.Errorf("project for a hostdeck account: %d %s", a.status, a.body)
			}
		}
	}
	// The real passwords still work; the satellite's did nothing.
	if alfaBasic(t, b, "admin", "sat0wned-pw") != http.StatusUnauthorized || alfaBasic(t, b, "admin", procAdminPassword) != http.StatusOK {
		t.Fatal("the admin's password changed through the satellite")
	}
	keystoneLogin(t, b, "ops-admin", "ops-admin-pass")
	keystoneLogin(t, b, "student1", "student-pass-1")

	// hostdeck's identity API (trs Keystone, with an administrator's token)
	// never changes a satellite account.
	a = send(t, nil, "POST", b+"/trs/v1/projects/", `{"project":{"name":"pool","flavor_id":"0a7e5c1d-7f3b-4c2a-9d10-000000000001",
		"image_id":"1b8f6d2e-8a4c-4d3b-8e21-000000000001"}}`, "X-Auth-Token", adminTok, "Content-Type", jsonType)
	if a.status != http.StatusCreated && a.status != http.StatusOK {
		t.Fatalf("trs project: %d %s", a.status, a.body)
	}
	poolID := a.json(t)["project"].(map[string]any)["id"].(string)
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/trs/v3/users/" + custID, ""},
		{"PATCH", "/trs/v3/users/" + custID, `{"user":{"password":"keystone-owned"}}`},
		{"PATCH", "/trs/v3/users/" + custID, `{"user":{"name":"renamed"}}`},
		{"DELETE", "/trs/v3/users/" + custID, ""},
		{"PUT", "/trs/v3/projects/" + poolID + "/users/" + custID + "/roles/member", ""},
		{"POST", "/trs/v3/credentials", `{"credential":{"user_id":"` + custID + `","type":"totp","blob":"JBSWY3DPEHPK3PXPJBSWY3DP"}}`},
	} {
		probes++
		if a := send(t, nil, r.method, b+r.path, r.body, "X-Auth-Token", adminTok, "Content-Type", jsonType); a.status != http.StatusNotFound {
			t.Errorf("trs %s %s: %d %s, want 404", r.method, r.path, a.status, a.body)
		}
	}
	if a := send(t, nil, "GET", b+"/trs/v3/users", "", "X-Auth-Token", adminTok); strings.Contains(a.body, "cust@mail.test") {
		t.Errorf("the trs user list shows a satellite account: %s", a.body)
	}

	// Members of any face change nobody else: the satellite customer and a trs
	// member, logged in on trs, alfa and the satellite.
	custTok := keystoneLogin(t, b, "cust@mail.test", "cust-password")
	studentTok := keystoneLogin(t, b, "student1", "student-pass-1")
	for _, tok := range []string{custTok, studentTok} {
		for _, r := range []struct{ method, path, body string }{
			{"PATCH", "/trs/v3/users/" + adminID, `{"user":{"password":"member-owned"}}`},
			{"DELETE", "/trs/v3/users/" + opsID, ""},
			{"POST", "/trs/v3/users", `{"user":{"name":"x","password":"member-made","role":"admin"}}`},
		} {
			probes++
			if a := send(t, nil, r.method, b+r.path, r.body, "X-Auth-Token", tok, "Content-Type", jsonType); a.status != http.StatusForbidden {
				t.Errorf("member %s %s: %d %s, want 403", r.method, r.path, a.status, a.body)
			}
		}
		probes++
		if a := sat("PUT", "/api/user/cust@mail.test", `{"fullName":"x"}`, tok); a.status != http.StatusForbidden {
			t.Errorf("a member's token on the satellite: %d %s", a.status, a.body)
		}
	}
	for _, who := range [][2]string{{"cust@mail.test", "cust-password"}, {"student1", "student-pass-1"}} {
		probes++
		req, _ := http.NewRequest("POST", b+"/alfa/cloud_admin_password", strings.NewReader(`{"data":{"type":"credentials","attributes":{"password":"member-owned-1"}}}`))
		req.SetBasicAuth(who[0], who[1])
		req.Header.Set("Content-Type", "application/vnd.api+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("alfa cloud_admin_password as %s: %d, want 403", who[0], res.StatusCode)
		}
	}
	// The broker's password change needs the account's own password.
	probes++
	if a := send(t, nil, "POST", b+"/broker/v1/change-password/", `{"user":"admin","password":"guess-guess","user_domain_name":"default","new_password":"broker-owned-1"}`,
		"Content-Type", jsonType); !strings.Contains(a.body, `"code":6`) {
		t.Errorf("broker change-password with a wrong password: %d %s", a.status, a.body)
	}

	// One password policy, whichever face sets it: 7 characters are refused
	// everywhere (the satellite used to take 6).
	for _, r := range []struct {
		face, method, url, body string
		headers                 []string
	}{
		{"satellite", "POST", b + "/satellite/api/user", `{"email":"short@mail.test","password":"1234567"}`, []string{"Authorization", satToken}},
		{"satellite", "PUT", b + "/satellite/api/user/cust@mail.test", `{"password":"1234567"}`, []string{"Authorization", satToken}},
		{"trs", "POST", b + "/trs/v3/users", `{"user":{"name":"short","password":"1234567"}}`, []string{"X-Auth-Token", adminTok}},
		{"trs", "PATCH", b + "/trs/v3/users/" + studentID, `{"user":{"password":"1234567"}}`, []string{"X-Auth-Token", adminTok}},
		{"broker", "POST", b + "/broker/v1/change-password/", `{"user":"student1","password":"student-pass-1","user_domain_name":"default","new_password":"1234567"}`, nil},
	} {
		probes++
		h := append([]string{"Content-Type", jsonType}, r.headers...)
		if a := send(t, nil, r.method, r.url, r.body, h...); a.status != http.StatusBadRequest || !strings.Contains(a.body, "at least 8") {
			t.Errorf("%s %s %s: %d %s, want 400 at least 8", r.face, r.method, r.url, a.status, a.body)
		}
	}
	req, _ := http.NewRequest("POST", b+"/alfa/cloud_admin_password", strings.NewReader(`{"data":{"type":"credentials","attributes":{"password":"1234567"}}}`))
	req.SetBasicAuth("admin", procAdminPassword)
	req.Header.Set("Content-Type", "application/vnd.api+json")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusBadRequest {
		t.Errorf("alfa short password: %v %v", res, err)
	}
	t.Logf("reliability: %d cross-face account probes, every one refused", probes)
}

// A password change ends what the old password opened, on every face: trs
// tokens and billmgr sessions, after alfa's cloud_admin_password, an admin's
// Keystone PATCH, and the satellite's PUT.
func TestPasswordChangeEndsSessionsEverywhere(t *testing.T) {
	p := start(t, "HOSTDECK_SATELLITE_TOKEN="+satToken)
	b := p.base
	adminTok := keystoneLogin(t, b, "admin", procAdminPassword)
	studentID := trsUser(t, b, adminTok, "student1", "student-pass-1", "member")
	send(t, nil, "POST", b+"/satellite/api/user", `{"email":"cust@mail.test","password":"cust-password"}`, "Authorization", satToken)
	alive := func(tok string) bool {
		return send(t, nil, "GET", b+"/trs/v1/info", "", "X-Auth-Token", tok).status == http.StatusOK
	}
	for _, tc := range []struct {
		name, user, old, new string
		change               func(newPassword string) exchange
	}{
		{"alfa cloud_admin_password", "admin", procAdminPassword, "admin-password-2", func(pw string) exchange {
			return send(t, nil, "POST", b+"/alfa/cloud_admin_password", `{"data":{"type":"credentials","attributes":{"password":"`+pw+`"}}}`,
				"Content-Type", "application/vnd.api+json", "Authorization", basic("admin", procAdminPassword))
		}},
		{"trs PATCH /v3/users", "student1", "student-pass-1", "student-pass-2", func(pw string) exchange {
			return send(t, nil, "PATCH", b+"/trs/v3/users/"+studentID, `{"user":{"password":"`+pw+`"}}`, "X-Auth-Token", adminTok, "Content-Type", jsonType)
		}},
		{"satellite PUT /api/user", "cust@mail.test", "cust-password", "cust-password-2", func(pw string) exchange {
			return send(t, nil, "PUT", b+"/satellite/api/user/cust@mail.test", `{"password":"`+pw+`"}`, "Authorization", satToken)
		}},
	} {
		tok, sess := keystoneLogin(t, b, tc.user, tc.old), billmgrLogin(t, b, tc.user, tc.old)
		if !alive(tok) || billmgrWho(t, b, sess) != tc.user {
			t.Fatalf("%s: the token or session does not work before the change", tc.name)
		}
		time.Sleep(2 * time.Millisecond) // the change is later than the login
		if a := tc.change(tc.new); a.status >= 300 {
			t.Fatalf("%s: %d %s", tc.name, a.status, a.body)
		}
		if alive(tok) {
			t.Errorf("%s: the old trs token still works", tc.name)
		}
		if billmgrWho(t, b, sess) != "" {
			t.Errorf("%s: the old billmgr session still works", tc.name)
		}
		if tc.user == "admin" {
			adminTok = keystoneLogin(t, b, "admin", tc.new)
		}
		if !alive(keystoneLogin(t, b, tc.user, tc.new)) {
			t.Errorf("%s: a token of the new password does not work", tc.name)
		}
	}
}

// A billmgr session and a trs token are one kind of record, of two kinds:
// neither is accepted in the other's place, nor by the satellite.
func TestSessionKindsDoNotCross(t *testing.T) {
	p := start(t, "HOSTDECK_SATELLITE_TOKEN="+satToken)
	b := p.base
	tok, sess := keystoneLogin(t, b, "admin", procAdminPassword), billmgrLogin(t, b, "admin", procAdminPassword)
	if send(t, nil, "GET", b+"/trs/v1/info", "", "X-Auth-Token", tok).status != http.StatusOK || billmgrWho(t, b, sess) != "admin" {
		t.Fatal("the token or the session does not work")
	}
	if a := send(t, nil, "GET", b+"/trs/v1/info", "", "X-Auth-Token", sess); a.status == http.StatusOK {
		t.Errorf("a billmgr session works as an X-Auth-Token: %s", a.body)
	}
	if a := send(t, nil, "GET", b+"/satellite/api/user/x@mail.test", "", "Authorization", sess); a.status != http.StatusForbidden {
		t.Errorf("a billmgr session on the satellite: %d %s", a.status, a.body)
	}
	if who := billmgrWho(t, b, tok); who != "" {
		t.Errorf("a trs token works as a billmgr session (user %q)", who)
	}
}

func basic(user, password string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, password)
	return req.Header.Get("Authorization")
}

// 300 concurrent wrong passwords from one address over HTTP: at most the free
// attempts are checked, the rest are 429 with Retry-After on alfa, and HTTP
// 400 code 28 with Retry-After on the trs face; the right password from
// another address still logs in.
func TestLoginThrottleOverHTTP(t *testing.T) {
	p := start(t)
	b := p.base
	attacker := from("127.0.0.3")
	var mu sync.Mutex
	statuses := map[int]int{}
	retry := 0
	var wg sync.WaitGroup
	began := time.Now()
	for i := range 300 {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", b+"/alfa/servers", nil)
			req.SetBasicAuth("admin", fmt.Sprintf("wrong-%d", i))
			res, err := attacker.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			mu.Lock()
			statuses[res.StatusCode]++
			if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") != "" {
				retry++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("reliability: 300 concurrent wrong passwords on alfa from one address in %v: %d answered 401 (checked), %d answered 429 (%d with Retry-After)",
		time.Since(began).Round(time.Millisecond), statuses[401], statuses[429], retry)
	if statuses[401] > 5 || statuses[429] != 300-statuses[401] || retry != statuses[429] {
		t.Fatalf("statuses %v, %d with Retry-After", statuses, retry)
	}
	// The trs face answers throttling in its envelope: HTTP 400, code 28.
	a := send(t, attacker, "POST", b+"/trs/v3/auth/tokens", `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"id":"default"},"password":"x"}}}}}`,
		"Content-Type", jsonType)
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" {
		t.Errorf("keystone login while throttled: %d %q %s", a.status, a.header.Get("Retry-After"), a.body)
	}
	a = send(t, attacker, "POST", b+"/broker/v1/request-vm/", `{"user":"admin","password":"x","user_domain_name":"default","conn_type":"web","os":"linux"}`,
		"Content-Type", jsonType)
	if a.status != http.StatusBadRequest || !strings.Contains(a.body, `"code":28`) || a.header.Get("Retry-After") == "" {
		t.Errorf("broker while throttled: %d %q %s", a.status, a.header.Get("Retry-After"), a.body)
	}
	if alfaBasic(t, b, "admin", procAdminPassword) != http.StatusOK {
		t.Fatal("the right password from another address is refused")
	}
}

// Every stored name and text has a maximum length and names hold no control
// characters, on every face: a 1,000,000-character value or a NUL is a 400 in
// the face's own format and nothing is stored; a log line never carries more
// than a short cut of what a client sent.
func TestUnboundedInputIsRefused(t *testing.T) {
	p := start(t, "HOSTDECK_SATELLITE_TOKEN="+satToken)
	b := p.base
	adminTok := keystoneLogin(t, b, "admin", procAdminPassword)
	send(t, nil, "POST", b+"/satellite/api/user", `{"email":"cust@mail.test","password":"cust-password"}`, "Authorization", satToken)
	var custID string
	if m := send(t, nil, "GET", b+"/satellite/api/user/cust@mail.test", "", "Authorization", satToken).json(t); m["user"] != nil {
		custID = m["user"].(map[string]any)["id"].(string)
	}
	a := send(t, nil, "POST", b+"/satellite/api/project", `{"ownerId":"`+custID+`","projectName":"p1"}`, "Authorization", satToken)
	projectID, _ := a.json(t)["projectId"].(string)
	huge := strings.Repeat("A", 1_000_000)
	type probe struct {
		face, method, path, body string
		headers                  []string
	}
	keystone := []string{"X-Auth-Token", adminTok, "Content-Type", jsonType}
	satAuth := []string{"Authorization", satToken}
	alfa := []string{"Authorization", basic("admin", procAdminPassword), "Content-Type", "application/vnd.api+json"}
	probes := []probe{
		{"trs", "POST", "/trs/v3/users", `{"user":{"name":"` + huge + `","password":"long-enough"}}`, keystone},
		{"trs", "POST", "/trs/v3/users", `{"user":{"name":"nul\u0000name","password":"long-enough"}}`, keystone},
		{"trs", "POST", "/trs/v3/users", `{"user":{"name":"line\nbreak","password":"long-enough"}}`, keystone},
		{"trs", "POST", "/trs/v3/groups", `{"group":{"name":"` + huge + `"}}`, keystone},
		{"trs", "POST", "/trs/v3/groups", `{"group":{"name":"g","description":"` + huge + `"}}`, keystone},
		{"trs", "POST", "/trs/v1/projects/", `{"project":{"name":"p\u0007","flavor_id":"0a7e5c1d-7f3b-4c2a-9d10-000000000001","image_id":"1b8f6d2e-8a4c-4d3b-8e21-000000000001"}}`, keystone},
		{"satellite", "POST", "/satellite/api/user", `{"email":"x@mail.test","fullName":"` + huge + `","password":"long-enough"}`, satAuth},
		{"satellite", "POST", "/satellite/api/project", `{"ownerId":"` + custID + `","projectName":"` + huge + `"}`, satAuth},
		{"satellite", "PUT", "/satellite/api/project/" + projectID, `{"projectName":"a\u0000b"}`, satAuth},
		{"satellite", "PUT", "/satellite/api/project/" + projectID, `{"description":"` + huge + `"}`, satAuth},
		{"satellite", "POST", "/satellite/api/coupon", `{"userId":"` + custID + `","duration":1,"amount":1,"description":"` + huge + `"}`, satAuth},
		{"alfa", "POST", "/alfa/servers/create", `{"data":{"type":"servers","attributes":{"name":"` + huge + `"}}}`, alfa},
		{"alfa", "POST", "/alfa/servers/create", `{"data":{"type":"servers","attributes":{"name":"s","location":"a\rb"}}}`, alfa},
		{"alfa", "POST", "/alfa/servers/create", `{"data":{"type":"servers","attributes":{"name":"one","name":"two"}}}`, alfa},
		{"alfa", "POST", "/alfa/clients/create", `{"data":{"type":"clients","attributes":{"name":"` + huge + `","email":"o@lab.test"}}}`, alfa},
	}
	for _, pr := range probes {
		a := send(t, nil, pr.method, b+pr.path, pr.body, pr.headers...)
		if a.status != http.StatusBadRequest || len(a.body) > 4096 || !strings.Contains(a.body, "error") {
			t.Errorf("%s %s %s %.60s…: %d %.300s, want a short 400", pr.face, pr.method, pr.path, pr.body, a.status, a.body)
		}
	}
	// billmgr answers its error document (HTTP 200) for a name it cannot know.
	a = send(t, nil, "POST", b+"/billmgr/", url.Values{"func": {"auth"}, "username": {huge[:4000]}, "password": {"x"}, "out": {"json"}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded")
	if !strings.Contains(a.body, `"$type":"auth"`) {
		t.Errorf("billmgr login with a long name: %.300s", a.body)
	}
	// A failed login with a megabyte of user name: the log keeps a short cut.
	send(t, nil, "POST", b+"/trs/v3/auth/tokens", `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"`+huge+
		`","domain":{"id":"default"},"password":"x"}}}}}`, "Content-Type", jsonType)
	// Nothing was stored.
	if users := send(t, nil, "GET", b+"/trs/v3/users", "", "X-Auth-Token", adminTok).json(t)["users"].([]any); len(users) != 1 {
		t.Errorf("refused users were stored: %d users", len(users))
	}
	p.stop()
	longest := 0
	for _, line := range strings.Split(p.logs.String(), "\n") {
		longest = max(longest, len(line))
	}
	t.Logf("reliability: %d over-long or control-character inputs refused with 400 on trs, satellite and alfa; longest log line %d bytes after a 1,000,000-character user name",
		len(probes), longest)
	if longest > 2048 {
		t.Errorf("a log line of %d bytes", longest)
	}
}
