package remote_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"hostdeck/core"
	"hostdeck/internal/testenv"
	"hostdeck/remote"
)

func newClient(t testing.TB, o remote.Options) *remote.Client {
	t.Helper()
	cl := remote.New(o)
	t.Cleanup(func() { cl.Close() })
	return cl
}

func wantKind(t testing.TB, err error, kind core.Kind, reason string) {
	t.Helper()
	if core.ErrorKind(err) != kind || core.ErrorReason(err) != reason {
		t.Fatalf("err = %v (kind %q, reason %q), want kind %q, reason %q",
			err, core.ErrorKind(err), core.ErrorReason(err), kind, reason)
	}
}

func otherKey(t testing.TB) (pemKey string, pub ssh.PublicKey) {
	t.Helper()
	p, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	pub, err = ssh.NewPublicKey(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block)), pub
}

func TestHostKeyThenRun(t *testing.T) {
	srv := testenv.SSHD(t)
	cl := newClient(t, remote.Options{})
	ctx := context.Background()

	unpinned := srv.Endpoint
	unpinned.HostKey = ""
	key, err := cl.HostKey(ctx, unpinned)
	if err != nil {
		t.Fatal(err)
	}
	if key != srv.Endpoint.HostKey {
		t.Fatalf("HostKey = %q, want %q", key, srv.Endpoint.HostKey)
	}
	if n := cl.Dials(); n != 0 {
		t.Errorf("HostKey left %d pooled connections, want none", n)
	}

	ep := unpinned
	ep.HostKey = key + "\n" // as ssh.MarshalAuthorizedKey writes it
	for _, tc := range []struct {
		cmd, stdin, stdout, stderr string
		exit                       int
	}{
		{cmd: "uname -s", stdout: "Linux\n"},
		{cmd: "exit 3", exit: 3},
		{cmd: "tr a-z A-Z", stdin: "hello\n", stdout: "HELLO\n"},
		{cmd: "echo oops >&2; false", stderr: "oops\n", exit: 1},
	} {
		var stdin io.Reader
		if tc.stdin != "" {
			stdin = strings.NewReader(tc.stdin)
		}
		res, err := cl.Run(ctx, ep, tc.cmd, stdin)
		if err != nil {
			t.Fatalf("%s: %v", tc.cmd, err)
		}
		want := core.ExecResult{Stdout: tc.stdout, Stderr: tc.stderr, ExitCode: tc.exit}
		if res != want {
			t.Errorf("%s: got %+v, want %+v", tc.cmd, res, want)
		}
	}
	if n := cl.Dials(); n != 1 {
		t.Errorf("%d dials for four commands in a row, want 1", n)
	}
}

func TestHostKeyRefused(t *testing.T) {
	srv := testenv.SSHD(t)
	cl := newClient(t, remote.Options{})
	ctx := context.Background()

	_, other := otherKey(t)
	changed := srv.Endpoint
	changed.HostKey = string(ssh.MarshalAuthorizedKey(other))
	_, err := cl.Run(ctx, changed, "true", nil)
	wantKind(t, err, core.KindConflict, "host_key_changed")
	presented, _, _, _, _ := ssh.ParseAuthorizedKey([]byte(srv.Endpoint.HostKey))
	for _, fp := range []string{ssh.FingerprintSHA256(other), ssh.FingerprintSHA256(presented), "127.0.0.1:" + strconv.Itoa(srv.Endpoint.Port)} {
		if !strings.Contains(err.Error(), fp) {
			t.Errorf("message %q does not name %s", err, fp)
		}
	}

	unpinned := srv.Endpoint
	unpinned.HostKey = ""
	for name, op := range map[string]func() error{
		"Run":       func() error { _, err := cl.Run(ctx, unpinned, "true", nil); return err },
		"Stat":      func() error { _, err := cl.Stat(ctx, unpinned, "/etc/hostname"); return err },
		"ReadAt":    func() error { _, err := cl.ReadAt(ctx, unpinned, "/etc/hostname", 0, 10); return err },
		"WriteFile": func() error { return cl.WriteFile(ctx, unpinned, filepath.Join(t.TempDir(), "f"), nil, 0o600) },
	} {
		t.Run(name, func(t *testing.T) { wantKind(t, op(), core.KindConflict, "host_key_unpinned") })
	}
	if n := cl.Dials(); n != 0 {
		t.Errorf("%d connections opened, want none", n)
	}
}

func TestAuthFailure(t *testing.T) {
	srv := testenv.SSHD(t)
	cl := newClient(t, remote.Options{})
	ep := srv.Endpoint
	ep.PrivateKey, _ = otherKey(t)
	_, err := cl.Run(context.Background(), ep, "true", nil)
	wantKind(t, err, core.KindUnauthenticated, "host_auth_failed")
}

