package quota

import (
	"context"
	"time"

	"hostdeck/core"
)

// KindProjectUsage is the periodic job that measures projects' usage.
const KindProjectUsage = "periodic.project_usage"

// ProjectUsageEvery is how often project usage is measured.
const ProjectUsageEvery = 5 * time.Minute

// Service holds the use cases of quotas: projects' limits, the request rate
// of tokens scoped to a project, and the measurement of projects' usage.
type Service struct {
	*core.Service
	store Store
	rates rateLimiter // per-project request rate (rate.go)
}

// New returns the Service over c and st, and registers the usage measurement
// with c (every ProjectUsageEvery, once per cluster).
func New(c *core.Service, st Store) *Service {
	s := &Service{Service: c, store: st}
	s.Register(KindProjectUsage, s.runMeasureUsage)
	s.RegisterPeriodic(core.PeriodicJob{Kind: KindProjectUsage, Every: ProjectUsageEvery})
	return s
}

// Store is what quotas keep and read.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of quotas. Unknown ids are KindNotFound.
type Queries interface {
	core.Recorder // AddAudit, CreateTask
	GetProject(ctx context.Context, id string) (*core.Project, error)
	GetProjectLimits(ctx context.Context, projectID string) (*ProjectLimits, error)
	// PutProjectLimits creates or replaces the limits.
	PutProjectLimits(ctx context.Context, l *ProjectLimits) error
	// PutProjectUsage creates or replaces the usage of (project, month).
	PutProjectUsage(ctx context.Context, u *ProjectUsage) error
	// ListProjectUsage lists usage rows; an empty projectID or month does not filter.
	ListProjectUsage(ctx context.Context, projectID, month string) ([]*ProjectUsage, error)
	// EgressCounters are the runtime egress counters last read, per instance id.
	EgressCounters(ctx context.Context) (map[string]int64, error)
	// PutEgressCounter records the counter last read of an instance.
	PutEgressCounter(ctx context.Context, instanceID string, txBytes int64) error
	// What is measured: every server's project instances.
	ListServers(ctx context.Context, f core.ServerFilter) ([]*core.Server, int, error)
	core.InstanceWalker // ListInstancesAfter
}

// change runs fn in one transaction and wakes the task runner after the commit.
func (s *Service) change(ctx context.Context, fn func(q Queries) error) error {
	return core.Change(ctx, s.Service, s.store, fn)
}
