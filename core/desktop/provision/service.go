package provision

import (
	"context"

	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/instance"
	"hostdeck/core/quota"
)

// Service holds the making of new machines. It embeds core's Service for what
// every capability shares (the clock, the audit trail, tasks, the access
// policy, placement and project limits) while core is split by capability.
type Service struct {
	*core.Service
	store    Store
	inst     *instance.Service // the instances it asks for
	machines *machine.Service  // the assignments new machines start with
}

// New returns the making of machines over c and st, and registers its task
// kind with c.
func New(c *core.Service, st Store, inst *instance.Service, machines *machine.Service) *Service {
	s := &Service{Service: c, store: st, inst: inst, machines: machines}
	s.Register(KindMachineCreate, s.runMachineCreate)
	return s
}

// Store is what making machines keeps and reads.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of making machines: the instances (a
// machine is one) and the servers they are placed on, the pool and its image,
// the project's limits, and the assignments a new machine starts with.
type Queries interface {
	CreateInstance(ctx context.Context, in *core.Instance) error
	// ListInstanceNames lists the names of every instance (deleted ones too) that
	// start with prefix.
	ListInstanceNames(ctx context.Context, prefix string) ([]string, error)
	LockServers(ctx context.Context) error
	core.PlacementQueries // GetServer, ListServers, CountClientsByServer, CountMachinesByServer
	GetPool(ctx context.Context, id string) (*desktop.Pool, error)
	GetImage(ctx context.Context, id string) (*core.Image, error)
	QuotaReader              // CountInstancesByState
	quota.LimitQueries       // GetProjectLimits, GetProjectUsage, GetProject, ListMachines, ListVolumeAssignments
	machine.SubjectReader    // GetUser, GetGroup
	machine.AssignmentWriter // AddMachineAssignment, AddAssignmentEvent
	core.Recorder            // AddAudit, CreateTask
}

// QuotaReader is what checking a pool's machine quota reads (CheckQuota).
type QuotaReader interface {
	// CountInstancesByState counts a project's instances per state (deleted ones too).
	CountInstancesByState(ctx context.Context, projectID string) (map[core.InstanceState]int, error)
}

// change runs fn in one transaction and wakes the task runner after the commit.
func (s *Service) change(ctx context.Context, fn func(q Queries) error) error {
	return core.Change(ctx, s.Service, s.store, fn)
}
