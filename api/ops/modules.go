package ops

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"

	"hostdeck/api/httpx"
	"hostdeck/core"
)

// Module ("system") permissions (rows 129–130): each flag of a module is one
// or more grants of the grantee on every resource of a type (view_app: see
// every application), or the use of a module (core/modules.go: enable_app_mgmt
// is module.use on the applications module). Flags whose part of the product
// is not built yet are module uses as well, which that part then checks.

// grantTarget is an action on every resource of its type (resource ""), or
// module.use on a module.
type grantTarget struct {
	action   core.Action
	resource string
}

func wide(a core.Action) grantTarget { return grantTarget{action: a} }
func use(module string) grantTarget  { return grantTarget{core.ActionModuleUse, module} }

// moduleFlag is a flag and the grants it stands for; an alias (a spelling of
// the document's example) is accepted and not shown.
type moduleFlag struct {
	name    string
	targets []grantTarget
	alias   bool
}

// module is a module of the permission tables: its key, its display name
// (accepted as a key too; shown in audit rows) and its flags.
type module struct {
	key, title string
	flags      []moduleFlag
}

var modules = []module{
	{"resource_request", "资源申请", []moduleFlag{
		{name: "enable_resource_req", targets: []grantTarget{use(core.ModuleRequests)}},
		{name: "approve_host_req", targets: []grantTarget{use(core.ModuleRequestsHosts)}},
		{name: "approve_domain_req", targets: []grantTarget{use(core.ModuleRequestsDomains)}},
		{name: "approve_ssl_cert_req", targets: []grantTarget{use(core.ModuleRequestsCerts)}},
		{name: "create_resource_req", targets: []grantTarget{use(core.ModuleRequestsCreate)}},
	}},
	{"application", "应用管理", []moduleFlag{
		{name: "enable_app_mgmt", targets: []grantTarget{use(core.ModuleApplications)}},
		{name: "view_app", targets: []grantTarget{wide(core.ActionApplicationView)}},
		{name: "create_app", targets: []grantTarget{wide(core.ActionApplicationCreate)}},
		{name: "delete_app", targets: []grantTarget{wide(core.ActionApplicationDelete)}},
		{name: "edit_app", targets: []grantTarget{wide(core.ActionApplicationEdit)}},
		{name: "add_app", targets: []grantTarget{wide(core.ActionApplicationCreate)}, alias: true},
		{name: "delte_app", targets: []grantTarget{wide(core.ActionApplicationDelete)}, alias: true},
		{name: "manage_app", targets: []grantTarget{wide(core.ActionApplicationEdit), wide(core.ActionApplicationDelete)}, alias: true},
	}},
	{"dns", "DNS管理", []moduleFlag{
		{name: "enable_dns_mgmt", targets: []grantTarget{use(core.ModuleDNS)}},
		{name: "manage_dns_server", targets: []grantTarget{use(core.ModuleDNSServers)}},
	}},
	{"resource", "资源管理", []moduleFlag{
		{name: "enable_host_mgmt", targets: []grantTarget{use(core.ModuleHosts)}},
		{name: "add_host", targets: []grantTarget{wide(core.ActionServerCreate)}},
		{name: "edit_host", targets: []grantTarget{wide(core.ActionServerEdit)}},
		{name: "delete_host", targets: []grantTarget{wide(core.ActionServerDelete)}},
		{name: "manage_host", targets: []grantTarget{wide(core.ActionServerView), wide(core.ActionServerReboot), wide(core.ActionServerInit), wide(core.ActionServerDeactivate)}},
		{name: "enable_business_mgmt", targets: []grantTarget{use(core.ModuleProductLines)}},
		{name: "view_business", targets: []grantTarget{wide(core.ActionProductLineView)}},
		{name: "add_business", targets: []grantTarget{wide(core.ActionProductLineCreate)}},
		{name: "delete_business", targets: []grantTarget{wide(core.ActionProductLineDelete)}},
	}},
	{"navigator", "导航管理", []moduleFlag{
		{name: "enable_navigator", targets: []grantTarget{use(core.ModuleLinks)}},
		{name: "view_navigator", targets: []grantTarget{wide(core.ActionLinkView)}},
		{name: "manage_navigator", targets: []grantTarget{wide(core.ActionLinkView), wide(core.ActionLinkManage)}},
	}},
	{"common_tools", "常用工具", []moduleFlag{
		{name: "enable_common_tools", targets: []grantTarget{use(core.ModuleTools)}},
		{name: "enable_cdn_refresher", targets: []grantTarget{use(core.ModuleCDNRefresh)}},
		{name: "enable_jumpserver_log_mgmt", targets: []grantTarget{use(core.ModuleBastionLog)}},
	}},
	{"deploy_template", "发布模板", []moduleFlag{
		{name: "enable_deploy_template_mgmt", targets: []grantTarget{use(core.ModuleDeployTemplates)}},
		{name: "enable_cdn_refresher", targets: []grantTarget{use(core.ModuleCDNRefresh)}, alias: true},
		{name: "enable_jumpserver_log_mgmt", targets: []grantTarget{use(core.ModuleBastionLog)}, alias: true},
	}},
}

