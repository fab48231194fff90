package main

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// capListener holds at most max connections open at once. A connection over the
// cap is accepted and reset at once rather than left waiting in the kernel's
// backlog: a client learns straight away that it should retry later (and a load
// balancer marks the instance busy) instead of hanging until its own timeout, and
// Accept keeps draining the backlog so that a flood costs no file descriptors
// beyond the cap. Refusals are counted and logged at most once per warnEvery.
type capListener struct {
	net.Listener
	name string // the listener's role in logs and metrics: main, alfa, trs…
	max  int64
	log  *slog.Logger

	open     atomic.Int64
	refused  atomic.Uint64
	lastWarn atomic.Int64 // UnixNano of the last refusal logged
}

// warnEvery is the least time between two "connection cap reached" log lines of
// one listener, so that a flood does not flood the log too.
const warnEvery = 10 * time.Second

func newCapListener(l net.Listener, name string, max int, log *slog.Logger) *capListener {
	return &capListener{Listener: l, name: name, max: int64(max), log: log}
}

// Accept returns the next connection under the cap, resetting those over it.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if n := l.open.Add(1); l.max <= 0 || n <= l.max {
			return &capConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST: no TIME_WAIT left behind per refused connection
		}
		c.Close()
		n := l.refused.Add(1)
		now, last := time.Now().UnixNano(), l.lastWarn.Load()
		if now-last >= int64(warnEvery) && l.lastWarn.CompareAndSwap(last, now) {
			l.log.Warn("connection cap reached; new connections are reset", "listener", l.name,
				"addr", l.Addr().String(), "max_conns", l.max, "refused_total", n)
		}
	}
}

// capConn gives its slot back when closed, once however often it is closed.
type capConn struct {
	net.Conn
	l    *capListener
	once sync.Once
}

func (c *capConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}

// CloseWrite passes net/http's half-close through, so that an error answer sent
// before the request body was read still reaches the client before the close.
func (c *capConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// connCollector exports the listeners' open and refused connection counts.
type connCollector []*capListener

var (
	connOpenDesc    = prometheus.NewDesc("hostdeck_http_connections", "Open HTTP connections by listener.", []string{"listener"}, nil)
	connRefusedDesc = prometheus.NewDesc("hostdeck_http_connections_refused_total", "HTTP connections reset because the listener was at --max-conns.", []string{"listener"}, nil)
)

func (c connCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- connOpenDesc
	ch <- connRefusedDesc
}

func (c connCollector) Collect(ch chan<- prometheus.Metric) {
	for _, l := range c {
		ch <- prometheus.MustNewConstMetric(connOpenDesc, prometheus.GaugeValue, float64(l.open.Load()), l.name)
		ch <- prometheus.MustNewConstMetric(connRefusedDesc, prometheus.CounterValue, float64(l.refused.Load()), l.name)
	}
}
