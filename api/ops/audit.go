package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"hostdeck/api/httpx"
	"hostdeck/core"
)

// The audit lists (rows 144–148) are hostdeck's audit log, which every change
// writes in its own transaction, on every face: each list is the events of
// its records, with core's actions shown as the document's op_type.

// auditOp is an op_type and the actions it shows; other spellings a filter
// accepts.
type auditOp struct {
	name    string
	actions []string
	aliases []string
}

// auditList is one of the five lists.
type auditList struct {
	path  string
	types []string // the target types of its events
	ops   []auditOp
	opKey string // the filter of ops: op_type, or action on the authorization lists
	// filters reads the list's own filters into fl.
	filters func(f *face, r *http.Request, fl *core.AuditFilter) error
	// row renders an event.
	row func(f *face, ctx context.Context, ev *core.AuditEvent, op string) map[string]any
}

var auditLists = []auditList{
	{path: "/audit/dns-operations", types: []string{"dns_server", "dns_zone", "dns_record"},
		ops: []auditOp{
			{name: "add", actions: []string{"dns_server.create", "dns_zone.create", "dns_record.create"}},
			{name: "update", actions: []string{"dns_server.update", "dns_zone.update", "dns_record.update"}},
			{name: "delete", actions: []string{"dns_server.delete", "dns_zone.delete", "dns_record.delete"}},
			{name: "disable", actions: []string{"dns_record.disable"}},
			{name: "enable", actions: []string{"dns_record.enable"}},
		},
		filters: dnsFilters, row: dnsRow},
	{path: "/audit/host-operations", types: []string{"server"},
		ops: []auditOp{
			{name: "add", actions: []string{"server.create", "server.add"}},
			{name: "update", actions: []string{"server.update"}},
			{name: "delete", actions: []string{"server.delete"}},
			{name: "attach_app", actions: []string{"server.attach_app"}},
			{name: "deatach_app", actions: []string{"server.detach_app"}, aliases: []string{"detach_app"}},
		},
		filters: hostFilters, row: hostRow},
	{path: "/audit/app-operations", types: []string{"application"},
		ops: []auditOp{
			{name: "add", actions: []string{"application.create"}},
			{name: "update", actions: []string{"application.edit"}},
			{name: "delete", actions: []string{"application.delete"}},
			{name: "attach_host", actions: []string{"application.attach_host"}},
			{name: "deatach_host", actions: []string{"application.detach_host"}, aliases: []string{"detach_host"}},
			{name: "change_deploy_setting", actions: []string{"application.deploy_settings"}, aliases: []string{"change_deploy_settings"}},
		},
		filters: appAuditFilters, row: appRow},
	{path: "/audit/authorize-operations/modules", types: []string{string(core.ResourceModule)},
		ops: grantOps, opKey: "action", filters: moduleAuditFilters, row: moduleRow},
	{path: "/audit/authorize-operations/resources", types: []string{string(core.ResourceApplication), string(core.ResourceServer), string(core.ResourceProductLine)},
		ops: grantOps, opKey: "action", filters: resourceAuditFilters, row: resourceRow},
}

// grantOps are the authorization lists' actions (their filter is "action").
var grantOps = []auditOp{
	{name: "enable", actions: []string{"grant.add"}},
	{name: "disable", actions: []string{"grant.remove"}},
}

func (l auditList) actions() []string {
	var out []string
	for _, op := range l.ops {
		out = append(out, op.actions...)
	}
	return out
}

// opOf is the op_type of an event's action.
func (l auditList) opOf(action string) string {
	for _, op := range l.ops {
		if slices.Contains(op.actions, action) {
			return op.name
		}
	}
	return action
}

// opNamed is the op_type a filter names, in any of its spellings.
func (l auditList) opNamed(name string) (*auditOp, bool) {
	for i, op := range l.ops {
		if op.name == name || slices.Contains(op.aliases, name) {
			return &l.ops[i], true
		}
	}
	return nil, false
}

