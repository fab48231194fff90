package testenv_test

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"hostdeck/internal/testenv"
)

// TestSSHD logs in to the server SSHD starts with its key, checking the host
// key it reports, and runs a command.
func TestSSHD(t *testing.T) {
	srv := testenv.SSHD(t)
	ep := srv.Endpoint
	signer, err := ssh.ParsePrivateKey([]byte(ep.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	pinned, _, _, _, err := ssh.ParseAuthorizedKey([]byte(ep.HostKey))
	if err != nil {
		t.Fatal(err)
	}
	client, err := ssh.Dial("tcp", net.JoinHostPort(ep.Address, strconv.Itoa(ep.Port)), &ssh.ClientConfig{
		User:            ep.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(pinned),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var out bytes.Buffer
	sess.Stdout = &out
	if err := sess.Run("echo hello"); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "hello" {
		t.Errorf("output = %q, want hello", got)
	}
}
