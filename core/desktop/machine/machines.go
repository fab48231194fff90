package machine

import (
	"context"
	"fmt"
	"hostdeck/core"
	"hostdeck/core/desktop"
	"slices"
	"time"
)

// This file holds pool machines: instances of a pool, and their assignment
// to users and groups. A machine is a core.Instance whose ProjectID names a
// project; assignments are many-to-many, and every assignment and its removal is
// kept as an AssignmentEvent.

// Assignment subjects and history actions.
const (
	SubjectUser    = "user"
	SubjectGroup   = "group"
	ActionAssign   = "assign"
	ActionUnassign = "unassign"
)

// Reasons of machine errors, stable for faces to map to their own codes.
const (
	ReasonMachineOccupied = "machine_occupied" // mode 1: the machine has its user already
)

// MachineAssignment ties a machine to a user or a group.
type MachineAssignment struct {
	MachineID   string    `json:"machine_id"`
	SubjectType string    `json:"subject_type"` // SubjectUser or SubjectGroup
	SubjectID   string    `json:"subject_id"`
	AssignedAt  time.Time `json:"assigned_at"`
}

// AssignmentEvent is one line of the assignment history: who assigned or
// unassigned whom, and when. It outlives the machine and the subject.
type AssignmentEvent struct {
	ID          string    `json:"id"`
	MachineID   string    `json:"machine_id"`
	SubjectType string    `json:"subject_type"`
	SubjectID   string    `json:"subject_id"`
	Action      string    `json:"action"` // ActionAssign or ActionUnassign
	Actor       string    `json:"actor"`
	At          time.Time `json:"at"`
}

// AssignmentFilter selects current assignments; nil fields do not filter.
type AssignmentFilter struct {
	MachineIDs  []string // when not nil, only these machines
	SubjectType *string
	SubjectID   *string
}

// MachineStore keeps machines' assignments and their history.
type MachineStore interface {
	AssignmentReader // ListMachineAssignments
	AssignmentWriter // AddMachineAssignment, AddAssignmentEvent
	// RemoveMachineAssignment is KindNotFound when the assignment does not exist.
	RemoveMachineAssignment(ctx context.Context, machineID, subjectType, subjectID string) error
	// ListAssignmentEvents lists a machine's history, oldest first.
	ListAssignmentEvents(ctx context.Context, machineID string) ([]*AssignmentEvent, error)
}

// AssignmentReader reads machines' current assignments.
type AssignmentReader interface {
	// ListMachineAssignments lists assignments ordered by assignment time.
	ListMachineAssignments(ctx context.Context, f AssignmentFilter) ([]*MachineAssignment, error)
}

// AssignmentWriter records an assignment and its history line.
type AssignmentWriter interface {
	// AddMachineAssignment is KindConflict when the assignment exists.
	AddMachineAssignment(ctx context.Context, a *MachineAssignment) error
	AddAssignmentEvent(ctx context.Context, e *AssignmentEvent) error
}

// AssignQueries are what assigning a user to a live machine reads and writes in
// a transaction of the caller's (AssignUser).
type AssignQueries interface {
	Locker // LockMachine, GetPool
	AssignmentReader
	AssignmentWriter
	core.Recorder // AddAudit, CreateTask
}

// Machine is a pool machine with the ids of its users and groups.
type Machine struct {
	*core.Instance
	Users  []string `json:"users"`
	Groups []string `json:"groups"`
}

// Assigned reports whether a user or a group is assigned to the machine.
func (m *Machine) Assigned() bool { return len(m.Users)+len(m.Groups) > 0 }

// MachineQuery is what a face filters machines by; ProjectID and Assigned take
// modifiers (ParseModifier).
type MachineQuery struct {
	ProjectID *core.Cond
	Assigned  *core.Cond
	UserID    *string
	GroupID   *string
	core.Page
}

func machineNotFound(id string) error { return core.NotFound("server", id) }

// CheckSubjects resolves user and group ids inside q; unknown ones are NotFound
// with the identity reasons.
func CheckSubjects(ctx context.Context, q SubjectReader, users, groups []string) error {
	for _, id := range users {
		if !core.ValidID(id) {
			return core.UserNotFound(id)
		}
		if _, err := q.GetUser(ctx, id); err != nil {
			if core.ErrorKind(err) == core.KindNotFound {
				return core.UserNotFound(id)
			}
			return err
		}
	}
	for _, id := range groups {
		if !core.ValidID(id) {
			return core.GroupNotFound(id)
		}
		if _, err := q.GetGroup(ctx, id); err != nil {
			if core.ErrorKind(err) == core.KindNotFound {
				return core.GroupNotFound(id)
			}
			return err
		}
	}
	return nil
}