// listAudit serves one audit list, newest first.
func (f *face) listAudit(l auditList) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := queryOf(r)
		p, num, size, err := q.page()
		if err != nil {
			return err
		}
		fl := core.AuditFilter{Page: p, TargetTypes: l.types, Actions: l.actions()}
		if fl.Actor, err = q.str("operator"); err != nil {
			return err
		}
		if fl.From, err = q.time("op_time__gt", "op_time__gte"); err != nil {
			return err
		}
		if fl.To, err = q.time("op_time__lt", "op_time__lte"); err != nil {
			return err
		}
		if fl.DetailContains, err = q.str("op_detail"); err != nil {
			return err
		}
		key := l.opKey
		if key == "" {
			key = "op_type"
		}
		op, err := q.str(key)
		if err != nil {
			return err
		}
		if op != nil {
			o, ok := l.opNamed(*op)
			if !ok {
				names := make([]string, len(l.ops))
				for i, o := range l.ops {
					names[i] = o.name
				}
				return invalid("%s must be one of %s, not %q", key, strings.Join(names, ", "), *op)
			}
			fl.Actions = o.actions
		}
		if err := l.filters(f, r, &fl); err != nil {
			return err
		}
		evs, total, err := f.Core.ListAudit(r.Context(), fl)
		if err != nil {
			return err
		}
		out := make([]map[string]any, len(evs))
		for i, ev := range evs {
			row := l.row(f, r.Context(), ev, l.opOf(ev.Action))
			row["id"], row["op_time"], row["operator"] = ev.Number, when(ev.At), ev.Actor
			out[i] = row
		}
		writeList(w, r, num, size, total, out)
		return nil
	}
}

// detailOf reads the fields of an event's detail (an object; anything else
// reads as none).
func detailOf(ev *core.AuditEvent) map[string]any {
	var m map[string]any
	if json.Unmarshal(ev.Detail, &m) != nil || m == nil {
		m = map[string]any{}
	}
	return m
}

