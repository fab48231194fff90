package core

import (
	"context"
	"time"
)

// This file holds what a project contains that root core reads across
// capabilities: its machines (the instances that belong to it) and the user
// volumes assigned in it. Project limits count them; the remote-desktop pools'
// packages keep them (machines: core/desktop/machine and core/desktop/provision; volume
// assignments: core/desktop/session).

// MachineFilter selects machines (instances of a pool that are not deleted).
type MachineFilter struct {
	IDs       []string // when not nil, only these machines
	ProjectID *Cond
	State     *Cond
	Assigned  *bool // has at least one user or group
	UserID    *string
	GroupID   *string
	Page
}

// VolumeAssignment gives a user a volume in a pool. hostdeck keeps no volume
// records of its own: the assignment is the record, and VolumeID is the caller's
// name for the volume. Nothing is attached at the runtime yet.
type VolumeAssignment struct {
	ID        int64     `json:"id"`
	UserID    string    `json:"user_id"`
	ProjectID string    `json:"project_id"`
	VolumeID  string    `json:"volume_id"`
	CreatedAt time.Time `json:"created_at"`
}

// VolumeAssignmentFilter selects volume assignments; nil fields do not filter.
// Each takes the document's modifiers (eq, neq, in, nin).
type VolumeAssignmentFilter struct {
	UserID    *Cond
	ProjectID *Cond
	VolumeID  *Cond
	Page
}

func (f VolumeAssignmentFilter) Check() error {
	return CheckFilter(FilterCond("user_id", f.UserID), FilterCond("project_id", f.ProjectID), FilterCond("volume_id", f.VolumeID))
}

// ProjectCond selects one project.
func ProjectCond(id string) *Cond { return &Cond{Op: OpEq, Values: []string{id}} }

// ProjectContentStore reads what a project contains.
type ProjectContentStore interface {
	// ListMachines lists instances that belong to a project and are not deleted.
	ListMachines(ctx context.Context, f MachineFilter) ([]*Instance, int, error)
	ListVolumeAssignments(ctx context.Context, f VolumeAssignmentFilter) ([]*VolumeAssignment, int, error)
}
