// Package instance owns an instance's life on its server: the lifecycle table
// (lifecycle.go: which action may be done in which state, and the state it
// leads to), and the work that drives an instance through it on its runtime
// (run.go: bring it up and wait until it answers, restart it, remove it). The
// capabilities that ask for instances (tenant clouds, pools, hosting, the
// fleet) go through it.
package instance

import (
	"context"

	"hostdeck/core"
)

// Service drives instances. It embeds core's Service for what every
// capability shares (the clock, the audit trail, the runtimes, the config)
// while core is split by capability.
type Service struct {
	*core.Service
	store Store
}

// New returns the Service over c and st.
func New(c *core.Service, st Store) *Service { return &Service{Service: c, store: st} }

// Store is what driving instances reads and writes.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of an instance's life: the instance, locked
// while its state changes, and its server.
type Queries interface {
	GetInstance(ctx context.Context, id string) (*core.Instance, error)
	InstanceWriter // LockMachine, UpdateInstance
	GetServer(ctx context.Context, id string) (*core.Server, error)
	core.Recorder // AddAudit, CreateTask
}
