// Package remote reaches hosts over SSH (core.Remote) with
// golang.org/x/crypto/ssh and github.com/pkg/sftp, the way deploy tools reach
// them: commands in sessions, files over SFTP, host keys pinned. Connections
// are pooled per host, user, pinned key and credentials.
package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"hostdeck/core"
)

// Options configures a Client. Zero values take the defaults.
type Options struct {
	// DialTimeout bounds connecting and the SSH handshake; 10s by default.
	DialTimeout time.Duration
	// CommandTimeout bounds each command Run starts (ctx may bound it sooner);
	// 30s by default.
	CommandTimeout time.Duration
	// MaxConnsPerHost is how many operations may use one host as one user at
	// a time, each on a connection of its own; 4 by default. Others wait.
	MaxConnsPerHost int
	// IdleTimeout is how long an unused connection is kept; 2m by default.
	IdleTimeout time.Duration
	// DialContext opens the TCP connection (a proxy, a jump host, or a test
	// counting dials); a net.Dialer by default.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Log receives debug lines about connections; discarded when nil.
	Log *slog.Logger
}

// Client is a core.Remote over SSH. It is safe for concurrent use.
type Client struct {
	opts   Options
	mu     sync.Mutex
	pools  map[poolKey]*pool
	closed bool
	dials  atomic.Int64
}

var _ core.Remote = (*Client)(nil)

// New returns a Client; Close it to close its connections.
func New(o Options) *Client {
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = 30 * time.Second
	}
	if o.MaxConnsPerHost <= 0 {
		o.MaxConnsPerHost = 4
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 2 * time.Minute
	}
	if o.DialContext == nil {
		o.DialContext = (&net.Dialer{}).DialContext
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Client{opts: o, pools: map[poolKey]*pool{}}
}

// Dials is how many SSH connections the client has opened.
func (cl *Client) Dials() int64 { return cl.dials.Load() }

// outputLimit caps each of a command's stdout and stderr.
const outputLimit = 1 << 20

// Run implements core.Remote. The login shell must be POSIX-like (sh, bash,
// dash, zsh, ksh): before cmd it prints its process id on stderr (removed from
// the result), so that a command that outlives its time can be killed with its
// whole process group from a second session, since OpenSSH ignores the KILL
// signal request of a root login (it runs without privilege separation then).
func (cl *Client) Run(ctx context.Context, ep core.SSHEndpoint, cmd string, stdin io.Reader) (core.ExecResult, error) {
	var res core.ExecResult
	err := cl.with(ctx, ep, func(c *conn) error {
		sess, err := c.ssh.NewSession()
		if err != nil {
			return errBroken{err}
		}
		defer sess.Close()
		var stdout, stderr capped
		pid := &pidWriter{w: &stderr}
		sess.Stdin, sess.Stdout, sess.Stderr = stdin, &stdout, pid
		if err := sess.Start("echo $$ >&2\n" + cmd); err != nil {
			return errBroken{err}
		}
		done := make(chan error, 1)
		go func() { done <- sess.Wait() }()
		timer := time.NewTimer(cl.opts.CommandTimeout)
		defer timer.Stop()
		start := time.Now()
		var cause error
		select {
		case err = <-done:
		case <-timer.C:
			cause = context.DeadlineExceeded
		case <-ctx.Done():
			cause = ctx.Err()
		}
		if cause != nil {
			took := time.Since(start).Round(time.Millisecond)
			cl.kill(c, sess, pid.pid.Load())
			select {
			case <-done:
			case <-time.After(5 * time.Second):
			}
			if errors.Is(cause, context.Canceled) {
				return core.Wrap(core.KindUnavailable, cause, "command on %s canceled", hostPort(ep))
			}
			return &core.Error{Kind: core.KindUnavailable, Reason: "timed_out", Err: cause,
				Message: fmt.Sprintf("command on %s timed out after %s", hostPort(ep), took)}
		}
		res = core.ExecResult{Stdout: stdout.String(), Stderr: stderr.String()}
		var exit *ssh.ExitError
		var missing *ssh.ExitMissingError
		switch {
		case err == nil:
		case errors.As(err, &exit):
			res.ExitCode = exit.ExitStatus()
			if exit.Signal() != "" && res.ExitCode == 0 {
				res.ExitCode = -1
			}
		case errors.As(err, &missing):
			return core.Wrap(core.KindUnavailable, err, "command on %s ended without an exit status", hostPort(ep))
		default:
			return core.Wrap(core.KindUnavailable, err, "run command on %s", hostPort(ep))
		}
		return nil
	})
	return res, err
}

// kill stops a command that outlived its time: the KILL signal request (which
// OpenSSH honours for users other than root), then, from a second session on
// the same connection, kill -KILL of the command's process group (sshd makes
// the shell a session leader, so its pid names the group), then closing the
// session. The connection stays usable.
func (cl *Client) kill(c *conn, sess *ssh.Session, pid int64) {
	sess.Signal(ssh.SIGKILL)
	if pid > 0 {
		if ks, err := c.ssh.NewSession(); err == nil {
			p := strconv.FormatInt(pid, 10)
			ran := make(chan struct{})
			go func() {
				ks.Run("kill -KILL -- -" + p + " 2>/dev/null || kill -KILL " + p)
				close(ran)
			}()
			select {
			case <-ran:
			case <-time.After(5 * time.Second):
			}
			ks.Close()
		}
	}
	sess.Close()
}

