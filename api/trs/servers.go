package trs

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hostdeck/api/httpx"
	"hostdeck/api/rsproto"
	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/machine"
)

// TRS machines (/v1/servers/...) and their user and group assignments. Where the
// document is silent:
//   - POST /v1/servers/ names machines by the project's instance_name_pattern; the
//     body's name and description are checked (name at most 245 characters) but a
//     machine's name is always the pattern's next free one. project_id in the body
//     wins over the token's project scope; without either the request is code 9.
//   - The assignment routes answer 204 with no body, as the document says.
//   - user and group filters on GET /v1/servers/ match direct assignments.

// serverBody is the "server" object of POST and PUT /v1/servers.
type serverBody struct {
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	Count       *flexInt  `json:"count"`
	ProjectID   *string   `json:"project_id"`
	Users       *[]string `json:"users"`
	Groups      *[]string `json:"groups"`
}

func decodeServer(r *http.Request) (*serverBody, error) {
	var doc struct {
		Server *serverBody `json:"server"`
	}
	if err := rsproto.Decode(r, &doc); err != nil {
		return nil, err
	}
	if doc.Server == nil {
		return nil, core.Invalid("server", `the body must be {"server": {...}}`)
	}
	b := doc.Server
	if b.Name != nil && len(*b.Name) > 245 {
		return nil, core.Invalid("name", "name is longer than 245 characters")
	}
	if b.Description != nil && len(*b.Description) > 1000 {
		return nil, core.Invalid("description", "description is longer than 1000 characters")
	}
	return b, nil
}

// decodeIDs reads {"<key>": ["id", ...]}.
func decodeIDs(r *http.Request, key string) ([]string, error) {
	var doc map[string]*[]string
	if err := rsproto.Decode(r, &doc); err != nil {
		return nil, err
	}
	ids := doc[key]
	if ids == nil {
		return nil, core.Invalid(key, `the body must be {"%s": [...]}`, key)
	}
	return *ids, nil
}

func orEmpty(ids *[]string) []string {
	if ids == nil {
		return nil
	}
	return *ids
}

// createServers is POST /v1/servers/: {"servers": [{"id"}], "reservation_id"}.
func (f *face) createServers(w http.ResponseWriter, r *http.Request) error {
	b, err := decodeServer(r)
	if err != nil {
		return err
	}
	projectID := authFrom(r).token.ProjectID
	if b.ProjectID != nil {
		projectID = *b.ProjectID
	}
	if projectID == "" {
		return core.Invalid("project_id", "project_id is required when the token is not scoped to a project")
	}
	count := 1 // the document's default; core decides which counts are allowed
	if b.Count != nil {
		count = int(*b.Count)
	}
	res, err := f.provision.CreateMachines(r.Context(), projectID, count, orEmpty(b.Users), orEmpty(b.Groups))
	if err != nil {
		return err
	}
	out := make([]map[string]string, len(res.Machines))
	for i, m := range res.Machines {
		out[i] = map[string]string{"id": m.ID}
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"servers": out, "reservation_id": res.ReservationID})
	return nil
}

// updateServer is PUT /v1/servers/{server_id}: replaces users and groups.
func (f *face) updateServer(w http.ResponseWriter, r *http.Request) error {
	b, err := decodeServer(r)
	if err != nil {
		return err
	}
	m, err := f.machines.UpdateMachine(r.Context(), r.PathValue("server_id"), b.Users, b.Groups)
	if err != nil {
		return err
	}
	v := newServerViews(f, r)
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"server": v.of(r.Context(), m)})
	return nil
}

// listServers is GET /v1/servers/ with project_id and assigned (both with
// modifiers), user, group and with_os_object.
func (f *face) listServers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var mq machine.MachineQuery
	for _, p := range []struct {
		name string
		dst  **core.Cond
	}{{"project_id", &mq.ProjectID}, {"assigned", &mq.Assigned}} {
		if !q.Has(p.name) {
			continue
		}
		c, err := core.ParseModifier(q.Get(p.name))
		if err != nil {
			return core.Invalid(p.name, "%s: %s", p.name, core.ErrorMessage(err))
		}
		*p.dst = &c
	}
	mq.UserID, mq.GroupID = optionalQuery(r, "user"), optionalQuery(r, "group")
	if v := q.Get("with_os_object"); v != "" && !validBool(v) {
		return core.Invalid("with_os_object", "with_os_object must be true or false")
	}
	// Every route here is an administrator's and shows the same to each: the
	// answer depends on the parameters and the base URL (AnswerKey) only.
	return f.answers.Serve(w, httpx.AnswerKey(r, r.URL.RawQuery), func(since core.Stamp) (httpx.Listed, error) {
		mq.Since = since
		ms, err := f.machines.ListMachines(r.Context(), mq)
		if err != nil {
			return httpx.Listed{}, err
		}
		return httpx.Listed{Stamp: ms.Stamp, Unchanged: ms.Unchanged, Render: func(w http.ResponseWriter) error {
			v := newServerViews(f, r)
			out := make([]serverView, len(ms.Items))
			for i, m := range ms.Items {
				out[i] = v.of(r.Context(), m)
			}
			rsproto.WriteJSON(w, http.StatusOK, map[string]any{"servers": out})
			return nil
		}}, nil
	})
}

