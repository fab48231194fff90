package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestBillmgrMounts checks that serve mounts the billmgr face under /billmgr/ (and
// /billmgr) on the main listener and at / on --billmgr-listen, and seeds the
// document's images at start: a session opened on one listener works on the other.
func TestBillmgrMounts(t *testing.T) {
	addr := freeAddr(t)
	p := start(t, "HOSTDECK_BILLMGR_LISTEN="+addr)
	call := func(u string, form url.Values) map[string]any {
		t.Helper()
		res, err := http.PostForm(u, form)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body struct {
			Doc map[string]any `json:"doc"`
		}
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK || body.Doc == nil {
			t.Fatalf("POST %s: %d %v", u, res.StatusCode, err)
		}
		if e, bad := body.Doc["error"]; bad {
			t.Fatalf("POST %s: %v", u, e)
		}
		return body.Doc
	}
	doc := call(p.base+"/billmgr/", url.Values{"func": {"auth"}, "username": {"admin"}, "password": {procAdminPassword}, "out": {"json"}})
	session, _ := doc["auth"].(map[string]any)["$"].(string)
	if session == "" {
		t.Fatalf("auth = %v", doc)
	}
	for _, u := range []string{p.base + "/billmgr", "http://" + addr + "/"} {
		doc := call(u, url.Values{"func": {"image"}, "auth": {session}, "out": {"json"}})
		raw, _ := json.Marshal(doc)
		if !strings.Contains(string(raw), `"f8f2573f-56c4-44c5-8469-84eee4aa64e7"`) || !strings.Contains(string(raw), `"Windows Server 2022"`) {
			t.Fatalf("images at %s = %s", u, raw)
		}
	}
}
