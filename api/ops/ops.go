// Package ops is the face that speaks a DevOps/CMDB platform's admin API
// (spec 002), in the style of the Django REST Framework service it describes:
// `Authorization: Token <key>` (or Bearer, or HTTP Basic), paginated lists
// {count, next, prev, results}, errors {error_code, message}, numeric ids, and
// every path under both /application/… and /applications/…, with or without a
// trailing slash. It serves the application tree and product lines, users,
// roles and their permissions, external navigators, API keys and the audit
// lists. Every rule lives in core; the routes and the choices made where the
// document is silent are in README.md beside this file.
package ops

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/httpx"
	"hostdeck/core"
	"hostdeck/core/apps"
	"hostdeck/core/fleet"
	"hostdeck/core/identity"
	"hostdeck/core/links"
	"hostdeck/core/login"
)

// Face is the face's name in logs, metrics and audit events.
const Face = "ops"

// Options configure the handler.
type Options struct {
	Log *slog.Logger
	// Metrics records requests; when nil and Registerer is set, metrics are
	// registered there.
	Metrics    *httpx.Metrics
	Registerer prometheus.Registerer
	// Prefix is the path the face is mounted under ("/ops"); found per request
	// when empty.
	Prefix string
}

// Services are the use cases the face translates to.
type Services struct {
	Core     *core.Service // grants and the audit log
	Identity *identity.Service
	Login    *login.Service
	Apps     *apps.Service
	Fleet    *fleet.Service // hosts are hostdeck's servers
	Links    *links.Service
}

type face struct {
	Services
	log *slog.Logger
}

// NewHandler returns the ops face over s. Its paths are relative to its mount
// point: mount it with http.StripPrefix under a prefix, or at "/".
func NewHandler(s Services, o Options) http.Handler {
	f := &face{Services: s, log: httpx.Logger(o.Log)}
	rt := httpx.NewRouter(f.middleware)
	f.routes(rt)
	return httpx.Serve(mendPath(rt), httpx.Options{Face: Face, Log: o.Log, Metrics: o.Metrics, Registerer: o.Registerer, WriteError: writeError, Prefix: o.Prefix})
}

// open are the routes served without credentials (after mendPath).
var open = map[string]bool{
	"/users/{id}/actions/forget-password": true,
	"/users/actions/reset-password":       true,
}

// routes is the face's route table, in the spellings mendPath leaves: the
// collection /applications, no trailing slash.
func (f *face) routes(rt *httpx.Router) {
	get, post, patch, del := http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete

	rt.Handle(get, "/applications", f.listApps)
	rt.Handle(post, "/applications", f.createApp)
	rt.Handle(post, "/applications/get-by-users", f.appsByUsers)
	rt.Handle(get, "/applications/{id}", f.getApp)
	rt.Handle(patch, "/applications/{id}", f.updateApp)
	rt.Handle(del, "/applications/{id}", f.deleteApp)
	rt.Handle(get, "/applications/{id}/response-person", f.listPersons)
	rt.Handle(post, "/applications/{id}/response-person", f.addPersons)
	rt.Handle(del, "/applications/{id}/response-person", f.removePersons)
	for _, rel := range appRelations {
		rt.Handle(get, "/applications/{id}/"+rel.path, f.listRelated(rel))
		if rel.add != nil {
			rt.Handle(post, "/applications/{id}/"+rel.path, f.addRelated(rel))
			rt.Handle(del, "/applications/{id}/"+rel.path, f.removeRelated(rel))
		}
	}

	rt.Handle(get, "/productions", f.listLines)
	rt.Handle(post, "/productions", f.createLine)
	rt.Handle(get, "/productions/{id}", f.getLine)
	rt.Handle(patch, "/productions/{id}", f.updateLine)
	rt.Handle(del, "/productions/{id}", f.deleteLine)
	rt.Handle(get, "/productions/{id}/applications", f.listLineApps)
	rt.Handle(post, "/productions/{id}/applications", f.addLineApps)
	rt.Handle(del, "/productions/{id}/applications", f.removeLineApps)

	rt.Handle(get, "/hosts", f.listHosts)
	rt.Handle(post, "/hosts", f.createHost)
	rt.Handle(get, "/hosts/{id}", f.getHost)
	rt.Handle(patch, "/hosts/{id}", f.updateHost)
	rt.Handle(del, "/hosts/{id}", f.deleteHost)

	rt.Handle(get, "/users", f.listUsers)
	rt.Handle(post, "/users", f.createUser)
	rt.Handle(post, "/users/actions/reset-password", f.resetPassword)
	rt.Handle(get, "/users/{id}", f.getUser)
	rt.Handle(patch, "/users/{id}", f.updateUser)
	rt.Handle(del, "/users/{id}", f.deleteUser)
	rt.Handle(get, "/users/{id}/roles", f.userRoles)
	rt.Handle(post, "/users/{id}/roles", f.addUserRoles)
	rt.Handle(del, "/users/{id}/roles", f.removeUserRoles)
	rt.Handle(post, "/users/{id}/actions/disable", f.enableUser(false))
	rt.Handle(post, "/users/{id}/actions/enable", f.enableUser(true))
	rt.Handle(post, "/users/{id}/actions/change-password", f.changePassword)
	rt.Handle(post, "/users/{id}/actions/forget-password", f.forgetPassword)

	rt.Handle(get, "/roles", f.listRoles)
	rt.Handle(post, "/roles", f.createRole)
	rt.Handle(get, "/roles/{id}", f.getRole)
	rt.Handle(patch, "/roles/{id}", f.updateRole)
	rt.Handle(del, "/roles/{id}", f.deleteRole)
	rt.Handle(get, "/roles/{id}/users", f.roleUsers)
	rt.Handle(post, "/roles/{id}/users", f.addRoleUsers)
	rt.Handle(del, "/roles/{id}/users", f.removeRoleUsers)

	for _, g := range grantees {
		for _, k := range grantKinds {
			rt.Handle(get, g.path+"/{id}/"+k.path+"/perms", f.listGranteePerms(g, k))
			rt.Handle(post, g.path+"/{id}/"+k.path+"/perms", f.grantGranteePerms(g, k))
			rt.Handle(get, k.resources+"/{id}/authorization/"+g.path[1:], f.listResourcePerms(g, k))
			rt.Handle(patch, k.resources+"/{id}/authorization/"+g.path[1:], f.changeResourcePerms(g, k))
		}
		rt.Handle(get, g.path+"/{id}/system/perms", f.listModulePerms(g))
		rt.Handle(post, g.path+"/{id}/system/perms", f.grantModulePerms(g))
	}

	rt.Handle(get, "/external-navigators", f.listLinks)
	rt.Handle(post, "/external-navigators", f.createLink)
	rt.Handle(get, "/external-navigators/{id}", f.getLink)
	rt.Handle(patch, "/external-navigators/{id}", f.updateLink)
	rt.Handle(del, "/external-navigators/{id}", f.deleteLink)

	rt.Handle(get, "/auth-tokens", f.listKeys)
	rt.Handle(post, "/auth-tokens", f.createKey)
	rt.Handle(get, "/auth-tokens/{id}", f.getKey)
	rt.Handle(patch, "/auth-tokens/{id}", f.updateKey)
	rt.Handle(del, "/auth-tokens/{id}", f.deleteKey)

	for _, l := range auditLists {
		rt.Handle(get, l.path, f.listAudit(l))
	}
}