// getServer is GET /v1/servers/{server_id}.
func (f *face) getServer(w http.ResponseWriter, r *http.Request) error {
	m, err := f.machines.GetMachine(r.Context(), r.PathValue("server_id"))
	if err != nil {
		return err
	}
	v := newServerViews(f, r)
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"server": v.of(r.Context(), m)})
	return nil
}

func idObjects(ids []string) []map[string]string {
	out := make([]map[string]string, len(ids))
	for i, id := range ids {
		out[i] = map[string]string{"id": id}
	}
	return out
}

// assignServerUsers is POST /v1/servers/{server_id}/users/.
func (f *face) assignServerUsers(w http.ResponseWriter, r *http.Request) error {
	return f.assignToServer(w, r, "users", f.machines.AssignMachineUsers)
}

// assignServerGroups is POST /v1/servers/{server_id}/groups/.
func (f *face) assignServerGroups(w http.ResponseWriter, r *http.Request) error {
	return f.assignToServer(w, r, "groups", f.machines.AssignMachineGroups)
}

func (f *face) assignToServer(w http.ResponseWriter, r *http.Request, key string, do func(context.Context, string, []string) error) error {
	ids, err := decodeIDs(r, key)
	if err != nil {
		return err
	}
	if err := do(r.Context(), r.PathValue("server_id"), ids); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// assignUserServers is POST /v1/users/{user_id}/servers/.
func (f *face) assignUserServers(w http.ResponseWriter, r *http.Request) error {
	return f.assignServersTo(w, r, "user_id", f.machines.AssignUserMachines)
}

// assignGroupServers is POST /v1/groups/{group_id}/servers/.
func (f *face) assignGroupServers(w http.ResponseWriter, r *http.Request) error {
	return f.assignServersTo(w, r, "group_id", f.machines.AssignGroupMachines)
}

func (f *face) assignServersTo(w http.ResponseWriter, r *http.Request, param string, do func(context.Context, string, []string) error) error {
	ids, err := decodeIDs(r, "servers")
	if err != nil {
		return err
	}
	if err := do(r.Context(), r.PathValue(param), ids); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listServerUsers is GET /v1/servers/{server_id}/users/: {"users": [{"id"}]}.
func (f *face) listServerUsers(w http.ResponseWriter, r *http.Request) error {
	ids, err := f.machines.ListMachineUsers(r.Context(), r.PathValue("server_id"))
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"users": idObjects(ids)})
	return nil
}

// listServerGroups is GET /v1/servers/{server_id}/groups/: {"groups": [{"id"}]}.
func (f *face) listServerGroups(w http.ResponseWriter, r *http.Request) error {
	ids, err := f.machines.ListMachineGroups(r.Context(), r.PathValue("server_id"))
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"groups": idObjects(ids)})
	return nil
}

// listUserServers is GET /v1/users/{user_id}/servers/: instance_id, project_id, project_name.
func (f *face) listUserServers(w http.ResponseWriter, r *http.Request) error {
	return f.listServersOf(w, r, "user_id", f.machines.ListUserMachines)
}

// listGroupServers is GET /v1/groups/{group_id}/servers/, shaped as the user's list.
func (f *face) listGroupServers(w http.ResponseWriter, r *http.Request) error {
	return f.listServersOf(w, r, "group_id", f.machines.ListGroupMachines)
}

func (f *face) listServersOf(w http.ResponseWriter, r *http.Request, param string, list func(context.Context, string) ([]*machine.Machine, error)) error {
	ms, err := list(r.Context(), r.PathValue(param))
	if err != nil {
		return err
	}
	v := newServerViews(f, r)
	out := make([]map[string]any, len(ms))
	for i, m := range ms {
		name := ""
		if p := v.project(r.Context(), m.ProjectID); p != nil {
			name = p.Name
		}
		out[i] = map[string]any{"instance_id": m.ID, "project_id": m.ProjectID, "project_name": name}
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"servers": out})
	return nil
}

