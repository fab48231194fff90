package desktop

import (
	"context"

	"hostdeck/core"
)

// Service holds the use cases of the remote-desktop pools. It embeds core's
// Service for what every capability shares (the clock, the audit trail, tasks,
// the access policy, instances and placement) while core is split by
// capability.
type Service struct {
	*core.Service
	store Store
	cfg   Config
}

// Config is the configuration of the pools: the defaults of new pools and the
// CIDR users' floating IPs come from.
type Config struct {
	Defaults       TRSDefaults
	FloatingIPPool string // DefaultFloatingIPPool when empty
}

// New returns the pools' use cases over c and st, and registers their task
// kinds and the periodic refill with c.
func New(c *core.Service, st Store, cfg Config) *Service {
	cfg.Defaults = cfg.Defaults.WithDefaults()
	if cfg.FloatingIPPool == "" {
		cfg.FloatingIPPool = DefaultFloatingIPPool
	}
	s := &Service{Service: c, store: st, cfg: cfg}
	s.registerTasks()
	return s
}

func (s *Service) registerTasks() {
	s.Register(KindMachineCreate, s.runMachineCreate)
	s.Register(KindBrokerRequestVM, s.runBrokerRequest)
	s.Register(KindTRSPool, s.runTRSPool)
	s.Register(KindTRSAutoAllocate, s.runAutoAllocate)
	s.RegisterPeriodic(core.PeriodicJob{Kind: KindTRSPool, Every: TRSPoolEvery})
}

// Store is what the pools keep and read.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of the pools.
type Queries interface {
	core.Queries
	TRSStore
	MachineStore
	SessionStore
}

// change runs fn in one transaction and wakes the task runner after the commit.
func (s *Service) change(ctx context.Context, fn func(q Queries) error) error {
	if err := core.InTx(ctx, s.store, fn); err != nil {
		return err
	}
	s.Wake()
	return nil
}
