package trs

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hostdeck/internal/testenv"
)

// FuzzCredentialBody feeds arbitrary bodies to POST /v3/credentials, to the
// user's own password change and to a password+totp login: never a 5xx, a
// refusal is a Keystone error, and a created credential never shows its secret.
func FuzzCredentialBody(f *testing.F) {
	for _, s := range []string{
		`{"credential": {"type": "totp", "user_id": "x", "blob": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}}`,
		`{"credential": {"type": "totp", "blob": 5}}`, `{"credential": null}`, `{"credential": {"type": "ec2"}}`,
		`{"auth": {"identity": {"methods": ["password", "totp"], "totp": {"user": {"passcode": 123456}}}}}`,
		`{"auth": {"identity": {"methods": ["totp"], "totp": {"user": {"name": "admin", "passcode": "123456"}}}}}`,
		`{"user": {"password": "new-password", "original_password": "x"}}`, `{"user": {"password": 1}}`,
		`{`, `[]`, "\xff",
	} {
		f.Add([]byte(s))
	}
	env := testenv.New(f)
	tok := env.Token(f, testenv.AdminUser, testenv.AdminPassword)
	h := NewHandler(env.Desktop, env.Session, env.Machine, env.Provision, env.HandOut, env.Catalogue, env.Identity, env.Login, Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		s := strings.ReplaceAll(string(body), `"user_id": "x"`, `"user_id": "`+env.Admin.ID+`"`)
		for _, path := range []string{"/v3/credentials", "/v3/auth/tokens", "/v3/users/" + env.Admin.ID + "/password"} {
			r := httptest.NewRequest("POST", path, strings.NewReader(s))
			r.RemoteAddr = "192.0.2.9:1234"
			r.Header.Set("X-Auth-Token", tok)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code >= 500 {
				t.Fatalf("%s %q: status %d %s", path, body, w.Code, w.Body)
			}
			if w.Code == http.StatusNoContent {
				t.Fatalf("%s %q: the admin's password was changed", path, body)
			}
			if w.Code == http.StatusCreated {
				if strings.Contains(w.Body.String(), `"blob":"`) && !strings.Contains(w.Body.String(), `"blob":"******"`) {
					t.Fatalf("a secret is shown: %s", w.Body)
				}
				continue
			}
			var ke keystoneError
			if json.Unmarshal(w.Body.Bytes(), &ke) != nil || ke.Error.Code != w.Code || ke.Error.Message == "" {
				t.Fatalf("%s %q: not a Keystone error: %d %s", path, body, w.Code, w.Body)
			}
		}
	})
}
