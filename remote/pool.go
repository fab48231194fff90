package remote

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"hostdeck/core"
)

// poolKey names the connections that may serve an endpoint: the same host,
// user and pinned key, and the same credentials (so that changed credentials
// are used at once rather than after the idle timeout).
type poolKey struct {
	hostPort string
	user     string
	hostKey  string
	creds    [sha256.Size]byte
}

func keyOf(ep core.SSHEndpoint, pinned ssh.PublicKey) poolKey {
	return poolKey{
		hostPort: hostPort(ep),
		user:     ep.User,
		hostKey:  string(pinned.Marshal()),
		creds:    sha256.Sum256([]byte(ep.Password + "\x00" + ep.PrivateKey)),
	}
}

func hostPort(ep core.SSHEndpoint) string {
	port := ep.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(ep.Address, strconv.Itoa(port))
}

// pool holds one host's connections: at most cap(sem) in use at a time, each
// serving one operation, the unused ones kept until the idle timeout.
type pool struct {
	key  poolKey
	sem  chan struct{}
	mu   sync.Mutex
	idle []*conn
}

// conn is one SSH connection and, once a file operation needed it, its SFTP
// client.
type conn struct {
	ssh   *ssh.Client
	sftp  *sftp.Client
	timer *time.Timer // closes the connection when it stays idle
	dead  chan struct{}
	bad   atomic.Bool // killed: closed or about to be
	fresh bool        // dialed for the current operation, not reused
}

func (c *conn) broken() bool {
	if c.bad.Load() {
		return true
	}
	select {
	case <-c.dead:
		return true
	default:
		return false
	}
}

// kill closes the connection under an operation that must stop.
func (c *conn) kill() {
	c.bad.Store(true)
	c.ssh.Close()
}

func (c *conn) close() {
	if c.sftp != nil {
		c.sftp.Close()
	}
	c.ssh.Close()
}

// sftpClient starts the connection's SFTP client on first use.
func (c *conn) sftpClient() (*sftp.Client, error) {
	if c.sftp == nil {
		sc, err := sftp.NewClient(c.ssh)
		if err != nil {
			return nil, errBroken{err}
		}
		c.sftp = sc
	}
	return c.sftp, nil
}

// errBroken marks a failure of the connection itself, before the operation
// could have had an effect: the connection is dropped and, if it was reused,
// the operation is tried once more on a new one.
type errBroken struct{ error }

func (e errBroken) Unwrap() error { return e.error }

func (cl *Client) pool(key poolKey) (*pool, error) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.closed {
		return nil, core.Errorf(core.KindUnavailable, "ssh client closed")
	}
	p := cl.pools[key]
	if p == nil {
		p = &pool{key: key, sem: make(chan struct{}, cl.opts.MaxConnsPerHost)}
		cl.pools[key] = p
	}
	return p, nil
}

// with runs f on a connection to ep, reusing an idle one when there is one.
// When f fails with errBroken on a reused connection, the connection is
// dropped and f runs once more on a newly dialed one.
func (cl *Client) with(ctx context.Context, ep core.SSHEndpoint, f func(*conn) error) error {
	pinned, err := checkEndpoint(ep)
	if err != nil {
		return err
	}
	p, err := cl.pool(keyOf(ep, pinned))
	if err != nil {
		return err
	}
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return core.Wrap(core.KindUnavailable, ctx.Err(), "wait for a connection to %s", p.key.hostPort)
	}
	defer func() { <-p.sem }()
	for attempt := 0; ; attempt++ {
		var c *conn
		if attempt == 0 { // a retry always dials
			c = cl.take(p)
		}
		if c == nil {
			if c, err = cl.dial(ctx, ep, pinned); err != nil {
				return err
			}
		}
		err = f(c)
		var broken errBroken
		if errors.As(err, &broken) || c.broken() {
			c.close()
			cl.opts.Log.Debug("ssh connection dropped", "host", p.key.hostPort, "err", err)
			if errors.As(err, &broken) && !c.fresh && attempt == 0 {
				continue
			}
			if errors.As(err, &broken) {
				return core.Wrap(core.KindUnavailable, broken.error, "connection to %s lost", p.key.hostPort)
			}
			return err
		}
		cl.put(p, c)
		return err
	}
}

// take pops an idle connection that is still alive, or returns nil.
func (cl *Client) take(p *pool) *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		c.timer.Stop()
		if !c.broken() {
			c.fresh = false
			return c
		}
		c.close()
	}
	return nil
}

