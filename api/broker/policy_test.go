package broker_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/broker"
	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/handout"
	"hostdeck/core/login"
	"hostdeck/core/secret"
	"hostdeck/core/services"
	"hostdeck/internal/testenv"
)

// startWith serves the broker over an env with cfg and a settable clock.
func startWith(tb testing.TB, cfg core.Config) (*testenv.Env, string, *testenv.Clock) {
	tb.Helper()
	clk := testenv.NewClock(time.Now().UTC())
	env := testenv.NewWith(tb, testenv.Options{Config: cfg, Clock: clk.Now})
	srv := httptest.NewServer(broker.NewHandler(env.HandOut, env.Machine, env.Login, broker.Options{Log: env.Log, Registerer: prometheus.NewRegistry()}))
	tb.Cleanup(srv.Close)
	return env, srv.URL, clk
}

// errorOf returns the TRS error's code, message and data.
func (r *response) errorOf(t *testing.T) (int, string, map[string]any) {
	t.Helper()
	if r.status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", r.status, r.raw)
	}
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(float64)
	msg, _ := e["message"].(string)
	data, _ := e["data"].(map[string]any)
	return int(c), msg, data
}

func (r *response) warning() map[string]any {
	w, _ := r.body["warning"].(map[string]any)
	return w
}

func TestBrokerWebGuard(t *testing.T) {
	env, base, _ := startWith(t, core.Config{})
	env.Server(t, "node-1", 10)
	p := project(t, env, "lab", desktop.ModeStandard, 5, "trs")
	guard := func(nets ...string) {
		t.Helper()
		if _, err := env.Desktop.UpdatePool(env.AdminCtx(), p.ID, desktop.PoolInput{AllowedNetworks: &nets}); err != nil {
			t.Fatal(err)
		}
	}

	// The test client connects from 127.0.0.1; a declared ip_address changes nothing.
	guard("10.0.0.0/8")
	r := post(t, base+"/v1/request-vm/", `{"user": "trs", "password": "trs-password", "user_domain_name": "default", "ip_address": "10.1.1.1"}`)
	code, msg, data := r.errorOf(t)
	if code != 26 || msg != "Invalid settings of Web Guard. Please contact system administrator." || data["project_name"] != "lab" {
		t.Fatalf("outside the guard: %d %q %v", code, msg, data)
	}
	r = post(t, base+"/v1/request-vm/", loginBody("trs"), "Accept-Language", "ru-RU,ru;q=0.9,en;q=0.5")
	if code, msg, _ := r.errorOf(t); code != 26 || msg != "Неправильные настройки Web Guard.Обратитесь к системному администратору." {
		t.Fatalf("ru: %d %q", code, msg)
	}

	// Inside the guard the machine is handed out.
	guard("10.0.0.0/8", "127.0.0.0/8")
	got := handOut(t, base, "trs", 10*time.Millisecond)
	if got["status"] != handout.RequestCompleted {
		t.Fatalf("hand-out = %v", got)
	}
	req := post(t, base+"/v1/request-vm/", loginBody("trs"))
	if req.status != http.StatusOK {
		t.Fatalf("request-vm: %s", req.raw)
	}
	// get-vm is guarded as well.
	guard("10.0.0.0/8")
	g := post(t, base+"/v1/get-vm/", `{"request": "`+req.body["request_id"].(string)+`"}`, "X-Auth-Token", req.header.Get("X-Auth-Token"))
	if code, _, _ := g.errorOf(t); code != 26 {
		t.Fatalf("get-vm outside the guard: code %d", code)
	}
	guard()
	g = post(t, base+"/v1/get-vm/", `{"request": "`+req.body["request_id"].(string)+`"}`, "X-Auth-Token", req.header.Get("X-Auth-Token"))
	if g.status != http.StatusOK {
		t.Fatalf("get-vm with no guard: %s", g.raw)
	}
}