// pidWriter takes the first line written to it, the remote shell's process
// id, and passes the rest on to w.
type pidWriter struct {
	w    io.Writer
	line []byte
	done bool
	pid  atomic.Int64
}

func (p *pidWriter) Write(b []byte) (int, error) {
	if p.done {
		return p.w.Write(b)
	}
	n := len(b)
	i := bytes.IndexByte(b, '\n')
	if i < 0 && len(p.line)+len(b) <= 32 {
		p.line = append(p.line, b...)
		return n, nil
	}
	p.done = true
	if i < 0 || len(p.line)+i > 32 { // not a pid line: pass everything on
		if _, err := p.w.Write(p.line); err != nil {
			return 0, err
		}
		_, err := p.w.Write(b)
		return n, err
	}
	if id, err := strconv.ParseInt(string(append(p.line, b[:i]...)), 10, 64); err == nil {
		p.pid.Store(id)
	} else if _, err := p.w.Write(append(p.line, b[:i+1]...)); err != nil {
		return 0, err
	}
	_, err := p.w.Write(b[i+1:])
	return n, err
}

// HostKey implements core.Remote: the handshake stops as soon as the host has
// proved it holds the key, before any credentials are sent.
func (cl *Client) HostKey(ctx context.Context, ep core.SSHEndpoint) (string, error) {
	if ep.Address == "" {
		return "", core.Invalid("address", "host address is required")
	}
	var presented ssh.PublicKey
	stop := errors.New("host key received")
	cfg := &ssh.ClientConfig{
		User: ep.User,
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			presented = key
			return stop
		},
	}
	if cfg.User == "" {
		cfg.User = "hostdeck"
	}
	_, err := cl.handshake(ctx, hostPort(ep), cfg)
	if presented != nil {
		return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(presented))), nil
	}
	if err == nil {
		return "", core.Errorf(core.KindInternal, "ssh handshake with %s ended without a host key", hostPort(ep))
	}
	return "", err
}

// checkEndpoint validates ep and parses its pinned host key.
func checkEndpoint(ep core.SSHEndpoint) (ssh.PublicKey, error) {
	switch {
	case ep.Address == "":
		return nil, core.Invalid("address", "host address is required")
	case ep.User == "":
		return nil, core.Invalid("user", "ssh user is required")
	case ep.Password == "" && ep.PrivateKey == "":
		return nil, core.Invalid("private_key", "a password or a private key is required")
	case strings.TrimSpace(ep.HostKey) == "":
		return nil, core.Reasoned(core.KindConflict, "host_key_unpinned",
			fmt.Sprintf("host key of %s is not pinned", hostPort(ep)), "host", hostPort(ep))
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(ep.HostKey))
	if err != nil {
		return nil, core.Invalid("host_key", "host key does not parse: %v", err)
	}
	return key, nil
}

func authMethods(ep core.SSHEndpoint) ([]ssh.AuthMethod, error) {
	var auth []ssh.AuthMethod
	if ep.PrivateKey != "" {
		signer, err := ssh.ParsePrivateKey([]byte(ep.PrivateKey))
		if err != nil {
			var missing *ssh.PassphraseMissingError
			if errors.As(err, &missing) {
				return nil, core.Invalid("private_key", "private keys with a passphrase are not supported")
			}
			return nil, core.Invalid("private_key", "private key does not parse")
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if ep.Password != "" {
		pw := ep.Password
		auth = append(auth, ssh.Password(pw), ssh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	return auth, nil
}

// algorithmsFor asks the host for the pinned key's type, so that a host with
// several keys presents the pinned one rather than its preferred one.
func algorithmsFor(key ssh.PublicKey) []string {
	if key.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{key.Type()}
}

func keysEqual(a, b ssh.PublicKey) bool { return bytes.Equal(a.Marshal(), b.Marshal()) }

// isAuthFailure reports whether a handshake failed because the server refused
// every credential (x/crypto/ssh says so only in its message).
func isAuthFailure(err error) bool {
	return strings.Contains(err.Error(), "unable to authenticate")
}

// capped keeps the first outputLimit bytes written to it and counts the rest.
type capped struct {
	buf     bytes.Buffer
	dropped int64
}

func (c *capped) Write(p []byte) (int, error) {
	if room := outputLimit - c.buf.Len(); room < len(p) {
		c.buf.Write(p[:max(room, 0)])
		c.dropped += int64(len(p) - max(room, 0))
		return len(p), nil
	}
	return c.buf.Write(p)
}

func (c *capped) String() string {
	if c.dropped == 0 {
		return c.buf.String()
	}
	return fmt.Sprintf("%s\n[output truncated: %d more bytes]\n", c.buf.String(), c.dropped)
}
