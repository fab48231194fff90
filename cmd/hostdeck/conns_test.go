package main

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"hostdeck/internal/testenv"
)

// serverSide accepts from l until it is closed and hands over each connection.
func serverSide(t *testing.T, l net.Listener) <-chan net.Conn {
	t.Helper()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() { l.Close() })
	return accepted
}

// closedWithin reports whether the peer closed c within d (EOF or reset), as
// opposed to c staying open.
func closedWithin(t *testing.T, c net.Conn, d time.Duration) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// resetAtOnce reports whether a connection to addr is closed by the server
// within 2 s: the reset may even come before the connect completes.
func resetAtOnce(t *testing.T, addr string) bool {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return closedWithin(t, c, 2*time.Second)
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCapListenerResetsOverCap(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs testenv.SyncBuffer
	l := newCapListener(inner, "main", 2, slog.New(slog.NewTextHandler(&logs, nil)))
	accepted := serverSide(t, l)
	addr := l.Addr().String()

	a, b := dial(t, addr), dial(t, addr)
	first, second := <-accepted, <-accepted
	if !resetAtOnce(t, addr) {
		t.Fatal("a connection over the cap was not closed at once")
	}
	if closedWithin(t, a, 100*time.Millisecond) || closedWithin(t, b, 100*time.Millisecond) {
		t.Fatal("a connection under the cap was closed")
	}
	if got := l.refused.Load(); got != 1 {
		t.Errorf("refused = %d, want 1", got)
	}
	if !strings.Contains(logs.String(), "connection cap reached") {
		t.Errorf("refusal not logged: %q", logs.String())
	}

	// A slot is given back once, however often its connection is closed.
	first.Close()
	first.Close()
	if got := l.open.Load(); got != 1 {
		t.Errorf("open after closing one = %d, want 1", got)
	}
	// The kernel may reset a connect whose ports match one of an earlier test
	// still in TIME_WAIT; the cap did not if it counted no new refusal.
	for range 5 {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			break
		}
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := l.refused.Load(); got != 1 {
		t.Fatalf("refused = %d after a slot was freed, want still 1", got)
	}
	select {
	case <-accepted:
	case <-time.After(2 * time.Second):
		t.Fatal("a connection was not accepted after a slot was freed")
	}
	if !resetAtOnce(t, addr) {
		t.Fatal("the cap was not kept after a slot was reused")
	}
	second.Close()
}

func TestCapListenerZeroIsNoCap(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newCapListener(inner, "main", 0, slog.New(slog.DiscardHandler))
	accepted := serverSide(t, l)
	for range 5 {
		dial(t, l.Addr().String())
		select {
		case <-accepted:
		case <-time.After(2 * time.Second):
			t.Fatal("connection not accepted with no cap")
		}
	}
}

// stopServing returns within its bound even when a client stalls its body past
// it and the task runner never stops: the connection is closed, both are logged.
func TestStopServingIsBounded(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs testenv.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s := &listener{
		srv: &http.Server{ReadTimeout: time.Minute, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
		})},
		ln: newCapListener(inner, "main", 10, log),
	}
	go s.srv.Serve(s.ln)
	c := dial(t, s.ln.Addr().String())
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
	for s.ln.open.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the handler start reading the body

	const bound = 300 * time.Millisecond
	stopped := false
	began := time.Now()
	stopServing(log, bound, []*listener{s}, func() { stopped = true }, make(chan error))
	took := time.Since(began)
	t.Logf("reliability: stopServing returned %s after it began (bound %s), with a stalled body and a stuck runner", took.Round(time.Millisecond), bound)
	if took > bound+time.Second {
		t.Errorf("stopServing took %s, bound %s", took, bound)
	}
	if !stopped {
		t.Error("the task runner was not told to stop")
	}
	if !closedWithin(t, c, time.Second) {
		t.Error("the stalled connection is still open after stopServing")
	}
	for _, want := range []string{"connections still open at the shutdown bound", "task runner not stopped within the shutdown bound"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}
