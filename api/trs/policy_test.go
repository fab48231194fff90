package trs_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/trs"
	"hostdeck/core"
	"hostdeck/core/identity"
	"hostdeck/core/secret"
	"hostdeck/core/services"
	"hostdeck/internal/testenv"
)

// startWith serves the face over an env with cfg and a settable clock.
func startWith(t *testing.T, cfg core.Config) (*testenv.Env, *client, *testenv.Clock) {
	t.Helper()
	clk := testenv.NewClock(time.Now().UTC())
	env := testenv.NewWith(t, testenv.Options{Config: cfg, Clock: clk.Now})
	h := trs.NewHandler(env.Desktop, env.Session, env.Machine, env.Provision, env.HandOut, env.Catalogue, env.Identity, env.Login, trs.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return env, &client{t: t, base: srv.URL}, clk
}

func member(t *testing.T, env *testenv.Env, name string) *core.User {
	t.Helper()
	pw := name + "-password"
	u, err := env.Identity.CreateUser(env.AdminCtx(), identity.UserInput{Name: &name, Password: &pw})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func totpLoginBody(user, password, passcode string) string {
	return `{"auth": {"identity": {"methods": ["password", "totp"],
		"password": {"user": {"name": "` + user + `", "domain": {"name": "Default"}, "password": "` + password + `"}},
		"totp": {"user": {"name": "` + user + `", "domain": {"name": "Default"}, "passcode": "` + passcode + `"}}}}}`
}

func TestKeystoneTOTPCredentials(t *testing.T) {
	env, c, clk := startWith(t, core.Config{})
	sam := member(t, env, "sam")
	member(t, env, "tess")
	const sec = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")

	// An admin enables TOTP for sam; the blob is never shown again.
	res := c.do("POST", "/v3/credentials", `{"credential": {"type": "totp", "user_id": "`+sam.ID+`", "blob": "`+sec+`"}}`).must(t, http.StatusCreated)
	id, _ := get(res.body, "credential", "id").(string)
	if id == "" || get(res.body, "credential", "user_id") != sam.ID || get(res.body, "credential", "type") != "totp" {
		t.Fatalf("created: %s", res.raw)
	}
	if strings.Contains(string(res.raw), sec) || get(res.body, "credential", "blob") != "******" {
		t.Fatalf("the secret is returned: %s", res.raw)
	}
	res = c.do("GET", "/v3/credentials?user_id="+sam.ID, "").must(t, http.StatusOK)
	list, _ := res.body["credentials"].([]any)
	if len(list) != 1 || strings.Contains(string(res.raw), sec) {
		t.Fatalf("list: %s", res.raw)
	}
	c.do("GET", "/v3/credentials/"+id, "").must(t, http.StatusOK)
	c.do("POST", "/v3/credentials", `{"credential": {"type": "totp", "user_id": "`+sam.ID+`", "blob": "short"}}`).keystoneError(t, http.StatusBadRequest)
	c.do("POST", "/v3/credentials", `{"credential": {"type": "ec2", "user_id": "`+sam.ID+`", "blob": "{}"}}`).keystoneError(t, http.StatusBadRequest)

	// A password login alone is refused (Keystone's 401); so is a wrong passcode.
	anon := &client{t: t, base: c.base}
	anon.do("POST", "/v3/auth/tokens", loginBody("sam", "Default", "sam-password", "")).keystoneError(t, http.StatusUnauthorized)
	anon.do("POST", "/v3/auth/tokens", `{"auth": {"identity": {"methods": ["password", "totp"],
		"password": {"user": {"name": "sam", "domain": {"name": "Default"}, "password": "sam-password"}}}}}`).keystoneError(t, http.StatusBadRequest)
	code, _ := totp.GenerateCode(sec, clk.Now())
	wrong := "123456"
	if wrong == code {
		wrong = "654321"
	}
	anon.do("POST", "/v3/auth/tokens", totpLoginBody("sam", "sam-password", wrong)).keystoneError(t, http.StatusUnauthorized)
	res = anon.do("POST", "/v3/auth/tokens", totpLoginBody("sam", "sam-password", code)).must(t, http.StatusCreated)
	methods, _ := get(res.body, "token", "methods").([]any)
	if len(methods) != 2 || methods[1] != "totp" {
		t.Fatalf("methods = %v", methods)
	}
	samTok := res.header.Get("X-Subject-Token")
	// The same passcode is not accepted twice.
	anon.do("POST", "/v3/auth/tokens", totpLoginBody("sam", "sam-password", code)).keystoneError(t, http.StatusUnauthorized)

	// A member sees and removes only its own credentials.
	tess := &client{t: t, base: c.base}
	tess.token, _ = login(t, tess, "tess", "tess-password", "")
	tess.do("GET", "/v3/credentials?user_id="+sam.ID, "").keystoneError(t, http.StatusForbidden)
	tess.do("DELETE", "/v3/credentials/"+id, "").keystoneError(t, http.StatusNotFound)
	res = tess.do("GET", "/v3/credentials", "").must(t, http.StatusOK)
	if l, _ := res.body["credentials"].([]any); len(l) != 0 {
		t.Fatalf("tess sees %s", res.raw)
	}
	tess.do("POST", "/v3/credentials", `{"credential": {"type": "totp", "user_id": "`+sam.ID+`", "blob": "`+sec+`"}}`).keystoneError(t, http.StatusForbidden)
	samC := &client{t: t, base: c.base, token: samTok}
	samC.do("DELETE", "/v3/credentials/"+id, "").must(t, http.StatusNoContent)
	login(t, anon, "sam", "sam-password", "")
}

func TestKeystonePasswordPolicy(t *testing.T) {
	env, c, clk := startWith(t, core.Config{PasswordMaxAge: 24 * time.Hour, PasswordWarn: 2 * time.Hour, GraceLogins: 1})
	pat := member(t, env, "pat")
	_, body := login(t, c, "pat", "pat-password", "")
	exp, _ := get(body, "token", "user", "password_expires_at").(string)
	if at, err := time.Parse("2006-01-02T15:04:05.000000Z", exp); err != nil || at.Sub(clk.Now()) < 23*time.Hour {
		t.Fatalf("password_expires_at = %q", exp)
	}
	if body["warning"] != nil {
		t.Fatalf("a fresh password is warned: %v", body["warning"])
	}

	// 19 beside the token, in the client's language.
	clk.Add(23 * time.Hour)
	c.lang = "ru"
	_, body = login(t, c, "pat", "pat-password", "")
	w, _ := body["warning"].(map[string]any)
	if w["code"] != float64(19) || w["message"] != "Ваш пароль истекает через 3600 секунд, измените его." {
		t.Fatalf("warning = %v", body["warning"])
	}
	// 20 on a grace login, then 401 when none is left.
	clk.Add(2 * time.Hour)
	c.lang = ""
	_, body = login(t, c, "pat", "pat-password", "")
	w, _ = body["warning"].(map[string]any)
	if w["code"] != float64(20) || w["message"] != "Password expired, 0 grace logins remain." || get(w, "data", "attempts") != "0" {
		t.Fatalf("warning = %v", body["warning"])
	}
	c.do("POST", "/v3/auth/tokens", loginBody("pat", "Default", "pat-password", "")).keystoneError(t, http.StatusUnauthorized)

	// The user changes the expired password itself, without a token, as Keystone allows.
	anon := &client{t: t, base: c.base}
	anon.do("POST", "/v3/users/"+pat.ID+"/password", `{"user": {"password": "pat-new-password", "original_password": "wrong-password"}}`).
		keystoneError(t, http.StatusUnauthorized)
	anon.do("POST", "/v3/users/"+pat.ID+"/password", `{"user": {"password": "short", "original_password": "pat-password"}}`).
		keystoneError(t, http.StatusBadRequest)
	anon.do("POST", "/v3/users/"+pat.ID+"/password", `{"user": {"password": "pat-new-password"}}`).keystoneError(t, http.StatusBadRequest)
	anon.do("POST", "/v3/users/"+pat.ID+"/password/", `{"user": {"password": "pat-new-password", "original_password": "pat-password"}}`).
		must(t, http.StatusNoContent)
	_, body = login(t, c, "pat", "pat-new-password", "")
	if body["warning"] != nil {
		t.Fatalf("a new password is warned: %v", body["warning"])
	}

	// An admin's PATCH of the password starts it again as well.
	clk.Add(25 * time.Hour)
	_, body = login(t, c, "pat", "pat-new-password", "")
	if w, _ := body["warning"].(map[string]any); w["code"] != float64(20) {
		t.Fatalf("expired again: %v", body["warning"])
	}
	admin := &client{t: t, base: c.base}
	admin.token, _ = login(t, admin, testenv.AdminUser, testenv.AdminPassword, "")
	admin.do("PATCH", "/v3/users/"+pat.ID, `{"user": {"password": "pat-third-password"}}`).must(t, http.StatusOK)
	_, body = login(t, c, "pat", "pat-third-password", "")
	if body["warning"] != nil {
		t.Fatalf("a new password is warned: %v", body["warning"])
	}
}

// downStore fails every read as a database that is down does.
type downStore struct{ testenv.Store }

func (downStore) GetTokenByHash(context.Context, string) (*core.Token, error) {
	return nil, core.Wrap(core.KindInternal, errors.New("sql: database is closed"), "get token")
}

func (downStore) GetDomain(context.Context, string) (*core.Domain, error) {
	return nil, core.Wrap(core.KindInternal, errors.New("sql: database is closed"), "get domain")
}

func (downStore) GetDomainByName(context.Context, string) (*core.Domain, error) {
	return nil, core.Wrap(core.KindInternal, errors.New("sql: database is closed"), "get domain")
}

func TestAuthServerUnavailable(t *testing.T) {
	env := testenv.New(t)
	svc := core.New(core.Deps{Store: downStore{env.Store}, Hasher: secret.Hasher{Params: secret.TestParams}}, core.Config{})
	down := services.New(svc, downStore{env.Store}, services.Options{})
	srv := httptest.NewServer(trs.NewHandler(down.Desktop, down.Session, down.Machine, down.Provision, down.HandOut, env.Catalogue, down.Identity, down.Login,
		trs.Options{Log: env.Log, Registerer: prometheus.NewRegistry()}))
	t.Cleanup(srv.Close)
	c := &client{t: t, base: srv.URL, token: "any-token"}

	code, msg, _ := c.do("GET", "/v1/info", "").trsError(t)
	if code != 21 || msg != "Authentication server is not available. Please contact system administrator." {
		t.Fatalf("code %d %q", code, msg)
	}
	c.lang = "ru"
	code, msg, _ = c.do("GET", "/v1/projects", "").trsError(t)
	if code != 21 || msg != "Сервер аутентификации недоступен. Обратитесь к системному администратору." {
		t.Fatalf("code %d %q", code, msg)
	}
	// Keystone answers 503 in its own shape, not 401 ("wrong password") nor 500.
	res, err := http.Post(srv.URL+"/v3/auth/tokens", "application/json", strings.NewReader(loginBody("admin", "Default", "x-password", "")))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var ke struct {
		Error struct {
			Code  int    `json:"code"`
			Title string `json:"title"`
		} `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&ke); err != nil || res.StatusCode != http.StatusServiceUnavailable || ke.Error.Code != 503 {
		t.Fatalf("Keystone login with the store down: %d %+v %v", res.StatusCode, ke, err)
	}
}

func TestProjectAllowedNetworks(t *testing.T) {
	_, c, _ := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	res := c.do("POST", "/v1/projects", `{"project": {"name": "guarded", "flavor_id": "0a7e5c1d-7f3b-4c2a-9d10-000000000001",
		"image_id": "1b8f6d2e-8a4c-4d3b-8e21-000000000001", "allowed_networks": ["10.0.0.0/8", "192.0.2.7"]}}`).must(t, http.StatusOK)
	id, _ := get(res.body, "project", "id").(string)
	res = c.do("GET", "/v1/projects/"+id, "").must(t, http.StatusOK)
	nets, _ := get(res.body, "project", "allowed_networks").([]any)
	if len(nets) != 2 || nets[0] != "10.0.0.0/8" || nets[1] != "192.0.2.7/32" {
		t.Fatalf("allowed_networks = %v", get(res.body, "project", "allowed_networks"))
	}
	res = c.do("PUT", "/v1/projects/"+id, `{"project": {"allowed_networks": "127.0.0.0/8, ::1"}}`).must(t, http.StatusOK)
	nets, _ = get(res.body, "project", "allowed_networks").([]any)
	if len(nets) != 2 || nets[0] != "127.0.0.0/8" || nets[1] != "::1/128" {
		t.Fatalf("allowed_networks after edit = %v", get(res.body, "project", "allowed_networks"))
	}
	code, _, data := c.do("PUT", "/v1/projects/"+id, `{"project": {"allowed_networks": ["10.0.0.0/40"]}}`).trsError(t)
	if code != 9 || !strings.Contains(data["detail"].(string), "allowed_networks") {
		t.Fatalf("bad network: code %d %v", code, data)
	}
	// Cleared: every address is allowed again, shown as [].
	res = c.do("PUT", "/v1/projects/"+id, `{"project": {"allowed_networks": []}}`).must(t, http.StatusOK)
	if nets, ok := get(res.body, "project", "allowed_networks").([]any); !ok || len(nets) != 0 {
		t.Fatalf("cleared = %s", res.raw)
	}
}
