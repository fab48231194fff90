// Package cloud owns tenant clouds: the clients a hosting company gives a cloud
// of their own, each with its owner, contacts, expiry date and
// its history, demo data, and the instance that runs its cloud on a server of
// the fleet; and the work behind them (create, reboot, transfer, delete, the
// owner's password, the e-mails of success and expiry).
package cloud

import (
	"context"
	"time"

	"hostdeck/core"
	"hostdeck/core/instance"
)

// Service holds the use cases of tenant clouds. It embeds core's Service for
// what every capability shares (the clock, the audit trail, tasks, the access
// policy, instances) while core is split by capability.
type Service struct {
	*core.Service
	store Store
	inst  *instance.Service // the instances it asks for
}

// Options configure the tenant clouds' periodic work.
type Options struct {
	// ExpiryEvery is how often the expiry notices are sent (once per cluster).
	ExpiryEvery time.Duration
}

// New returns the Service over c and st, and registers its task kinds with c.
func New(c *core.Service, st Store, inst *instance.Service, o Options) *Service {
	s := &Service{Service: c, store: st, inst: inst}
	s.registerTasks(o.ExpiryEvery)
	return s
}

// Store is what tenant clouds keep and read.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of tenant clouds: their own records, the
// instance behind each, and what placing and superseding work needs.
type Queries interface {
	CreateClient(ctx context.Context, c *core.Client) error // Conflict on a duplicate name
	GetClient(ctx context.Context, id string) (*core.Client, error)
	// ListClients reads a page of clients, each with its instance, and follows
	// their changes (core.List, Page.Since).
	ListClients(ctx context.Context, f core.ClientFilter) (core.List[ClientRow], error)
	UpdateClient(ctx context.Context, id string, u core.ClientUpdate) (*core.Client, error)
	AddExpireChange(ctx context.Context, e *core.ExpireChange) error
	ListExpireChanges(ctx context.Context, clientID string, p core.Page) ([]*core.ExpireChange, int, error)

	// CreateInstance stores in and gives it the next numeric id (unique and
	// never reused); KindConflict on a duplicate name.
	CreateInstance(ctx context.Context, in *core.Instance) error
	GetInstance(ctx context.Context, id string) (*core.Instance, error)
	ListInstances(ctx context.Context, f core.InstanceFilter) ([]*core.Instance, int, error)
	UpdateInstance(ctx context.Context, id string, u core.InstanceUpdate) (*core.Instance, error)
	LockMachine(ctx context.Context, id string) (*core.Instance, error)

	LockServers(ctx context.Context) error
	core.PlacementQueries // GetServer, ListServers, CountClientsByServer, CountMachinesByServer

	ListTasks(ctx context.Context, f core.TaskFilter) ([]*core.Task, int, error)
	RequestTaskCancel(ctx context.Context, id string, now time.Time) (*core.Task, error)
	core.Recorder // AddAudit, CreateTask
}

// change runs fn in one transaction and wakes the task runner after the commit.
func (s *Service) change(ctx context.Context, fn func(q Queries) error) error {
	return core.Change(ctx, s.Service, s.store, fn)
}
