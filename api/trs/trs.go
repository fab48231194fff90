// Package trs is the face that speaks the "RS server" admin API of the
// remote-desktop document (spec 001, port 9364) and the Keystone v3 subset its
// clients log in with. TRS routes (/v1/...) take an X-Auth-Token and answer errors
// in the document's envelope with its numeric codes, in English or Russian;
// Keystone routes (/v3/...) answer as OpenStack Keystone does. Every rule lives in
// core. The routes and the choices made where the document is silent are in
// README.md beside this file.
package trs

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/httpx"
	"hostdeck/api/rsproto"
	"hostdeck/core"
	"hostdeck/core/catalogue"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/handout"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/desktop/provision"
	"hostdeck/core/desktop/session"
	"hostdeck/core/identity"
	"hostdeck/core/login"
)

// Face is the face's name in logs, metrics and audit events.
const Face = "trs"

// License is the licence block GET /v1/info shows, as the document's example has it.
type License struct {
	CreatedAt     int64  `json:"created_at"`
	ExpireAt      int64  `json:"expire_at"`
	ModulePackage string `json:"module_package"`
	Name          string `json:"name"`
	Product       string `json:"product"`
	SurrogateName string `json:"surrogate_name"`
	UniqueID      string `json:"unique_id"`
	Verified      bool   `json:"verified"`
}

// ExpiresAt is when the licence ends; zero for no licence (nil) or none given.
func (l *License) ExpiresAt() time.Time {
	if l == nil || l.ExpireAt == 0 {
		return time.Time{}
	}
	return time.Unix(l.ExpireAt, 0)
}

// Options configure the handler.
type Options struct {
	Log *slog.Logger
	// Metrics records requests; when nil and Registerer is set, metrics are
	// registered there (never on the global registry).
	Metrics    *httpx.Metrics
	Registerer prometheus.Registerer
	// Prefix is the path the face is mounted under ("/trs"); found per request
	// when empty.
	Prefix string
	// Version is what GET /v1/info reports; the binary's module version when empty.
	Version string
	// License is shown by GET /v1/info; omitted when nil.
	License *License
}

type face struct {
	svc       *desktop.Service   // pools (and, through core, tasks and domains)
	sessions  *session.Service   // sessions, floating IPs, volume assignments
	machines  *machine.Service   // pools' machines and their assignments
	provision *provision.Service // new machines
	handout   *handout.Service   // auto-allocation of free machines
	images    *catalogue.Service
	users     *identity.Service // the directory
	logins    *login.Service    // who is asking
	log       *slog.Logger
	version   string
	license   *License
	answers   *httpx.Answers // of the machine list, by its parameters
}

// NewHandler returns the trs face over the pools (svc) and what they hold. It
// uses paths relative to its mount point: mount it with http.StripPrefix under a
// prefix, or at "/".
func NewHandler(svc *desktop.Service, sessions *session.Service, machines *machine.Service, prov *provision.Service,
	handOut *handout.Service, images *catalogue.Service, users *identity.Service, logins *login.Service, o Options) http.Handler {
	if o.Version == "" {
		o.Version = buildVersion()
	}
	f := &face{answers: httpx.NewAnswers(httpx.AnswersBudget), svc: svc, sessions: sessions, machines: machines, provision: prov, handout: handOut, images: images, users: users, logins: logins,
		log: httpx.Logger(o.Log), version: o.Version, license: o.License}
	rt := httpx.NewRouter(f.middleware)
	f.routes(rt)
	return httpx.Serve(rt, httpx.Options{Face: Face, Log: o.Log, Metrics: o.Metrics, Registerer: o.Registerer, WriteError: writeError, Prefix: o.Prefix})
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return strings.TrimPrefix(bi.Main.Version, "v")
	}
	return "0.0.0-dev"
}

