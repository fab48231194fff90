package tenancy

import (
	"context"

	"hostdeck/core"
	"hostdeck/core/login"
)

// Service holds the use cases of tenancy. It embeds core's Service for the
// shared helpers (access checks, audit, clock, passwords) while core is split.
type Service struct {
	*core.Service
	store  Store
	logins *login.Service // customers' passwords
}

// New returns tenancy's Service over c, keeping its records in st.
func New(c *core.Service, st Store, logins *login.Service) *Service {
	return &Service{Service: c, store: st, logins: logins}
}

// change runs fn in one transaction and wakes the task runner after the commit.
func (s *Service) change(ctx context.Context, fn func(q Queries) error) error {
	return core.Change(ctx, s.Service, s.store, fn)
}