func TestBrokerPasswordPolicy(t *testing.T) {
	env, base, clk := startWith(t, core.Config{PasswordMaxAge: 30 * 24 * time.Hour, PasswordWarn: 24 * time.Hour, GraceLogins: 2})
	env.Server(t, "node-1", 10)
	project(t, env, "lab", desktop.ModeSimultaneous, 0, "trs", "old")

	r := post(t, base+"/v1/request-vm/", loginBody("trs"))
	if r.status != http.StatusOK || r.body["warning"] != nil {
		t.Fatalf("fresh password: %s", r.raw)
	}
	// 19: the answer goes on, with the warning.
	clk.Add(29*24*time.Hour + 12*time.Hour)
	r = post(t, base+"/v1/request-vm/", loginBody("trs"))
	w := r.warning()
	if r.status != http.StatusOK || r.body["request_id"] == nil || w["code"] != float64(19) ||
		w["message"] != "Password expires in 43200 seconds and needs to be changed." {
		t.Fatalf("expiring: %s", r.raw)
	}
	p := post(t, base+"/v1/get-projects/", loginBody("trs"), "Accept-Language", "ru")
	if w := p.warning(); p.status != http.StatusOK || w["code"] != float64(19) || w["message"] != "Ваш пароль истекает через 43200 секунд, измените его." {
		t.Fatalf("get-projects expiring: %s", p.raw)
	}
	// A login by token is not warned again.
	tok := r.header.Get("X-Auth-Token")
	if r := post(t, base+"/v1/request-vm/", `{"token": "`+tok+`"}`); r.status != http.StatusOK || r.body["warning"] != nil {
		t.Fatalf("token login: %s", r.raw)
	}

	// 20: expired, grace logins counted down; then 7.
	clk.Add(24 * time.Hour)
	for _, left := range []string{"1", "0"} {
		r = post(t, base+"/v1/get-projects/", loginBody("trs"))
		w = r.warning()
		if r.status != http.StatusOK || w["code"] != float64(20) || w["message"] != "Password expired, "+left+" grace logins remain." {
			t.Fatalf("grace login: %s", r.raw)
		}
	}
	r = post(t, base+"/v1/request-vm/", loginBody("trs"))
	if code, msg, _ := r.errorOf(t); code != 7 || msg != "The password needs to be changed." {
		t.Fatalf("expired: %d %q", code, msg)
	}
	r = post(t, base+"/v1/request-vm/", loginBody("trs"), "Accept-Language", "ru")
	if code, msg, _ := r.errorOf(t); code != 7 || msg != "Необходимо изменить пароль." {
		t.Fatalf("expired ru: %d %q", code, msg)
	}
	// Changing the expired password works and starts the policy again.
	cp := post(t, base+"/v1/change-password/", `{"user": "trs", "user_domain_name": "default", "password": "trs-password", "new_password": "Qdr4H2d5bn01"}`)
	if cp.status != http.StatusOK {
		t.Fatalf("change-password: %s", cp.raw)
	}
	r = post(t, base+"/v1/request-vm/", `{"user": "trs", "password": "Qdr4H2d5bn01", "user_domain_name": "default"}`)
	if r.status != http.StatusOK || r.body["warning"] != nil {
		t.Fatalf("after the change: %s", r.raw)
	}
}

