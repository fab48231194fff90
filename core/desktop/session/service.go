package session

import (
	"context"

	"hostdeck/core"
	"hostdeck/core/desktop"
)

// Service holds the use cases of desktop users' sessions, floating IPs and
// volume assignments. It embeds core's Service for what every capability
// shares (the clock, the audit trail, the access policy, project limits) while
// core is split by capability.
type Service struct {
	*core.Service
	store Store
	cfg   Config
}

// Config is the configuration of the sessions: the CIDR users' floating IPs
// come from.
type Config struct {
	FloatingIPPool string // DefaultFloatingIPPool when empty
}

// New returns the sessions' use cases over c and st.
func New(c *core.Service, st Store, cfg Config) *Service {
	if cfg.FloatingIPPool == "" {
		cfg.FloatingIPPool = DefaultFloatingIPPool
	}
	return &Service{Service: c, store: st, cfg: cfg}
}

// Store is what the sessions keep and read.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of the sessions: their own (sessions,
// floating IPs, volume assignments), the machine a session is on, the users
// and pools they are for, and the project limits a new volume counts against.
type Queries interface {
	SessionStore
	GetInstance(ctx context.Context, id string) (*core.Instance, error)
	GetUser(ctx context.Context, id string) (*core.User, error)
	GetPool(ctx context.Context, id string) (*desktop.Pool, error)
	core.Recorder // AddAudit, CreateTask
}
