package broker_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/broker"
	"hostdeck/core"
	"hostdeck/core/identity"
	"hostdeck/internal/testenv"
)

// FuzzBrokerLoginBodies feeds arbitrary bodies (with the one-time code fields)
// to the broker's login routes: never a 5xx, every refusal a TRS envelope with
// a catalogue code (or 28, throttled).
func FuzzBrokerLoginBodies(f *testing.F) {
	for _, s := range []string{
		`{"user": "trs", "password": "trs-password", "user_domain_name": "default", "otp": "123456"}`,
		`{"user": "trs", "password": "trs-password", "passcode": 5}`,
		`{"user": "trs", "password": "trs-password", "new_password": "Qdr4H2d5bn01", "otp": ""}`,
		`{"request": "x"}`, `{`, `[]`, `null`, "\xff",
	} {
		f.Add([]byte(s))
	}
	env := testenv.NewWith(f, testenv.Options{Config: core.Config{PasswordMaxAge: 1, GraceLogins: 1}})
	name, pw := "trs", "trs-password"
	if _, err := env.Identity.CreateUser(env.AdminCtx(), identity.UserInput{Name: &name, Password: &pw}); err != nil {
		f.Fatal(err)
	}
	h := broker.NewHandler(env.HandOut, env.Machine, env.Login, broker.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/v1/request-vm/", "/v1/get-projects/", "/v1/change-password/", "/v1/get-vm/"} {
			r := httptest.NewRequest("POST", path, strings.NewReader(string(body)))
			r.RemoteAddr = "192.0.2.10:1234"
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code >= 500 {
				t.Fatalf("%s %q: status %d %s", path, body, w.Code, w.Body)
			}
			if w.Code == http.StatusBadRequest {
				var env struct {
					Error struct {
						Code    int    `json:"code"`
						Message string `json:"message"`
					} `json:"error"`
				}
				// 1..27 are the document's codes, 28 hostdeck's throttling (with
				// Retry-After): the fuzzer's wrong passwords are throttled.
				if json.Unmarshal(w.Body.Bytes(), &env) != nil || env.Error.Code < 1 || env.Error.Code > 28 || env.Error.Message == "" ||
					env.Error.Code == 28 && w.Header().Get("Retry-After") == "" {
					t.Fatalf("%s %q: bad envelope %s", path, body, w.Body)
				}
			}
		}
	})
}