func textOf(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// describe is an event's op_detail: what was done to what, and for a change
// each field's value before and after.
func describe(ev *core.AuditEvent, what, name string) string {
	d := detailOf(ev)
	verb := ev.Action[strings.LastIndexByte(ev.Action, '.')+1:]
	s := fmt.Sprintf("%s %s %s", verb, what, name)
	if changes, ok := d["changes"].(map[string]any); ok && len(changes) > 0 && verb != "create" {
		keys := slices.Sorted(maps.Keys(changes))
		parts := make([]string, len(keys))
		for i, k := range keys {
			c, _ := changes[k].(map[string]any)
			parts[i] = fmt.Sprintf("%s: before %v, after %v", k, jsonText(c["before"]), jsonText(c["after"]))
		}
		s += ": " + strings.Join(parts, "; ")
	}
	return strings.TrimSpace(s)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// namedTargets restricts fl to the events of the records named so (ids found
// by ids); a name no record has matches nothing.
func namedTargets(r *http.Request, key string, fl *core.AuditFilter, ids func(ctx context.Context, name string) ([]string, error)) error {
	name, err := queryOf(r).str(key)
	if err != nil || name == nil {
		return err
	}
	found, err := ids(r.Context(), *name)
	if err != nil {
		return err
	}
	fl.TargetIDs = found
	return nil
}

func dnsFilters(f *face, r *http.Request, fl *core.AuditFilter) error {
	t, err := queryOf(r).str("op_target")
	if err != nil || t == nil {
		return err
	}
	types := map[string]string{"server": "dns_server", "domain": "dns_zone", "record": "dns_record"}
	typ, ok := types[*t]
	if !ok {
		return invalid("op_target must be server, domain or record, not %q", *t)
	}
	fl.TargetTypes = []string{typ}
	return nil
}

func dnsRow(f *face, ctx context.Context, ev *core.AuditEvent, op string) map[string]any {
	targets := map[string]string{"dns_server": "server", "dns_zone": "domain", "dns_record": "record"}
	target := targets[ev.TargetType]
	return map[string]any{"op_target": target, "op_type": op, "op_detail": describe(ev, target, textOf(detailOf(ev), "name"))}
}

func hostFilters(f *face, r *http.Request, fl *core.AuditFilter) error {
	return namedTargets(r, "hostname", fl, f.hostIDsNamed)
}

func hostRow(f *face, ctx context.Context, ev *core.AuditEvent, op string) map[string]any {
	name := textOf(detailOf(ev), "name")
	if name == "" {
		if s, err := f.Fleet.GetServer(ctx, ev.TargetID); err == nil {
			name = s.Name
		}
	}
	return map[string]any{"hostname": name, "op_type": op, "op_detail": describe(ev, "host", name)}
}

func appAuditFilters(f *face, r *http.Request, fl *core.AuditFilter) error {
	return namedTargets(r, "app_name", fl, f.appIDsNamed)
}

func appRow(f *face, ctx context.Context, ev *core.AuditEvent, op string) map[string]any {
	name := textOf(detailOf(ev), "full_name", "name")
	return map[string]any{"app_name": name, "op_type": op, "op_detail": describe(ev, "application", name)}
}

// grantDetail is what a grant's audit event records (core.ChangeGrants).
type grantDetail struct {
	Grantee      core.Grantee `json:"grantee"`
	GranteeName  string       `json:"grantee_name"`
	Action       core.Action  `json:"action"`
	ResourceID   string       `json:"resource_id"`
	ResourceName string       `json:"resource_name"`
}

func grantOf(ev *core.AuditEvent) grantDetail {
	var d grantDetail
	_ = json.Unmarshal(ev.Detail, &d)
	return d
}

// targetTypeName is a grantee kind as the lists name it.
func targetTypeName(k core.GranteeKind) string {
	if k == core.GranteeGroup {
		return "role"
	}
	return "user"
}

// granteeFilters reads authorized_target_type, authorized_target_name and
// perm_name (given the actions a flag name stands for) as detail
// substrings: the event records its grant as JSON.
func granteeFilters(r *http.Request, fl *core.AuditFilter, permActions func(name string) ([]core.Action, bool)) error {
	q := queryOf(r)
	var parts []string
	if t, err := q.str("authorized_target_type"); err != nil {
		return err
	} else if t != nil {
		kinds := map[string]core.GranteeKind{"user": core.GranteeUser, "role": core.GranteeGroup}
		k, ok := kinds[*t]
		if !ok {
			return invalid("authorized_target_type must be user or role, not %q", *t)
		}
		parts = append(parts, `"kind":"`+string(k)+`"`)
	}
	if n, err := q.str("authorized_target_name"); err != nil {
		return err
	} else if n != nil {
		b, _ := json.Marshal(*n)
		parts = append(parts, `"grantee_name":`+string(b))
	}
	if len(parts) > 1 {
		return invalid("filter by authorized_target_type or authorized_target_name, not both")
	}
	if p, err := q.str("perm_name"); err != nil {
		return err
	} else if p != nil {
		actions, ok := permActions(*p)
		if !ok {
			fl.Actions = []string{}
			return nil
		}
		if len(parts) > 0 {
			return invalid("filter by perm_name or by the authorized target, not both")
		}
		if len(actions) == 1 {
			parts = append(parts, `"action":"`+string(actions[0])+`"`)
		}
	}
	if len(parts) == 1 {
		fl.DetailContains = &parts[0]
	}
	return nil
}

func moduleAuditFilters(f *face, r *http.Request, fl *core.AuditFilter) error {
	name, err := queryOf(r).str("module_name")
	if err != nil {
		return err
	}
	var m *module
	if name != nil {
		var ok bool
		if m, ok = moduleNamed(*name); !ok {
			fl.Actions = []string{}
			return nil
		}
	}
	return granteeFilters(r, fl, func(perm string) ([]core.Action, bool) {
		for _, mod := range modules {
			if m != nil && mod.key != m.key {
				continue
			}
			if fl, ok := mod.flag(perm); ok {
				out := make([]core.Action, len(fl.targets))
				for i, t := range fl.targets {
					out[i] = t.action
				}
				return out, true
			}
		}
		return nil, false
	})
}

func moduleRow(f *face, ctx context.Context, ev *core.AuditEvent, op string) map[string]any {
	d := grantOf(ev)
	module, perm := "", string(d.Action)
	if m, fl, ok := flagOf(d.Action, d.ResourceID); ok {
		module, perm = m.title, fl.name
	}
	return map[string]any{"module_name": module, "perm_name": perm, "action": op,
		"authorized_target_type": targetTypeName(d.Grantee.Kind), "authorized_target_name": d.GranteeName}
}

// resourceTypes are the resource authorization list's resource_type values.
var resourceTypes = map[string]core.ResourceType{
	"application": core.ResourceApplication, "host": core.ResourceServer, "business": core.ResourceProductLine,
}

func resourceAuditFilters(f *face, r *http.Request, fl *core.AuditFilter) error {
	q := queryOf(r)
	t, err := q.str("resource_type")
	if err != nil {
		return err
	}
	kind := ""
	if t != nil {
		typ, ok := resourceTypes[*t]
		if !ok {
			return invalid("resource_type must be host, application or business, not %q", *t)
		}
		fl.TargetTypes, kind = []string{string(typ)}, *t
	}
	ids, err := q.numbers("resource_id")
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		kinds := map[string]core.NumberKind{"application": core.NumberApplication, "host": core.NumberServer, "business": core.NumberProductLine}
		fl.TargetIDs = []string{}
		for _, n := range ids {
			for k, nk := range kinds {
				if kind != "" && k != kind {
					continue
				}
				if id, err := f.Core.IDOfNumber(r.Context(), nk, k, n); err == nil {
					fl.TargetIDs = append(fl.TargetIDs, id)
				}
			}
		}
	}
	return granteeFilters(r, fl, func(perm string) ([]core.Action, bool) {
		if perm == "login" {
			perm = "login_host"
		}
		for _, k := range grantKinds {
			if a, ok := k.action(perm); ok {
				return []core.Action{a}, true
			}
		}
		return nil, false
	})
}

func resourceRow(f *face, ctx context.Context, ev *core.AuditEvent, op string) map[string]any {
	d := grantOf(ev)
	typ := "application"
	var info resourceInfo
	var err error
	switch ev.TargetType {
	case string(core.ResourceServer):
		typ = "host"
		var m map[string]resourceInfo
		if m, err = f.hostInfos(ctx, []string{ev.TargetID}); err == nil {
			info = m[ev.TargetID]
		}
	case string(core.ResourceProductLine):
		typ = "business"
		if l, err := f.Apps.GetLine(ctx, ev.TargetID); err == nil {
			info = resourceInfo{l.ID, l.Number, l.Name}
		}
	default:
		var m map[string]resourceInfo
		if m, err = f.appInfos(ctx, []string{ev.TargetID}); err == nil {
			info = m[ev.TargetID]
		}
	}
	name := info.name
	if name == "" {
		name = d.ResourceName
	}
	perm := string(d.Action)
	for _, k := range grantKinds {
		for _, fl := range k.flags {
			if fl.action == d.Action {
				perm = fl.name
			}
		}
	}
	resource := map[string]any{"id": info.number, "name": name}
	if typ == "host" {
		resource["host"] = name
	}
	return map[string]any{"resource_type": typ, "resource_id": info.number, "resource": resource, "perm_name": perm, "action": op,
		"authorized_target_type": targetTypeName(d.Grantee.Kind), "authorized_target_name": d.GranteeName}
}