// Assign records one assignment and its history line in the caller's
// transaction: a new machine takes its users and groups in the transaction that
// creates it, a free machine its user in the one that locked it.
func (s *Service) Assign(ctx context.Context, q AssignmentWriter, machineID, subjectType, subjectID string) error {
	now := s.Now().UTC()
	if err := q.AddMachineAssignment(ctx, &MachineAssignment{MachineID: machineID, SubjectType: subjectType, SubjectID: subjectID, AssignedAt: now}); err != nil {
		return err
	}
	return q.AddAssignmentEvent(ctx, &AssignmentEvent{MachineID: machineID, SubjectType: subjectType, SubjectID: subjectID,
		Action: ActionAssign, Actor: core.ActorFrom(ctx).Name, At: now})
}

// unassign removes one assignment and records its history line.
func (s *Service) unassign(ctx context.Context, q Queries, machineID, subjectType, subjectID string) error {
	if err := q.RemoveMachineAssignment(ctx, machineID, subjectType, subjectID); err != nil {
		if core.ErrorKind(err) == core.KindNotFound {
			return core.Errorf(core.KindNotFound, "%s %s is not assigned to server %s", subjectType, subjectID, machineID)
		}
		return err
	}
	return q.AddAssignmentEvent(ctx, &AssignmentEvent{MachineID: machineID, SubjectType: subjectType, SubjectID: subjectID,
		Action: ActionUnassign, Actor: core.ActorFrom(ctx).Name, At: s.Now().UTC()})
}

// lockMachine loads and locks a live pool machine with its project.
func lockMachine(ctx context.Context, q Locker, id string) (*core.Instance, *desktop.Pool, error) {
	if !core.ValidID(id) {
		return nil, nil, machineNotFound(id)
	}
	inst, err := q.LockMachine(ctx, id)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, nil, machineNotFound(id)
	} else if err != nil {
		return nil, nil, err
	}
	if inst.ProjectID == "" || inst.State == core.StateDeleted {
		return nil, nil, machineNotFound(id)
	}
	p, err := q.GetPool(ctx, inst.ProjectID)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, nil, machineNotFound(id)
	}
	return inst, p, err
}

// SubjectsOf lists the ids of a machine's users or groups.
func SubjectsOf(ctx context.Context, q AssignmentReader, machineID, subjectType string) ([]string, error) {
	as, err := q.ListMachineAssignments(ctx, AssignmentFilter{MachineIDs: []string{machineID}, SubjectType: &subjectType})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.SubjectID
	}
	return out, nil
}

// assignAll assigns subjects to the locked machine: those already assigned are no
// Change; in mode 1 a machine takes at most one user.
func (s *Service) assignAll(ctx context.Context, q AssignQueries, inst *core.Instance, p *desktop.Pool, subjectType string, ids []string) error {
	have, err := SubjectsOf(ctx, q, inst.ID, subjectType)
	if err != nil {
		return err
	}
	var added []string
	for _, id := range ids {
		if slices.Contains(have, id) {
			continue
		}
		if subjectType == SubjectUser && p.OperationMode == desktop.ModeStandard && len(have) > 0 {
			return core.Reasoned(core.KindConflict, ReasonMachineOccupied,
				fmt.Sprintf("server %s already has a user and project %s allows one per machine", inst.ID, p.Name),
				"instance_id", inst.ID, "project_name", p.Name)
		}
		if err := s.Assign(ctx, q, inst.ID, subjectType, id); err != nil {
			return err
		}
		have = append(have, id)
		added = append(added, id)
	}
	if len(added) == 0 {
		return nil
	}
	return s.Audit(ctx, q, "machine.assign_"+subjectType, "instance", inst.ID, map[string]any{subjectType + "s": added})
}

