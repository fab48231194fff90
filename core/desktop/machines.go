package desktop

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hostdeck/core"
	"hostdeck/core/instance"
	"hostdeck/core/quota"
	"slices"
	"strings"
	"time"
)

// This file holds pool machines: instances of a pool, and their assignment
// to users and groups. A machine is a core.Instance whose ProjectID names a
// project; assignments are many-to-many, and every assignment and its removal is
// kept as an AssignmentEvent.

// KindMachineCreate is the task that creates, starts and initialises one machine.
const KindMachineCreate = "machine.create"

// Assignment subjects and history actions.
const (
	SubjectUser     = "user"
	SubjectGroup    = "group"
	ActionAssign    = "assign"
	ActionUnassign  = "unassign"
	LabelProject    = "hostdeck.project"
	maxMachineBatch = 100
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
	// ListInstanceNames lists the names of every instance (deleted ones too) that
	// start with prefix.
	ListInstanceNames(ctx context.Context, prefix string) ([]string, error)
	// LockFreeMachine returns the oldest machine of the project in state with no
	// user or group, locked like LockMachine and free while the transaction
	// lasts; KindNotFound when there is none. On PostgreSQL it skips machines
	// other transactions hold locked, so concurrent hand-outs take different
	// machines.
	LockFreeMachine(ctx context.Context, projectID string, state core.InstanceState) (*core.Instance, error)
	// AddMachineAssignment is KindConflict when the assignment exists.
	AddMachineAssignment(ctx context.Context, a *MachineAssignment) error
	// RemoveMachineAssignment is KindNotFound when the assignment does not exist.
	RemoveMachineAssignment(ctx context.Context, machineID, subjectType, subjectID string) error
	// ListMachineAssignments lists assignments ordered by assignment time.
	ListMachineAssignments(ctx context.Context, f AssignmentFilter) ([]*MachineAssignment, error)
	AddAssignmentEvent(ctx context.Context, e *AssignmentEvent) error
	// ListAssignmentEvents lists a machine's history, oldest first.
	ListAssignmentEvents(ctx context.Context, machineID string) ([]*AssignmentEvent, error)
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

// CreatedMachines is the result of CreateMachines.
type CreatedMachines struct {
	ReservationID string
	Machines      []*Machine
	Tasks         []*core.Task
}

type machinePayload struct {
	InstanceID string `json:"instance_id"`
}

func machineNotFound(id string) error { return core.NotFound("server", id) }

// MachineNetwork names the private network a project's machines are attached to:
// "hostdeck-trs-<project id>", one per project, so that projects do not see each
// other; or "hostdeck-net-<network_id>" when an admin set the project's
// network_id, so that projects given the same network_id share one network. A
// network_id that is not made of letters, digits, '_', '.' and '-' (or is longer
// than 64) is named by the first 16 hex digits of its SHA-256 instead, so that
// the name is always one a runtime accepts. A machine keeps the network it was
// created on when the project's network_id changes later.
func MachineNetwork(p *Pool) string {
	if p.NetworkID == "" {
		return "hostdeck-trs-" + p.ID
	}
	if len(p.NetworkID) <= 64 && strings.Trim(p.NetworkID,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == "" {
		return "hostdeck-net-" + p.NetworkID
	}
	sum := sha256.Sum256([]byte(p.NetworkID))
	return "hostdeck-net-" + hex.EncodeToString(sum[:8])
}

// reservationID is a Nova-style reservation id: "r-" and 8 lowercase letters and digits.
func reservationID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "r-" + string(b)
}

// dedupe returns ids without repeats, in their first order.
func dedupe(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// checkSubjects resolves user and group ids inside q; unknown ones are NotFound
// with the identity reasons.
func checkSubjects(ctx context.Context, q Queries, users, groups []string) error {
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

// ReasonNoRoom: no active server has room for a new machine.
const ReasonNoRoom = "no_room"

// placeMachine picks the server of a new machine of project p from the load
// counted so far; a full fleet (or none) is KindConflict with reason no_room and
// the project's name, so that a face can say in which project it failed.
func placeMachine(ctx context.Context, q Queries, load map[string]int, p *Pool) (*core.Server, error) {
	srv, err := core.PlaceBy(ctx, q, nil, load, "machine")
	if core.ErrorKind(err) == core.KindConflict {
		return nil, core.Reasoned(core.KindConflict, ReasonNoRoom,
			fmt.Sprintf("no active server has room for a new machine in project %s", p.Name), "project_name", p.Name)
	}
	return srv, err
}

// CreateMachines creates count machines (1..maxMachineBatch) in a pool, assigns
// them the users and groups given and starts one KindMachineCreate task each.
// Over the project's quota is KindConflict with Reason quota_exceeded; a full
// fleet is KindConflict with reason no_room; unknown users or groups are
// KindNotFound.
func (s *Service) CreateMachines(ctx context.Context, projectID string, count int, userIDs, groupIDs []string) (*CreatedMachines, error) {
	if err := s.Check(ctx, core.ActionMachineCreate, core.Resource{Type: core.ResourceMachine, Project: projectID}); err != nil {
		return nil, err
	}
	return s.createMachines(ctx, projectID, count, userIDs, groupIDs)
}

// createMachines is CreateMachines for core's own work (a pool's refill, a
// broker request), which the actor's request has already allowed.
func (s *Service) createMachines(ctx context.Context, projectID string, count int, userIDs, groupIDs []string) (*CreatedMachines, error) {
	if count < 1 || count > maxMachineBatch {
		return nil, core.Invalid("count", "count must be between 1 and %d", maxMachineBatch)
	}
	if !core.ValidID(projectID) {
		return nil, core.Invalid("project_id", "unknown project %q", projectID)
	}
	userIDs, groupIDs = dedupe(userIDs), dedupe(groupIDs)
	out := &CreatedMachines{ReservationID: reservationID()}
	err := s.change(ctx, func(q Queries) error {
		if err := q.LockServers(ctx); err != nil {
			return err
		}
		p, err := q.GetPool(ctx, projectID)
		if core.ErrorKind(err) == core.KindNotFound {
			return core.Invalid("project_id", "unknown project %q", projectID)
		} else if err != nil {
			return err
		}
		if err := checkSubjects(ctx, q, userIDs, groupIDs); err != nil {
			return err
		}
		if p.OperationMode == ModeStandard && len(userIDs) > 1 {
			return core.Reasoned(core.KindConflict, ReasonMachineOccupied,
				fmt.Sprintf("project %s allows one user per machine", p.Name), "project_name", p.Name)
		}
		if err := checkQuota(ctx, q, p, count); err != nil {
			return err
		}
		if err := quota.CheckLimits(ctx, q, s.Now(), p.ID, count, count); err != nil {
			return err
		}
		im, err := q.GetImage(ctx, p.ImageID)
		if err != nil {
			return err
		}
		prefix, _, _ := strings.Cut(p.InstanceNamePattern, "*")
		names, err := q.ListInstanceNames(ctx, prefix)
		if err != nil {
			return err
		}
		taken := make(map[string]bool, len(names))
		for _, n := range names {
			taken[n] = true
		}
		load, err := core.CountLoad(ctx, q)
		if err != nil {
			return err
		}
		seq := 1
		for range count {
			srv, err := placeMachine(ctx, q, load, p)
			if err != nil {
				return err
			}
			load[srv.ID]++
			name := NextInstanceName(p.InstanceNamePattern, seq)
			for taken[name] {
				seq++
				name = NextInstanceName(p.InstanceNamePattern, seq)
			}
			taken[name] = true
			inst := &core.Instance{ID: core.NewID(), Name: name, ServerID: srv.ID, ProjectID: p.ID, ImageID: p.ImageID, State: core.StateBuilding}
			inst.Spec = core.InstanceSpec{Name: name, Image: im.Ref, Network: MachineNetwork(p),
				Labels: map[string]string{core.LabelInstance: inst.ID, LabelProject: p.ID}}
			if err := q.CreateInstance(ctx, inst); err != nil {
				return err
			}
			m := &Machine{Instance: inst, Users: []string{}, Groups: []string{}}
			for _, u := range userIDs {
				if err := s.assign(ctx, q, inst.ID, SubjectUser, u); err != nil {
					return err
				}
				m.Users = append(m.Users, u)
			}
			for _, g := range groupIDs {
				if err := s.assign(ctx, q, inst.ID, SubjectGroup, g); err != nil {
					return err
				}
				m.Groups = append(m.Groups, g)
			}
			t, err := s.Enqueue(ctx, q, KindMachineCreate, "instance", inst.ID, machinePayload{InstanceID: inst.ID})
			if err != nil {
				return err
			}
			if err := s.Audit(ctx, q, "machine.create", "instance", inst.ID, map[string]any{
				"name": name, "project_id": p.ID, "server_id": srv.ID, "task_id": t.ID,
				"reservation_id": out.ReservationID, "users": m.Users, "groups": m.Groups,
			}); err != nil {
				return err
			}
			out.Machines = append(out.Machines, m)
			out.Tasks = append(out.Tasks, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// assign records one assignment and its history line.
func (s *Service) assign(ctx context.Context, q Queries, machineID, subjectType, subjectID string) error {
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
func lockMachine(ctx context.Context, q Queries, id string) (*core.Instance, *Pool, error) {
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

// subjectsOf lists the ids of a machine's users or groups.
func subjectsOf(ctx context.Context, q Queries, machineID, subjectType string) ([]string, error) {
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
func (s *Service) assignAll(ctx context.Context, q Queries, inst *core.Instance, p *Pool, subjectType string, ids []string) error {
	have, err := subjectsOf(ctx, q, inst.ID, subjectType)
	if err != nil {
		return err
	}
	var added []string
	for _, id := range ids {
		if slices.Contains(have, id) {
			continue
		}
		if subjectType == SubjectUser && p.OperationMode == ModeStandard && len(have) > 0 {
			return core.Reasoned(core.KindConflict, ReasonMachineOccupied,
				fmt.Sprintf("server %s already has a user and project %s allows one per machine", inst.ID, p.Name),
				"instance_id", inst.ID, "project_name", p.Name)
		}
		if err := s.assign(ctx, q, inst.ID, subjectType, id); err != nil {
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

func (s *Service) checkSubjectIDs(ctx context.Context, q Queries, subjectType string, ids []string) error {
	if subjectType == SubjectUser {
		return checkSubjects(ctx, q, ids, nil)
	}
	return checkSubjects(ctx, q, nil, ids)
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
	ids = dedupe(ids)
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
	machineIDs = dedupe(machineIDs)
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
			want := dedupe(*set.ids)
			if err := s.checkSubjectIDs(ctx, q, set.typ, want); err != nil {
				return err
			}
			if set.typ == SubjectUser && p.OperationMode == ModeStandard && len(want) > 1 {
				return core.Reasoned(core.KindConflict, ReasonMachineOccupied,
					fmt.Sprintf("project %s allows one user per machine", p.Name), "instance_id", inst.ID, "project_name", p.Name)
			}
			have, err := subjectsOf(ctx, q, id, set.typ)
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
					if err := s.assign(ctx, q, id, set.typ, w); err != nil {
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
	return s.machine(ctx, id)
}

// withAssignments adds users and groups to instances.
func (s *Service) withAssignments(ctx context.Context, insts []*core.Instance) ([]*Machine, error) {
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
	as, err := s.store.ListMachineAssignments(ctx, AssignmentFilter{MachineIDs: ids})
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
	return s.machine(ctx, id)
}

// machine is GetMachine for core's own work.
func (s *Service) machine(ctx context.Context, id string) (*Machine, error) {
	if !core.ValidID(id) {
		return nil, machineNotFound(id)
	}
	inst, err := s.store.GetInstance(ctx, id)
	if core.ErrorKind(err) == core.KindNotFound || err == nil && (inst.ProjectID == "" || inst.State == core.StateDeleted) {
		return nil, machineNotFound(id)
	} else if err != nil {
		return nil, err
	}
	ms, err := s.withAssignments(ctx, []*core.Instance{inst})
	if err != nil {
		return nil, err
	}
	return ms[0], nil
}

// ListMachines lists pool machines with their users and groups.
func (s *Service) ListMachines(ctx context.Context, mq MachineQuery) ([]*Machine, int, error) {
	if err := s.Check(ctx, core.ActionMachineView, core.Resource{Type: core.ResourceMachine}); err != nil {
		return nil, 0, err
	}
	if err := mq.check(); err != nil {
		return nil, 0, err
	}
	f := core.MachineFilter{ProjectID: mq.ProjectID, UserID: mq.UserID, GroupID: mq.GroupID, Page: mq.Page}
	if mq.Assigned != nil {
		want, ok, err := core.BoolCond("assigned", *mq.Assigned)
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			return []*Machine{}, 0, nil
		}
		f.Assigned = want
	}
	insts, total, err := s.store.ListMachines(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	ms, err := s.withAssignments(ctx, insts)
	return ms, total, err
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
	if err := checkSubjects(ctx, s.store, []string{userID}, nil); err != nil {
		return nil, err
	}
	ms, _, err := s.ListMachines(ctx, MachineQuery{UserID: &userID})
	return ms, err
}

// ListGroupMachines lists the machines a group is assigned to.
func (s *Service) ListGroupMachines(ctx context.Context, groupID string) ([]*Machine, error) {
	if err := s.Check(ctx, core.ActionMachineView, core.Resource{Type: core.ResourceMachine}); err != nil {
		return nil, err
	}
	if err := checkSubjects(ctx, s.store, nil, []string{groupID}); err != nil {
		return nil, err
	}
	ms, _, err := s.ListMachines(ctx, MachineQuery{GroupID: &groupID})
	return ms, err
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

// runMachineCreate creates and starts a machine, then runs its project's
// instance_init_script inside it as `/bin/sh -c <script>` (no stdin). A script
// that exits non-zero fails the task and leaves the machine in state error.
func (s *Service) runMachineCreate(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	p, err := core.Decode[machinePayload](t)
	if err != nil {
		return nil, err
	}
	res, err := s.createMachine(ctx, p.InstanceID, progress)
	if err != nil && core.LastAttempt(t, err) {
		s.inst.FailInstance(ctx, p.InstanceID, "machine.failed", err)
	}
	return res, err
}

func (s *Service) createMachine(ctx context.Context, id string, progress func(int, string)) (any, error) {
	inst, srv, rt, err := s.inst.LoadInstance(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := instance.Lifecycle(inst, instance.ActionReady); err != nil {
		return nil, err // deleted meanwhile, or failed for good already
	}
	proj, err := s.store.GetPool(ctx, inst.ProjectID)
	if err != nil {
		return nil, err
	}
	progress(10, "creating machine")
	if inst, err = s.inst.EnsureRunning(ctx, inst, srv, rt); err != nil {
		return nil, err
	}
	res := map[string]any{"instance_id": inst.ID, "name": inst.Name, "server_id": inst.ServerID, "address": inst.Address}
	if proj.InstanceInitScript == "" {
		return res, nil
	}
	script, err := base64.StdEncoding.DecodeString(proj.InstanceInitScript)
	if err != nil {
		return nil, core.Permanent(fmt.Errorf("decode instance_init_script: %w", err))
	}
	progress(70, "running instance_init_script")
	out, err := rt.Exec(ctx, srv, inst.RuntimeRef, []string{"/bin/sh", "-c", string(script)}, nil)
	if err != nil {
		return nil, fmt.Errorf("run instance_init_script: %w", err)
	}
	res["init_exit_code"] = out.ExitCode
	if aerr := core.InTx(ctx, s.store, func(q Queries) error {
		return s.Audit(ctx, q, "machine.init_script", "instance", inst.ID, map[string]any{"exit_code": out.ExitCode})
	}); aerr != nil {
		return nil, aerr
	}
	if out.ExitCode != 0 {
		msg := strings.TrimSpace(out.Stderr)
		if len(msg) > 500 {
			msg = msg[:500]
		}
		return nil, core.Permanent(fmt.Errorf("instance_init_script exited with %d: %s", out.ExitCode, msg))
	}
	return res, nil
}

func (q MachineQuery) check() error {
	return core.CheckFilter(core.FilterCond("project_id", q.ProjectID), core.FilterCond("assigned", q.Assigned), core.FilterValue("user", q.UserID), core.FilterValue("group", q.GroupID))
}
