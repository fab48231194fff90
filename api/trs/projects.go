package trs

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"hostdeck/api/rsproto"
	"hostdeck/core"
	"hostdeck/core/desktop"
)

// flexBool is a boolean as the document's clients send it: true/false, or the
// strings "True", "False", "true", "1", "0" (the document's own examples quote them).
type flexBool bool

func (b *flexBool) UnmarshalJSON(raw []byte) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case bool:
		*b = flexBool(x)
		return nil
	case string:
		if p, err := strconv.ParseBool(strings.ToLower(x)); err == nil {
			*b = flexBool(p)
			return nil
		}
	}
	return &json.UnmarshalTypeError{Value: string(raw), Type: boolType}
}

// flexInt is an integer sent as a JSON number or a string of digits ("2").
type flexInt int

func (n *flexInt) UnmarshalJSON(raw []byte) error {
	s := string(bytes.Trim(raw, `"`))
	i, err := strconv.Atoi(s)
	if err != nil || (raw[0] == '"') != (raw[len(raw)-1] == '"') {
		return &json.UnmarshalTypeError{Value: string(raw), Type: intType}
	}
	*n = flexInt(i)
	return nil
}

var (
	boolType = jsonType[bool]()
	intType  = jsonType[int]()
)

// projectBody is the "project" object of POST and PUT /v1/projects. Tags come as a
// list or as one comma-separated string.
type projectBody struct {
	Name                *string   `json:"name"`
	Enabled             *flexBool `json:"enabled"`
	Description         *string   `json:"description"`
	ParentID            *string   `json:"parent_id"`
	IsDomain            *flexBool `json:"is_domain"`
	Tags                *tagList  `json:"tags"`
	DomainID            *string   `json:"domain_id"`
	FlavorID            *string   `json:"flavor_id"`
	ImageID             *string   `json:"image_id"`
	OperationMode       *flexInt  `json:"operation_mode"`
	NetworkID           *string   `json:"network_id"`
	AvailabilityZone    *string   `json:"availability_zone"`
	InstanceInitScript  *string   `json:"instance_init_script"`
	MinReserveVM        *flexInt  `json:"min_reserve_vm"`
	InstanceNamePattern *string   `json:"instance_name_pattern"`
	UserVolumeEnabled   *flexBool `json:"user_volume_enabled"`
	VolumeSize          *flexInt  `json:"volume_size"`
	VolumeTypeID        *string   `json:"volume_type_id"`
	Quota               *flexInt  `json:"max_instances"`
	// AllowedNetworks is the Web Guard (hostdeck's addition): CIDRs, a list or
	// a comma-separated string; empty allows every address.
	AllowedNetworks *tagList `json:"allowed_networks"`
}

type tagList []string

func (t *tagList) UnmarshalJSON(raw []byte) error {
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		*t = list
		return nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err != nil {
		return &json.UnmarshalTypeError{Value: string(raw), Type: jsonType[[]string]()}
	}
	*t = nil
	for _, s := range strings.Split(one, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*t = append(*t, s)
		}
	}
	return nil
}

func (b *projectBody) input() desktop.PoolInput {
	in := desktop.PoolInput{
		Name: b.Name, Description: b.Description, ParentID: b.ParentID, DomainID: b.DomainID,
		FlavorID: b.FlavorID, ImageID: b.ImageID, NetworkID: b.NetworkID, AvailabilityZone: b.AvailabilityZone,
		InstanceInitScript: b.InstanceInitScript, InstanceNamePattern: b.InstanceNamePattern, VolumeTypeID: b.VolumeTypeID,
		Enabled: (*bool)(b.Enabled), IsDomain: (*bool)(b.IsDomain), UserVolumeEnabled: (*bool)(b.UserVolumeEnabled),
		OperationMode: (*int)(b.OperationMode), MinReserveVM: (*int)(b.MinReserveVM), VolumeSize: (*int)(b.VolumeSize),
		MaxInstances: (*int)(b.Quota),
	}
	if b.Tags != nil {
		tags := []string(*b.Tags)
		in.Tags = &tags
	}
	if b.AllowedNetworks != nil {
		nets := append([]string{}, *b.AllowedNetworks...)
		in.AllowedNetworks = &nets
	}
	return in
}

// decodeProject reads {"project": {...}}.
func decodeProject(r *http.Request) (desktop.PoolInput, error) {
	var doc struct {
		Project *projectBody `json:"project"`
	}
	if err := rsproto.Decode(r, &doc); err != nil {
		return desktop.PoolInput{}, err
	}
	if doc.Project == nil {
		return desktop.PoolInput{}, core.Invalid("project", `the body must be {"project": {...}}`)
	}
	return doc.Project.input(), nil
}

