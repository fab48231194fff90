package httpx_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// deps is every hostdeck/api package with the hostdeck packages it depends on
// (directly or not; tests excluded), as go list reports them.
func deps(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "hostdeck/api/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, d := range f[1:] {
			if strings.HasPrefix(d, "hostdeck/") {
				m[f[0]] = append(m[f[0]], d)
			}
		}
		if _, ok := m[f[0]]; !ok {
			m[f[0]] = nil
		}
	}
	return m
}

// shared are the api packages faces may import: infrastructure and the
// protocol pieces two faces share. Every other package under api/ is a face (or
// a part of one, as api/alfa/jsonapi is alfa's).
var shared = []string{"hostdeck/api/httpx", "hostdeck/api/rsproto"}

// face is the face a package of api/ belongs to ("alfa" for api/alfa/jsonapi),
// or "" for a shared package.
func face(pkg string) string {
	for _, s := range shared {
		if pkg == s || strings.HasPrefix(pkg, s+"/") {
			return ""
		}
	}
	rest, ok := strings.CutPrefix(pkg, "hostdeck/api/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// TestHTTPXIsInfrastructure keeps httpx what its package comment says: it
// imports no face nor any other package of api/, and holds no wire format of a
// face (no JSON:API: that is api/alfa/jsonapi).
func TestHTTPXIsInfrastructure(t *testing.T) {
	for pkg, ds := range deps(t) {
		if !strings.HasPrefix(pkg, "hostdeck/api/httpx") {
			continue
		}
		for _, d := range ds {
			if strings.HasPrefix(d, "hostdeck/api/") && !strings.HasPrefix(d, "hostdeck/api/httpx") {
				t.Errorf("%s imports %s", pkg, d)
			}
		}
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, marker := range []string{"application/vnd.api+json", "jsonapi", `json:"errors`, "ErrorObject"} {
			if strings.Contains(string(b), marker) {
				t.Errorf("%s holds JSON:API (%s)", name, marker)
			}
		}
	}
}

// TestFacesDoNotImportEachOther: a face imports shared packages, never another
// face (broker shares the TRS envelope with trs through api/rsproto), and a
// shared package imports no face.
func TestFacesDoNotImportEachOther(t *testing.T) {
	all := deps(t)
	for _, want := range []string{"hostdeck/api/broker", "hostdeck/api/trs", "hostdeck/api/alfa/jsonapi"} {
		if _, ok := all[want]; !ok {
			t.Fatalf("go list does not know %s", want)
		}
	}
	for pkg, ds := range all {
		mine := face(pkg)
		for _, d := range ds {
			if other := face(d); other != "" && other != mine {
				t.Errorf("%s imports %s", pkg, d)
			}
		}
	}
}