func TestBrokerOTP(t *testing.T) {
	env, base, clk := startWith(t, core.Config{})
	env.Server(t, "node-1", 10)
	project(t, env, "lab", desktop.ModeSimultaneous, 0, "trs")
	u, err := env.Store.GetUserByName(context.Background(), "trs")
	if err != nil {
		t.Fatal(err)
	}
	const sec = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	if _, err := env.Login.CreateCredential(env.AdminCtx(), login.CredentialInput{UserID: u.ID, Type: "totp", Blob: sec}); err != nil {
		t.Fatal(err)
	}

	r := post(t, base+"/v1/request-vm/", loginBody("trs"))
	if code, msg, _ := r.errorOf(t); code != 27 || msg != "OTP is required for authentication." {
		t.Fatalf("no otp: %d %q", code, msg)
	}
	r = post(t, base+"/v1/get-projects/", loginBody("trs"), "Accept-Language", "ru")
	if code, msg, _ := r.errorOf(t); code != 27 || msg != "Для аутентификации требуется код OTP." {
		t.Fatalf("no otp ru: %d %q", code, msg)
	}
	code, _ := totp.GenerateCode(sec, clk.Now())
	wrong := "000000"
	if code == wrong {
		wrong = "999999"
	}
	r = post(t, base+"/v1/request-vm/", `{"user": "trs", "password": "trs-password", "user_domain_name": "default", "otp": "`+wrong+`"}`)
	if c, _, _ := r.errorOf(t); c != 6 {
		t.Fatalf("wrong otp: code %d", c)
	}
	r = post(t, base+"/v1/request-vm/", `{"user": "trs", "password": "trs-password", "user_domain_name": "default", "otp": "`+code+`"}`)
	if r.status != http.StatusOK || r.header.Get("X-Auth-Token") == "" {
		t.Fatalf("with otp: %s", r.raw)
	}
	// Replayed: refused as wrong credentials.
	r = post(t, base+"/v1/request-vm/", `{"user": "trs", "password": "trs-password", "user_domain_name": "default", "otp": "`+code+`"}`)
	if c, _, _ := r.errorOf(t); c != 6 {
		t.Fatalf("replayed otp: code %d", c)
	}
	// "passcode" is the other accepted spelling.
	clk.Add(30 * time.Second)
	next, _ := totp.GenerateCode(sec, clk.Now())
	p := post(t, base+"/v1/get-projects/", `{"user": "trs", "password": "trs-password", "user_domain_name": "default", "passcode": "`+next+`"}`)
	if p.status != http.StatusOK {
		t.Fatalf("passcode: %s", p.raw)
	}
}

// downStore fails the reads of a login as a database that is down does.
type downStore struct{ testenv.Store }

func (downStore) GetDomain(context.Context, string) (*core.Domain, error) {
	return nil, core.Wrap(core.KindInternal, errors.New("sql: database is closed"), "get domain")
}

func (downStore) GetTokenByHash(context.Context, string) (*core.Token, error) {
	return nil, context.DeadlineExceeded
}

func TestBrokerAuthUnavailable(t *testing.T) {
	env := testenv.New(t)
	svc := core.New(core.Deps{Store: downStore{env.Store}, Hasher: secret.Hasher{Params: secret.TestParams}}, core.Config{})
	down := services.New(svc, downStore{env.Store}, services.Options{})
	srv := httptest.NewServer(broker.NewHandler(down.HandOut, down.Machine, down.Login, broker.Options{Log: env.Log, Registerer: prometheus.NewRegistry()}))
	t.Cleanup(srv.Close)

	r := post(t, srv.URL+"/v1/request-vm/", loginBody("trs"))
	if code, msg, _ := r.errorOf(t); code != 21 || msg != "Authentication server is not available. Please contact system administrator." {
		t.Fatalf("password login: %d %q", code, msg)
	}
	r = post(t, srv.URL+"/v1/get-vm/", `{"request": "x"}`, "X-Auth-Token", "some-token", "Accept-Language", "ru")
	if code, msg, _ := r.errorOf(t); code != 21 || msg != "Сервер аутентификации недоступен. Обратитесь к системному администратору." {
		t.Fatalf("token: %d %q", code, msg)
	}
}

