package core

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// This file holds a project's limits (usage, bandwidth, rate, buckets; set
// through the satellite face, spec 003) and the monthly usage measured from the
// runtimes that makes them mean something. They apply to any project, TRS pools
// included: the instances and volumes "of a project" are the instances whose
// ProjectID it is and the user volumes assigned in it.

// KindProjectUsage is the periodic job that measures projects' usage.
const KindProjectUsage = "periodic.project_usage"

// ProjectUsageEvery is how often project usage is measured.
const ProjectUsageEvery = 5 * time.Minute

// Reasons of errors of project limits.
const (
	ReasonRateLimited    = "rate_limited"
	ReasonUsageExceeded  = "usage_exceeded"
	ReasonBucketsExceeds = "buckets_exceeded"
	// ReasonQuotaExceeded: a quota of machines or projects is reached.
	ReasonQuotaExceeded = "quota_exceeded"
)

// ProjectLimits are a project's limits. Usage (stored bytes) and Buckets (the
// number of volumes) refuse new instances; Rate is requests per second made with
// tokens scoped to the project (0: unlimited); Bandwidth is the month's egress,
// reported against usage. A zero Usage, Bandwidth or Buckets is unlimited.
type ProjectLimits struct {
	ProjectID string    `json:"project_id"`
	Usage     int64     `json:"usage"`
	Bandwidth int64     `json:"bandwidth"`
	Rate      int       `json:"rate"`
	Buckets   int       `json:"buckets"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ProjectLimitsInput changes the limits that are set.
type ProjectLimitsInput struct {
	Usage     *int64
	Bandwidth *int64
	Rate      *int
	Buckets   *int
}

// ProjectUsage is a project's usage in one month ("2006-01"): the stored bytes
// last measured and the egress bytes counted over the month.
type ProjectUsage struct {
	ProjectID   string    `json:"project_id"`
	Month       string    `json:"month"`
	StoredBytes int64     `json:"stored_bytes"`
	EgressBytes int64     `json:"egress_bytes"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// UsageMonth is the month ("2006-01", UTC) that t falls in.
func UsageMonth(t time.Time) string { return t.UTC().Format("2006-01") }

// LimitStore keeps projects' limits and the usage measured against them.
// Unknown ids are KindNotFound.
type LimitStore interface {
	GetProjectLimits(ctx context.Context, projectID string) (*ProjectLimits, error)
	// PutProjectLimits creates or replaces the limits.
	PutProjectLimits(ctx context.Context, l *ProjectLimits) error

	// PutProjectUsage creates or replaces the usage of (project, month).
	PutProjectUsage(ctx context.Context, u *ProjectUsage) error
	GetProjectUsage(ctx context.Context, projectID, month string) (*ProjectUsage, error)
	// ListProjectUsage lists usage rows; an empty projectID or month does not filter.
	ListProjectUsage(ctx context.Context, projectID, month string) ([]*ProjectUsage, error)

	// EgressCounters are the runtime egress counters last read, per instance id.
	EgressCounters(ctx context.Context) (map[string]int64, error)
	// PutEgressCounter records the counter last read of an instance.
	PutEgressCounter(ctx context.Context, instanceID string, txBytes int64) error
}

// --- limits ---

// LimitsOf is the project's limits; a project without any has all zero (unlimited).
func LimitsOf(ctx context.Context, q interface {
	GetProjectLimits(ctx context.Context, projectID string) (*ProjectLimits, error)
}, projectID string) (*ProjectLimits, error) {
	l, err := q.GetProjectLimits(ctx, projectID)
	if ErrorKind(err) == KindNotFound {
		return &ProjectLimits{ProjectID: projectID}, nil
	}
	return l, err
}

// LimitQueries is what checking a project's limits reads: the limits, the
// month's usage, the project's name and what it contains.
type LimitQueries interface {
	GetProjectLimits(ctx context.Context, projectID string) (*ProjectLimits, error)
	GetProjectUsage(ctx context.Context, projectID, month string) (*ProjectUsage, error)
	GetProject(ctx context.Context, id string) (*Project, error)
	ProjectContentStore
}

// CheckProjectLimits refuses to add instances (and their volumes) or user
// volumes to a project whose stored usage this month is at or above its usage
// limit, or whose volumes would pass its buckets limit: KindConflict. It runs in
// the transaction that adds them.
func (s *Service) CheckProjectLimits(ctx context.Context, q LimitQueries, projectID string, newInstances, newVolumes int) error {
	l, err := LimitsOf(ctx, q, projectID)
	if err != nil || newInstances+newVolumes == 0 {
		return err
	}
	// Errors name the project too: the trs face shows them as its code 12.
	exceeded := func(reason, msg string) error {
		name := projectID
		if p, err := q.GetProject(ctx, projectID); err == nil {
			name = p.Name
		}
		return Reasoned(KindConflict, reason, msg, "project_id", projectID, "project_name", name)
	}
	if l.Usage > 0 {
		u, err := q.GetProjectUsage(ctx, projectID, UsageMonth(s.Now()))
		if err != nil && ErrorKind(err) != KindNotFound {
			return err
		}
		if u != nil && u.StoredBytes >= l.Usage {
			return exceeded(ReasonUsageExceeded,
				fmt.Sprintf("storage usage limit of project exceeded: %d of %d bytes stored", u.StoredBytes, l.Usage))
		}
	}
	if l.Buckets > 0 {
		insts, _, err := q.ListMachines(ctx, MachineFilter{ProjectID: ProjectCond(projectID)})
		if err != nil {
			return err
		}
		// Volumes: the instances' own, and the user volumes assigned in the project.
		_, used, err := q.ListVolumeAssignments(ctx, VolumeAssignmentFilter{ProjectID: ProjectCond(projectID), Page: Page{Limit: 1}})
		if err != nil {
			return err
		}
		for _, in := range insts {
			used += projectVolumes(in)
		}
		if used+newVolumes > l.Buckets {
			return exceeded(ReasonBucketsExceeds,
				fmt.Sprintf("buckets limit of project exceeded: %d volumes used, %d asked, limit %d", used, newVolumes, l.Buckets))
		}
	}
	return nil
}

// projectVolumes counts the volumes of an instance: those its spec declares, or
// one (its root disk) when it declares none.
func projectVolumes(in *Instance) int {
	if n := len(in.Spec.Volumes); n > 0 {
		return n
	}
	return 1
}

// --- rate ---

// rateLimiter is a token bucket per project: rps tokens a second, a burst of
// rps. Its zero value is ready to use.
type rateLimiter struct {
	mu      sync.Mutex
	buckets map[string]*tokenBucket
}

type tokenBucket struct {
	rps    int
	tokens float64
	last   time.Time
}

// allow takes a token from the project's bucket, or says how long until one
// is there.
func (l *rateLimiter) allow(projectID string, rps int, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*tokenBucket{}
	}
	b, ok := l.buckets[projectID]
	if !ok || b.rps != rps {
		b = &tokenBucket{rps: rps, tokens: float64(rps), last: now}
		l.buckets[projectID] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(float64(rps), b.tokens+el*float64(rps))
	}
	b.last = now
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) / float64(rps) * float64(time.Second)), false
	}
	b.tokens--
	return 0, true
}

