// Package alfa is the face that speaks the "Alfa Cloud" admin API (spec 000): HTTP
// Basic Auth, JSON:API documents, servers and client clouds, plus hostdeck's own
// tasks and audit log that every asynchronous answer points to. It translates
// requests into core use cases and their results into documents; every rule lives
// in core. The routes and every choice made where the spec is silent are in
// README.md beside this file.
package alfa

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/alfa/jsonapi"
	"hostdeck/api/httpx"
	"hostdeck/core"
	"hostdeck/core/cloud"
	"hostdeck/core/fleet"
	"hostdeck/core/login"
)

// Face is the face's name in logs, metrics and audit events.
const Face = "alfa"

// Options configure the handler.
type Options struct {
	Log *slog.Logger
	// Metrics records requests; when nil and Registerer is set, metrics are
	// registered there (never on the global registry).
	Metrics    *httpx.Metrics
	Registerer prometheus.Registerer
	// Prefix is the path the face is mounted under ("/alfa"), for links and
	// Location headers. When empty it is found from each request (http.StripPrefix
	// in front of the handler is recognised).
	Prefix string
}

type face struct {
	svc     *cloud.Service
	fleet   *fleet.Service
	logins  *login.Service
	answers *httpx.Answers // of the client list, by its parameters
}

// NewHandler returns the alfa face over svc (clients) and servers (the fleet). It uses paths relative to its mount
// point: mount it with http.StripPrefix under a prefix, or at "/".
func NewHandler(svc *cloud.Service, servers *fleet.Service, logins *login.Service, o Options) http.Handler {
	f := &face{svc: svc, fleet: servers, logins: logins, answers: httpx.NewAnswers(httpx.AnswersBudget)}
	rt := httpx.NewRouter(f.auth)
	f.routes(rt)
	return httpx.Serve(rt, httpx.Options{Face: Face, Log: o.Log, Metrics: o.Metrics, Registerer: o.Registerer, WriteError: writeError, Prefix: o.Prefix})
}

// writeError is the face's one error renderer: a JSON:API error document (see
// jsonapi.FromError for the status and objects), and on a 401 the Basic
// challenge.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := jsonapi.FromError(err)
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="hostdeck"`)
	}
	jsonapi.Write(w, e.Status, &jsonapi.Document{Errors: e.Objects})
}

// routes is the face's route table: every line of spec 000, each documented GET
// action also as POST, plus tasks and audit.
func (f *face) routes(rt *httpx.Router) {
	get, post := http.MethodGet, http.MethodPost
	both := func(pattern string, h httpx.HandlerFunc) {
		rt.Handle(get, pattern, h)
		rt.Handle(post, pattern, h)
	}
	edit := func(pattern string, h httpx.HandlerFunc) {
		rt.Handle(http.MethodPut, pattern, h)
		rt.Handle(http.MethodPatch, pattern, h)
	}

	rt.Handle(get, "/servers", f.listServers)
	rt.Handle(get, "/servers/{id}", f.getServer)
	edit("/servers/{id}", f.updateServer)
	rt.Handle(post, "/servers/create", f.createServer)
	both("/servers/reboot_server", f.rebootServer)
	rt.Handle(http.MethodDelete, "/servers/{id}/delete", f.deleteServer)

	rt.Handle(get, "/clients", f.listClients)
	rt.Handle(get, "/clients/{id}", f.getClient)
	edit("/clients/{id}", f.updateClient)
	rt.Handle(post, "/clients/create", f.createClient)
	rt.Handle(post, "/clients/owner_password", f.ownerPassword)
	edit("/clients/{id}/expire_date", f.setExpireDate)
	rt.Handle(get, "/clients/{id}/expire_dates_history", f.expireHistory)
	both("/clients/{id}/demo_enable", f.clientAction(func(f *face, r *http.Request, id string) (*core.Task, error) {
		return f.svc.SetDemo(r.Context(), id, true)
	}))
	both("/clients/{id}/demo_disable", f.clientAction(func(f *face, r *http.Request, id string) (*core.Task, error) {
		return f.svc.SetDemo(r.Context(), id, false)
	}))
	both("/clients/{id}/send_success", f.clientAction(func(f *face, r *http.Request, id string) (*core.Task, error) {
		return f.svc.SendSuccess(r.Context(), id)
	}))
	both("/clients/{id}/send_expire", f.clientAction(func(f *face, r *http.Request, id string) (*core.Task, error) {
		return f.svc.SendExpire(r.Context(), id)
	}))
	both("/clients/{id}/reboot", f.clientAction(func(f *face, r *http.Request, id string) (*core.Task, error) {
		return f.svc.RebootClient(r.Context(), id)
	}))
	rt.Handle(http.MethodDelete, "/clients/{id}/delete", f.clientAction(func(f *face, r *http.Request, id string) (*core.Task, error) {
		return f.svc.DeleteClient(r.Context(), id)
	}))
	rt.Handle(post, "/clients/{id}/transfer", f.transferClient)

	rt.Handle(post, "/cloud_admin_password", f.setAdminPassword)

	rt.Handle(get, "/tasks", f.listTasks)
	rt.Handle(get, "/tasks/{id}", f.getTask)
	rt.Handle(post, "/tasks/{id}/cancel", f.cancelTask)

	rt.Handle(get, "/audit", f.listAudit)
}

// auth runs before every route (404 and 405 included): HTTP Basic credentials are
// checked by core and the actor goes into the context; what the actor may do is
// for core's use cases to decide (every route here is an administrator's).
// Content negotiation (Accept) is checked once the caller is known. A refusal is
// a 401 with the Basic challenge (writeError).
func (f *face) auth(next httpx.HandlerFunc) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		name, pass, ok := r.BasicAuth()
		if !ok {
			return core.Errorf(core.KindUnauthenticated, "HTTP Basic credentials are required")
		}
		l, err := f.logins.LoginPassword(r.Context(), login.PasswordLogin{UserName: name, Password: pass},
			login.Origin{Face: Face, Source: httpx.RemoteIP(r)})
		if err != nil {
			return err
		}
		ctx := core.WithActor(r.Context(), l.Actor)
		if err := jsonapi.CheckAccept(r); err != nil {
			return err
		}
		return next(w, r.WithContext(ctx))
	}
}
