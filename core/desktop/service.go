package desktop

import (
	"context"

	"hostdeck/core"
	"hostdeck/core/quota"
)

// Service holds the use cases of the remote-desktop pools. It embeds core's
// Service for what every capability shares (the clock, the audit trail, tasks,
// the access policy) while core is split by capability.
type Service struct {
	*core.Service
	store Store
	cfg   Config
}

// Config is the configuration of the pools: the defaults of new pools.
type Config struct {
	Defaults PoolDefaults
}

// New returns the pools' use cases over c and st.
func New(c *core.Service, st Store, cfg Config) *Service {
	cfg.Defaults = cfg.Defaults.WithDefaults()
	return &Service{Service: c, store: st, cfg: cfg}
}

// Store is what the pools keep and read.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of the pools: their own, the catalogue
// records their flavor and image name, and the domains they belong to.
type Queries interface {
	PoolStore
	// CreateVolumeAssignment numbers a (sequence, never reused) and stores it;
	// KindConflict when the volume is already assigned in the project.
	CreateVolumeAssignment(ctx context.Context, a *core.VolumeAssignment) error
	GetVolumeAssignment(ctx context.Context, id int64) (*core.VolumeAssignment, error)
	DeleteVolumeAssignment(ctx context.Context, id int64) error
	quota.LimitQueries // GetProjectLimits, GetProjectUsage, GetProject, ListMachines, ListVolumeAssignments
	GetUser(ctx context.Context, id string) (*core.User, error)
	GetFlavor(ctx context.Context, id string) (*core.Flavor, error)
	GetImage(ctx context.Context, id string) (*core.Image, error)
	core.DomainReader // GetDomain, GetDomainByName
	core.Recorder     // AddAudit, CreateTask
}