// mendPath routes every spelling the document uses to the one the route table
// holds: without the trailing slash, /application… as /applications…, and
// /host/{id}/… as /hosts/{id}/…. (The links of lists are made from the path
// the client sent, RequestURI, so they keep its spelling.)
func mendPath(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := mended(r.URL.Path); p != r.URL.Path {
			r2 := *r
			u := *r.URL
			u.Path, u.RawPath = p, ""
			r2.URL = &u
			r = &r2
		}
		h.ServeHTTP(w, r)
	})
}

// mended is path in the route table's spelling.
func mended(path string) string {
	if len(path) > 1 {
		path = strings.TrimRight(path, "/")
		if path == "" {
			path = "/"
		}
	}
	for _, alias := range [][2]string{{"/application", "/applications"}, {"/host", "/hosts"}} {
		if path == alias[0] || strings.HasPrefix(path, alias[0]+"/") {
			return alias[1] + path[len(alias[0]):]
		}
	}
	return path
}

// middleware runs around every route (404 and 405 included): it authenticates
// the request (authenticate) unless the route is open, and puts the actor in
// the context.
func (f *face) middleware(next httpx.HandlerFunc) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o := login.Origin{Face: Face, Source: httpx.RemoteIP(r)}
		if open[r.Pattern] {
			return next(w, r.WithContext(core.WithActor(r.Context(), core.Anonymous(Face, o.Source))))
		}
		l, err := f.authenticate(r, o)
		if err != nil {
			return err
		}
		return next(w, r.WithContext(core.WithActor(r.Context(), l.Actor)))
	}
}

// authenticate reads the Authorization header: "Token <key>" or
// "Bearer <key>" (a key of POST /auth-tokens/), or HTTP Basic with a user's
// name and password. None is errNoCredentials; a wrong one is core's
// KindUnauthenticated.
func (f *face) authenticate(r *http.Request, o login.Origin) (*login.Login, error) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch {
	case h == "":
		return nil, errNoCredentials
	case strings.EqualFold(scheme, "Token"), strings.EqualFold(scheme, "Bearer"):
		return f.Login.LoginToken(r.Context(), core.TokenKey, cred, o)
	case strings.EqualFold(scheme, "Basic"):
		name, password, ok := r.BasicAuth()
		if !ok {
			return nil, errBadCredentials
		}
		return f.Login.LoginPassword(r.Context(), login.PasswordLogin{UserName: name, Password: password}, o)
	}
	return nil, errBadCredentials
}
