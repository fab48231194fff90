// Package quota owns what bounds a project: its limits (stored bytes,
// egress, request rate, volumes), the monthly usage measured from the
// runtimes that makes them mean something, and the check that refuses what
// would pass them. They apply to any project, desktop pools included: the
// instances and volumes "of a project" are the instances whose ProjectID it is
// and the user volumes assigned in it.
package quota

import (
	"context"
	"fmt"
	"time"

	"hostdeck/core"
)

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

// LimitsOf is the project's limits; a project without any has all zero (unlimited).
func LimitsOf(ctx context.Context, q interface {
	GetProjectLimits(ctx context.Context, projectID string) (*ProjectLimits, error)
}, projectID string) (*ProjectLimits, error) {
	l, err := q.GetProjectLimits(ctx, projectID)
	if core.ErrorKind(err) == core.KindNotFound {
		return &ProjectLimits{ProjectID: projectID}, nil
	}
	return l, err
}

// LimitQueries is what checking a project's limits reads: the limits (core.KindNotFound
// for a project without any), the month's usage, the project's name and what it
// contains.
type LimitQueries interface {
	GetProjectLimits(ctx context.Context, projectID string) (*ProjectLimits, error)
	GetProjectUsage(ctx context.Context, projectID, month string) (*ProjectUsage, error)
	GetProject(ctx context.Context, id string) (*core.Project, error)
	core.ProjectContentStore
}

// CheckLimits refuses to add instances (and their volumes) or user volumes to
// a project whose stored usage in the month of now is at or above its usage
// limit, or whose volumes would pass its buckets limit: core.KindConflict. It runs in
// the transaction that adds them.
func CheckLimits(ctx context.Context, q LimitQueries, now time.Time, projectID string, newInstances, newVolumes int) error {
	l, err := LimitsOf(ctx, q, projectID)
	if err != nil || newInstances+newVolumes == 0 {
		return err
	}
	// Errors name the project too: a face may show it.
	exceeded := func(reason, msg string) error {
		name := projectID
		if p, err := q.GetProject(ctx, projectID); err == nil {
			name = p.Name
		}
		return core.Reasoned(core.KindConflict, reason, msg, "project_id", projectID, "project_name", name)
	}
	if l.Usage > 0 {
		u, err := q.GetProjectUsage(ctx, projectID, UsageMonth(now))
		if err != nil && core.ErrorKind(err) != core.KindNotFound {
			return err
		}
		if u != nil && u.StoredBytes >= l.Usage {
			return exceeded(ReasonUsageExceeded,
				fmt.Sprintf("storage usage limit of project exceeded: %d of %d bytes stored", u.StoredBytes, l.Usage))
		}
	}
	if l.Buckets > 0 {
		insts, _, err := q.ListMachines(ctx, core.MachineFilter{ProjectID: core.ProjectCond(projectID)})
		if err != nil {
			return err
		}
		// Volumes: the instances' own, and the user volumes assigned in the project.
		_, used, err := q.ListVolumeAssignments(ctx, core.VolumeAssignmentFilter{ProjectID: core.ProjectCond(projectID), Page: core.Page{Limit: 1}})
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
func projectVolumes(in *core.Instance) int {
	if n := len(in.Spec.Volumes); n > 0 {
		return n
	}
	return 1
}

// Limits returns a project's limits (admins only).
func (s *Service) Limits(ctx context.Context, id string) (*ProjectLimits, error) {
	if err := s.Check(ctx, core.ActionProjectView, core.On(core.ResourceProject, id)); err != nil {
		return nil, err
	}
	if _, err := core.LookupProject(ctx, s.store, id); err != nil {
		return nil, err
	}
	return LimitsOf(ctx, s.store, id)
}

// SetLimits changes the limits that are set (admins only); negative
// values are KindInvalid.
func (s *Service) SetLimits(ctx context.Context, id string, in ProjectLimitsInput) (*ProjectLimits, error) {
	if err := s.Check(ctx, core.ActionProjectEdit, core.On(core.ResourceProject, id)); err != nil {
		return nil, err
	}
	switch {
	case in.Usage != nil && *in.Usage < 0:
		return nil, core.Invalid("usage", "usage must not be negative")
	case in.Bandwidth != nil && *in.Bandwidth < 0:
		return nil, core.Invalid("bandwidth", "bandwidth must not be negative")
	case in.Rate != nil && *in.Rate < 0:
		return nil, core.Invalid("rate", "rate must not be negative")
	case in.Buckets != nil && *in.Buckets < 0:
		return nil, core.Invalid("buckets", "buckets must not be negative")
	}
	var out *ProjectLimits
	err := s.change(ctx, func(q Queries) error {
		if _, err := core.LookupProject(ctx, q, id); err != nil {
			return err
		}
		l, err := LimitsOf(ctx, q, id)
		if err != nil {
			return err
		}
		detail := map[string]any{}
		if in.Usage != nil {
			l.Usage, detail["usage"] = *in.Usage, *in.Usage
		}
		if in.Bandwidth != nil {
			l.Bandwidth, detail["bandwidth"] = *in.Bandwidth, *in.Bandwidth
		}
		if in.Rate != nil {
			l.Rate, detail["rate"] = *in.Rate, *in.Rate
		}
		if in.Buckets != nil {
			l.Buckets, detail["buckets"] = *in.Buckets, *in.Buckets
		}
		l.UpdatedAt = s.Now().UTC()
		if err := q.PutProjectLimits(ctx, l); err != nil {
			return err
		}
		out = l
		return s.Audit(ctx, q, "satellite.project.limits", "project", id, detail)
	})
	return out, err
}

// UsageHistory lists a project's monthly usage (admins only).
func (s *Service) UsageHistory(ctx context.Context, id string) ([]*ProjectUsage, error) {
	if err := s.Check(ctx, core.ActionProjectView, core.On(core.ResourceProject, id)); err != nil {
		return nil, err
	}
	if _, err := core.LookupProject(ctx, s.store, id); err != nil {
		return nil, err
	}
	return s.store.ListProjectUsage(ctx, id, "")
}
