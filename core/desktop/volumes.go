package desktop

import (
	"context"
	"strconv"
	"strings"

	"hostdeck/core"
	"hostdeck/core/quota"
)

// This file holds the volumes assigned to users in a pool: what a project
// contains besides its machines, counted against its buckets limit.

// CreateVolumeAssignment assigns a volume to a user in a pool. The user and
// the project must exist; the volume is the caller's id, kept as given.
func (s *Service) CreateVolumeAssignment(ctx context.Context, a core.VolumeAssignment) (*core.VolumeAssignment, error) {
	if err := s.Check(ctx, core.ActionVolumeAssignmentManage, core.Resource{Type: core.ResourceVolumeAssignment}); err != nil {
		return nil, err
	}
	a.VolumeID = strings.TrimSpace(a.VolumeID)
	switch {
	case a.UserID == "":
		return nil, core.Invalid("user_id", "user_id is required")
	case a.ProjectID == "":
		return nil, core.Invalid("project_id", "project_id is required")
	case a.VolumeID == "":
		return nil, core.Invalid("volume_id", "volume_id is required")
	case !core.ValidID(a.UserID):
		return nil, core.Invalid("user_id", "unknown user %q", a.UserID)
	case !core.ValidID(a.ProjectID):
		return nil, core.Invalid("project_id", "unknown project %q", a.ProjectID)
	}
	if err := core.CheckName("volume_id", a.VolumeID, core.MaxNameLen); err != nil {
		return nil, err
	}
	out := &core.VolumeAssignment{UserID: a.UserID, ProjectID: a.ProjectID, VolumeID: a.VolumeID, CreatedAt: s.Now().UTC()}
	err := core.InTx(ctx, s.store, func(q Queries) error {
		if _, err := q.GetUser(ctx, a.UserID); core.ErrorKind(err) == core.KindNotFound {
			return core.Invalid("user_id", "unknown user %q", a.UserID)
		} else if err != nil {
			return err
		}
		if _, err := q.GetPool(ctx, a.ProjectID); core.ErrorKind(err) == core.KindNotFound {
			return core.Invalid("project_id", "unknown TRS project %q", a.ProjectID)
		} else if err != nil {
			return err
		}
		if err := quota.CheckLimits(ctx, q, s.Now(), a.ProjectID, 0, 1); err != nil {
			return err
		}
		if err := q.CreateVolumeAssignment(ctx, out); err != nil {
			if core.ErrorKind(err) == core.KindConflict {
				return &core.Error{Kind: core.KindConflict, Field: "volume_id", Message: "volume " + a.VolumeID + " is already assigned in this project", Err: err}
			}
			return err
		}
		return s.Audit(ctx, q, "volume_assignment.create", "volume_assignment", assignmentID(out), out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// assignmentID is a volume assignment's id as the audit trail names it.
func assignmentID(a *core.VolumeAssignment) string { return strconv.FormatInt(a.ID, 10) }

// GetVolumeAssignment returns one assignment.
func (s *Service) GetVolumeAssignment(ctx context.Context, id int64) (*core.VolumeAssignment, error) {
	if err := s.Check(ctx, core.ActionVolumeAssignmentView, core.On(core.ResourceVolumeAssignment, strconv.FormatInt(id, 10))); err != nil {
		return nil, err
	}
	return s.store.GetVolumeAssignment(ctx, id)
}

// ListVolumeAssignments lists assignments, oldest first.
func (s *Service) ListVolumeAssignments(ctx context.Context, f core.VolumeAssignmentFilter) ([]*core.VolumeAssignment, int, error) {
	if err := s.Check(ctx, core.ActionVolumeAssignmentView, core.Resource{Type: core.ResourceVolumeAssignment}); err != nil {
		return nil, 0, err
	}
	if err := f.Check(); err != nil {
		return nil, 0, err
	}
	for field, c := range map[string]*core.Cond{"user_id": f.UserID, "project_id": f.ProjectID, "volume_id": f.VolumeID} {
		if err := core.CheckEqualityCond(field, c); err != nil {
			return nil, 0, err
		}
	}
	return s.store.ListVolumeAssignments(ctx, f)
}

// DeleteVolumeAssignment removes an assignment.
func (s *Service) DeleteVolumeAssignment(ctx context.Context, id int64) error {
	if err := s.Check(ctx, core.ActionVolumeAssignmentManage, core.On(core.ResourceVolumeAssignment, strconv.FormatInt(id, 10))); err != nil {
		return err
	}
	return core.InTx(ctx, s.store, func(q Queries) error {
		a, err := q.GetVolumeAssignment(ctx, id)
		if err != nil {
			return err
		}
		if err := q.DeleteVolumeAssignment(ctx, id); err != nil {
			return err
		}
		return s.Audit(ctx, q, "volume_assignment.delete", "volume_assignment", assignmentID(a), a)
	})
}
