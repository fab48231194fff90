package desktop

import (
	"context"

	"hostdeck/core"
	"hostdeck/core/instance"
	"hostdeck/core/quota"
)

// Service holds the use cases of the remote-desktop pools. It embeds core's
// Service for what every capability shares (the clock, the audit trail, tasks,
// the access policy, instances and placement) while core is split by
// capability.
type Service struct {
	*core.Service
	store Store
	inst  *instance.Service // the instances it asks for
	cfg   Config
}

// Config is the configuration of the pools: the defaults of new pools and the
// CIDR users' floating IPs come from.
type Config struct {
	Defaults       PoolDefaults
	FloatingIPPool string // DefaultFloatingIPPool when empty
}

// New returns the pools' use cases over c and st, and registers their task
// kinds and the periodic refill with c.
func New(c *core.Service, st Store, inst *instance.Service, cfg Config) *Service {
	cfg.Defaults = cfg.Defaults.WithDefaults()
	if cfg.FloatingIPPool == "" {
		cfg.FloatingIPPool = DefaultFloatingIPPool
	}
	s := &Service{Service: c, store: st, inst: inst, cfg: cfg}
	s.registerTasks()
	return s
}

func (s *Service) registerTasks() {
	s.Register(KindMachineCreate, s.runMachineCreate)
	s.Register(KindHandOut, s.runHandOut)
	s.Register(KindPoolRefill, s.runPoolRefill)
	s.Register(KindAutoAllocate, s.runAutoAllocate)
	s.RegisterPeriodic(core.PeriodicJob{Kind: KindPoolRefill, Every: PoolRefillEvery})
}

// Store is what the pools keep and read.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of the pools: their own (pools, machines,
// sessions), and what they read and write of root core's nouns.
type Queries interface {
	PoolStore
	MachineStore
	SessionStore
	InstanceQueries
	DirectoryQueries
	GetFlavor(ctx context.Context, id string) (*core.Flavor, error)
	GetImage(ctx context.Context, id string) (*core.Image, error)
	GetTask(ctx context.Context, id string) (*core.Task, error)
	core.Recorder // AddAudit, CreateTask
}

// InstanceQueries are what the pools do with instances (a machine is one) and
// the servers they are placed on.
type InstanceQueries interface {
	CreateInstance(ctx context.Context, in *core.Instance) error
	GetInstance(ctx context.Context, id string) (*core.Instance, error)
	instance.InstanceWriter // LockMachine, UpdateInstance
	core.PlacementQueries   // GetServer, ListServers, CountClientsByServer, CountMachinesByServer
	LockServers(ctx context.Context) error
}

// DirectoryQueries are what the pools read of projects (a pool is one, with
// its limits and contents), domains, and the users and groups machines are
// assigned to.
type DirectoryQueries interface {
	quota.LimitQueries // GetProjectLimits, GetProjectUsage, GetProject, ListMachines, ListVolumeAssignments
	FindProjectByName(ctx context.Context, name string) (*core.Project, error)
	core.DomainReader // GetDomain, GetDomainByName
	GetUser(ctx context.Context, id string) (*core.User, error)
	ListUsers(ctx context.Context, f core.UserFilter) ([]*core.User, int, error)
	GetGroup(ctx context.Context, id string) (*core.Group, error)
}

// change runs fn in one transaction and wakes the task runner after the commit.
func (s *Service) change(ctx context.Context, fn func(q Queries) error) error {
	return core.Change(ctx, s.Service, s.store, fn)
}
