package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestMainListenerCleansPaths: the main listener cleans a path ("//", "/./",
// "/x/../", a trailing slash) and routes it as each face's own listener does,
// so the face answers, authentication first, in its own format. A bare ServeMux
// answered such a path with an unauthenticated redirect and an HTML body.
func TestMainListenerCleansPaths(t *testing.T) {
	p := start(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, admin bool) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest("GET", p.base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if admin {
			req.SetBasicAuth("admin", procAdminPassword)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode/100 == 3 || res.Header.Get("Location") != "" || strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s = %d, Location %q, %s: %s", path, res.StatusCode, res.Header.Get("Location"), res.Header.Get("Content-Type"), body)
		}
		return res, body
	}

	for _, path := range []string{"//alfa/clients", "/alfa//clients", "/alfa/./clients", "/alfa", "//alfa"} {
		res, _ := get(path, false)
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("Content-Type") != "application/vnd.api+json" ||
			!strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("GET %s without credentials = %d %s, want alfa's JSON:API 401 with the Basic challenge", path, res.StatusCode, res.Header)
		}
	}
	for _, path := range []string{"//alfa/clients", "/alfa//clients/", "/x/../alfa/clients"} {
		res, body := get(path, true)
		var doc struct {
			Links map[string]string `json:"links"`
		}
		if res.StatusCode != http.StatusOK || json.Unmarshal(body, &doc) != nil || !strings.HasPrefix(doc.Links["self"], "/alfa/clients?") {
			t.Errorf("GET %s as admin = %d: %s, want the list with links under /alfa/clients", path, res.StatusCode, body)
		}
	}
	// Another face, in its own envelope: trs asks for a token (code 24).
	res, body := get("//trs//v1/info", false)
	var env struct {
		Error struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if res.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &env) != nil || env.Error.Code != 24 {
		t.Errorf("GET //trs//v1/info = %d: %s, want the TRS envelope with code 24", res.StatusCode, body)
	}
	if res, body := get("//healthz", false); res.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("GET //healthz = %d: %s", res.StatusCode, body)
	}
}

// TestFacesTable: a face is one row of faces, and its flag, variable and help
// come from it, named as they always were.
func TestFacesTable(t *testing.T) {
	flags := newServeCmd().Flags()
	listen := flags.Lookup("listen").Usage
	seen := map[string]bool{}
	for _, f := range faces {
		if seen[f.name] || f.mount != "/"+f.name {
			t.Errorf("face %q mounted at %q (want unique names, each mounted at /name)", f.name, f.mount)
		}
		seen[f.name] = true
		fl := flags.Lookup(f.name + "-listen")
		env := "HOSTDECK_" + strings.ToUpper(f.name) + "_LISTEN"
		if fl == nil || fl.Usage != "own listener for the "+f.name+" face at / ["+env+"]" {
			t.Errorf("flag --%s-listen: %+v", f.name, fl)
		}
		if !strings.Contains(listen, f.mount+"/") {
			t.Errorf("--listen help %q does not name %s/", listen, f.mount)
		}
	}
	for _, name := range []string{"alfa", "trs", "broker", "satellite", "billmgr"} {
		if !seen[name] {
			t.Errorf("face %s is not served", name)
		}
	}
}
