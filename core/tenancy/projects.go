package tenancy

import (
	"context"
	"fmt"
	"strings"

	"hostdeck/core"
	"hostdeck/core/quota"
)

// This file holds the projects customers own (spec 003): a customer's project
// is a core Project of type ProjectTypeCustomer owned by the customer, with
// limits set when it is created. The limits themselves, their enforcement and
// the usage measured against them are core/quota's: they apply to any project.

// ProjectTypeCustomer is the project type of a customer's project (stored as
// "satellite", the name of the face that creates them, in existing databases).
const ProjectTypeCustomer = "satellite"

// Default limits of a customer's project. Projects created elsewhere have no
// limits until some are set.
const (
	DefaultUsageLimit     = 50_000_000_000 // 50 GB stored
	DefaultBandwidthLimit = 50_000_000_000 // 50 GB egress a month
	DefaultBucketsLimit   = 100
)

// CreateProject creates a project owned by a user (admins only), with
// the default limits, and grants the owner the member role on it (so the owner
// can get tokens scoped to it). Past the owner's project limit is KindConflict.
func (s *Service) CreateProject(ctx context.Context, ownerID, name string) (*core.Project, error) {
	if err := s.Check(ctx, core.ActionProjectCreate, core.Resource{Type: core.ResourceProject}); err != nil {
		return nil, err
	}
	switch {
	case ownerID == "":
		return nil, core.Invalid("owner_id", "owner_id is not set")
	case strings.TrimSpace(name) == "":
		return nil, core.Invalid("name", "name is not set")
	case !core.ValidID(ownerID):
		return nil, core.Invalid("owner_id", "owner_id is not a valid UUID")
	}
	if err := core.CheckName("name", name, core.MaxNameLen); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	p := &core.Project{ID: core.NewID(), Name: name, OwnerID: ownerID, CreatedAt: now, UpdatedAt: now}
	err := s.change(ctx, func(q Queries) error {
		u, err := core.RealmUser(ctx, q, core.RealmStorage, ownerID)
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
			return core.Reasoned(core.KindConflict, quota.ReasonQuotaExceeded,
				fmt.Sprintf("user %s reached the project limit (%d)", u.Name, prof.ProjectLimit), "user_name", u.Name)
		}
		if err := q.CreateCustomerProject(ctx, p); err != nil {
			return err
		}
		if err := q.PutProjectLimits(ctx, &quota.ProjectLimits{ProjectID: p.ID, Usage: DefaultUsageLimit,
			Bandwidth: DefaultBandwidthLimit, Buckets: DefaultBucketsLimit, UpdatedAt: now}); err != nil {
			return err
		}
		if err := q.GrantRole(ctx, &core.RoleGrant{ProjectID: p.ID, UserID: u.ID, Role: core.RoleMember, CreatedAt: now}); err != nil {
			return err
		}
		return s.Audit(ctx, q, "satellite.project.create", "project", p.ID, map[string]string{"name": name, "owner_id": ownerID})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Project returns a project (admins only).
func (s *Service) Project(ctx context.Context, id string) (*core.Project, error) {
	if err := s.Check(ctx, core.ActionProjectView, core.On(core.ResourceProject, id)); err != nil {
		return nil, err
	}
	return core.LookupProject(ctx, s.store, id)
}

// UpdateProject changes a project's name or description (admins only).
func (s *Service) UpdateProject(ctx context.Context, id string, name, description *string) (*core.Project, error) {
	if err := s.Check(ctx, core.ActionProjectEdit, core.On(core.ResourceProject, id)); err != nil {
		return nil, err
	}
	if name != nil && strings.TrimSpace(*name) == "" {
		return nil, core.Invalid("name", "name is not set")
	}
	if err := core.CheckOptional(name, func(v string) error { return core.CheckName("name", v, core.MaxNameLen) }); err != nil {
		return nil, err
	}
	if err := core.CheckOptional(description, func(v string) error { return core.CheckText("description", v, core.MaxTextLen) }); err != nil {
		return nil, err
	}
	if name == nil && description == nil {
		return nil, core.Invalid("name", "name or description must be set")
	}
	var out *core.Project
	err := s.change(ctx, func(q Queries) error {
		if _, err := core.LookupProject(ctx, q, id); err != nil {
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

// outstandingUsage says why a project still has usage this month ("" when it
// has none).
func (s *Service) outstandingUsage(ctx context.Context, q Queries, projectID string) (string, error) {
	u, err := q.GetProjectUsage(ctx, projectID, quota.UsageMonth(s.Now()))
	if core.ErrorKind(err) == core.KindNotFound {
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

// DeleteProject deletes a customer's project (admins only):
// KindConflict while it has instances, volumes or usage this month, and for
// projects of another type (their own face deletes them).
func (s *Service) DeleteProject(ctx context.Context, id string) error {
	if err := s.Check(ctx, core.ActionProjectDelete, core.On(core.ResourceProject, id)); err != nil {
		return err
	}
	defer s.logins.CredentialsChanged() // its role grants go: the cached tokens scoped to it end
	return s.change(ctx, func(q Queries) error {
		if _, err := core.LookupProject(ctx, q, id); err != nil {
			return err
		}
		typ, err := q.ProjectType(ctx, id)
		if err != nil {
			return err
		}
		if typ != ProjectTypeCustomer {
			return core.Errorf(core.KindConflict, "project is a %s project: delete it through its own API", typ)
		}
		insts, _, err := q.ListMachines(ctx, core.MachineFilter{ProjectID: &core.Cond{Op: core.OpEq, Values: []string{id}}})
		if err != nil {
			return err
		}
		if len(insts) > 0 {
			return core.Errorf(core.KindConflict, "project has %d instances", len(insts))
		}
		vols, _, err := q.ListVolumeAssignments(ctx, core.VolumeAssignmentFilter{ProjectID: &core.Cond{Op: core.OpEq, Values: []string{id}}})
		if err != nil {
			return err
		}
		if len(vols) > 0 {
			return core.Errorf(core.KindConflict, "project has %d volumes", len(vols))
		}
		reason, err := s.outstandingUsage(ctx, q, id)
		if err != nil {
			return err
		}
		if reason != "" {
			return core.Errorf(core.KindConflict, "%s", reason)
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
	if err := s.Check(ctx, core.ActionProjectView, core.On(core.ResourceProject, id)); err != nil {
		return err
	}
	if _, err := core.LookupProject(ctx, s.store, id); err != nil {
		return err
	}
	reason, err := s.outstandingUsage(ctx, s.store, id)
	if err != nil {
		return err
	}
	if reason != "" {
		return core.Errorf(core.KindConflict, "%s", reason)
	}
	return nil
}
