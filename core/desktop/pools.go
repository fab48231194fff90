package desktop

import (
	"context"
	"encoding/base64"
	"hostdeck/core"
	"strconv"
	"strings"
	"time"
)

// This file holds the pools of remote-desktop machines; the catalogue of
// flavors and images they draw on is core/catalogue.go.

// Operation modes of a pool's machines.
const (
	ModeStandard     = 1 // one user per machine
	ModeSimultaneous = 2 // several users share a machine
)

// ProjectTypePool marks a project that is a pool (Keystone's project_type).
const ProjectTypePool = "TRS"

// DefaultDomain is the domain of projects created without one.
const DefaultDomain = "default"

// Pool is a project that is a pool of remote-desktop machines: the project's
// own attributes plus the pool settings. The project row is shared with every other
// face (role grants, token scopes); the settings are the pool's.
type Pool struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Enabled     bool     `json:"enabled"`
	DomainID    string   `json:"domain_id"`
	ParentID    string   `json:"parent_id"` // the domain when not given
	IsDomain    bool     `json:"is_domain"`
	Tags        []string `json:"tags"`

	FlavorID            string `json:"flavor_id"`
	ImageID             string `json:"image_id"`
	OperationMode       int    `json:"operation_mode"` // ModeStandard or ModeSimultaneous
	NetworkID           string `json:"network_id"`
	AvailabilityZone    string `json:"availability_zone"`
	InstanceInitScript  string `json:"instance_init_script"` // base64; "" = none
	MinReserveVM        int    `json:"min_reserve_vm"`
	InstanceNamePattern string `json:"instance_name_pattern"` // "trs-**": each * a digit of the sequence
	UserVolumeEnabled   bool   `json:"user_volume_enabled"`
	VolumeSize          int    `json:"volume_size"`    // GiB
	VolumeTypeID        string `json:"volume_type_id"` // "" = none
	MaxInstances        int    `json:"max_instances"`  // machine quota; 0 = unlimited
	// AllowedNetworks is the project's Web Guard: the CIDRs broker clients may
	// come from (empty: any address). See CheckWebGuard in webguard.go.
	AllowedNetworks []string `json:"allowed_networks"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PoolInput is what a caller may set on a pool; nil fields are not
// given. The store's update takes it as is: the use case validates it first.
type PoolInput struct {
	Name        *string
	Description *string
	Enabled     *bool
	DomainID    *string
	ParentID    *string
	IsDomain    *bool
	Tags        *[]string

	FlavorID            *string
	ImageID             *string
	OperationMode       *int
	NetworkID           *string
	AvailabilityZone    *string
	InstanceInitScript  *string
	MinReserveVM        *int
	InstanceNamePattern *string
	UserVolumeEnabled   *bool
	VolumeSize          *int
	VolumeTypeID        *string
	MaxInstances        *int
	AllowedNetworks     *[]string
}

// PoolFilter selects pools; nil fields do not filter. Name matches
// exactly (names are unique within a domain).
type PoolFilter struct {
	IDs           []string // when not nil, only these projects
	Name          *string
	Enabled       *bool
	DomainID      *string
	OperationMode *int
	UserID        *string // projects the user has a role on
	core.Page
}

// PoolDefaults are the configured defaults of new pools, shown by the TRS
// face's get-settings.
type PoolDefaults struct {
	OperationMode       int    `json:"operation_mode"`
	MinReserveVM        int    `json:"min_reserve_vm"`
	InstanceNamePattern string `json:"instance_name_pattern"`
	AvailabilityZone    string `json:"default_availability_zone"`
	UserVolumeEnabled   bool   `json:"user_volume_enabled"`
	VolumeSize          int    `json:"volume_size"`
	VolumeTypeID        string `json:"volume_type_id"`
}

// WithDefaults fills what configuration left unset.
func (d PoolDefaults) WithDefaults() PoolDefaults {
	if d.OperationMode == 0 {
		d.OperationMode = ModeStandard
	}
	if d.InstanceNamePattern == "" {
		d.InstanceNamePattern = "trs-**"
	}
	if d.AvailabilityZone == "" {
		d.AvailabilityZone = "nova"
	}
	if d.VolumeSize == 0 {
		d.VolumeSize = 1
	}
	return d
}

// PoolStore keeps pools: a projects row (type TRS) and its trs_projects row.
type PoolStore interface {
	// CreatePool stores p; KindConflict when its name is taken in its domain.
	CreatePool(ctx context.Context, p *Pool) error
	// GetPool returns a pool; KindNotFound for an unknown id or a
	// project that is not a pool.
	GetPool(ctx context.Context, id string) (*Pool, error)
	ListPools(ctx context.Context, f PoolFilter) ([]*Pool, int, error)
	// UpdatePool changes the fields that are set; KindNotFound, or
	// KindConflict when the new name is taken in the domain.
	UpdatePool(ctx context.Context, id string, u PoolInput) (*Pool, error)
}

// --- pools ---

// PoolDefaults returns the configured defaults of new pools.
func (s *Service) PoolDefaults(ctx context.Context) (PoolDefaults, error) {
	if err := s.Check(ctx, core.ActionProjectView, core.Resource{Type: core.ResourceProject}); err != nil {
		return PoolDefaults{}, err
	}
	return s.cfg.Defaults, nil
}

// CheckInstanceNamePattern reports whether pattern can name machines: it holds at
// least one '*' (each a digit of the machine's number).
func CheckInstanceNamePattern(pattern string) error {
	switch {
	case strings.TrimSpace(pattern) == "":
		return core.Invalid("instance_name_pattern", "instance_name_pattern must not be empty")
	case !strings.Contains(pattern, "*"):
		return core.Invalid("instance_name_pattern", "instance_name_pattern needs at least one '*' for the machine number")
	case len(pattern) > 200:
		return core.Invalid("instance_name_pattern", "instance_name_pattern is longer than 200 characters")
	case strings.ContainsAny(pattern, " \t\r\n/"):
		return core.Invalid("instance_name_pattern", "instance_name_pattern must not contain spaces or '/'")
	}
	return nil
}

// CheckInitScript reports whether script is standard base64 ("" is no script).
func CheckInitScript(script string) error {
	if script == "" {
		return nil
	}
	if len(script) > MaxInitScriptLen {
		return core.Invalid("instance_init_script", "instance_init_script is longer than %d characters", MaxInitScriptLen)
	}
	if _, err := base64.StdEncoding.DecodeString(script); err != nil {
		return core.Invalid("instance_init_script", "instance_init_script is not valid base64")
	}
	return nil
}

// MaxInitScriptLen bounds a pool's init script (base64), as Nova bounds
// user data.
const MaxInitScriptLen = 65535

// NextInstanceName is the name of machine n by pattern: the stars, read left to
// right, take the digits of n padded with zeros to their count ("trs-**", 1 →
// "trs-01"). A number with more digits than there are stars puts the extra leading
// digits at the first star ("trs-**", 123 → "trs-123"), so names never repeat.
func NextInstanceName(pattern string, n int) string {
	stars := strings.Count(pattern, "*")
	if stars == 0 {
		return pattern + strconv.Itoa(n)
	}
	digits := strconv.Itoa(max(n, 0))
	if len(digits) < stars {
		digits = strings.Repeat("0", stars-len(digits)) + digits
	}
	extra := len(digits) - stars
	var b strings.Builder
	i := 0
	for _, r := range pattern {
		if r != '*' {
			b.WriteRune(r)
			continue
		}
		if i == 0 {
			b.WriteString(digits[:extra+1])
			i = extra + 1
			continue
		}
		b.WriteByte(digits[i])
		i++
	}
	return b.String()
}

// checkPoolInput validates the fields that are given; create requires name, flavor
// and image. Flavor and image must name records of the catalogue.
func (s *Service) checkPoolInput(ctx context.Context, q Queries, in PoolInput, create bool) error {
	if create && in.Name == nil {
		return core.Invalid("name", "name is required")
	}
	if in.Name != nil {
		if err := core.CheckName("name", strings.TrimSpace(*in.Name), 64); err != nil {
			return err
		}
	}
	if err := core.CheckOptional(in.Description, func(v string) error { return core.CheckText("description", v, 1000) }); err != nil {
		return err
	}
	for field, v := range map[string]*string{"domain_id": in.DomainID, "parent_id": in.ParentID, "network_id": in.NetworkID,
		"availability_zone": in.AvailabilityZone, "volume_type_id": in.VolumeTypeID} {
		if err := core.CheckOptional(v, func(v string) error { return core.CheckLine(field, v, 64) }); err != nil {
			return err
		}
	}
	if in.Tags != nil {
		if len(*in.Tags) > 100 {
			return core.Invalid("tags", "at most 100 tags are allowed")
		}
		for _, t := range *in.Tags {
			if err := core.CheckName("tags", strings.TrimSpace(t), 255); err != nil {
				return err
			}
		}
	}
	if create && (in.FlavorID == nil || *in.FlavorID == "") {
		return core.Invalid("flavor_id", "flavor_id is required")
	}
	if in.FlavorID != nil {
		if !core.ValidID(*in.FlavorID) {
			return core.Invalid("flavor_id", "unknown flavor %q", *in.FlavorID)
		}
		if _, err := q.GetFlavor(ctx, *in.FlavorID); err != nil {
			if core.ErrorKind(err) == core.KindNotFound {
				return core.Invalid("flavor_id", "unknown flavor %q", *in.FlavorID)
			}
			return err
		}
	}
	if create && (in.ImageID == nil || *in.ImageID == "") {
		return core.Invalid("image_id", "image_id is required")
	}
	if in.ImageID != nil {
		if !core.ValidID(*in.ImageID) {
			return core.Invalid("image_id", "unknown image %q", *in.ImageID)
		}
		if _, err := q.GetImage(ctx, *in.ImageID); err != nil {
			if core.ErrorKind(err) == core.KindNotFound {
				return core.Invalid("image_id", "unknown image %q", *in.ImageID)
			}
			return err
		}
	}
	if in.OperationMode != nil && *in.OperationMode != ModeStandard && *in.OperationMode != ModeSimultaneous {
		return core.Invalid("operation_mode", "operation_mode must be %d (standard) or %d (simultaneous)", ModeStandard, ModeSimultaneous)
	}
	if in.InstanceInitScript != nil {
		if err := CheckInitScript(*in.InstanceInitScript); err != nil {
			return err
		}
	}
	if in.MinReserveVM != nil && (*in.MinReserveVM < 0 || *in.MinReserveVM > 10000) {
		return core.Invalid("min_reserve_vm", "min_reserve_vm must be between 0 and 10000")
	}
	if in.InstanceNamePattern != nil {
		if err := CheckInstanceNamePattern(*in.InstanceNamePattern); err != nil {
			return err
		}
	}
	if in.VolumeSize != nil && (*in.VolumeSize < 0 || *in.VolumeSize > 1<<16) {
		return core.Invalid("volume_size", "volume_size must be between 0 and %d", 1<<16)
	}
	if in.MaxInstances != nil && (*in.MaxInstances < 0 || *in.MaxInstances > 1_000_000) {
		return core.Invalid("max_instances", "max_instances must be between 0 (unlimited) and 1000000")
	}
	if in.AllowedNetworks != nil {
		if err := CheckAllowedNetworks(*in.AllowedNetworks); err != nil {
			return err
		}
	}
	return nil
}

// normPoolInput trims what is trimmed before storing.
func normPoolInput(in *PoolInput) {
	if in.Name != nil {
		in.Name = core.Ptr(strings.TrimSpace(*in.Name))
	}
	if in.DomainID != nil && *in.DomainID == "" {
		in.DomainID = core.Ptr(DefaultDomain)
	}
	if in.Tags != nil && *in.Tags == nil {
		in.Tags = core.Ptr([]string{})
	}
	if in.AllowedNetworks != nil {
		in.AllowedNetworks = core.Ptr(normNetworks(*in.AllowedNetworks))
	}
}

// poolNameConflict gives a store conflict on a pool the field it is about.
func poolNameConflict(err error, name, domain string) error {
	if core.ErrorKind(err) == core.KindConflict {
		return &core.Error{Kind: core.KindConflict, Field: "name",
			Message: "project " + name + " already exists in domain " + domain, Err: err}
	}
	return err
}

// CreatePool creates a pool; settings not given take the configured
// defaults. Unknown flavor or image is KindInvalid (Field flavor_id / image_id); a
// name taken in the domain is KindConflict.
func (s *Service) CreatePool(ctx context.Context, in PoolInput) (*Pool, error) {
	if err := s.Check(ctx, core.ActionProjectCreate, core.Resource{Type: core.ResourceProject}); err != nil {
		return nil, err
	}
	normPoolInput(&in)
	d := s.cfg.Defaults
	p := &Pool{
		ID: core.NewID(), Enabled: true, DomainID: DefaultDomain, Tags: []string{}, AllowedNetworks: []string{},
		OperationMode: d.OperationMode, AvailabilityZone: d.AvailabilityZone, MinReserveVM: d.MinReserveVM,
		InstanceNamePattern: d.InstanceNamePattern, UserVolumeEnabled: d.UserVolumeEnabled,
		VolumeSize: d.VolumeSize, VolumeTypeID: d.VolumeTypeID,
	}
	applyPoolInput(p, in)
	if p.ParentID == "" {
		p.ParentID = p.DomainID
	}
	now := s.Now().UTC()
	p.CreatedAt, p.UpdatedAt = now, now
	err := core.InTx(ctx, s.store, func(q Queries) error {
		if err := s.checkPoolInput(ctx, q, in, true); err != nil {
			return err
		}
		if err := q.CreatePool(ctx, p); err != nil {
			return poolNameConflict(err, p.Name, p.DomainID)
		}
		return s.Audit(ctx, q, "trs_project.create", "project", p.ID, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// applyPoolInput sets on p the fields in gives.
func applyPoolInput(p *Pool, in PoolInput) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.Name, in.Name)
	set(&p.Description, in.Description)
	set(&p.DomainID, in.DomainID)
	set(&p.ParentID, in.ParentID)
	set(&p.FlavorID, in.FlavorID)
	set(&p.ImageID, in.ImageID)
	set(&p.NetworkID, in.NetworkID)
	set(&p.AvailabilityZone, in.AvailabilityZone)
	set(&p.InstanceInitScript, in.InstanceInitScript)
	set(&p.InstanceNamePattern, in.InstanceNamePattern)
	set(&p.VolumeTypeID, in.VolumeTypeID)
	if in.Enabled != nil {
		p.Enabled = *in.Enabled
	}
	if in.IsDomain != nil {
		p.IsDomain = *in.IsDomain
	}
	if in.Tags != nil {
		p.Tags = *in.Tags
	}
	if in.OperationMode != nil {
		p.OperationMode = *in.OperationMode
	}
	if in.MinReserveVM != nil {
		p.MinReserveVM = *in.MinReserveVM
	}
	if in.UserVolumeEnabled != nil {
		p.UserVolumeEnabled = *in.UserVolumeEnabled
	}
	if in.VolumeSize != nil {
		p.VolumeSize = *in.VolumeSize
	}
	if in.MaxInstances != nil {
		p.MaxInstances = *in.MaxInstances
	}
	if in.AllowedNetworks != nil {
		p.AllowedNetworks = *in.AllowedNetworks
	}
}

// UpdatePool changes the fields that are given, with the same checks as
// CreatePool.
func (s *Service) UpdatePool(ctx context.Context, id string, in PoolInput) (*Pool, error) {
	if err := s.Check(ctx, core.ActionProjectEdit, core.On(core.ResourceProject, id)); err != nil {
		return nil, err
	}
	if !core.ValidID(id) {
		return nil, core.NotFound("project", id)
	}
	normPoolInput(&in)
	var p *Pool
	err := core.InTx(ctx, s.store, func(q Queries) error {
		old, err := q.GetPool(ctx, id)
		if err != nil {
			return err
		}
		if err := s.checkPoolInput(ctx, q, in, false); err != nil {
			return err
		}
		if p, err = q.UpdatePool(ctx, id, in); err != nil {
			name, domain := old.Name, old.DomainID
			if in.Name != nil {
				name = *in.Name
			}
			if in.DomainID != nil {
				domain = *in.DomainID
			}
			return poolNameConflict(err, name, domain)
		}
		return s.Audit(ctx, q, "trs_project.update", "project", id, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// GetPool returns one pool.
func (s *Service) GetPool(ctx context.Context, id string) (*Pool, error) {
	if err := s.Check(ctx, core.ActionProjectView, core.On(core.ResourceProject, id)); err != nil {
		return nil, err
	}
	if !core.ValidID(id) {
		return nil, core.NotFound("project", id)
	}
	return s.store.GetPool(ctx, id)
}

// ListPools lists pools.
func (s *Service) ListPools(ctx context.Context, f PoolFilter) ([]*Pool, int, error) {
	if err := s.Check(ctx, core.ActionProjectView, core.Resource{Type: core.ResourceProject}); err != nil {
		return nil, 0, err
	}
	if err := f.check(); err != nil {
		return nil, 0, err
	}
	if f.OperationMode != nil && *f.OperationMode != ModeStandard && *f.OperationMode != ModeSimultaneous {
		return nil, 0, core.Invalid("operation_mode", "operation_mode must be %d or %d", ModeStandard, ModeSimultaneous)
	}
	// The document's domain filter is a name; hostdeck's clients send ids. Both work.
	if f.DomainID != nil {
		if _, err := s.store.GetDomain(ctx, *f.DomainID); core.ErrorKind(err) == core.KindNotFound {
			if d, err := s.store.GetDomainByName(ctx, *f.DomainID); err == nil {
				f.DomainID = &d.ID
			}
		}
	}
	return s.store.ListPools(ctx, f)
}

func (f PoolFilter) check() error {
	return core.CheckFilter(core.FilterValue("name", f.Name), core.FilterValue("domain", f.DomainID), core.FilterValue("user", f.UserID))
}