// AssignUser locks a live machine and assigns a user to it in the caller's
// transaction, as AssignMachineUsers does but without its checks: the hand-out
// shares a machine of a mode 2 pool this way. It returns the machine as locked.
func (s *Service) AssignUser(ctx context.Context, q AssignQueries, machineID, userID string) (*core.Instance, error) {
	inst, p, err := lockMachine(ctx, q, machineID)
	if err != nil {
		return nil, err
	}
	return inst, s.assignAll(ctx, q, inst, p, SubjectUser, []string{userID})
}

func (s *Service) checkSubjectIDs(ctx context.Context, q SubjectReader, subjectType string, ids []string) error {
	if subjectType == SubjectUser {
		return CheckSubjects(ctx, q, ids, nil)
	}
	return CheckSubjects(ctx, q, nil, ids)
}

// AssignMachineUsers assigns users to a machine (assigning twice is no change).
// In mode 1 a second user is KindConflict with Reason machine_occupied.
func (s *Service) AssignMachineUsers(ctx context.Context, machineID string, userIDs []string) error {
	if err := s.Check(ctx, core.ActionMachineAssign, core.On(core.ResourceMachine, machineID)); err != nil {
		return err
	}
	return s.assignToMachine(ctx, machineID, SubjectUser, userIDs)
}

// AssignMachineGroups assigns groups to a machine (assigning twice is no change).
func (s *Service) AssignMachineGroups(ctx context.Context, machineID string, groupIDs []string) error {
	if err := s.Check(ctx, core.ActionMachineAssign, core.On(core.ResourceMachine, machineID)); err != nil {
		return err
	}
	return s.assignToMachine(ctx, machineID, SubjectGroup, groupIDs)
}

func (s *Service) assignToMachine(ctx context.Context, machineID, subjectType string, ids []string) error {
	ids = core.Dedupe(ids)
	return core.InTx(ctx, s.store, func(q Queries) error {
		inst, p, err := lockMachine(ctx, q, machineID)
		if err != nil {
			return err
		}
		if err := s.checkSubjectIDs(ctx, q, subjectType, ids); err != nil {
			return err
		}
		return s.assignAll(ctx, q, inst, p, subjectType, ids)
	})
}

// AssignUserMachines assigns one user to several machines, all or none.
func (s *Service) AssignUserMachines(ctx context.Context, userID string, machineIDs []string) error {
	if err := s.Check(ctx, core.ActionMachineAssign, core.Resource{Type: core.ResourceMachine}); err != nil {
		return err
	}
	return s.assignToMachines(ctx, SubjectUser, userID, machineIDs)
}

// AssignGroupMachines assigns one group to several machines, all or none.
func (s *Service) AssignGroupMachines(ctx context.Context, groupID string, machineIDs []string) error {
	if err := s.Check(ctx, core.ActionMachineAssign, core.Resource{Type: core.ResourceMachine}); err != nil {
		return err
	}
	return s.assignToMachines(ctx, SubjectGroup, groupID, machineIDs)
}

func (s *Service) assignToMachines(ctx context.Context, subjectType, subjectID string, machineIDs []string) error {
	machineIDs = core.Dedupe(machineIDs)
	return core.InTx(ctx, s.store, func(q Queries) error {
		if err := s.checkSubjectIDs(ctx, q, subjectType, []string{subjectID}); err != nil {
			return err
		}
		for _, id := range machineIDs {
			inst, p, err := lockMachine(ctx, q, id)
			if err != nil {
				return err
			}
			if err := s.assignAll(ctx, q, inst, p, subjectType, []string{subjectID}); err != nil {
				return err
			}
		}
		return nil
	})
}

// UnassignMachineUser removes a user from a machine; KindNotFound when the user
// is not assigned.
func (s *Service) UnassignMachineUser(ctx context.Context, machineID, userID string) error {
	if err := s.Check(ctx, core.ActionMachineAssign, core.On(core.ResourceMachine, machineID)); err != nil {
		return err
	}
	return s.unassignFromMachine(ctx, machineID, SubjectUser, userID)
}

// LeaveMachine removes the actor in ctx from a machine it is assigned to (the
// broker's server-remove-user); KindNotFound when it is not assigned.
func (s *Service) LeaveMachine(ctx context.Context, machineID string) error {
	uid := core.ActorFrom(ctx).UserID
	if err := s.Check(ctx, core.ActionMachineLeave, core.Resource{Type: core.ResourceMachine, ID: machineID, Owner: uid}); err != nil {
		return err
	}
	return s.unassignFromMachine(ctx, machineID, SubjectUser, uid)
}

