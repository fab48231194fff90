package ops

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"hostdeck/api/httpx"
	"hostdeck/core"
	"hostdeck/core/apps"
)

// Permissions (rows 113–130) are the access policy's grants (core/access.go),
// shown as the document's flag objects: a flag is an action granted to a user
// or a role (a group) on one application or host, or on every one of a type
// (a module's flag). What this file holds is the dictionary from the
// document's flag names to core's actions; who may do what is decided by
// core alone, from the same grants.

// resourceFlag is a flag of a per-resource permission object and its action.
type resourceFlag struct {
	name   string
	action core.Action
}

var appFlags = []resourceFlag{
	{"view_app", core.ActionApplicationView},
	{"edit_app", core.ActionApplicationEdit},
	{"delete_app", core.ActionApplicationDelete},
	{"deploy_app", core.ActionApplicationDeploy},
	{"review_app_deploy_task", core.ActionApplicationReviewDeploy},
	{"restart_app", core.ActionApplicationRestart},
	{"view_app_log", core.ActionApplicationViewLog},
	{"view_app_monitor", core.ActionApplicationViewMonitor},
}

var hostFlags = []resourceFlag{
	{"view_host", core.ActionServerView},
	{"edit_host", core.ActionServerEdit},
	{"delete_host", core.ActionServerDelete},
	{"init_host", core.ActionServerInit},
	{"restart_host", core.ActionServerReboot},
	{"login_host", core.ActionServerLogin},
	{"deactivate_host", core.ActionServerDeactivate},
}

// flagsOf is the permission object of the actions held: every flag, true or
// false.
func flagsOf(flags []resourceFlag, held []core.Action) map[string]bool {
	out := make(map[string]bool, len(flags))
	for _, fl := range flags {
		out[fl.name] = slices.Contains(held, fl.action)
	}
	return out
}

// grantKind is a kind of resource grants are given on: applications or hosts.
type grantKind struct {
	path      string // of the grantee side: /users/{id}/<path>/perms
	resources string // the collection: /applications, /hosts
	typ       core.ResourceType
	nameKey   string // the resource's name in an authorization entry
	flags     []resourceFlag
	// find resolves a resource's number; name finds the ids of the resources
	// named so (a filter); info reads the number and name of each id.
	find func(f *face, ctx context.Context, n int64) (resourceInfo, error)
	name func(f *face, ctx context.Context, name string) ([]string, error)
	info func(f *face, ctx context.Context, ids []string) (map[string]resourceInfo, error)
}

// resourceInfo is what an authorization entry shows of its resource.
type resourceInfo struct {
	id     string
	number int64
	name   string
}

var grantKinds = []grantKind{
	{path: "application", resources: "/applications", typ: core.ResourceApplication, nameKey: "app_name", flags: appFlags,
		find: (*face).appInfo, name: (*face).appIDsNamed, info: (*face).appInfos},
	{path: "host", resources: "/hosts", typ: core.ResourceServer, nameKey: "hostname", flags: hostFlags,
		find: (*face).hostInfo, name: (*face).hostIDsNamed, info: (*face).hostInfos},
}

func (k grantKind) action(flag string) (core.Action, bool) {
	for _, fl := range k.flags {
		if fl.name == flag {
			return fl.action, true
		}
	}
	return "", false
}

// grantee is the side grants are given to: users or roles.
type grantee struct {
	path string // /users, /roles
	key  string // the grantee's key in an authorization entry: user, role
	kind core.GranteeKind
}

var grantees = []grantee{
	{path: "/users", key: "user", kind: core.GranteeUser},
	{path: "/roles", key: "role", kind: core.GranteeGroup},
}

// party is a grantee found: whom, and how an entry shows it.
type party struct {
	who  core.Grantee
	body any // {id, username} or {id, name}
}

