package billing

import (
	"context"

	"hostdeck/core"
)

// Service holds the use cases of billing. It embeds core's Service for the
// shared helpers (access checks, audit, clock) while core is split.
type Service struct {
	*core.Service
	store Store
}

// New returns billing's Service over c, keeping its records in st.
func New(c *core.Service, st Store) *Service { return &Service{Service: c, store: st} }

// change runs fn in one transaction and wakes the task runner after the commit.
func (s *Service) change(ctx context.Context, fn func(q Queries) error) error {
	return core.Change(ctx, s.Service, s.store, fn)
}