// UnassignMachineGroup removes a group from a machine; KindNotFound when the
// group is not assigned.
func (s *Service) UnassignMachineGroup(ctx context.Context, machineID, groupID string) error {
	if err := s.Check(ctx, core.ActionMachineAssign, core.On(core.ResourceMachine, machineID)); err != nil {
		return err
	}
	return s.unassignFromMachine(ctx, machineID, SubjectGroup, groupID)
}

func (s *Service) unassignFromMachine(ctx context.Context, machineID, subjectType, subjectID string) error {
	return core.InTx(ctx, s.store, func(q Queries) error {
		if _, _, err := lockMachine(ctx, q, machineID); err != nil {
			return err
		}
		if err := s.unassign(ctx, q, machineID, subjectType, subjectID); err != nil {
			return err
		}
		return s.Audit(ctx, q, "machine.unassign_"+subjectType, "instance", machineID, map[string]string{subjectType + "_id": subjectID})
	})
}

// UpdateMachine replaces a machine's users and groups with the lists given (nil:
// unchanged): subjects not listed are unassigned, new ones assigned, each with
// its history line. Mode 1 allows at most one user.
func (s *Service) UpdateMachine(ctx context.Context, id string, users, groups *[]string) (*Machine, error) {
	if err := s.Check(ctx, core.ActionMachineAssign, core.On(core.ResourceMachine, id)); err != nil {
		return nil, err
	}
	err := core.InTx(ctx, s.store, func(q Queries) error {
		inst, p, err := lockMachine(ctx, q, id)
		if err != nil {
			return err
		}
		for _, set := range []struct {
			typ string
			ids *[]string
		}{{SubjectUser, users}, {SubjectGroup, groups}} {
			if set.ids == nil {
				continue
			}
			want := core.Dedupe(*set.ids)
			if err := s.checkSubjectIDs(ctx, q, set.typ, want); err != nil {
				return err
			}
			if set.typ == SubjectUser && p.OperationMode == desktop.ModeStandard && len(want) > 1 {
				return core.Reasoned(core.KindConflict, ReasonMachineOccupied,
					fmt.Sprintf("project %s allows one user per machine", p.Name), "instance_id", inst.ID, "project_name", p.Name)
			}
			have, err := SubjectsOf(ctx, q, id, set.typ)
			if err != nil {
				return err
			}
			for _, h := range have {
				if !slices.Contains(want, h) {
					if err := s.unassign(ctx, q, id, set.typ, h); err != nil {
						return err
					}
				}
			}
			for _, w := range want {
				if !slices.Contains(have, w) {
					if err := s.Assign(ctx, q, id, set.typ, w); err != nil {
						return err
					}
				}
			}
		}
		return s.Audit(ctx, q, "machine.update", "instance", id, map[string]any{"users": users, "groups": groups})
	})
	if err != nil {
		return nil, err
	}
	return Load(ctx, s.store, id)
}

// withAssignments adds users and groups to instances.
func withAssignments(ctx context.Context, q AssignmentReader, insts []*core.Instance) ([]*Machine, error) {
	out := make([]*Machine, len(insts))
	byID := make(map[string]*Machine, len(insts))
	ids := make([]string, len(insts))
	for i, in := range insts {
		out[i] = &Machine{Instance: in, Users: []string{}, Groups: []string{}}
		byID[in.ID] = out[i]
		ids[i] = in.ID
	}
	if len(ids) == 0 {
		return out, nil
	}
	as, err := q.ListMachineAssignments(ctx, AssignmentFilter{MachineIDs: ids})
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		m := byID[a.MachineID]
		if m == nil {
			continue
		}
		if a.SubjectType == SubjectUser {
			m.Users = append(m.Users, a.SubjectID)
		} else {
			m.Groups = append(m.Groups, a.SubjectID)
		}
	}
	return out, nil
}

// GetMachine returns a pool machine with its users and groups.
func (s *Service) GetMachine(ctx context.Context, id string) (*Machine, error) {
	if err := s.Check(ctx, core.ActionMachineView, core.On(core.ResourceMachine, id)); err != nil {
		return nil, err
	}
	return Load(ctx, s.store, id)
}

// Loader is what reading a machine with its users and groups reads.
type Loader interface {
	GetInstance(ctx context.Context, id string) (*core.Instance, error)
	AssignmentReader // ListMachineAssignments
}