func (f *face) party(ctx context.Context, g grantee, n int64) (party, error) {
	if g.kind == core.GranteeUser {
		id, err := f.Core.IDOfNumber(ctx, core.NumberUser, "user", n)
		if err != nil {
			return party{}, err
		}
		u, err := f.Identity.GetUser(ctx, id)
		if err != nil {
			return party{}, err
		}
		return party{core.Grantee{Kind: core.GranteeUser, ID: u.ID}, namedUser{u.Number, u.Name}}, nil
	}
	id, err := f.Core.IDOfNumber(ctx, core.NumberGroup, "role", n)
	if err != nil {
		return party{}, err
	}
	grp, err := f.Identity.GetGroup(ctx, id)
	if err != nil {
		return party{}, err
	}
	return party{core.Grantee{Kind: core.GranteeGroup, ID: grp.ID}, namedRole{grp.Number, grp.Name}}, nil
}

// partyOf is the grantee of the route's {id}.
func (f *face) partyOf(r *http.Request, g grantee) (party, error) {
	n, err := pathID(r, g.key)
	if err != nil {
		return party{}, err
	}
	return f.party(r.Context(), g, n)
}

// resourceOf is the application or host of the route's {id}.
func (f *face) resourceOf(r *http.Request, k grantKind) (resourceInfo, error) {
	n, err := pathID(r, k.path)
	if err != nil {
		return resourceInfo{}, err
	}
	return k.find(f, r.Context(), n)
}

type namedUser struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

type namedRole struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Errors of granting, as row 129 documents them (400).
func undefinedPermission(name string) error {
	return &codeError{status: http.StatusBadRequest, code: 30001, en: "undefined permission " + name, zh: "未定义的权限 " + name}
}

var errMayNotGrant = &codeError{status: http.StatusBadRequest, code: 30002, en: "you are not allowed to grant permissions", zh: "没有授权权限"}

// changeGrants applies the changes in one transaction; a caller who may not
// grant is 30002.
func (f *face) changeGrants(ctx context.Context, changes []core.GrantChange) error {
	_, err := f.Core.ChangeGrants(ctx, changes)
	if core.ErrorKind(err) == core.KindForbidden {
		return errMayNotGrant
	}
	return err
}

// flagChanges turns a permission object into changes of who's grants on
// resource: true grants, false revokes, a flag left out stays as it is.
func flagChanges(k grantKind, who core.Grantee, resource string, perm map[string]bool) ([]core.GrantChange, error) {
	names := slices.Sorted(maps.Keys(perm))
	out := make([]core.GrantChange, 0, len(names))
	for _, name := range names {
		action, ok := k.action(name)
		if !ok {
			return nil, undefinedPermission(name)
		}
		out = append(out, core.GrantChange{Grant: core.Grant{Grantee: who, Action: action, ResourceID: resource}, Remove: !perm[name]})
	}
	return out, nil
}

// actionsOf lists k's actions.
func (k grantKind) actions() []core.Action {
	out := make([]core.Action, len(k.flags))
	for i, fl := range k.flags {
		out[i] = fl.action
	}
	return out
}

// listGranteePerms is GET /users/{id}/application/perms/ (and hosts, and
// roles): the resources the grantee holds grants on, with its flags on each.
func (f *face) listGranteePerms(g grantee, k grantKind) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		p, err := f.partyOf(r, g)
		if err != nil {
			return err
		}
		q := queryOf(r)
		page, num, size, err := q.page()
		if err != nil {
			return err
		}
		wide := false
		fl := core.GrantSetFilter{Grantee: &p.who, Type: k.typ, TypeWide: &wide, Page: page}
		name, err := q.str(k.nameKey, "name")
		if err != nil {
			return err
		}
		if name != nil {
			if fl.ResourceIDs, err = k.name(f, ctx, *name); err != nil {
				return err
			}
		}
		sets, total, err := f.Core.ListGrantSets(ctx, fl)
		if err != nil {
			return err
		}
		ids := make([]string, len(sets))
		for i, s := range sets {
			ids[i] = s.ResourceID
		}
		infos, err := k.info(f, ctx, ids)
		if err != nil {
			return err
		}
		out := make([]map[string]any, len(sets))
		for i, s := range sets {
			in := infos[s.ResourceID]
			out[i] = map[string]any{"id": in.number, k.nameKey: in.name, "permission": flagsOf(k.flags, s.Actions)}
		}
		writeList(w, r, num, size, total, out)
		return nil
	}
}

