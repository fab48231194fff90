package quota

import (
	"context"

	"hostdeck/core"
)

// UsageReport is what one measurement found.
type UsageReport struct {
	Month     string                   `json:"month"`
	Projects  map[string]*ProjectUsage `json:"projects"`
	Instances int                      `json:"instances"` // measured
	Failed    int                      `json:"failed"`    // could not be measured
}

// usageBatch is how many records the measurement reads at once.
const usageBatch = 500

// runMeasureUsage is the periodic job's task.
func (s *Service) runMeasureUsage(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	return s.MeasureUsage(ctx)
}

// MeasureUsage reads every live project instance's usage from its
// runtime (those that implement UsageMeter) and records the month's usage per
// project: stored bytes as measured now, egress bytes added since the last
// reading (a counter that went down was reset: all of it is new).
func (s *Service) MeasureUsage(ctx context.Context) (*UsageReport, error) {
	if err := s.Check(ctx, core.ActionProjectEdit, core.Resource{Type: core.ResourceProject}); err != nil {
		return nil, err
	}
	now := s.Now()
	rep := &UsageReport{Month: UsageMonth(now), Projects: map[string]*ProjectUsage{}}
	counters, err := s.store.EgressCounters(ctx)
	if err != nil {
		return nil, err
	}
	servers, _, err := s.store.ListServers(ctx, core.ServerFilter{})
	if err != nil {
		return nil, err
	}
	newCounters := map[string]int64{}
	stored := map[string]int64{}
	egress := map[string]int64{}
	for _, srv := range servers {
		rt, err := s.RuntimeFor(srv)
		if err != nil {
			rt = nil // its instances are counted failed
		}
		meter, _ := rt.(core.UsageMeter)
		// The server's records a batch at a time: the pass holds one batch,
		// not every instance (the clients' too) of the install.
		err = core.WalkInstances(ctx, s.store, srv.ID, usageBatch, func(insts []*core.Instance) error {
			for _, in := range insts {
				if in.ProjectID == "" || in.State == core.StateDeleted || in.RuntimeRef == "" {
					continue
				}
				if rt == nil {
					rep.Failed++
					continue
				}
				if meter == nil {
					continue
				}
				u, err := meter.Usage(ctx, srv, in.RuntimeRef)
				if err != nil {
					s.Log.Warn("measure usage", "instance", in.ID, "err", err)
					rep.Failed++
					continue
				}
				rep.Instances++
				stored[in.ProjectID] += u.StoredBytes
				delta := u.EgressBytes
				if prev, ok := counters[in.ID]; ok && u.EgressBytes >= prev {
					delta = u.EgressBytes - prev
				}
				egress[in.ProjectID] += delta
				newCounters[in.ID] = u.EgressBytes
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	err = s.change(ctx, func(q Queries) error {
		rows, err := q.ListProjectUsage(ctx, "", rep.Month)
		if err != nil {
			return err
		}
		cur := map[string]*ProjectUsage{}
		for _, r := range rows {
			cur[r.ProjectID] = r
		}
		ids := map[string]bool{}
		for id := range stored {
			ids[id] = true
		}
		for id := range cur {
			ids[id] = true
		}
		for id := range ids {
			u := cur[id]
			if u == nil {
				if stored[id] == 0 && egress[id] == 0 {
					continue
				}
				u = &ProjectUsage{ProjectID: id, Month: rep.Month}
			}
			u.StoredBytes = stored[id]
			u.EgressBytes += egress[id]
			u.UpdatedAt = now.UTC()
			if err := q.PutProjectUsage(ctx, u); err != nil {
				return err
			}
			rep.Projects[id] = u
		}
		for id, v := range newCounters {
			if err := q.PutEgressCounter(ctx, id, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}
