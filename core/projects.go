package core

import (
	"context"
	"fmt"
	"strings"
)

// This file holds the projects customers own (spec 003): a customer's project
// is a core Project of type ProjectTypeSatellite owned by the customer, with
// limits set when it is created. The limits themselves, their enforcement and
// the usage measured against them are in limits.go: they apply to any project.

// ProjectTypeSatellite marks a project created through the satellite face.
const ProjectTypeSatellite = "satellite"

// Default limits of a project created through the satellite face. Projects
// created elsewhere have no limits until some are set.
const (
	DefaultUsageLimit     = 50_000_000_000 // 50 GB stored
	DefaultBandwidthLimit = 50_000_000_000 // 50 GB egress a month
	DefaultBucketsLimit   = 100
)

// OwnedProjectStore keeps the projects customers own. Unknown ids are
// KindNotFound.
type OwnedProjectStore interface {
	// CreateSatelliteProject stores p as a project of type ProjectTypeSatellite.
	CreateSatelliteProject(ctx context.Context, p *Project) error
	// ProjectType is the project_type of a project ("" for plain projects).
	ProjectType(ctx context.Context, id string) (string, error)
	// ListProjectsByOwner lists the projects a user owns, oldest first.
	ListProjectsByOwner(ctx context.Context, ownerID string) ([]*Project, error)
	// UpdateProjectInfo changes the name and description that are set.
	UpdateProjectInfo(ctx context.Context, id string, name, description *string) (*Project, error)
	// RemoveProject deletes a project with its limits, usage and role grants.
	RemoveProject(ctx context.Context, id string) error
}

func satProjectNotFound(id string) error {
	return Reasoned(KindNotFound, ReasonProjectNotFound, "project "+id+" does not exist", "project_name", id)
}