// authorization is an entry of POST /users/{id}/application/perms/.
type authorization struct {
	ID       number          `json:"id"`
	AppName  *string         `json:"app_name"`
	Hostname *string         `json:"hostname"`
	Perm     map[string]bool `json:"permission"`
	Perms    map[string]bool `json:"permissions"`
}

func (a authorization) flags() map[string]bool {
	if a.Perm != nil {
		return a.Perm
	}
	return a.Perms
}

// grantGranteePerms is POST /users/{id}/application/perms/ (and hosts, and
// roles): every entry's flags, applied together.
func (f *face) grantGranteePerms(g grantee, k grantKind) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		p, err := f.partyOf(r, g)
		if err != nil {
			return err
		}
		var in struct {
			Authorizations []authorization `json:"authorizations"`
		}
		if err := decode(r, &in); err != nil {
			return err
		}
		if in.Authorizations == nil {
			return invalid("authorizations is required")
		}
		var changes []core.GrantChange
		for _, a := range in.Authorizations {
			res, err := k.find(f, ctx, int64(a.ID))
			if err != nil {
				return err
			}
			cs, err := flagChanges(k, p.who, res.id, a.flags())
			if err != nil {
				return err
			}
			changes = append(changes, cs...)
		}
		if err := f.changeGrants(ctx, changes); err != nil {
			return err
		}
		return success(w)
	}
}

// listResourcePerms is GET /applications/{id}/authorization/users/ (and
// roles, and hosts): the grantees holding grants on the resource, with their
// flags.
func (f *face) listResourcePerms(g grantee, k grantKind) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		res, err := f.resourceOf(r, k)
		if err != nil {
			return err
		}
		page, num, size, err := queryOf(r).page()
		if err != nil {
			return err
		}
		sets, total, err := f.Core.ListGrantSets(ctx, core.GrantSetFilter{ResourceID: &res.id, GranteeKind: &g.kind, Type: k.typ, Page: page})
		if err != nil {
			return err
		}
		out := make([]map[string]any, len(sets))
		for i, s := range sets {
			var who any = namedUser{s.GranteeNumber, s.GranteeName}
			if g.kind == core.GranteeGroup {
				who = namedRole{s.GranteeNumber, s.GranteeName}
			}
			out[i] = map[string]any{g.key: who, "permission": flagsOf(k.flags, s.Actions)}
		}
		writeList(w, r, num, size, total, out)
		return nil
	}
}

// resourceEntry is an entry of PATCH /applications/{id}/authorization/users/.
type resourceEntry struct {
	User   *ref            `json:"user"`
	Role   *ref            `json:"role"`
	Perm   map[string]bool `json:"permission"`
	Perms  map[string]bool `json:"permissions"`
	Action *string         `json:"action"`
}