// moduleNamed finds a module by its key or display name (case-insensitive key).
func moduleNamed(name string) (*module, bool) {
	name = strings.TrimSpace(name)
	for i := range modules {
		if strings.EqualFold(modules[i].key, name) || modules[i].title == name {
			return &modules[i], true
		}
	}
	return nil, false
}

func (m *module) flag(name string) (*moduleFlag, bool) {
	for i := range m.flags {
		if m.flags[i].name == name {
			return &m.flags[i], true
		}
	}
	return nil, false
}

// moduleActions are the actions module grants are of (to read them back).
func moduleActions() []core.Action {
	var out []core.Action
	for _, m := range modules {
		for _, fl := range m.flags {
			for _, t := range fl.targets {
				if !slices.Contains(out, t.action) {
					out = append(out, t.action)
				}
			}
		}
	}
	return out
}

// flagOf is the module and flag a module grant shows as in the audit log: the
// first flag (not an alias) whose grants include it.
func flagOf(action core.Action, resource string) (*module, *moduleFlag, bool) {
	t := grantTarget{action, resource}
	for i := range modules {
		for j := range modules[i].flags {
			if fl := &modules[i].flags[j]; !fl.alias && slices.Contains(fl.targets, t) {
				return &modules[i], fl, true
			}
		}
	}
	return nil, nil, false
}

// moduleGrant is an entry of POST /users/{id}/system/perms/.
type moduleGrant struct {
	Module *string         `json:"module_name"`
	Perms  map[string]bool `json:"permissions"`
	Perm   map[string]bool `json:"permission"`
}

// grantModulePerms is POST /users/{id}/system/perms/ (and roles): one entry
// or an array of them; true grants a flag, false revokes it. An unknown
// module or flag is 30001, a caller who may not grant 30002.
func (f *face) grantModulePerms(g grantee) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		p, err := f.partyOf(r, g)
		if err != nil {
			return err
		}
		entries, err := decodeArray[moduleGrant](r)
		if err != nil {
			return err
		}
		var changes []core.GrantChange
		for _, e := range entries {
			if e.Module == nil {
				return invalid("module_name is required")
			}
			m, ok := moduleNamed(*e.Module)
			if !ok {
				return undefinedPermission(*e.Module)
			}
			perms := e.Perms
			if perms == nil {
				perms = e.Perm
			}
			names := slices.Sorted(maps.Keys(perms))
			for _, name := range names {
				fl, ok := m.flag(name)
				if !ok {
					return undefinedPermission(name)
				}
				for _, t := range fl.targets {
					changes = append(changes, core.GrantChange{Grant: core.Grant{Grantee: p.who, Action: t.action, ResourceID: t.resource}, Remove: !perms[name]})
				}
			}
		}
		if err := f.changeGrants(ctx, changes); err != nil {
			return err
		}
		return success(w)
	}
}

// moduleBody is a module's permissions as read back (an extension).
type moduleBody struct {
	Module string          `json:"module_name"`
	Title  string          `json:"title"`
	Flags  map[string]bool `json:"permissions"`
}

// listModulePerms is GET /users/{id}/system/perms/ (an extension): every
// module with every flag, true when the grantee itself holds all its grants.
func (f *face) listModulePerms(g grantee) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		p, err := f.partyOf(r, g)
		if err != nil {
			return err
		}
		held, err := f.moduleGrants(ctx, p.who)
		if err != nil {
			return err
		}
		out := make([]moduleBody, len(modules))
		for i, m := range modules {
			perms := map[string]bool{}
			for _, fl := range m.flags {
				if fl.alias {
					continue
				}
				all := true
				for _, t := range fl.targets {
					all = all && held[t]
				}
				perms[fl.name] = all
			}
			out[i] = moduleBody{Module: m.key, Title: m.title, Flags: perms}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// moduleGrants are the module grants who holds itself.
func (f *face) moduleGrants(ctx context.Context, who core.Grantee) (map[grantTarget]bool, error) {
	held := map[grantTarget]bool{}
	for offset := 0; ; offset += maxPageSize {
		gs, total, err := f.Core.ListGrants(ctx, core.GrantFilter{Grantee: &who, Actions: moduleActions(), Page: core.Page{Offset: offset, Limit: maxPageSize}})
		if err != nil {
			return nil, err
		}
		for _, gr := range gs {
			held[grantTarget{gr.Action, gr.ResourceID}] = true
		}
		if offset+len(gs) >= total || len(gs) == 0 {
			return held, nil
		}
	}
}
