package sampleapp

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DATA_DIR", dir)

	if code, _, _ := runCmd(t, "", "sample-app", "demo-enable"); code != 0 {
		t.Fatalf("demo-enable: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, DemoFile)); err != nil {
		t.Fatalf("demo file: %v", err)
	}
	if code, _, _ := runCmd(t, "", "demo-disable"); code != 0 {
		t.Fatalf("demo-disable: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, DemoFile)); !os.IsNotExist(err) {
		t.Fatalf("demo file still there: %v", err)
	}
	if code, _, _ := runCmd(t, "", "demo-disable"); code != 0 {
		t.Fatalf("demo-disable twice: exit %d", code)
	}

	if code, _, _ := runCmd(t, "s3cret-Pass\n", "owner-password"); code != 0 {
		t.Fatalf("owner-password: exit %d", code)
	}
	b, err := os.ReadFile(filepath.Join(dir, PasswordFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("s3cret")) || !bytes.HasPrefix(b, []byte("pbkdf2-sha256$")) {
		t.Fatalf("password file = %q", b)
	}
	if code, _, stderr := runCmd(t, "\n", "owner-password"); code == 0 || !strings.Contains(stderr, "empty") {
		t.Fatalf("empty password: exit %d, stderr %q", code, stderr)
	}

	p := filepath.Join(dir, "sub", "f.txt")
	if code, _, _ := runCmd(t, "hello", "write-file", p); code != 0 {
		t.Fatalf("write-file: exit %d", code)
	}
	if code, out, _ := runCmd(t, "", "read-file", p); code != 0 || out != "hello" {
		t.Fatalf("read-file: exit %d, %q", code, out)
	}
	if code, _, _ := runCmd(t, "", "read-file", filepath.Join(dir, "missing")); code != 1 {
		t.Fatalf("read-file missing: exit %d", code)
	}
	if code, _, _ := runCmd(t, "", "bogus"); code != 2 {
		t.Fatalf("bogus: exit %d", code)
	}
	if code, _, _ := runCmd(t, ""); code != 2 {
		t.Fatalf("no args: exit %d", code)
	}
}

func TestHandler(t *testing.T) {
	dir := t.TempDir()
	srv := httptest.NewServer(Handler(dir, "Lab <one>"))
	defer srv.Close()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
	code, body := get("/")
	if code != 200 || !strings.Contains(body, "Lab &lt;one&gt;") || !strings.Contains(body, "Demo data: off") || !strings.Contains(body, "Owner password: not set") {
		t.Fatalf("page = %d %s", code, body)
	}
	os.WriteFile(filepath.Join(dir, DemoFile), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(dir, PasswordFile), []byte("x"), 0o644)
	if _, body := get("/"); !strings.Contains(body, "Demo data: on") || !strings.Contains(body, "Owner password: set") {
		t.Fatalf("page = %s", body)
	}
	if code, _ := get("/nope"); code != 404 {
		t.Fatalf("/nope = %d", code)
	}
}