func TestTimeout(t *testing.T) {
	srv := testenv.SSHD(t)
	cl := newClient(t, remote.Options{CommandTimeout: 300 * time.Millisecond})
	ctx := context.Background()
	start := time.Now()
	_, err := cl.Run(ctx, srv.Endpoint, "sleep 10.25; echo late", nil)
	wantKind(t, err, core.KindUnavailable, "timed_out")
	if !strings.Contains(err.Error(), "timed out after") {
		t.Errorf("message %q does not say it timed out", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Run took %s, want about 300ms", d)
	}
	res, err := cl.Run(ctx, srv.Endpoint, "echo still here; ps -eo args", nil)
	if err != nil || !strings.HasPrefix(res.Stdout, "still here\n") {
		t.Fatalf("after the timeout: %+v, %v", res, err)
	}
	if strings.Contains(res.Stdout, "sleep 10.25") {
		t.Errorf("the timed out command still runs:\n%s", res.Stdout)
	}
	if n := cl.Dials(); n != 1 {
		t.Errorf("%d dials, want the connection reused after the timeout", n)
	}

	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err = cl.Run(cctx, srv.Endpoint, "sleep 10", nil)
	if core.ErrorKind(err) != core.KindCanceled {
		t.Errorf("canceled Run: %v (kind %q), want kind canceled", err, core.ErrorKind(err))
	}
}

func TestOutputCapped(t *testing.T) {
	srv := testenv.SSHD(t)
	cl := newClient(t, remote.Options{})
	res, err := cl.Run(context.Background(), srv.Endpoint, "head -c 3000000 /dev/zero", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Stdout, strings.Repeat("\x00", 1<<20)+"\n[output truncated: ") ||
		!strings.Contains(res.Stdout, strconv.Itoa(3000000-1<<20)) || len(res.Stdout) > 1<<20+100 {
		t.Errorf("stdout of %d bytes ends %q", len(res.Stdout), res.Stdout[max(len(res.Stdout)-60, 0):])
	}
}

func TestFiles(t *testing.T) {
	srv := testenv.SSHD(t)
	cl := newClient(t, remote.Options{})
	ctx := context.Background()
	ep := srv.Endpoint
	dir := t.TempDir() // the server runs here, as this user
	name := filepath.Join(dir, "big.log")

	data := make([]byte, 3<<20)
	rand.Read(data)
	if err := cl.WriteFile(ctx, ep, name, data, 0o640); err != nil {
		t.Fatal(err)
	}
	size, err := cl.Stat(ctx, ep, name)
	if err != nil || size != int64(len(data)) {
		t.Fatalf("Stat = %d, %v; want %d", size, err, len(data))
	}
	for _, tc := range []struct {
		off  int64
		n    int
		want []byte
	}{
		{off: size - 1000, n: 1000, want: data[len(data)-1000:]},
		{off: 12345, n: 70000, want: data[12345 : 12345+70000]},
		{off: size - 10, n: 1000, want: data[len(data)-10:]},
		{off: size, n: 10, want: []byte{}},
		{off: size + 5, n: 1 << 30, want: []byte{}},
		{off: 0, n: 0, want: []byte{}},
	} {
		got, err := cl.ReadAt(ctx, ep, name, tc.off, tc.n)
		if err != nil {
			t.Fatalf("ReadAt(%d, %d): %v", tc.off, tc.n, err)
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("ReadAt(%d, %d): %d bytes, want %d", tc.off, tc.n, len(got), len(tc.want))
		}
	}
	_, err = cl.ReadAt(ctx, ep, name, -1, 10)
	wantKind(t, err, core.KindInvalid, "")

	// Replacing keeps no temporary file and sets the mode.
	if err := cl.WriteFile(ctx, ep, name, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(name); err != nil || string(got) != "short\n" {
		t.Fatalf("after replacing: %q, %v", got, err)
	}
	if fi, _ := os.Stat(name); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file", len(entries))
	}

	missing := filepath.Join(dir, "missing")
	_, err = cl.Stat(ctx, ep, missing)
	wantKind(t, err, core.KindNotFound, "file_not_found")
	_, err = cl.ReadAt(ctx, ep, missing, 0, 10)
	wantKind(t, err, core.KindNotFound, "file_not_found")
	err = cl.WriteFile(ctx, ep, filepath.Join(missing, "f"), []byte("x"), 0o600)
	wantKind(t, err, core.KindNotFound, "file_not_found")
	if n := cl.Dials(); n != 1 {
		t.Errorf("%d dials, want 1", n)
	}
}

func TestPooling(t *testing.T) {
	srv := testenv.SSHD(t)
	cl := newClient(t, remote.Options{MaxConnsPerHost: 2})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			res, err := cl.Run(ctx, srv.Endpoint, fmt.Sprintf("sleep 0.05; echo %d", i), nil)
			if err == nil && res.Stdout != fmt.Sprintf("%d\n", i) {
				err = fmt.Errorf("stdout %q", res.Stdout)
			}
			if err == nil && i%2 == 0 {
				_, err = cl.Stat(ctx, srv.Endpoint, "/etc/hostname")
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
	if n := cl.Dials(); n < 1 || n > 2 {
		t.Errorf("%d dials for 20 concurrent runs with 2 connections per host", n)
	}
}

func TestIdleAndBroken(t *testing.T) {
	srv := testenv.SSHD(t)
	var mu sync.Mutex
	var conns []net.Conn
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		return c, err
	}
	cl := newClient(t, remote.Options{IdleTimeout: 200 * time.Millisecond, DialContext: dial})
	ctx := context.Background()
	run := func() {
		t.Helper()
		if _, err := cl.Run(ctx, srv.Endpoint, "true", nil); err != nil {
			t.Fatal(err)
		}
	}
	run()
	time.Sleep(500 * time.Millisecond)
	run()
	if n := cl.Dials(); n != 2 {
		t.Errorf("%d dials, want a new connection after the idle timeout", n)
	}
	mu.Lock()
	conns[len(conns)-1].Close() // break the pooled connection under the client
	mu.Unlock()
	run()
	if _, err := cl.Stat(ctx, srv.Endpoint, "/etc/hostname"); err != nil {
		t.Fatal(err)
	}
	if n := cl.Dials(); n != 3 {
		t.Errorf("%d dials, want one redial after the broken connection", n)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	_, pub := otherKey(t)
	key, _ := otherKey(t)
	ep := core.SSHEndpoint{Address: "127.0.0.1", Port: port, User: "root", PrivateKey: key,
		HostKey: string(ssh.MarshalAuthorizedKey(pub))}
	cl := newClient(t, remote.Options{DialTimeout: 2 * time.Second})
	start := time.Now()
	_, err = cl.Run(context.Background(), ep, "true", nil)
	wantKind(t, err, core.KindUnavailable, "host_unreachable")
	_, err = cl.HostKey(context.Background(), ep)
	wantKind(t, err, core.KindUnavailable, "host_unreachable")
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusals took %s", d)
	}
}

// BenchmarkReadTail reads the last 64 KiB of a 1 GiB sparse file: with ReadAt
// over the pooled SFTP connection, with tail over the pooled connection, and,
// as the anchor, with OpenSSH's ssh client running tail (a new connection
// each time, as a script would).
func BenchmarkReadTail(b *testing.B) {
	srv := testenv.SSHD(b)
	cl := newClient(b, remote.Options{})
	ctx := context.Background()
	ep := srv.Endpoint
	name := filepath.Join(b.TempDir(), "sparse.log")
	if res, err := cl.Run(ctx, ep, "truncate -s 1G "+name, nil); err != nil || res.ExitCode != 0 {
		b.Fatalf("truncate: %+v, %v", res, err)
	}
	const tail = 64 << 10
	b.Run("ReadAt", func(b *testing.B) {
		b.SetBytes(tail)
		for b.Loop() {
			got, err := cl.ReadAt(ctx, ep, name, 1<<30-tail, tail)
			if err != nil || len(got) != tail {
				b.Fatalf("%d bytes, %v", len(got), err)
			}
		}
	})
	b.Run("RunTail", func(b *testing.B) {
		b.SetBytes(tail)
		for b.Loop() {
			res, err := cl.Run(ctx, ep, "tail -c 65536 "+name, nil)
			if err != nil || len(res.Stdout) != tail {
				b.Fatalf("%d bytes, %v", len(res.Stdout), err)
			}
		}
	})
	b.Run("OpenSSHTail", func(b *testing.B) {
		if _, err := exec.LookPath("ssh"); err != nil {
			b.Skip("OpenSSH client not installed")
		}
		b.SetBytes(tail)
		for b.Loop() {
			out, err := exec.Command("ssh", "-i", srv.KeyFile, "-p", strconv.Itoa(ep.Port),
				"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
				"-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
				ep.User+"@"+ep.Address, "tail -c 65536 "+name).Output()
			if err != nil || len(out) != tail {
				b.Fatalf("%d bytes, %v", len(out), err)
			}
		}
	})
}