func TestBrokerPasswordChangeScript(t *testing.T) {
	dir := t.TempDir()
	seen := filepath.Join(dir, "seen")
	ok := filepath.Join(dir, "ok.sh")
	fail := filepath.Join(dir, "fail.sh")
	for path, body := range map[string]string{
		ok:   "#!/bin/sh\nread -r pw\nprintf '%s:%s' \"$1\" \"$pw\" > " + seen + "\n",
		fail: "#!/bin/sh\ncat >/dev/null\nexit 1\n",
	} {
		if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	change := `{"user": "trs", "user_domain_name": "default", "password": "trs-password", "new_password": "Qdr4H2d5bn01"}`
	for _, tc := range []struct {
		name, script string
		code         int
		en, ru       string
	}{
		{"missing", filepath.Join(dir, "nope.sh"), 22,
			"Couldn’t change password because of the KERBEROS.script_path file doesn’t exist or it’s unaccessible. Please contact system administrator.",
			"Не удалось изменить пароль в связи с отсутствием файла KERBEROS.script_path или прав для его запуска. Обратитесь к системному администратору."},
		{"fails", fail, 23,
			"Couldn’t change password because of an error while change password process execution. Please contact system administrator.",
			"Не удалось изменить пароль в связи с ошибкой во время запуска процесса смены пароля. Обратитесь к системному администратору."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, base, _ := startWith(t, core.Config{PasswordChangeScript: tc.script})
			project(t, env, "lab", desktop.ModeSimultaneous, 0, "trs")
			if code, msg, _ := post(t, base+"/v1/change-password/", change).errorOf(t); code != tc.code || msg != tc.en {
				t.Fatalf("en: %d %q", code, msg)
			}
			if code, msg, _ := post(t, base+"/v1/change-password/", change, "Accept-Language", "ru").errorOf(t); code != tc.code || msg != tc.ru {
				t.Fatalf("ru: %d %q", code, msg)
			}
			// The password is unchanged.
			if r := post(t, base+"/v1/get-projects/", loginBody("trs")); r.status != http.StatusOK {
				t.Fatalf("old password after a failed change: %s", r.raw)
			}
		})
	}
	t.Run("ok", func(t *testing.T) {
		env, base, _ := startWith(t, core.Config{PasswordChangeScript: ok})
		project(t, env, "lab", desktop.ModeSimultaneous, 0, "trs")
		r := post(t, base+"/v1/change-password/", change)
		if r.status != http.StatusOK || r.body["message"] != "Password successfully changed for user 'trs'" {
			t.Fatalf("change: %s", r.raw)
		}
		if b, _ := os.ReadFile(seen); string(b) != "trs:Qdr4H2d5bn01" {
			t.Fatalf("script saw %q", b)
		}
		if c := post(t, base+"/v1/get-projects/", loginBody("trs")).code(); c != 6 {
			t.Fatalf("old password: code %d", c)
		}
	})
}

// The licence's end stops the broker (code 2, with the address the client used);
// with no server to build on, a request finds nothing to hand out (code 14).
func TestBrokerLicenseAndNoInstance(t *testing.T) {
	env, base, clk := startWith(t, core.Config{LicenseExpiresAt: time.Now().Add(time.Hour)})
	project(t, env, "lab", desktop.ModeStandard, 0, "ann")

	r := post(t, base+"/v1/request-vm/", loginBody("ann"), "Accept-Language", "ru")
	code, msg, data := r.errorOf(t)
	if code != 14 || data["detail"] == nil || !strings.Contains(msg, "lab") {
		t.Fatalf("no server: code %d %q %v", code, msg, data)
	}

	clk.Add(2 * time.Hour)
	r = post(t, base+"/v1/request-vm/", loginBody("ann"))
	code, msg, _ = r.errorOf(t)
	if code != 2 || !strings.Contains(msg, base) {
		t.Fatalf("licence ended: code %d %q", code, msg)
	}
	r = post(t, base+"/v1/get-projects/", loginBody("ann"), "Accept-Language", "ru")
	if code, msg, _ = r.errorOf(t); code != 2 || !strings.Contains(msg, "лицензии") {
		t.Fatalf("licence ended, in Russian: code %d %q", code, msg)
	}
}
