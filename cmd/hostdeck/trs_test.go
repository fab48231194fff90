package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTRSMounts checks that serve mounts the trs face under /trs/ on the main
// listener and at / on --trs-listen: a Keystone login on one, /v1/info (with the
// configured licence) on both.
func TestTRSMounts(t *testing.T) {
	trsAddr := freeAddr(t)
	license := filepath.Join(t.TempDir(), "license.json")
	if err := os.WriteFile(license, []byte(`{"name":"Laboratoria","product":"RSserver","expire_at":1545955200,"verified":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "HOSTDECK_TRS_LISTEN="+trsAddr, "HOSTDECK_TRS_LICENSE="+license)
	login := `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": "` +
		procAdminPassword + `"}}}}}`
	res, err := http.Post(p.base+"/trs/v3/auth/tokens", "application/json", strings.NewReader(login))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	tok := res.Header.Get("X-Subject-Token")
	if res.StatusCode != http.StatusCreated || tok == "" {
		t.Fatalf("login: %d, token %q", res.StatusCode, tok)
	}
	for _, url := range []string{p.base + "/trs/v1/info", "http://" + trsAddr + "/v1/info/"} {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("X-Auth-Token", tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Info struct {
				Version string `json:"version"`
				License struct {
					Name string `json:"name"`
				} `json:"license"`
			} `json:"info"`
		}
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || err != nil || body.Info.Version == "" || body.Info.License.Name != "Laboratoria" {
			t.Fatalf("GET %s: %d %+v %v", url, res.StatusCode, body, err)
		}
	}
}
