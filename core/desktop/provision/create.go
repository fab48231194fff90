package provision

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/instance"
	"hostdeck/core/quota"
	"strings"
)

// This file holds the making of a pool's machines: a machine is a core.Instance
// whose ProjectID names the pool, created with its users and groups assigned
// and brought up by a KindMachineCreate task.

// KindMachineCreate is the task that creates, starts and initialises one machine.
const KindMachineCreate = "machine.create"

// LabelProject is the runtime label that names a machine's pool.
const LabelProject = "hostdeck.project"

// MaxBatch is the most machines one request creates.
const MaxBatch = 100

// CreatedMachines is the result of CreateMachines.
type CreatedMachines struct {
	ReservationID string
	Machines      []*machine.Machine
	Tasks         []*core.Task
}

type machinePayload struct {
	InstanceID string `json:"instance_id"`
}

// MachineNetwork names the private network a project's machines are attached to:
// "hostdeck-trs-<project id>", one per project, so that projects do not see each
// other; or "hostdeck-net-<network_id>" when an admin set the project's
// network_id, so that projects given the same network_id share one network. A
// network_id that is not made of letters, digits, '_', '.' and '-' (or is longer
// than 64) is named by the first 16 hex digits of its SHA-256 instead, so that
// the name is always one a runtime accepts. A machine keeps the network it was
// created on when the project's network_id changes later.
func MachineNetwork(p *desktop.Pool) string {
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

// ReasonNoRoom: no active server has room for a new machine.
const ReasonNoRoom = "no_room"

// placeMachine picks the server of a new machine of project p from the load
// counted so far; a full fleet (or none) is KindConflict with reason no_room and
// the project's name, so that a face can say in which project it failed.
func placeMachine(ctx context.Context, q Queries, load map[string]int, p *desktop.Pool) (*core.Server, error) {
	srv, err := core.PlaceBy(ctx, q, nil, load, "machine")
	if core.ErrorKind(err) == core.KindConflict {
		return nil, core.Reasoned(core.KindConflict, ReasonNoRoom,
			fmt.Sprintf("no active server has room for a new machine in project %s", p.Name), "project_name", p.Name)
	}
	return srv, err
}

// CreateMachines creates count machines (1..MaxBatch) in a pool, assigns
// them the users and groups given and starts one KindMachineCreate task each.
// Over the project's quota is KindConflict with Reason quota_exceeded; a full
// fleet is KindConflict with reason no_room; unknown users or groups are
// KindNotFound.
func (s *Service) CreateMachines(ctx context.Context, projectID string, count int, userIDs, groupIDs []string) (*CreatedMachines, error) {
	if err := s.Check(ctx, core.ActionMachineCreate, core.Resource{Type: core.ResourceMachine, Project: projectID}); err != nil {
		return nil, err
	}
	return s.create(ctx, projectID, count, userIDs, groupIDs)
}

// CreateForRequester creates one machine in a pool for the user in ctx, who
// may ask for machines of it (ActionMachineRequest: the hand-out when no free
// machine is left), and assigns it to that user alone.
func (s *Service) CreateForRequester(ctx context.Context, projectID string) (*CreatedMachines, error) {
	if err := s.Check(ctx, core.ActionMachineRequest, core.Resource{Type: core.ResourceMachine, Project: projectID}); err != nil {
		return nil, err
	}
	a := core.ActorFrom(ctx)
	if a.UserID == "" {
		return nil, core.Invalid("user", "a machine is asked for by a user")
	}
	return s.create(ctx, projectID, 1, []string{a.UserID}, nil)
}

// create makes count machines in a pool, assigned to the users and groups given.
func (s *Service) create(ctx context.Context, projectID string, count int, userIDs, groupIDs []string) (*CreatedMachines, error) {
	if count < 1 || count > MaxBatch {
		return nil, core.Invalid("count", "count must be between 1 and %d", MaxBatch)
	}
	if !core.ValidID(projectID) {
		return nil, core.Invalid("project_id", "unknown project %q", projectID)
	}
	userIDs, groupIDs = core.Dedupe(userIDs), core.Dedupe(groupIDs)
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
		if err := machine.CheckSubjects(ctx, q, userIDs, groupIDs); err != nil {
			return err
		}
		if p.OperationMode == desktop.ModeStandard && len(userIDs) > 1 {
			return core.Reasoned(core.KindConflict, machine.ReasonMachineOccupied,
				fmt.Sprintf("project %s allows one user per machine", p.Name), "project_name", p.Name)
		}
		if err := CheckQuota(ctx, q, p, count); err != nil {
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
			name := desktop.NextInstanceName(p.InstanceNamePattern, seq)
			for taken[name] {
				seq++
				name = desktop.NextInstanceName(p.InstanceNamePattern, seq)
			}
			taken[name] = true
			inst := &core.Instance{ID: core.NewID(), Name: name, ServerID: srv.ID, ProjectID: p.ID, ImageID: p.ImageID, State: core.StateBuilding}
			inst.Spec = core.InstanceSpec{Name: name, Image: im.Ref, Network: MachineNetwork(p),
				Labels: map[string]string{core.LabelInstance: inst.ID, LabelProject: p.ID}}
			if err := q.CreateInstance(ctx, inst); err != nil {
				return err
			}
			m := &machine.Machine{Instance: inst, Users: []string{}, Groups: []string{}}
			for _, u := range userIDs {
				if err := s.machines.Assign(ctx, q, inst.ID, machine.SubjectUser, u); err != nil {
					return err
				}
				m.Users = append(m.Users, u)
			}
			for _, g := range groupIDs {
				if err := s.machines.Assign(ctx, q, inst.ID, machine.SubjectGroup, g); err != nil {
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

// CheckQuota refuses n new machines in a project whose quota they would pass
// (KindConflict, reason quota_exceeded); the hand-out checks it too before it
// asks for a machine.
func CheckQuota(ctx context.Context, q QuotaReader, p *desktop.Pool, n int) error {
	if p.MaxInstances == 0 {
		return nil
	}
	states, err := q.CountInstancesByState(ctx, p.ID)
	if err != nil {
		return err
	}
	used := 0
	for st, n := range states {
		if st != core.StateDeleted {
			used += n
		}
	}
	if used+n > p.MaxInstances {
		return core.Reasoned(core.KindConflict, quota.ReasonQuotaExceeded,
			fmt.Sprintf("quota of project %s exceeded: %d of %d machines", p.Name, used, p.MaxInstances), "project_name", p.Name)
	}
	return nil
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
