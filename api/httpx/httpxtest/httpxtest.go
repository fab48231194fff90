// Package httpxtest helps test faces behind httpx.Serve: it keeps their log lines
// and metrics, and plays a client that goes away in the middle of a request.
package httpxtest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Recorder is the logger and the metrics registry to build a face with; it keeps
// every log line written through Log.
type Recorder struct {
	Log      *slog.Logger
	Registry *prometheus.Registry
	lines    chan Line
}

// Line is one log line: its attributes by name, with "level" and "msg".
type Line map[string]any

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	o := &Recorder{Registry: prometheus.NewRegistry(), lines: make(chan Line, 256)}
	o.Log = slog.New(&handler{lines: o.lines})
	return o
}

// handler sends each record to lines as a Line.
type handler struct {
	lines chan Line
	attrs []slog.Attr
}

func (h *handler) Enabled(context.Context, slog.Level) bool { return true }

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	l := Line{"level": r.Level.String(), "msg": r.Message}
	for _, a := range h.attrs {
		l[a.Key] = a.Value.Any()
	}
	r.Attrs(func(a slog.Attr) bool {
		l[a.Key] = a.Value.Resolve().Any()
		return true
	})
	select {
	case h.lines <- l:
	default: // a test that logs more than it reads loses lines, never blocks the face
	}
	return nil
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &handler{lines: h.lines, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *handler) WithGroup(string) slog.Handler { return h }

// RequestLine waits for the next request line ("http request", written by
// httpx.Serve once the request is done) and returns it with the lines logged
// before it.
func (o *Recorder) RequestLine(t testing.TB) (Line, []Line) {
	t.Helper()
	var before []Line
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l := <-o.lines:
			if l["msg"] == "http request" {
				return l, before
			}
			before = append(before, l)
		case <-timeout:
			t.Fatalf("no request log line in 10 s; other lines: %v", before)
			return nil, nil
		}
	}
}

// Requests is hostdeck_http_requests_total by "face route method code".
func (o *Recorder) Requests(t testing.TB) map[string]float64 {
	t.Helper()
	mfs, err := o.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "hostdeck_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			counts[labels["face"]+" "+labels["route"]+" "+labels["method"]+" "+labels["code"]] += m.GetCounter().GetValue()
		}
	}
	return counts
}

// ClientGone sends req (to a real server in front of the face built with o) and
// closes the connection once busy says the face is inside the request; then it
// checks that the request was logged, at info and with canceled=true, and counted
// as 499, and that nothing was logged at error level nor counted as a 5xx.
func (o *Recorder) ClientGone(t testing.TB, req *http.Request, busy <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		tr := &http.Transport{DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Do(req.WithContext(ctx))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case <-busy:
	case err := <-done:
		t.Fatalf("answered before the face was busy: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the face never got busy with the request")
	}
	cancel() // the client goes away: the transport closes the connection
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v, want context.Canceled", err)
	}

	line, before := o.RequestLine(t)
	if line["status"] != int64(499) || line["canceled"] != true || line["level"] != "INFO" {
		t.Errorf("request logged as %v, want status 499, canceled true, level INFO", line)
	}
	for _, l := range append(before, line) {
		if l["level"] == "ERROR" {
			t.Errorf("logged at error level: %v", l)
		}
	}
	counts := o.Requests(t)
	n := 0.0
	for key, c := range counts {
		switch code := key[strings.LastIndexByte(key, ' ')+1:]; {
		case code == "499":
			n += c
		case code >= "500":
			t.Errorf("requests_total{%s} = %v: a client that left counted as a server error", key, c)
		}
	}
	if n != 1 {
		t.Errorf("requests counted as 499: %v, want 1 (all: %v)", n, counts)
	}
}
