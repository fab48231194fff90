// Package fleet owns the servers that instances run on: their records, runtime
// endpoints, capacity and status, the local server a fresh install registers,
// their live load and heartbeat, a server's reboot, and the reconciliation of
// what each runtime runs with the instance records.
package fleet

import (
	"context"
	"time"

	"hostdeck/core"
	"hostdeck/core/instance"
)

// Service holds the fleet's use cases. It embeds core's Service for what every
// capability shares (the clock, the audit trail, tasks, the access policy,
// instances and their lifecycle) while core is split by capability.
type Service struct {
	*core.Service
	store Store
	inst  *instance.Service // the instances it asks for
	// reconcileEvery is how often the fleet's pass probes every server.
	reconcileEvery time.Duration
}

// Options configure the fleet's periodic work.
type Options struct {
	// ReconcileEvery is how often records and runtimes are reconciled (once per
	// cluster).
	ReconcileEvery time.Duration
}

// New returns the Service over c and st, and registers its task kinds with c.
func New(c *core.Service, st Store, inst *instance.Service, o Options) *Service {
	s := &Service{Service: c, store: st, inst: inst, reconcileEvery: o.ReconcileEvery}
	s.registerTasks(o.ReconcileEvery)
	return s
}

// Store is what the fleet keeps and reads.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of the fleet: its servers, what runs on
// them, and the audit trail that remembers the local server.
type Queries interface {
	CreateServer(ctx context.Context, s *core.Server) error // Conflict on a duplicate name
	core.PlacementQueries                                   // GetServer, ListServers, CountClientsByServer, CountMachinesByServer
	UpdateServer(ctx context.Context, id string, u core.ServerUpdate) (*core.Server, error)
	DeleteServer(ctx context.Context, id string) error
	// LockServers serialises placement decisions: on PostgreSQL it locks the
	// server rows until the transaction ends; on SQLite transactions are
	// already serial.
	LockServers(ctx context.Context) error

	GetInstance(ctx context.Context, id string) (*core.Instance, error)
	ListInstances(ctx context.Context, f core.InstanceFilter) ([]*core.Instance, int, error)
	core.InstanceWalker     // ListInstancesAfter
	instance.InstanceWriter // LockMachine, UpdateInstance

	ListAudit(ctx context.Context, f core.AuditFilter) ([]*core.AuditEvent, int, error)
	core.Recorder // AddAudit, CreateTask
}

// change runs fn in one transaction and wakes the task runner after the commit.
func (s *Service) change(ctx context.Context, fn func(q Queries) error) error {
	return core.Change(ctx, s.Service, s.store, fn)
}
