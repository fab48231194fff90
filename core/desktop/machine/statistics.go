package machine

import (
	"context"
	"hostdeck/core"
)

// This file holds a pool's statistics: the counts of its machines. They are
// the machines' (their states and their users), so they are counted here
// rather than with the pool's settings.

// PoolStats are the counts of a project's machines, computed from its
// instance records.
type PoolStats struct {
	Created      int `json:"created"`      // not deleted
	Active       int `json:"active"`       // state active
	Error        int `json:"error"`        // state error
	Free         int `json:"free"`         // active with no assigned user
	Occupied     int `json:"occupied"`     // with at least one assigned user
	Simultaneous int `json:"simultaneous"` // with more than one assigned user
}

// PoolStatistics counts a project's machines from its instance records.
//
// Free, Occupied and Simultaneous count user assignments (groups do not occupy a
// machine): free is active without a user, occupied has one or more users,
// simultaneous more than one.
func (s *Service) PoolStatistics(ctx context.Context, id string) (*PoolStats, error) {
	if err := s.Check(ctx, core.ActionProjectView, core.On(core.ResourceProject, id)); err != nil {
		return nil, err
	}
	if !core.ValidID(id) {
		return nil, core.NotFound("project", id)
	}
	if _, err := s.store.GetPool(ctx, id); err != nil {
		return nil, err
	}
	counts, err := s.store.CountInstancesByState(ctx, id)
	if err != nil {
		return nil, err
	}
	st := &PoolStats{Active: counts[core.StateActive], Error: counts[core.StateError]}
	for state, n := range counts {
		if state != core.StateDeleted {
			st.Created += n
		}
	}
	ms, err := s.ListMachines(ctx, MachineQuery{ProjectID: &core.Cond{Op: core.OpEq, Values: []string{id}}})
	if err != nil {
		return nil, err
	}
	for _, m := range ms.Items {
		switch n := len(m.Users); {
		case n == 0 && m.State == core.StateActive:
			st.Free++
		case n > 1:
			st.Simultaneous++
			fallthrough
		case n == 1:
			st.Occupied++
		}
	}
	return st, nil
}
