package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests probe a real hostdeck process as a hostile or careless client
// would: bodies announced and never sent, hundreds of such connections, idle
// keep-alive connections, slow clients connected at SIGTERM. Lines starting with
// "reliability:" are the measured figures.

// stalledBody opens a connection to p and sends the headers of an authenticated
// client creation announcing a 100,000-byte body, and no body.
func stalledBody(t *testing.T, p *proc) net.Conn {
	t.Helper()
	c, err := dialStalled(t, p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dialStalled is stalledBody for a listener that may be at its cap: the
// connection may be reset while it is opened.
func dialStalled(t *testing.T, p *proc) (net.Conn, error) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	auth := base64.StdEncoding.EncodeToString([]byte("admin:" + procAdminPassword))
	fmt.Fprintf(c, "POST /alfa/clients/create HTTP/1.1\r\nHost: hostdeck\r\nAuthorization: Basic %s\r\n"+
		"Content-Type: application/vnd.api+json\r\nContent-Length: 100000\r\n\r\n", auth)
	return c, nil
}

// waitClosed reads c until the server closes it, at most within, and returns how
// long that took (from since) and the status line of an answer, if one came.
func waitClosed(t *testing.T, c net.Conn, since time.Time, within time.Duration) (time.Duration, string) {
	t.Helper()
	c.SetReadDeadline(since.Add(within))
	r := bufio.NewReader(c)
	status, _ := r.ReadString('\n')
	_, err := io.Copy(io.Discard, r)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open %s after it was opened", time.Since(since).Round(time.Millisecond))
	}
	return time.Since(since), strings.TrimSpace(status)
}

// openFiles counts the file descriptors process pid holds, and of them the
// sockets.
func openFiles(t *testing.T, pid int) (files, sockets int) {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("count open files: %v", err)
	}
	for _, fd := range fds {
		if target, err := os.Readlink(dir + "/" + fd.Name()); err == nil && strings.HasPrefix(target, "socket:") {
			sockets++
		}
	}
	return len(fds), sockets
}

func TestSlowClientsAreCut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc to count open files in")
	}
	t.Parallel()
	const (
		readTimeout = time.Second
		idleTimeout = time.Second
		maxConns    = 50
		stalled     = 300
	)
	p := start(t, "HOSTDECK_DATA="+t.TempDir(),
		"HOSTDECK_READ_TIMEOUT="+readTimeout.String(), "HOSTDECK_IDLE_TIMEOUT="+idleTimeout.String(),
		fmt.Sprintf("HOSTDECK_MAX_CONNS=%d", maxConns))
	pid := p.cmd.Process.Pid

	t.Run("stalled body", func(t *testing.T) {
		began := time.Now()
		c := stalledBody(t, p)
		took, status := waitClosed(t, c, began, 2*readTimeout)
		t.Logf("reliability: stalled body (Content-Length 100000, no body) cut after %.2fs, answer %q (--read-timeout %s)", took.Seconds(), status, readTimeout)
	})

	t.Run("many stalled bodies", func(t *testing.T) {
		http.DefaultClient.CloseIdleConnections() // start()'s health checks
		time.Sleep(100 * time.Millisecond)
		before, beforeSockets := openFiles(t, pid)
		began := time.Now()
		// Those over the cap are reset at once, some while they connect.
		var conns []net.Conn
		reset := 0
		for range stalled {
			c, err := dialStalled(t, p)
			if err != nil {
				reset++
				continue
			}
			conns = append(conns, c)
		}
		time.Sleep(100 * time.Millisecond)
		for _, c := range conns {
			if closedWithin(t, c, time.Millisecond) {
				reset++
			}
		}
		during, duringSockets := openFiles(t, pid)
		for _, c := range conns {
			waitClosed(t, c, began, 2*readTimeout)
		}
		cut := time.Since(began)
		after, afterSockets := openFiles(t, pid)
		for deadline := time.Now().Add(2 * time.Second); afterSockets > beforeSockets && time.Now().Before(deadline); after, afterSockets = openFiles(t, pid) {
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("reliability: %d stalled connections, --max-conns %d: %d reset at once, all cut %.2fs after the first; open files before %d, during %d, after %d (sockets %d, %d, %d)",
			stalled, maxConns, reset, cut.Seconds(), before, during, after, beforeSockets, duringSockets, afterSockets)
		// The slack is the database's connections, opened by the requests
		// waiting for their bodies and kept idle afterwards.
		const slack = 10
		if during > before+maxConns+slack {
			t.Errorf("open files during = %d, want at most %d before + %d cap + %d", during, before, maxConns, slack)
		}
		if reset < stalled-maxConns {
			t.Errorf("%d connections reset at once, want at least %d", reset, stalled-maxConns)
		}
		if afterSockets > beforeSockets || after > before+slack {
			t.Errorf("open files after = %d (%d sockets), want back to %d (%d sockets)", after, afterSockets, before, beforeSockets)
		}
	})

	t.Run("idle keep-alive", func(t *testing.T) {
		c, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: hostdeck\r\n\r\n")
		r := bufio.NewReader(c)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Close {
			t.Fatalf("GET /healthz: %d, close %v; want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
		}
		idleFrom := time.Now()
		c.SetReadDeadline(idleFrom.Add(2 * idleTimeout))
		_, err = r.ReadByte()
		took := time.Since(idleFrom)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("idle keep-alive connection still open after %s", took.Round(time.Millisecond))
		}
		t.Logf("reliability: idle keep-alive connection closed after %.2fs (--idle-timeout %s)", took.Seconds(), idleTimeout)
		if took < idleTimeout/2 {
			t.Errorf("idle connection closed after %s, before --idle-timeout %s", took, idleTimeout)
		}
	})
}

// TestShutdownWithSlowClientsIsBounded sends SIGTERM while clients stall bodies
// (the read timeout is far longer than the shutdown bound) and others sit idle
// or send nothing: the process exits within --shutdown-timeout plus slack.
func TestShutdownWithSlowClientsIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	const bound = time.Second
	p := start(t, "HOSTDECK_DATA="+t.TempDir(), "HOSTDECK_READ_TIMEOUT=1m",
		"HOSTDECK_SHUTDOWN_TIMEOUT="+bound.String(), "HOSTDECK_LOG_LEVEL=info")
	addr := strings.TrimPrefix(p.base, "http://")
	for range 20 {
		stalledBody(t, p)
		silent, err := net.Dial("tcp", addr) // connected, sends nothing
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { silent.Close() })
	}
	// An idle keep-alive connection too.
	http.Get(p.base + "/healthz")
	time.Sleep(100 * time.Millisecond)

	began := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(bound + 10*time.Second):
		t.Fatalf("hostdeck still running %s after SIGTERM:\n%s", time.Since(began).Round(time.Millisecond), p.logs)
	}
	took := time.Since(began)
	t.Logf("reliability: SIGTERM to exit %.2fs with 20 stalled bodies, 20 silent and 1 idle connection (--shutdown-timeout %s)", took.Seconds(), bound)
	if slack := 1500 * time.Millisecond; took > bound+slack {
		t.Errorf("exit took %s after SIGTERM, want under %s + %s", took, bound, slack)
	}
	if !strings.Contains(p.logs.String(), "connections still open at the shutdown bound") {
		t.Errorf("the stalled connections were not closed at the bound:\n%s", p.logs)
	}
}