// CheckProjectRate applies the project's rate limit to one request made with a
// token scoped to it: past the limit is KindTooMany with reason rate_limited.
func (s *Service) CheckProjectRate(ctx context.Context, projectID string) error {
	if projectID == "" {
		return nil
	}
	l, err := LimitsOf(ctx, s.store, projectID)
	if err != nil || l.Rate <= 0 {
		return err
	}
	if wait, ok := s.rates.allow(projectID, l.Rate, s.Now()); !ok {
		e := TooMany(wait, "rate limit of project exceeded: %d requests per second", l.Rate)
		e.Reason, e.Params["project_id"] = ReasonRateLimited, projectID
		return e
	}
	return nil
}

// --- usage ---

// UsageReport is what one measurement found.
type UsageReport struct {
	Month     string                   `json:"month"`
	Projects  map[string]*ProjectUsage `json:"projects"`
	Instances int                      `json:"instances"` // measured
	Failed    int                      `json:"failed"`    // could not be measured
}

// runProjectUsage is the periodic job's task.
func (s *Service) runProjectUsage(ctx context.Context, t *Task, progress func(int, string)) (any, error) {
	return s.MeasureProjectUsage(ctx)
}

// MeasureProjectUsage reads every live project instance's usage from its
// runtime (those that implement UsageMeter) and records the month's usage per
// project: stored bytes as measured now, egress bytes added since the last
// reading (a counter that went down was reset: all of it is new).
func (s *Service) MeasureProjectUsage(ctx context.Context) (*UsageReport, error) {
	if err := s.Check(ctx, ActionProjectEdit, Resource{Type: ResourceProject}); err != nil {
		return nil, err
	}
	now := s.Now()
	rep := &UsageReport{Month: UsageMonth(now), Projects: map[string]*ProjectUsage{}}
	insts, _, err := s.store.ListInstances(ctx, InstanceFilter{})
	if err != nil {
		return nil, err
	}
	counters, err := s.store.EgressCounters(ctx)
	if err != nil {
		return nil, err
	}
	servers := map[string]*Server{}
	newCounters := map[string]int64{}
	stored := map[string]int64{}
	egress := map[string]int64{}
	for _, in := range insts {
		if in.ProjectID == "" || in.State == StateDeleted || in.RuntimeRef == "" {
			continue
		}
		srv, ok := servers[in.ServerID]
		if !ok {
			if srv, err = s.store.GetServer(ctx, in.ServerID); err != nil {
				rep.Failed++
				continue
			}
			servers[in.ServerID] = srv
		}
		rt, err := s.RuntimeFor(srv)
		if err != nil {
			rep.Failed++
			continue
		}
		meter, ok := rt.(UsageMeter)
		if !ok {
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
	err = s.store.InTx(ctx, func(q Queries) error {
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
