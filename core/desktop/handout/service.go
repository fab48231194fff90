package handout

import (
	"context"

	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/desktop/provision"
	"hostdeck/core/desktop/session"
)

// Service holds the hand-out of the pools' machines. It embeds core's Service
// for what every capability shares (the clock, the audit trail, tasks, the
// access policy, placement) while core is split by capability.
type Service struct {
	*core.Service
	store     Store
	machines  *machine.Service   // the assignments a hand-out makes
	provision *provision.Service // the machines made when none is free
	sessions  *session.Service   // the session a completed request records
}

// New returns the hand-out over c and st, and registers its task kinds and the
// periodic refill with c.
func New(c *core.Service, st Store, machines *machine.Service, prov *provision.Service, sessions *session.Service) *Service {
	s := &Service{Service: c, store: st, machines: machines, provision: prov, sessions: sessions}
	s.Register(KindHandOut, s.runHandOut)
	s.Register(KindPoolRefill, s.runPoolRefill)
	s.Register(KindAutoAllocate, s.runAutoAllocate)
	s.RegisterPeriodic(core.PeriodicJob{Kind: KindPoolRefill, Every: PoolRefillEvery})
	return s
}

// Store is what the hand-out keeps and reads.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of the hand-out: the pools a user may ask
// from, their machines and the free one locked for a user, the assignment it
// gets (machine.AssignQueries), what a new machine would need room and quota
// for, the request's task, and the users it is for.
type Queries interface {
	ListPools(ctx context.Context, f desktop.PoolFilter) ([]*desktop.Pool, int, error)
	FindProjectByName(ctx context.Context, name string) (*core.Project, error)
	core.DomainReader // GetDomain, GetDomainByName
	// ListMachines lists instances that belong to a project and are not deleted.
	ListMachines(ctx context.Context, f core.MachineFilter) ([]*core.Instance, int, error)
	// LockFreeMachine returns the oldest machine of the project in state with no
	// user or group, locked like LockMachine and free while the transaction
	// lasts; KindNotFound when there is none. On PostgreSQL it skips machines
	// other transactions hold locked, so concurrent hand-outs take different
	// machines.
	LockFreeMachine(ctx context.Context, projectID string, state core.InstanceState) (*core.Instance, error)
	GetInstance(ctx context.Context, id string) (*core.Instance, error) // the machine a request got (machine.Load)
	machine.AssignQueries                                               // LockMachine, GetPool, ListMachineAssignments, AddMachineAssignment, AddAssignmentEvent, AddAudit, CreateTask
	provision.QuotaReader                                               // CountInstancesByState
	core.PlacementQueries                                               // GetServer, ListServers, CountClientsByServer, CountMachinesByServer
	GetTask(ctx context.Context, id string) (*core.Task, error)
	GetUser(ctx context.Context, id string) (*core.User, error)
	ListUsers(ctx context.Context, f core.UserFilter) ([]*core.User, int, error)
}

// change runs fn in one transaction and wakes the task runner after the commit.
func (s *Service) change(ctx context.Context, fn func(q Queries) error) error {
	return core.Change(ctx, s.Service, s.store, fn)
}
