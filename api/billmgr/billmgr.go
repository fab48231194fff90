// Package billmgr is the face that speaks a hosting panel's func= API (spec 004):
// one endpoint taking GET query strings, form-urlencoded and multipart bodies alike,
// with func=, auth=/authinfo= and out=json, answering in the panel's {"doc": {...}}
// shape (XML without out=json). It offers instances, their rescue mode, start, stop
// and reboot, and the image catalogue. Every rule lives in core; the choices made
// where the document is silent are in README.md beside this file.
package billmgr

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/httpx"
	"hostdeck/core"
	"hostdeck/core/catalogue"
	"hostdeck/core/hosting"
	"hostdeck/core/login"
)

// Face is the face's name in logs, metrics and audit events.
const Face = "billmgr"

// Options configure the handler.
type Options struct {
	Log *slog.Logger
	// Metrics records requests; when nil and Registerer is set, metrics are
	// registered there.
	Metrics    *httpx.Metrics
	Registerer prometheus.Registerer
	// Prefix is the path the face is mounted under ("/billmgr"); found per request
	// when empty.
	Prefix string
}

type face struct {
	svc     *hosting.Service
	images  *catalogue.Service
	logins  *login.Service
	log     *slog.Logger
	answers *httpx.Answers // of func=instances
}

// handlerFunc runs one func for an authenticated user and returns the document.
type handlerFunc func(ctx context.Context, u *core.User, p params) (node, error)

// NewHandler returns the billmgr face over svc. Every path answers as the one
// endpoint, so it works mounted under a prefix (http.StripPrefix) or at "/".
func NewHandler(svc *hosting.Service, images *catalogue.Service, logins *login.Service, o Options) http.Handler {
	f := &face{svc: svc, images: images, logins: logins, log: httpx.Logger(o.Log), answers: httpx.NewAnswers(httpx.AnswersBudget)}
	return httpx.Serve(http.HandlerFunc(f.serve), httpx.Options{Face: Face, Log: o.Log, Metrics: o.Metrics, Registerer: o.Registerer, WriteError: writeError, Prefix: o.Prefix})
}

// outKey carries the output format (out=) a request chose to writeError.
type outKey struct{}

// writeError is the face's one error renderer (its httpx.ErrorWriter): the
// error document (errorDoc) with status 200, as the panel answers, in the format
// the request chose (see serve).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	out, _ := r.Context().Value(outKey{}).(string)
	write(w, out, errorDoc(err))
}

// funcs is the face's function table.
func (f *face) funcs() map[string]handlerFunc {
	return map[string]handlerFunc{
		"instances.fleio.rescue":   f.rescue,
		"instances.fleio.unrescue": f.action("unrescue", f.svc.Unrescue),
		"instances.fleio.reboot":   f.action("reboot", f.svc.RebootInstance),
		"instances.fleio.start":    f.action("start", f.svc.StartInstance),
		"instances.fleio.stop":     f.action("stop", f.svc.StopInstance),
		"image":                    f.listImages,
		"image.edit":               f.createImage,
		"whoami":                   f.whoami,
	}
}

// serve is the one endpoint. Whatever happens, the answer is a document with
// status 200, as the panel's; a panic is logged and answered as an internal error.
// Errors go through httpx.WriteError (recorded for the log line, where a
// cancellation is a 499, not a 200) to writeError, in the format out chose.
func (f *face) serve(w http.ResponseWriter, r *http.Request) {
	out := strings.TrimSpace(r.URL.Query().Get("out"))
	r.Pattern = "unmatched"
	fail := func(err error) {
		httpx.WriteError(w, r.WithContext(context.WithValue(r.Context(), outKey{}, out)), err)
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			f.log.Error("billmgr: panic", "panic", p, "stack", string(debug.Stack()))
			fail(core.Errorf(core.KindInternal, "panic"))
		}
	}()
	doc, err := f.handle(w, r, &out)
	if err != nil {
		if core.ErrorKind(err) == core.KindInternal {
			f.log.Error("billmgr: request failed", "func", r.Pattern, "err", err)
		}
		fail(err)
		return
	}
	if doc != nil { // nil: the func wrote its answer (a list)
		write(w, out, doc)
	}
}

// handle decodes the request, authenticates it and runs its func: it returns the
// document, or nil when the func wrote the answer itself (func=instances).
func (f *face) handle(w http.ResponseWriter, r *http.Request, out *string) (node, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead {
		return nil, errValue("method", "use GET or POST")
	}
	p, err := decodeRequest(r)
	if err != nil {
		return nil, err
	}
	*out = strings.TrimSpace(p["out"])
	switch *out {
	case "", "xml", "json":
	default:
		*out = "xml"
		return nil, errValue("out", "only json and xml are served")
	}
	fn := strings.TrimSpace(p["func"])
	ctx, o := r.Context(), login.Origin{Face: Face, Source: httpx.RemoteIP(r)}
	if fn == "auth" {
		r.Pattern = "func=auth"
		return f.auth(ctx, p, o)
	}
	if fn == "instances" {
		r.Pattern = "func=" + fn
		l, err := f.authenticate(ctx, p, o)
		if err != nil {
			return nil, err
		}
		return nil, f.listInstances(w, r, l, p, *out)
	}
	h, ok := f.funcs()[fn]
	if !ok {
		if fn == "" {
			return nil, errMissed("func")
		}
		return nil, &core.Error{Kind: core.KindInvalid, Field: "func", Reason: "missed", Message: "unknown function " + quote(fn)}
	}
	r.Pattern = "func=" + fn
	l, err := f.authenticate(ctx, p, o)
	if err != nil {
		return nil, err
	}
	doc, err := h(core.WithActor(ctx, l.Actor), l.User, p)
	if err != nil {
		return nil, err
	}
	doc["$func"] = fn
	return doc, nil
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}

// auth is func=auth: username and password open a session whose id is doc.auth.$.
func (f *face) auth(ctx context.Context, p params, o login.Origin) (node, error) {
	name, err := p.required("username")
	if err != nil {
		return nil, err
	}
	pw, ok := p["password"]
	if !ok || pw == "" {
		return nil, errMissed("password")
	}
	l, err := f.logins.LoginPassword(ctx, login.PasswordLogin{UserName: name, Password: pw, Opens: core.TokenPanel}, o)
	if err != nil {
		return nil, err
	}
	return node{"$func": "auth", "auth": node{"$id": l.Secret, "$": l.Secret}, "user": text(l.User.Name)}, nil
}

// authenticate logs in with auth=<session> or authinfo=user:password.
func (f *face) authenticate(ctx context.Context, p params, o login.Origin) (*login.Login, error) {
	if s := strings.TrimSpace(p["auth"]); s != "" {
		return f.logins.LoginToken(ctx, core.TokenPanel, s, o)
	}
	if ai := p["authinfo"]; ai != "" {
		name, pw, ok := strings.Cut(ai, ":")
		if !ok || name == "" || pw == "" {
			return nil, errValue("authinfo", "expected user:password")
		}
		return f.logins.LoginPassword(ctx, login.PasswordLogin{UserName: name, Password: pw}, o)
	}
	return nil, core.Errorf(core.KindUnauthenticated, "authentication required: auth=<session> or authinfo=user:password")
}