// projectView renders a TRS project as the document shows it; with_os_object adds
// os_project, shaped like Keystone's project with the TRS settings.
func (f *face) projectView(r *http.Request, p *desktop.Pool) map[string]any {
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	v := map[string]any{
		"id": p.ID, "name": p.Name, "description": p.Description, "enabled": p.Enabled, "domain_id": p.DomainID,
		"image_id": p.ImageID, "flavor_id": p.FlavorID, "network_id": p.NetworkID,
		"availability_zone": p.AvailabilityZone, "operation_mode": strconv.Itoa(p.OperationMode),
		"instance_init_script": nullable(p.InstanceInitScript), "min_reserve_vm": p.MinReserveVM,
		"instance_name_pattern": p.InstanceNamePattern, "user_volume_enabled": p.UserVolumeEnabled,
		"volume_size": p.VolumeSize, "volume_type_id": nullable(p.VolumeTypeID), "max_instances": p.MaxInstances,
		"allowed_networks": nonNil(p.AllowedNetworks),
	}
	if withOSObject(r) {
		tags := p.Tags
		if tags == nil {
			tags = []string{}
		}
		v["os_project"] = map[string]any{
			"id": p.ID, "name": p.Name, "description": p.Description, "enabled": p.Enabled,
			"domain_id": p.DomainID, "parent_id": p.ParentID, "is_domain": p.IsDomain, "tags": tags,
			"project_type": desktop.ProjectTypePool, "links": map[string]string{"self": rsproto.BaseURL(r) + "/v3/projects/" + p.ID},
			"flavor_id": p.FlavorID, "image_id": p.ImageID, "network_id": p.NetworkID,
			"availability_zone": p.AvailabilityZone, "operation_mode": strconv.Itoa(p.OperationMode),
		}
	}
	return v
}

func withOSObject(r *http.Request) bool {
	v, err := strconv.ParseBool(strings.ToLower(r.URL.Query().Get("with_os_object")))
	return err == nil && v
}

// createProject is POST /v1/projects/: {"project": {"id": …}}.
func (f *face) createProject(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeProject(r)
	if err != nil {
		return err
	}
	p, err := f.svc.CreatePool(r.Context(), in)
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"project": map[string]string{"id": p.ID}})
	return nil
}

// updateProject is PUT /v1/projects/{project_id}: the project's settings.
func (f *face) updateProject(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeProject(r)
	if err != nil {
		return err
	}
	p, err := f.svc.UpdatePool(r.Context(), r.PathValue("project_id"), in)
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"project": f.projectView(r, p)})
	return nil
}

// listProjects is GET /v1/projects/ with the filters name, enabled, domain (a
// domain id), operation_mode and with_os_object.
func (f *face) listProjects(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	filter := desktop.PoolFilter{Name: optionalQuery(r, "name"), DomainID: optionalQuery(r, "domain"),
		UserID: optionalQuery(r, "user")}
	if v := q.Get("enabled"); v != "" {
		b, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			return core.Invalid("enabled", "enabled must be true or false")
		}
		filter.Enabled = &b
	}
	if v := q.Get("operation_mode"); v != "" {
		m, err := strconv.Atoi(v)
		if err != nil {
			return core.Invalid("operation_mode", "operation_mode must be 1 or 2")
		}
		filter.OperationMode = &m
	}
	ps, _, err := f.svc.ListPools(r.Context(), filter)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(ps))
	for i, p := range ps {
		out[i] = f.projectView(r, p)
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"projects": out})
	return nil
}

// getProject is GET /v1/projects/{project_id}.
func (f *face) getProject(w http.ResponseWriter, r *http.Request) error {
	p, err := f.svc.GetPool(r.Context(), r.PathValue("project_id"))
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"project": f.projectView(r, p)})
	return nil
}

// projectSettings is GET /v1/projects/actions/get-settings: defaults from configuration.
func (f *face) projectSettings(w http.ResponseWriter, r *http.Request) error {
	d, err := f.svc.PoolDefaults(r.Context())
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"project_settings": map[string]any{
		"instance_name_pattern": d.InstanceNamePattern, "default_availability_zone": d.AvailabilityZone,
		"operation_mode": strconv.Itoa(d.OperationMode), "min_reserve_vm": d.MinReserveVM,
		"user_volume_enabled": d.UserVolumeEnabled, "volume_size": d.VolumeSize,
	}})
	return nil
}

// projectStatistics is GET /v1/projects/{project_id}/statistics, counted from the
// project's instance records.
func (f *face) projectStatistics(w http.ResponseWriter, r *http.Request) error {
	s, err := f.machines.PoolStatistics(r.Context(), r.PathValue("project_id"))
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"statistics": map[string]int{
		"created_servers": s.Created, "active_servers": s.Active, "error_servers": s.Error,
		"created_trs_servers": s.Created, "active_trs_servers": s.Active, "error_trs_servers": s.Error,
		"free_trs_servers": s.Free, "occupied_trs_servers": s.Occupied, "simultaneous_trs_servers": s.Simultaneous,
	}})
	return nil
}

// autoAllocateUsers is POST /v1/projects/{id}/actions/auto-allocate-users: a
// task that gives free machines to the project's members without one.
func (f *face) autoAllocateUsers(w http.ResponseWriter, r *http.Request) error {
	t, err := f.handout.AutoAllocateUsers(r.Context(), r.PathValue("project_id"))
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]string{"task_id": t.ID})
	return nil
}

// listFlavors is GET /v1/flavors/: what flavor_id may name.
func (f *face) listFlavors(w http.ResponseWriter, r *http.Request) error {
	fs, _, err := f.images.ListFlavors(r.Context(), core.Page{})
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"flavors": fs})
	return nil
}

// listImages is GET /v1/images/: the images the caller may use.
func (f *face) listImages(w http.ResponseWriter, r *http.Request) error {
	ims, _, err := f.images.ListImages(r.Context(), core.Page{})
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"images": ims})
	return nil
}

// jsonType is the reflect.Type of T, for type errors that name what was expected.
func jsonType[T any]() reflect.Type { return reflect.TypeOf((*T)(nil)).Elem() }

// nonNil renders a nil list as [].
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