// routes is the face's route table.
func (f *face) routes(rt *httpx.Router) {
	get, post, put, del := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete

	// Keystone v3 subset.
	rt.Handle(get, "/{$}", f.keystoneVersions)
	rt.Handle(get, "/v3", f.keystoneVersion)
	rt.Handle(post, "/v3/auth/tokens", f.issueToken)
	rt.Handle(get, "/v3/auth/tokens", f.checkToken)
	rt.Handle(http.MethodHead, "/v3/auth/tokens", f.checkToken)
	rt.Handle(del, "/v3/auth/tokens", f.revokeToken)
	rt.Handle(post, "/v3/users", f.createUser)
	rt.Handle(get, "/v3/users", f.listUsers)
	rt.Handle(get, "/v3/users/{id}", f.getUser)
	rt.Handle(http.MethodPatch, "/v3/users/{id}", f.updateUser)
	rt.Handle(del, "/v3/users/{id}", f.deleteUser)
	rt.Handle(post, "/v3/users/{id}/password", f.changeOwnPassword)
	rt.Handle(post, "/v3/groups", f.createGroup)
	rt.Handle(get, "/v3/groups", f.listGroups)
	rt.Handle(get, "/v3/groups/{g}/users", f.listGroupUsers)
	rt.Handle(put, "/v3/groups/{g}/users/{u}", f.addGroupUser)
	rt.Handle(del, "/v3/groups/{g}/users/{u}", f.removeGroupUser)
	rt.Handle(get, "/v3/roles", f.listRoles)
	rt.Handle(put, "/v3/projects/{p}/users/{u}/roles/{r}", f.grantRole)
	rt.Handle(post, "/v3/credentials", f.createCredential)
	rt.Handle(get, "/v3/credentials", f.listCredentials)
	rt.Handle(get, "/v3/credentials/{id}", f.getCredential)
	rt.Handle(del, "/v3/credentials/{id}", f.deleteCredential)

	// TRS.
	rt.Handle(get, "/v1/info", f.info)
	rt.Handle(get, "/v1/tasks", f.listTasks)
	rt.Handle(get, "/v1/tasks/{task_id}", f.getTask)
	rt.Handle(post, "/v1/projects", f.createProject)
	rt.Handle(get, "/v1/projects", f.listProjects)
	rt.Handle(get, "/v1/projects/actions/get-settings", f.projectSettings)
	rt.Handle(get, "/v1/projects/{project_id}", f.getProject)
	rt.Handle(put, "/v1/projects/{project_id}", f.updateProject)
	rt.Handle(get, "/v1/projects/{project_id}/statistics", f.projectStatistics)
	rt.Handle(post, "/v1/projects/{project_id}/actions/auto-allocate-users", f.autoAllocateUsers)
	rt.Handle(get, "/v1/flavors", f.listFlavors)
	rt.Handle(get, "/v1/images", f.listImages)
	// Floating IPs, sessions, volume assignments (sessions.go).
	rt.Handle(get, "/v1/users", f.listFloatingUsers)
	rt.Handle(get, "/v1/users/{user_id}", f.getFloatingUser)
	rt.Handle(post, "/v1/users/{user_id}/floating-ip", f.allocateFloatingIP)
	rt.Handle(put, "/v1/users/{user_id}/floating-ip", f.changeFloatingIP)
	rt.Handle(del, "/v1/users/{user_id}/floating-ip", f.releaseFloatingIP)
	rt.Handle(post, "/v1/sessions", f.recordSession)
	rt.Handle(get, "/v1/sessions", f.listSessions)
	rt.Handle(get, "/v1/sessions/count", f.countSessions)
	rt.Handle(post, "/v1/volume-assignments", f.createVolumeAssignment)
	rt.Handle(get, "/v1/volume-assignments", f.listVolumeAssignments)
	rt.Handle(get, "/v1/volume-assignments/{assignment_id}", f.getVolumeAssignment)
	rt.Handle(del, "/v1/volume-assignments/{assignment_id}", f.deleteVolumeAssignment)
	rt.Handle(post, "/v1/servers", f.createServers)
	rt.Handle(get, "/v1/servers", f.listServers)
	rt.Handle(get, "/v1/servers/{server_id}", f.getServer)
	rt.Handle(put, "/v1/servers/{server_id}", f.updateServer)
	rt.Handle(post, "/v1/servers/{server_id}/users", f.assignServerUsers)
	rt.Handle(get, "/v1/servers/{server_id}/users", f.listServerUsers)
	rt.Handle(del, "/v1/servers/{server_id}/users/{user_id}", f.unassignServerUser)
	rt.Handle(post, "/v1/servers/{server_id}/groups", f.assignServerGroups)
	rt.Handle(get, "/v1/servers/{server_id}/groups", f.listServerGroups)
	rt.Handle(del, "/v1/servers/{server_id}/groups/{group_id}", f.unassignServerGroup)
	rt.Handle(post, "/v1/users/{user_id}/servers", f.assignUserServers)
	rt.Handle(get, "/v1/users/{user_id}/servers", f.listUserServers)
	rt.Handle(post, "/v1/groups/{group_id}/servers", f.assignGroupServers)
	rt.Handle(get, "/v1/groups/{group_id}/servers", f.listGroupServers)
}

// keystonePath reports whether the request is for the Keystone subset, which
// answers errors in Keystone's shape.
func keystonePath(r *http.Request) bool {
	return r.URL.Path == "/v3" || strings.HasPrefix(r.URL.Path, "/v3/")
}

// middleware runs around every route (404 and 405 included). It authenticates
// (X-Auth-Token everywhere but the Keystone login and the version documents),
// puts the actor in the context and stops the RS server's work once the licence
// has ended; the errors go to writeError, which answers in Keystone's shape or
// the TRS envelope by path.
func (f *face) middleware(next httpx.HandlerFunc) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		open := r.URL.Path == "/" || r.URL.Path == "/v3" || r.URL.Path == "/v3/auth/tokens" && r.Method == http.MethodPost ||
			r.Method == http.MethodPost && isOwnPasswordChange(r.URL.Path)
		if !open {
			ctx, err := f.authenticate(r)
			if err != nil {
				return err
			}
			r = r.WithContext(ctx)
		}
		// An ended licence stops the RS server's work; /v1/info still shows it,
		// and Keystone (/v3) still answers.
		if strings.HasPrefix(r.URL.Path, "/v1/") && r.URL.Path != "/v1/info" {
			if err := f.logins.CheckLicense(rsproto.BaseURL(r)); err != nil {
				return err
			}
		}
		return next(w, r)
	}
}

// authenticate logs in with X-Auth-Token.
func (f *face) authenticate(r *http.Request) (context.Context, error) {
	l, err := f.logins.LoginToken(r.Context(), core.TokenAPI, r.Header.Get("X-Auth-Token"), origin(r))
	if err != nil {
		return nil, err
	}
	ctx := core.WithActor(r.Context(), l.Actor)
	return context.WithValue(ctx, authKey{}, &auth{token: l.Token, user: l.User}), nil
}

// origin is where the request's credential comes from.
func origin(r *http.Request) login.Origin {
	return login.Origin{Face: Face, Source: httpx.RemoteIP(r)}
}

// auth is the validated token of the request and its user.
type auth struct {
	token *core.Token
	user  *core.User
}

type authKey struct{}

// authFrom returns the request's validated token and user (nil on open routes).
func authFrom(r *http.Request) *auth {
	a, _ := r.Context().Value(authKey{}).(*auth)
	return a
}
