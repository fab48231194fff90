package httpx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/core"
)

// Options configure Serve.
type Options struct {
	Face    string       // the face's name, a label of every log line and metric
	Log     *slog.Logger // nil discards
	Metrics *Metrics     // nil: registered on Registerer, or none without one
	// Registerer gets the metrics when Metrics is nil (never the global registry).
	Registerer prometheus.Registerer
	// WriteError is the face's one error renderer (see ErrorWriter): every
	// error WriteError answers, a panic as a core KindInternal error, goes through
	// it. nil writes the status text as text/plain.
	WriteError ErrorWriter
	// Prefix is the path the face is mounted under (e.g. "/alfa"), used to build
	// links. When empty it is found per request by comparing the path the client
	// sent with the one that reached the face (after http.StripPrefix).
	Prefix string
}

// record is what the middleware learns about one request while it is handled.
type record struct {
	prefix string
	write  ErrorWriter
	err    error
	panic  any
	stack  []byte
}

type recordKey struct{}

func recordFrom(ctx context.Context) *record {
	rec, _ := ctx.Value(recordKey{}).(*record)
	return rec
}

// URLPath is p (a path inside the face) as the client addresses it: with the
// mount prefix in front.
func URLPath(r *http.Request, p string) string {
	if rec := recordFrom(r.Context()); rec != nil {
		return rec.prefix + p
	}
	return p
}

// RemoteIP is the address of the peer (proxies are not trusted).
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Logger is l, or a logger that discards when l is nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// StatusClientClosedRequest (nginx's 499) is the status a request is logged and
// counted with when its client went away before the answer: see Serve.
const StatusClientClosedRequest = 499

// Serve wraps a face's router with what every face runs behind: the request acts
// as the face's anonymous caller until the face authenticates it, the mount prefix is
// found, the path cleaned (a trailing slash is optional on every route), the body
// capped at MaxBody, every error (a handler's, the router's 404 and 405, a panic
// as an internal error) answered by WriteError through o.WriteError, and
// each request is logged on one line (face, method, route pattern, status,
// duration, remote address; never bodies or credentials) and counted in the
// metrics by the route pattern that matched.
//
// A request whose client went away is logged (at info, with canceled=true) and
// counted as 499 whatever the face wrote to the closed connection: the request
// context was cancelled by the client and the request failed or answered
// nothing, or the error the face recorded is a cancellation (core.KindCanceled).
// No client saw an answer, so it is not a server error. An answer completed
// before the client left keeps its status.
func Serve(h http.Handler, o Options) http.Handler {
	log := Logger(o.Log)
	if o.Metrics == nil && o.Registerer != nil {
		m, err := NewMetrics(o.Registerer)
		if err != nil {
			log.Error("metrics not registered", "face", o.Face, "err", err)
		}
		o.Metrics = m
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &record{prefix: o.Prefix, write: o.WriteError}
		if rec.prefix == "" {
			rec.prefix = mountPrefix(r)
		}
		// Every request starts as the face's anonymous caller, never the system
		// (core.Actor.IsSystem); the face's authentication replaces it.
		ctx := core.WithActor(context.WithValue(r.Context(), recordKey{}, rec), core.Anonymous(o.Face, RemoteIP(r)))
		r = r.WithContext(ctx)
		r.Pattern = "" // an outer ServeMux's pattern is not ours; the router sets its own
		cleanPath(r)
		sw := &statusWriter{ResponseWriter: w}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(sw, r.Body, MaxBody)
		}
		func() {
			defer func() {
				p := recover()
				if p == nil {
					return
				}
				if p == http.ErrAbortHandler {
					panic(p)
				}
				rec.panic, rec.stack = p, debug.Stack()
				if sw.status == 0 {
					WriteError(sw, r, core.Errorf(core.KindInternal, "panic"))
				}
			}()
			h.ServeHTTP(sw, r)
		}()
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		canceled := clientClosed(r, rec, sw.status)
		if canceled {
			status = StatusClientClosedRequest
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		if o.Metrics != nil {
			o.Metrics.observe(o.Face, route, r.Method, status, d)
		}
		attrs := []slog.Attr{
			slog.String("face", o.Face), slog.String("method", r.Method), slog.String("route", route),
			slog.Int("status", status), slog.Duration("duration", d), slog.String("remote", RemoteIP(r)),
		}
		level := slog.LevelInfo
		if rec.err != nil {
			attrs = append(attrs, slog.String("code", Code(ErrorStatus(rec.err))))
			if status >= 500 {
				attrs = append(attrs, slog.String("err", rec.err.Error()))
			}
		}
		if rec.panic != nil {
			attrs = append(attrs, slog.String("panic", fmt.Sprint(rec.panic)), slog.String("stack", string(rec.stack)))
		}
		if canceled {
			attrs = append(attrs, slog.Bool("canceled", true))
		}
		if status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(r.Context(), level, "http request", attrs...)
	})
}

// clientClosed reports whether the request ended because its client went away (see
// Serve); written is the status the face wrote, 0 for none. A panic is a bug
// whoever left.
func clientClosed(r *http.Request, rec *record, written int) bool {
	if rec.panic != nil {
		return false
	}
	if core.ErrorKind(rec.err) == core.KindCanceled {
		return true
	}
	gone := errors.Is(r.Context().Err(), context.Canceled)
	return gone && (rec.err != nil || written == 0 || written >= 500)
}

// mountPrefix is the part of the path the client sent that a StripPrefix in front
// of the face removed.
func mountPrefix(r *http.Request) string {
	orig := r.RequestURI
	if i := strings.IndexByte(orig, '?'); i >= 0 {
		orig = orig[:i]
	}
	if u, err := r.URL.Parse(orig); err == nil && strings.HasPrefix(orig, "/") {
		orig = u.EscapedPath()
	} else {
		return ""
	}
	got := r.URL.EscapedPath()
	if got != "" && strings.HasSuffix(orig, got) {
		return orig[:len(orig)-len(got)]
	}
	return ""
}

// CleanPath serves h with r's path made canonical as Serve makes it ("//alfa/x",
// "/alfa//x/" and "/alfa/x" alike), so that a ServeMux in front of faces routes
// the canonical path and never answers with a redirect.
func CleanPath(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(r.Context()) // a copy: the server's request is not changed
		cleanPath(r)
		h.ServeHTTP(w, r)
	})
}

// cleanPath makes the path canonical in place, so that "/servers/", "/servers//"
// and "/servers" route alike and ServeMux never answers with a redirect (which
// would not know the mount prefix).
func cleanPath(r *http.Request) {
	p := r.URL.Path
	if p == "" {
		p = "/"
	}
	c := path.Clean("/" + p)
	if c != r.URL.Path {
		u := *r.URL
		u.Path, u.RawPath = c, ""
		r.URL = &u
	}
}