// put keeps c for the next operation, to be closed after the idle timeout.
func (cl *Client) put(p *pool, c *conn) {
	cl.mu.Lock()
	closed := cl.closed
	cl.mu.Unlock()
	if closed {
		c.close()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle = append(p.idle, c)
	if c.timer == nil {
		c.timer = time.AfterFunc(cl.opts.IdleTimeout, func() { cl.expire(p, c) })
	} else {
		c.timer.Reset(cl.opts.IdleTimeout)
	}
}

// expire closes c if it is still idle.
func (cl *Client) expire(p *pool, c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, ic := range p.idle {
		if ic == c {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			c.close()
			cl.opts.Log.Debug("ssh connection closed after idle timeout", "host", p.key.hostPort)
			return
		}
	}
}

// Close closes every idle connection; connections in use close when their
// operation ends, and later operations fail.
func (cl *Client) Close() error {
	cl.mu.Lock()
	cl.closed = true
	pools := cl.pools
	cl.pools = nil
	cl.mu.Unlock()
	for _, p := range pools {
		p.mu.Lock()
		for _, c := range p.idle {
			c.timer.Stop()
			c.close()
		}
		p.idle = nil
		p.mu.Unlock()
	}
	return nil
}

// dial connects and authenticates to ep, checking that it presents pinned.
func (cl *Client) dial(ctx context.Context, ep core.SSHEndpoint, pinned ssh.PublicKey) (*conn, error) {
	auth, err := authMethods(ep)
	if err != nil {
		return nil, err
	}
	addr := hostPort(ep)
	var keyErr error
	cfg := &ssh.ClientConfig{
		User:              ep.User,
		Auth:              auth,
		HostKeyAlgorithms: algorithmsFor(pinned),
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if !keysEqual(key, pinned) {
				keyErr = core.Reasoned(core.KindConflict, "host_key_changed",
					fmt.Sprintf("host key of %s changed: pinned %s, presented %s",
						addr, ssh.FingerprintSHA256(pinned), ssh.FingerprintSHA256(key)),
					"host", addr, "pinned", ssh.FingerprintSHA256(pinned), "presented", ssh.FingerprintSHA256(key))
				return keyErr
			}
			return nil
		},
	}
	client, err := cl.handshake(ctx, addr, cfg)
	if keyErr != nil {
		return nil, keyErr
	}
	if err != nil {
		return nil, err
	}
	c := &conn{ssh: client, dead: make(chan struct{}), fresh: true}
	go func() {
		client.Wait()
		close(c.dead)
	}()
	cl.dials.Add(1)
	cl.opts.Log.Debug("ssh connected", "host", addr, "user", ep.User)
	return c, nil
}

// handshake opens a TCP connection to addr and runs the SSH handshake over it,
// both bounded by the dial timeout and ctx.
func (cl *Client) handshake(ctx context.Context, addr string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, cl.opts.DialTimeout)
	defer cancel()
	nc, err := cl.opts.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, dialError(ctx, addr, err)
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		nc.SetDeadline(d)
	}
	sc, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	if err != nil {
		nc.Close()
		if ctx.Err() != nil {
			return nil, dialError(ctx, addr, err)
		}
		if isAuthFailure(err) {
			return nil, &core.Error{Kind: core.KindUnauthenticated, Reason: "host_auth_failed",
				Message: fmt.Sprintf("%s refused the credentials of %s", addr, cfg.User), Err: err}
		}
		return nil, &core.Error{Kind: core.KindUnavailable, Reason: "host_unreachable",
			Message: fmt.Sprintf("ssh handshake with %s failed", addr), Err: err}
	}
	if !stop() {
		sc.Close()
		return nil, dialError(ctx, addr, ctx.Err())
	}
	nc.SetDeadline(time.Time{})
	return ssh.NewClient(sc, chans, reqs), nil
}

func dialError(ctx context.Context, addr string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = errors.Join(err, context.DeadlineExceeded)
		return &core.Error{Kind: core.KindUnavailable, Reason: "host_unreachable",
			Message: fmt.Sprintf("connect to %s timed out", addr), Err: err}
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		err = errors.Join(err, context.Canceled)
	}
	return &core.Error{Kind: core.KindUnavailable, Reason: "host_unreachable",
		Message: fmt.Sprintf("connect to %s failed", addr), Err: err}
}