// CreateSatelliteProject creates a project owned by a user (admins only), with
// the default limits, and grants the owner the member role on it (so the owner
// can get tokens scoped to it). Past the owner's project limit is KindConflict.
func (s *Service) CreateSatelliteProject(ctx context.Context, ownerID, name string) (*Project, error) {
	if err := s.Check(ctx, ActionProjectCreate, Resource{Type: ResourceProject}); err != nil {
		return nil, err
	}
	switch {
	case ownerID == "":
		return nil, Invalid("ownerId", "OwnerID is not set")
	case strings.TrimSpace(name) == "":
		return nil, Invalid("projectName", "ProjectName is not set")
	case !ValidID(ownerID):
		return nil, Invalid("ownerId", "OwnerID is not a valid UUID")
	}
	if err := CheckName("projectName", name, MaxNameLen); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	p := &Project{ID: NewID(), Name: name, OwnerID: ownerID, CreatedAt: now, UpdatedAt: now}
	err := s.Change(ctx, func(q Queries) error {
		u, err := RealmUser(ctx, q, RealmSatellite, ownerID)
		if err != nil {
			return err
		}
		prof, err := s.profileOf(ctx, q, u)
		if err != nil {
			return err
		}
		owned, err := q.ListProjectsByOwner(ctx, u.ID)
		if err != nil {
			return err
		}
		if len(owned) >= prof.ProjectLimit {
			return Reasoned(KindConflict, ReasonQuotaExceeded,
				fmt.Sprintf("user %s reached the project limit (%d)", u.Name, prof.ProjectLimit), "user_name", u.Name)
		}
		if err := q.CreateSatelliteProject(ctx, p); err != nil {
			return err
		}
		if err := q.PutProjectLimits(ctx, &ProjectLimits{ProjectID: p.ID, Usage: DefaultUsageLimit,
			Bandwidth: DefaultBandwidthLimit, Buckets: DefaultBucketsLimit, UpdatedAt: now}); err != nil {
			return err
		}
		if err := q.GrantRole(ctx, &RoleGrant{ProjectID: p.ID, UserID: u.ID, Role: RoleMember, CreatedAt: now}); err != nil {
			return err
		}
		return s.Audit(ctx, q, "satellite.project.create", "project", p.ID, map[string]string{"name": name, "owner_id": ownerID})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// getProject reads a project; bad or unknown ids are KindNotFound.
func getProject(ctx context.Context, q Queries, id string) (*Project, error) {
	if !ValidID(id) {
		return nil, satProjectNotFound(id)
	}
	p, err := q.GetProject(ctx, id)
	if ErrorKind(err) == KindNotFound {
		return nil, satProjectNotFound(id)
	}
	return p, err
}

// SatelliteProject returns a project (admins only).
func (s *Service) SatelliteProject(ctx context.Context, id string) (*Project, error) {
	if err := s.Check(ctx, ActionProjectView, On(ResourceProject, id)); err != nil {
		return nil, err
	}
	return getProject(ctx, s.store, id)
}

// UpdateSatelliteProject changes a project's name or description (admins only).
func (s *Service) UpdateSatelliteProject(ctx context.Context, id string, name, description *string) (*Project, error) {
	if err := s.Check(ctx, ActionProjectEdit, On(ResourceProject, id)); err != nil {
		return nil, err
	}
	if name != nil && strings.TrimSpace(*name) == "" {
		return nil, Invalid("projectName", "ProjectName is not set")
	}
	if err := CheckOptional(name, func(v string) error { return CheckName("projectName", v, MaxNameLen) }); err != nil {
		return nil, err
	}
	if err := CheckOptional(description, func(v string) error { return CheckText("description", v, MaxTextLen) }); err != nil {
		return nil, err
	}
	if name == nil && description == nil {
		return nil, Invalid("projectName", "ProjectName or Description must be set")
	}
	var out *Project
	err := s.Change(ctx, func(q Queries) error {
		if _, err := getProject(ctx, q, id); err != nil {
			return err
		}
		var err error
		if out, err = q.UpdateProjectInfo(ctx, id, name, description); err != nil {
			return err
		}
		return s.Audit(ctx, q, "satellite.project.update", "project", id, map[string]any{"name": name != nil, "description": description != nil})
	})
	return out, err
}

// ProjectLimits returns a project's limits (admins only).
func (s *Service) ProjectLimits(ctx context.Context, id string) (*ProjectLimits, error) {
	if err := s.Check(ctx, ActionProjectView, On(ResourceProject, id)); err != nil {
		return nil, err
	}
	if _, err := getProject(ctx, s.store, id); err != nil {
		return nil, err
	}
	return limitsOf(ctx, s.store, id)
}

// SetProjectLimits changes the limits that are set (admins only); negative
// values are KindInvalid.
func (s *Service) SetProjectLimits(ctx context.Context, id string, in ProjectLimitsInput) (*ProjectLimits, error) {
	if err := s.Check(ctx, ActionProjectEdit, On(ResourceProject, id)); err != nil {
		return nil, err
	}
	switch {
	case in.Usage != nil && *in.Usage < 0:
		return nil, Invalid("usage", "usage must not be negative")
	case in.Bandwidth != nil && *in.Bandwidth < 0:
		return nil, Invalid("bandwidth", "bandwidth must not be negative")
	case in.Rate != nil && *in.Rate < 0:
		return nil, Invalid("rate", "rate must not be negative")
	case in.Buckets != nil && *in.Buckets < 0:
		return nil, Invalid("buckets", "buckets must not be negative")
	}
	var out *ProjectLimits
	err := s.Change(ctx, func(q Queries) error {
		if _, err := getProject(ctx, q, id); err != nil {
			return err
		}
		l, err := limitsOf(ctx, q, id)
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

// outstandingUsage says why a project still has usage this month ("" when it
// has none).
func (s *Service) outstandingUsage(ctx context.Context, q Queries, projectID string) (string, error) {
	u, err := q.GetProjectUsage(ctx, projectID, UsageMonth(s.Now()))
	if ErrorKind(err) == KindNotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if u.StoredBytes > 0 || u.EgressBytes > 0 {
		return "usage for current month exists", nil
	}
	return "", nil
}

// DeleteSatelliteProject deletes a satellite project (admins only):
// KindConflict while it has instances, volumes or usage this month, and for
// projects of another type (their own face deletes them).
func (s *Service) DeleteSatelliteProject(ctx context.Context, id string) error {
	if err := s.Check(ctx, ActionProjectDelete, On(ResourceProject, id)); err != nil {
		return err
	}
	return s.Change(ctx, func(q Queries) error {
		if _, err := getProject(ctx, q, id); err != nil {
			return err
		}
		typ, err := q.ProjectType(ctx, id)
		if err != nil {
			return err
		}
		if typ != ProjectTypeSatellite {
			return Errorf(KindConflict, "project is a %s project: delete it through its own API", typ)
		}
		insts, _, err := q.ListMachines(ctx, MachineFilter{ProjectID: projectCond(id)})
		if err != nil {
			return err
		}
		if len(insts) > 0 {
			return Errorf(KindConflict, "project has %d instances", len(insts))
		}
		vols, _, err := q.ListVolumeAssignments(ctx, VolumeAssignmentFilter{ProjectID: &Cond{Op: OpEq, Values: []string{id}}})
		if err != nil {
			return err
		}
		if len(vols) > 0 {
			return Errorf(KindConflict, "project has %d volumes", len(vols))
		}
		reason, err := s.outstandingUsage(ctx, q, id)
		if err != nil {
			return err
		}
		if reason != "" {
			return Errorf(KindConflict, "%s", reason)
		}
		if err := q.RemoveProject(ctx, id); err != nil {
			return err
		}
		return s.Audit(ctx, q, "satellite.project.delete", "project", id, nil)
	})
}

// ProjectUsageCheck returns "" when the project has no usage this month, or
// KindConflict with the reason (admins only).
func (s *Service) ProjectUsageCheck(ctx context.Context, id string) error {
	if err := s.Check(ctx, ActionProjectView, On(ResourceProject, id)); err != nil {
		return err
	}
	if _, err := getProject(ctx, s.store, id); err != nil {
		return err
	}
	reason, err := s.outstandingUsage(ctx, s.store, id)
	if err != nil {
		return err
	}
	if reason != "" {
		return Errorf(KindConflict, "%s", reason)
	}
	return nil
}

// ProjectUsageHistory lists a project's monthly usage (admins only).
func (s *Service) ProjectUsageHistory(ctx context.Context, id string) ([]*ProjectUsage, error) {
	if err := s.Check(ctx, ActionProjectView, On(ResourceProject, id)); err != nil {
		return nil, err
	}
	if _, err := getProject(ctx, s.store, id); err != nil {
		return nil, err
	}
	return s.store.ListProjectUsage(ctx, id, "")
}