// Load reads a machine with its users and groups from q, with no permission
// check: GetMachine's, and the hand-out's to follow the machine a request got,
// which the request's own check allowed.
func Load(ctx context.Context, q Loader, id string) (*Machine, error) {
	if !core.ValidID(id) {
		return nil, machineNotFound(id)
	}
	inst, err := q.GetInstance(ctx, id)
	if core.ErrorKind(err) == core.KindNotFound || err == nil && (inst.ProjectID == "" || inst.State == core.StateDeleted) {
		return nil, machineNotFound(id)
	} else if err != nil {
		return nil, err
	}
	ms, err := withAssignments(ctx, q, []*core.Instance{inst})
	if err != nil {
		return nil, err
	}
	return ms[0], nil
}

// MachineList is a page of machines with their users and groups, its total
// and the stamp of the data (core.List).
type MachineList = core.List[*Machine]

// ListMachines lists pool machines with their users and groups. With
// mq.Page.Since the stamp of an answer the caller keeps, an unchanged list is
// MachineList.Unchanged; the stamp follows the machines' pools too.
func (s *Service) ListMachines(ctx context.Context, mq MachineQuery) (MachineList, error) {
	if err := s.Check(ctx, core.ActionMachineView, core.Resource{Type: core.ResourceMachine}); err != nil {
		return MachineList{}, err
	}
	if err := mq.check(); err != nil {
		return MachineList{}, err
	}
	f := core.MachineFilter{ProjectID: mq.ProjectID, UserID: mq.UserID, GroupID: mq.GroupID, Page: mq.Page}
	if mq.Assigned != nil {
		want, ok, err := core.BoolCond("assigned", *mq.Assigned)
		if err != nil {
			return MachineList{}, err
		}
		if !ok {
			return MachineList{Items: []*Machine{}}, nil
		}
		f.Assigned = want
	}
	return s.store.ListPoolMachines(ctx, f)
}

// ListMachineUsers lists the ids of a machine's users.
func (s *Service) ListMachineUsers(ctx context.Context, machineID string) ([]string, error) {
	m, err := s.GetMachine(ctx, machineID)
	if err != nil {
		return nil, err
	}
	return m.Users, nil
}

// ListMachineGroups lists the ids of a machine's groups.
func (s *Service) ListMachineGroups(ctx context.Context, machineID string) ([]string, error) {
	m, err := s.GetMachine(ctx, machineID)
	if err != nil {
		return nil, err
	}
	return m.Groups, nil
}

// ListUserMachines lists the machines a user is assigned to (directly).
func (s *Service) ListUserMachines(ctx context.Context, userID string) ([]*Machine, error) {
	if err := s.Check(ctx, core.ActionMachineView, core.Resource{Type: core.ResourceMachine}); err != nil {
		return nil, err
	}
	if err := CheckSubjects(ctx, s.store, []string{userID}, nil); err != nil {
		return nil, err
	}
	ms, err := s.ListMachines(ctx, MachineQuery{UserID: &userID})
	return ms.Items, err
}

// ListGroupMachines lists the machines a group is assigned to.
func (s *Service) ListGroupMachines(ctx context.Context, groupID string) ([]*Machine, error) {
	if err := s.Check(ctx, core.ActionMachineView, core.Resource{Type: core.ResourceMachine}); err != nil {
		return nil, err
	}
	if err := CheckSubjects(ctx, s.store, nil, []string{groupID}); err != nil {
		return nil, err
	}
	ms, err := s.ListMachines(ctx, MachineQuery{GroupID: &groupID})
	return ms.Items, err
}

// MachineHistory lists a machine's assignment history, oldest first.
func (s *Service) MachineHistory(ctx context.Context, machineID string) ([]*AssignmentEvent, error) {
	if err := s.Check(ctx, core.ActionMachineView, core.On(core.ResourceMachine, machineID)); err != nil {
		return nil, err
	}
	if !core.ValidID(machineID) {
		return nil, machineNotFound(machineID)
	}
	return s.store.ListAssignmentEvents(ctx, machineID)
}

func (q MachineQuery) check() error {
	return core.CheckFilter(core.FilterCond("project_id", q.ProjectID), core.FilterCond("assigned", q.Assigned), core.FilterValue("user", q.UserID), core.FilterValue("group", q.GroupID))
}