// changeResourcePerms is PATCH /applications/{id}/authorization/users/ (and
// roles, and hosts): action update (the default) sets the entry's flags,
// delete takes back every grant of the grantee on the resource.
func (f *face) changeResourcePerms(g grantee, k grantKind) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		res, err := f.resourceOf(r, k)
		if err != nil {
			return err
		}
		entries, err := decodeArray[resourceEntry](r)
		if err != nil {
			return err
		}
		var changes []core.GrantChange
		for _, e := range entries {
			who := e.User
			if g.kind == core.GranteeGroup {
				who = e.Role
			}
			if who == nil {
				return invalid("every entry names its %s: {\"%s\": {\"id\": …}}", g.key, g.key)
			}
			p, err := f.party(ctx, g, int64(who.ID))
			if err != nil {
				return err
			}
			action := "update"
			if e.Action != nil {
				action = *e.Action
			}
			switch action {
			case "update":
				perm := e.Perm
				if perm == nil {
					perm = e.Perms
				}
				cs, err := flagChanges(k, p.who, res.id, perm)
				if err != nil {
					return err
				}
				changes = append(changes, cs...)
			case "delete":
				for _, a := range k.actions() {
					changes = append(changes, core.GrantChange{Grant: core.Grant{Grantee: p.who, Action: a, ResourceID: res.id}, Remove: true})
				}
			default:
				return invalid("action must be update or delete, not %q", action)
			}
		}
		if err := f.changeGrants(ctx, changes); err != nil {
			return err
		}
		return success(w)
	}
}

// The resources of grants, as entries show them.

func (f *face) appInfo(ctx context.Context, n int64) (resourceInfo, error) {
	a, err := f.Apps.GetByNumber(ctx, n)
	if err != nil {
		return resourceInfo{}, err
	}
	return resourceInfo{a.ID, a.Number, a.FullName}, nil
}

func (f *face) hostInfo(ctx context.Context, n int64) (resourceInfo, error) {
	id, err := f.Core.IDOfNumber(ctx, core.NumberServer, "host", n)
	if err != nil {
		return resourceInfo{}, err
	}
	s, err := f.Fleet.GetServer(ctx, id)
	if err != nil {
		return resourceInfo{}, err
	}
	return resourceInfo{s.ID, s.Number, s.Name}, nil
}

// infos reads each id with get; one the caller no longer sees (or that is
// gone) shows as number 0 and no name.
func infos(ctx context.Context, ids []string, get func(ctx context.Context, id string) (resourceInfo, error)) (map[string]resourceInfo, error) {
	out := make(map[string]resourceInfo, len(ids))
	for _, id := range ids {
		in, err := get(ctx, id)
		switch core.ErrorKind(err) {
		case "":
		case core.KindNotFound, core.KindForbidden:
			in = resourceInfo{id: id}
		default:
			return nil, err
		}
		out[id] = in
	}
	return out, nil
}

func (f *face) appInfos(ctx context.Context, ids []string) (map[string]resourceInfo, error) {
	return infos(ctx, ids, func(ctx context.Context, id string) (resourceInfo, error) {
		a, err := f.Apps.Get(ctx, id)
		if err != nil {
			return resourceInfo{}, err
		}
		return resourceInfo{a.ID, a.Number, a.FullName}, nil
	})
}

func (f *face) hostInfos(ctx context.Context, ids []string) (map[string]resourceInfo, error) {
	return infos(ctx, ids, func(ctx context.Context, id string) (resourceInfo, error) {
		s, err := f.Fleet.GetServer(ctx, id)
		if err != nil {
			return resourceInfo{}, err
		}
		return resourceInfo{s.ID, s.Number, s.Name}, nil
	})
}

// appIDsNamed are the ids of the applications whose full name (or name) is
// name.
func (f *face) appIDsNamed(ctx context.Context, name string) ([]string, error) {
	ids := []string{}
	for _, fl := range []apps.AppFilter{{FullName: &name}, {Name: &name}} {
		fl.Page = core.Page{Limit: maxPageSize}
		l, err := f.Apps.List(ctx, fl)
		if err != nil {
			return nil, err
		}
		for _, a := range l.Items {
			ids = append(ids, a.ID)
		}
	}
	return ids, nil
}

// hostIDsNamed are the ids of the hosts named name.
func (f *face) hostIDsNamed(ctx context.Context, name string) ([]string, error) {
	ss, _, err := f.Fleet.ListServers(ctx, core.ServerFilter{Name: &name, Page: core.Page{Limit: maxPageSize}})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	return ids, nil
}

var _ = json.Marshal
