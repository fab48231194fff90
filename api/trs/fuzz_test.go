package trs

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hostdeck/api/rsproto"
	"hostdeck/internal/testenv"
)

// FuzzDecodeTRS feeds arbitrary bodies to the request decoder and to the Keystone
// login: neither may panic, a rejected body is code 9 in a well-formed TRS
// envelope, and the handler never answers 5xx or anything but Keystone's shape.
func FuzzDecodeTRS(f *testing.F) {
	for _, s := range []string{
		`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": "x"}}}}}`,
		`{"auth": {"scope": "unscoped"}}`, `{"auth": {"scope": {"project": {"id": 5}}}}`,
		`{`, `[]`, `null`, `{"a":1} x`, `{"user": {"name": "x", "password": 1}}`, "\xff", `{"auth": {"identity": {"methods": [null]}}}`,
	} {
		f.Add([]byte(s))
	}
	env := testenv.New(f)
	h := NewHandler(env.Desktop, env.Session, env.Machine, env.Provision, env.HandOut, env.Catalogue, env.Identity, env.Login, Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		var v ksAuthRequest
		if err := rsproto.DecodeBytes(body, &v); err != nil {
			r := httptest.NewRequest("POST", "/v1/servers", nil)
			w := httptest.NewRecorder()
			writeError(w, r, err)
			var env struct {
				Error struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if w.Code != http.StatusBadRequest || json.Unmarshal(w.Body.Bytes(), &env) != nil || env.Error.Code != rsproto.CodeInvalidBody || env.Error.Message == "" {
				t.Fatalf("body %q: bad envelope %d %s", body, w.Code, w.Body)
			}
		}
		r := httptest.NewRequest("POST", "/v3/auth/tokens", strings.NewReader(string(body)))
		r.RemoteAddr = "192.0.2.1:1234"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("body %q: status %d %s", body, w.Code, w.Body)
		}
		if w.Code != http.StatusCreated {
			var ke keystoneError
			if json.Unmarshal(w.Body.Bytes(), &ke) != nil || ke.Error.Code != w.Code || ke.Error.Message == "" {
				t.Fatalf("body %q: not a Keystone error: %d %s", body, w.Code, w.Body)
			}
		}
	})
}
