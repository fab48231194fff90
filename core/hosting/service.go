// Package hosting owns what a hosting panel's customers do with the instances
// they own: list the ones they may see, by the number a panel names them by;
// start, stop and reboot them; and boot them into rescue from a catalogue image
// and back (the rescue images a fresh install is seeded with included).
package hosting

import (
	"context"

	"hostdeck/core"
	"hostdeck/core/instance"
)

// Service holds the hosting use cases. It embeds core's Service for what every
// capability shares (the clock, the audit trail, tasks, the access policy,
// instances and their lifecycle) while core is split by capability.
type Service struct {
	*core.Service
	store Store
	inst  *instance.Service // the instances it asks for
}

// New returns the Service over c and st, and registers its task kinds with c.
func New(c *core.Service, st Store, inst *instance.Service) *Service {
	s := &Service{Service: c, store: st, inst: inst}
	s.registerTasks()
	return s
}

// Store is what hosting keeps and reads.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of hosting: the numbered instances, the
// instance a power action or rescue changes, its server, and the catalogue's
// images.
type Queries interface {
	// ListNumberedInstances lists the instances f selects that are not deleted,
	// each with its number (0 for one without), one page of them (f.Page, in its
	// order) and the number of them all, and follows their changes (core.List,
	// Page.Since). The numbers come in the same query as the rows.
	ListNumberedInstances(ctx context.Context, f core.InstanceFilter) (core.List[*core.NumberedInstance], error)
	// InstanceIDByNumber is KindNotFound for an unknown number.
	InstanceIDByNumber(ctx context.Context, number int64) (string, error)
	GetInstance(ctx context.Context, id string) (*core.Instance, error)
	instance.InstanceWriter // LockMachine, UpdateInstance
	GetServer(ctx context.Context, id string) (*core.Server, error)
	CreateImage(ctx context.Context, im *core.Image) error
	GetImage(ctx context.Context, id string) (*core.Image, error)
	core.AccessStore // what the policy reads
	core.Recorder    // AddAudit, CreateTask
}

// change runs fn in one transaction and wakes the task runner after the commit.
func (s *Service) change(ctx context.Context, fn func(q Queries) error) error {
	return core.Change(ctx, s.Service, s.store, fn)
}