// unassignServerUser is DELETE /v1/servers/{server_id}/users/{user_id}.
func (f *face) unassignServerUser(w http.ResponseWriter, r *http.Request) error {
	if err := f.machines.UnassignMachineUser(r.Context(), r.PathValue("server_id"), r.PathValue("user_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// unassignServerGroup is DELETE /v1/servers/{server_id}/groups/{group_id}.
func (f *face) unassignServerGroup(w http.ResponseWriter, r *http.Request) error {
	if err := f.machines.UnassignMachineGroup(r.Context(), r.PathValue("server_id"), r.PathValue("group_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// serverViews renders machines for one request, reading each project once.
type serverViews struct {
	f        *face
	r        *http.Request
	osObject bool
	projects map[string]*desktop.Pool
}

func newServerViews(f *face, r *http.Request) *serverViews {
	return &serverViews{f: f, r: r, osObject: withOSObject(r), projects: map[string]*desktop.Pool{}}
}

func (v *serverViews) project(ctx context.Context, id string) *desktop.Pool {
	p, ok := v.projects[id]
	if !ok {
		p, _ = v.f.svc.GetPool(ctx, id) // a missing project shows as empty fields
		v.projects[id] = p
	}
	return p
}

// serverView is a machine as the document shows it.
type serverView struct {
	ID        string      `json:"id"`
	ProjectID string      `json:"project_id"`
	Assigned  bool        `json:"assigned"`
	Users     []string    `json:"users"`
	Groups    []string    `json:"groups"`
	OSServer  *novaServer `json:"os_server,omitempty"` // with_os_object
}

// of is a machine as the document shows it; with_os_object adds os_server.
func (v *serverViews) of(ctx context.Context, m *machine.Machine) serverView {
	out := serverView{ID: m.ID, ProjectID: m.ProjectID, Assigned: m.Assigned(), Users: m.Users, Groups: m.Groups}
	if v.osObject {
		out.OSServer = v.osServer(ctx, m)
	}
	return out
}

// novaServer is a server as Nova shows it (GET /servers/{id}, microversion 2.1
// fields and the usual extensions). Structs rather than maps: a list of 10,000
// spent a third of its time sorting map keys while encoding.
type novaServer struct {
	ID              string                   `json:"id"`
	Name            string                   `json:"name"`
	Status          string                   `json:"status"`
	Addresses       map[string][]novaAddress `json:"addresses"`
	Flavor          novaRef                  `json:"flavor"`
	Image           novaRef                  `json:"image"`
	Created         string                   `json:"created"`
	Updated         string                   `json:"updated"`
	TenantID        string                   `json:"tenant_id"`
	UserID          string                   `json:"user_id"`
	Tags            []string                 `json:"tags"`
	Metadata        map[string]string        `json:"metadata"`
	Description     *string                  `json:"description"`
	Locked          bool                     `json:"locked"`
	Progress        int                      `json:"progress"`
	KeyName         *string                  `json:"key_name"`
	HostID          string                   `json:"hostId"`
	HostStatus      string                   `json:"host_status"`
	AccessIPv4      string                   `json:"accessIPv4"`
	AccessIPv6      string                   `json:"accessIPv6"`
	ConfigDrive     string                   `json:"config_drive"`
	VMState         string                   `json:"OS-EXT-STS:vm_state"`
	TaskState       any                      `json:"OS-EXT-STS:task_state"`
	PowerState      int                      `json:"OS-EXT-STS:power_state"`
	Host            any                      `json:"OS-EXT-SRV-ATTR:host"`
	Hostname        string                   `json:"OS-EXT-SRV-ATTR:hostname"`
	InstanceName    string                   `json:"OS-EXT-SRV-ATTR:instance_name"`
	DiskConfig      string                   `json:"OS-DCF:diskConfig"`
	VolumesAttached []any                    `json:"os-extended-volumes:volumes_attached"`
	Links           []novaLink               `json:"links"`
}

type novaAddress struct {
	Addr    string `json:"addr"`
	Version int    `json:"version"`
	Type    string `json:"OS-EXT-IPS:type"`
}

type novaRef struct {
	ID    string     `json:"id"`
	Links []novaLink `json:"links,omitempty"`
}

type novaLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// osServer is a Nova server built from hostdeck's records.
func (v *serverViews) osServer(ctx context.Context, m *machine.Machine) *novaServer {
	status, vm, task, power := rsproto.NovaState(m.State)
	out := &novaServer{
		ID: m.ID, Name: m.Name, Status: status, Addresses: map[string][]novaAddress{},
		Image:   novaRef{ID: m.ImageID, Links: []novaLink{}},
		Created: m.CreatedAt.UTC().Format(time.RFC3339), Updated: m.UpdatedAt.UTC().Format(time.RFC3339),
		TenantID: m.ProjectID, Tags: []string{"trs"}, Metadata: map[string]string{},
		VMState: vm, TaskState: task, PowerState: power, Host: nullIfEmpty(m.ServerID),
		Hostname: m.Name, InstanceName: m.Name, DiskConfig: "MANUAL", VolumesAttached: []any{},
		Links: []novaLink{{Href: strings.TrimSuffix(rsproto.BaseURL(v.r), "/") + "/v1/servers/" + m.ID, Rel: "self"}},
	}
	network := m.Spec.Network // the network the runtime gave the address on
	if p := v.project(ctx, m.ProjectID); p != nil {
		out.Flavor.ID = p.FlavorID
		if network == "" && p.NetworkID != "" {
			network = p.NetworkID // a machine made before machines had networks
		}
	}
	if network == "" {
		network = "trs"
	}
	if m.Address != "" {
		out.Addresses[network] = []novaAddress{{Addr: m.Address, Version: 4, Type: "fixed"}}
	}
	return out
}

func validBool(v string) bool {
	_, err := strconv.ParseBool(strings.ToLower(v))
	return err == nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
