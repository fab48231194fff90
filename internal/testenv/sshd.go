package testenv

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"hostdeck/core"
)

// SSHDPath is where Debian's openssh-server puts the server.
const SSHDPath = "/usr/sbin/sshd"

// SSHServer is a throwaway OpenSSH server on 127.0.0.1 that lets the current
// user in with a key of its own.
type SSHServer struct {
	// Endpoint reaches the server as the current user, with the test key and
	// the server's host key pinned.
	Endpoint core.SSHEndpoint
	// KeyFile holds Endpoint.PrivateKey, for OpenSSH's ssh client (-i).
	KeyFile string
	// Dir is the server's directory (config, keys, pid file).
	Dir string
}

// SSHD starts Debian's sshd (sshd -D -e) on a free port of 127.0.0.1 with a
// config, an ed25519 host key and an authorized test key of its own in a
// temporary directory, and stops it when the test ends. It skips the test when
// sshd is not installed (scripts/sshd-install installs it), or fails it when
// HOSTDECK_REQUIRE_SSHD=1.
func SSHD(t testing.TB) *SSHServer {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("HOSTDECK_REQUIRE_SSHD") == "1" {
			t.Fatal(msg + " and HOSTDECK_REQUIRE_SSHD=1")
		}
		t.Skip(msg + " (scripts/sshd-install installs it)")
	}
	if _, err := os.Stat(SSHDPath); err != nil {
		unavailable("OpenSSH server not available: %s not found", SSHDPath)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	// The privilege separation directory sshd insists on.
	if _, err := os.Stat("/run/sshd"); err != nil {
		if os.Getuid() != 0 {
			unavailable("OpenSSH server not usable: /run/sshd is missing and only root may create it")
		}
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	_, hostPub := writeKey(t, filepath.Join(dir, "host_ed25519"))
	keyFile := filepath.Join(dir, "client_ed25519")
	clientKey, clientPub := writeKey(t, keyFile)
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		t.Fatal(err)
	}

	for attempt := 0; ; attempt++ {
		port := freePort(t)
		config := filepath.Join(dir, "sshd_config")
		conf := strings.Join([]string{
			"ListenAddress 127.0.0.1",
			"Port " + strconv.Itoa(port),
			"HostKey " + filepath.Join(dir, "host_ed25519"),
			"AuthorizedKeysFile " + authorized,
			"PubkeyAuthentication yes",
			"PasswordAuthentication no",
			"KbdInteractiveAuthentication no",
			"PermitRootLogin prohibit-password",
			"StrictModes no",
			"UsePAM no",
			"PidFile " + filepath.Join(dir, "sshd.pid"),
			"Subsystem sftp internal-sftp",
			"MaxStartups 100",
			"MaxSessions 32",
			"LogLevel ERROR",
			"",
		}, "\n")
		if err := os.WriteFile(config, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		var logs SyncBuffer
		cmd := exec.Command(SSHDPath, "-D", "-e", "-f", config)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			unavailable("OpenSSH server not usable: start %s: %v", SSHDPath, err)
		}
		exited := make(chan struct{})
		go func() {
			cmd.Wait()
			close(exited)
		}()
		if waitPort(port, exited, 10*time.Second) {
			t.Cleanup(func() {
				cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					cmd.Process.Kill()
					<-exited
				}
			})
			return &SSHServer{
				Endpoint: core.SSHEndpoint{
					Address:    "127.0.0.1",
					Port:       port,
					User:       u.Username,
					PrivateKey: clientKey,
					HostKey:    strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hostPub))),
				},
				KeyFile: keyFile,
				Dir:     dir,
			}
		}
		cmd.Process.Kill()
		<-exited
		if attempt == 2 { // the port was taken under us twice, or sshd refuses to start
			t.Fatalf("sshd did not start on 127.0.0.1:%d: %s", port, logs.String())
		}
	}
}

// writeKey makes an ed25519 key, writes it to path in OpenSSH's format and
// returns the PEM text and the public key.
func writeKey(t testing.TB, path string) (string, ssh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "hostdeck test")
	if err != nil {
		t.Fatal(err)
	}
	text := pem.EncodeToMemory(block)
	if err := os.WriteFile(path, text, 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(text), sshPub
}

// freePort is a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitPort waits until 127.0.0.1:port answers with an SSH banner, giving up
// when the server exits or after timeout.
func waitPort(port int, exited <-chan struct{}, timeout time.Duration) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			banner := make([]byte, 4)
			_, err := c.Read(banner)
			c.Close()
			if err == nil && bytes.Equal(banner, []byte("SSH-")) {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
