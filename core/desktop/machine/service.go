package machine

import (
	"context"

	"hostdeck/core"
	"hostdeck/core/desktop"
)

// Service holds the use cases of the pools' machines. It embeds core's Service
// for what every capability shares (the clock, the audit trail, the access
// policy) while core is split by capability.
type Service struct {
	*core.Service
	store Store
}

// New returns the machines' use cases over c and st.
func New(c *core.Service, st Store) *Service { return &Service{Service: c, store: st} }

// Store is what the machines keep and read.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of the machines: their assignments and
// history, and what they read of instances (a machine is one), pools, users and
// groups.
type Queries interface {
	MachineStore
	GetInstance(ctx context.Context, id string) (*core.Instance, error)
	Locker // LockMachine, GetPool
	// ListPoolMachines lists machines (instances of a project, not deleted)
	// with their users and groups, in one query, and follows their changes and
	// those of their pools, which a machine is shown with (core.List,
	// Page.Since).
	ListPoolMachines(ctx context.Context, f core.MachineFilter) (core.List[*Machine], error)
	// CountInstancesByState counts a project's instances per state (deleted ones too).
	CountInstancesByState(ctx context.Context, projectID string) (map[core.InstanceState]int, error)
	SubjectReader // GetUser, GetGroup
	core.Recorder // AddAudit, CreateTask
}

// Locker is what locking a live machine with its pool reads in a transaction.
type Locker interface {
	LockMachine(ctx context.Context, id string) (*core.Instance, error)
	GetPool(ctx context.Context, id string) (*desktop.Pool, error)
}

// SubjectReader is what checking the users and groups machines are assigned to
// reads.
type SubjectReader interface {
	GetUser(ctx context.Context, id string) (*core.User, error)
	GetGroup(ctx context.Context, id string) (*core.Group, error)
}
