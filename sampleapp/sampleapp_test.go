package sampleapp

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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
	srv := httptest.NewServer(Handler(dir, "Lab <one>", nil))
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
	waiting := httptest.NewServer(Handler(dir, "Lab", func() bool { return true }))
	defer waiting.Close()
	if resp, err := http.Get(waiting.URL + "/healthz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("healthz while waiting = %v, %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if code, _ := get("/nope"); code != 404 {
		t.Fatalf("/nope = %d", code)
	}
}

// lockedBuffer is a bytes.Buffer safe for the goroutine servePasswords starts.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// eventually waits up to 10 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestServePasswords(t *testing.T) {
	pipe := func(t *testing.T) (*os.File, *os.File) {
		t.Helper()
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close(); w.Close() })
		return r, w
	}

	t.Run("a pipe: waits until a password is set, takes later ones", func(t *testing.T) {
		dir := t.TempDir()
		r, w := pipe(t)
		var stderr lockedBuffer
		waiting := servePasswords(dir, r, &stderr)
		if !waiting.Load() {
			t.Fatal("not waiting for the password")
		}
		srv := httptest.NewServer(Handler(dir, "Lab", waiting.Load))
		defer srv.Close()
		health := func() int {
			resp, err := http.Get(srv.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := health(); code != http.StatusServiceUnavailable {
			t.Fatalf("healthz while waiting = %d", code)
		}
		w.WriteString("first-Pass-1\n")
		eventually(t, "the password", func() bool { return !waiting.Load() })
		if code := health(); code != http.StatusOK {
			t.Fatalf("healthz once set = %d", code)
		}
		first, err := os.ReadFile(filepath.Join(dir, PasswordFile))
		if err != nil || !bytes.HasPrefix(first, []byte("pbkdf2-sha256$")) || bytes.Contains(first, []byte("first-Pass")) {
			t.Fatalf("password file = %q, %v", first, err)
		}
		w.WriteString("\n") // refused, and the password stays
		w.WriteString("second-Pass-2\n")
		eventually(t, "the second password", func() bool {
			b, _ := os.ReadFile(filepath.Join(dir, PasswordFile))
			return !bytes.Equal(b, first)
		})
		if !strings.Contains(stderr.String(), "empty password") || strings.Contains(stderr.String(), "Pass-") {
			t.Fatalf("stderr = %q", stderr.String())
		}
	})

	t.Run("a pipe and a password set before: no wait", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, PasswordFile), []byte("pbkdf2-sha256$1$00$00\n"), 0o600)
		r, _ := pipe(t)
		if servePasswords(dir, r, io.Discard).Load() {
			t.Fatal("waiting although the password is set")
		}
	})

	t.Run("a pipe that ends without a password: the wait ends", func(t *testing.T) {
		r, w := pipe(t)
		waiting := servePasswords(t.TempDir(), r, io.Discard)
		w.Close()
		eventually(t, "the end of the wait", func() bool { return !waiting.Load() })
	})

	t.Run("a line too long: still waiting", func(t *testing.T) {
		r, w := pipe(t)
		var stderr lockedBuffer
		waiting := servePasswords(t.TempDir(), r, &stderr)
		go func() { w.WriteString(strings.Repeat("x", 5000) + "\n"); w.Close() }()
		eventually(t, "the error", func() bool { return strings.Contains(stderr.String(), "read stdin") })
		if !waiting.Load() {
			t.Fatal("not waiting after a bad line")
		}
	})

	t.Run("not a pipe: not read", func(t *testing.T) {
		f, err := os.CreateTemp(t.TempDir(), "stdin")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.WriteString("file-Pass-1\n")
		f.Seek(0, io.SeekStart)
		dir := t.TempDir()
		if servePasswords(dir, f, io.Discard).Load() {
			t.Fatal("waiting on a stdin that is not a pipe")
		}
		if exists(filepath.Join(dir, PasswordFile)) {
			t.Fatal("read a stdin that is not a pipe")
		}
	})
}
