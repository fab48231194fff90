package handout

import (
	"context"
	"encoding/json"
	"fmt"
	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/desktop/provision"
	"hostdeck/core/desktop/session"
	"hostdeck/core/login"
	"strings"
	"time"
)

// This file holds the hand-out of a pool's machines to users, the refill that
// keeps free machines ready, and the allocation of free machines to a project's
// members. Each runs as a durable task.

// Task kinds of the broker and the pool.
const (
	KindHandOut      = "broker.request_vm"
	KindPoolRefill   = "periodic.trs_pool"
	KindAutoAllocate = "trs.auto_allocate"
)

// Reasons of broker errors, stable for faces to map to their own codes.
const (
	ReasonNoPool           = "no_trs_project"
	ReasonNotPool          = "not_trs_project"
	ReasonRequestNotFound  = "request_not_found"
	ReasonRequestForbidden = "request_forbidden"
	ReasonNoInstance       = "no_instance"            // nothing to hand out, and no room for a new machine
	ReasonTaskStartFailed  = "vm_task_start_failed"   // the request's task could not be written
	ReasonTaskFailed       = "vm_task_failed"         // the request's task failed
	ReasonTaskProcessing   = "vm_task_process_failed" // its result cannot be used (the machine is gone)
	ReasonCreateFailed     = "instance_create_failed" // the machine made for the request failed to build
	ReasonInstanceState    = "instance_state"         // the machine is in a state that cannot be handed out
	ReasonInstanceIP       = "instance_ip"            // the machine runs but has no address
)

// Statuses of a VM request, as the broker reports them; a request that cannot
// end well is an error with one of the reasons above.
const (
	RequestInProgress = "in progress"
	RequestCompleted  = "completed"
)

// HandOutInput is what a broker client asks for: the project (Project in
// ProjectDomain) when the user has several, and what the session will record.
type HandOutInput struct {
	Project       string
	ProjectDomain string
	Session       session.SessionInput
}

// HandOut is the state of a VM request: Machine is set once it is known.
type HandOut struct {
	ID       string
	Status   string // RequestInProgress, RequestCompleted or RequestFailed
	Message  string
	Progress int
	Machine  *machine.Machine
}

type handOutPayload struct {
	UserID    string               `json:"user_id"`
	ProjectID string               `json:"project_id"`
	Session   session.SessionInput `json:"session"`
	// Origin is where the request came from: the machine a task makes for it
	// is audited as the user's act from there.
	Origin login.Origin `json:"origin"`
}

type handOutResult struct {
	InstanceID string `json:"instance_id"`
	How        string `json:"how"` // held, assigned, shared or created
}

// Check refuses a request whose session is of a connection type the document
// does not know (KindInvalid on conn_type). RequestMachine checks it; a face may
// check it first, so that bad input is refused before a login opens a token
// for it.
func (in HandOutInput) Check() error {
	return session.CheckConnType(strings.TrimSpace(in.Session.ConnType))
}

// RequestMachine starts a KindHandOut task that hands the actor (a user
// logged in) a machine of its pool; when the user's machine or a free
// active one is there, it is handed out at once and the task is recorded done.
// It returns the task, whose id is the request's. A connection type the
// document does not know is KindInvalid (Check). A project that is not TRS is
// KindInvalid with reason not_trs_project; no usable pool is
// KindNotFound with reason no_trs_project; a full project with nothing to hand
// out is KindConflict with reason quota_exceeded.
func (s *Service) RequestMachine(ctx context.Context, in HandOutInput) (*core.Task, error) {
	in.Session.ConnType = strings.TrimSpace(in.Session.ConnType)
	if err := in.Check(); err != nil {
		return nil, err
	}
	a := core.ActorFrom(ctx)
	if a.UserID == "" {
		return nil, core.Errorf(core.KindUnauthenticated, "a machine is handed out to a user who logged in")
	}
	p, err := s.userPool(ctx, a, in.Project, in.ProjectDomain)
	if err != nil {
		return nil, err
	}
	if err := s.Check(ctx, core.ActionMachineRequest, core.Resource{Type: core.ResourceMachine, Project: p.ID}); err != nil {
		return nil, err
	}
	var t *core.Task
	err = s.change(ctx, func(q Queries) error {
		pl := handOutPayload{UserID: a.UserID, ProjectID: p.ID, Session: in.Session, Origin: login.Origin{Face: a.Face, Source: a.Source}}
		m, how, err := s.pickMachine(ctx, q, p, a.UserID)
		if err != nil {
			return err
		}
		if m == nil {
			if err := provision.CheckQuota(ctx, q, p, 1); err != nil {
				return err
			}
			if err := checkRoom(ctx, q, p); err != nil {
				return err
			}
		}
		if m != nil {
			// The pool answers at once: the request is recorded already done, and
			// get-vm follows the machine until it is active.
			t, err = s.RecordDone(ctx, q, KindHandOut, machine.SubjectUser, a.UserID, pl, handOutResult{InstanceID: m.ID, How: how})
		} else if t, err = s.Enqueue(ctx, q, KindHandOut, machine.SubjectUser, a.UserID, pl); err != nil {
			return &core.Error{Kind: core.KindUnavailable, Reason: ReasonTaskStartFailed, Message: "the request could not be started", Err: err}
		}
		if err != nil {
			return err
		}
		return s.Audit(ctx, q, "broker.request_vm", "project", p.ID, map[string]string{"task_id": t.ID, "user_id": a.UserID})
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// userPool finds the pool a user asks for: the one named, or the
// single enabled pool the user has a role on.
func (s *Service) userPool(ctx context.Context, u core.Actor, name, domain string) (*desktop.Pool, error) {
	none := func(msg string) error {
		return core.Reasoned(core.KindNotFound, ReasonNoPool, msg, "user_name", u.Name)
	}
	f := desktop.PoolFilter{Enabled: core.Ptr(true), UserID: &u.UserID}
	if domain != "" {
		id := ""
		if strings.EqualFold(domain, core.DefaultDomainID) {
			id, domain = core.DefaultDomainID, ""
		}
		d, err := s.ResolveDomain(ctx, s.store, id, domain)
		if err != nil {
			return nil, err
		}
		f.DomainID = &d.ID
	}
	if name != "" {
		f.Name = &name
	}
	ps, _, err := s.store.ListPools(ctx, f)
	if err != nil {
		return nil, err
	}
	if name != "" && len(ps) == 0 {
		if _, err := s.store.FindProjectByName(ctx, name); err == nil {
			all, _, err := s.store.ListPools(ctx, desktop.PoolFilter{Name: &name})
			if err != nil {
				return nil, err
			}
			if len(all) == 0 {
				return nil, core.Reasoned(core.KindInvalid, ReasonNotPool, "project "+name+" is not a TRS project", "project_name", name)
			}
		} else if core.ErrorKind(err) != core.KindNotFound {
			return nil, err
		}
	}
	switch {
	case len(ps) == 1:
		// The project's Web Guard: the client's connection address (the actor's
		// Source), not the ip_address it declares.
		if err := desktop.CheckWebGuard(ps[0], u.Source); err != nil {
			return nil, err
		}
		return ps[0], nil
	case len(ps) > 1:
		return nil, none(fmt.Sprintf("user %s has %d TRS projects; name one with auth_tenant", u.Name, len(ps)))
	}
	return nil, none("no available TRS project for user " + u.Name)
}

// checkRoom refuses a request that would need a new machine when no server has
// room for one (KindConflict, reason no_instance).
func checkRoom(ctx context.Context, q Queries, p *desktop.Pool) error {
	load, err := core.CountLoad(ctx, q)
	if err != nil {
		return err
	}
	if _, err := core.PlaceBy(ctx, q, nil, load, "machine"); core.ErrorKind(err) == core.KindConflict {
		return core.Reasoned(core.KindConflict, ReasonNoInstance,
			fmt.Sprintf("no machine to hand out in project %s, and no server has room for a new one", p.Name), "project_name", p.Name)
	} else if err != nil {
		return err
	}
	return nil
}

// usable reports whether a machine can be handed out (now or once it is built).
func usableMachine(in *core.Instance) bool {
	return in.State == core.StateActive || in.State == core.StateBuilding
}

// How a broker request got its machine.
const (
	handHeld     = "held"     // the user already held it
	handAssigned = "assigned" // a free machine, now the user's
	handShared   = "shared"   // mode 2: the least shared active machine
	handCreated  = "created"  // made for the user
)

// pickMachine finds the machine a user gets in p and says how: the one already
// held, else (in mode 2 too) a free one, else in mode 2 the least shared one.
// With assign, a machine not yet held is locked, checked free again and assigned
// to the user in q's transaction, so that in mode 1 no two users ever get the
// same machine. A nil machine means there is none.
func (s *Service) pickMachine(ctx context.Context, q Queries, p *desktop.Pool, userID string) (*core.Instance, string, error) {
	held, _, err := q.ListMachines(ctx, core.MachineFilter{ProjectID: core.ProjectCond(p.ID), UserID: &userID})
	if err != nil {
		return nil, "", err
	}
	for _, m := range held {
		if usableMachine(m) {
			return m, handHeld, nil
		}
	}
	// A free machine, active ones first, locked (on PostgreSQL concurrent
	// hand-outs skip each other's) and assigned.
	for _, st := range []core.InstanceState{core.StateActive, core.StateBuilding} {
		m, err := q.LockFreeMachine(ctx, p.ID, st)
		if core.ErrorKind(err) == core.KindNotFound {
			continue
		} else if err != nil {
			return nil, "", err
		}
		if err := s.machines.Assign(ctx, q, m.ID, machine.SubjectUser, userID); err != nil {
			return nil, "", err
		}
		return m, handAssigned, s.Audit(ctx, q, "machine.assign_user", "instance", m.ID, map[string]any{"users": []string{userID}})
	}
	if p.OperationMode != desktop.ModeSimultaneous {
		return nil, "", nil
	}
	all, _, err := q.ListMachines(ctx, core.MachineFilter{ProjectID: core.ProjectCond(p.ID)})
	if err != nil {
		return nil, "", err
	}
	var best *core.Instance
	bestN := 0
	for _, m := range all {
		if m.State != core.StateActive {
			continue
		}
		users, err := machine.SubjectsOf(ctx, q, m.ID, machine.SubjectUser)
		if err != nil {
			return nil, "", err
		}
		if best == nil || len(users) < bestN {
			best, bestN = m, len(users)
		}
	}
	if best == nil {
		return nil, "", nil
	}
	inst, err := s.machines.AssignUser(ctx, q, best.ID, userID)
	return inst, handShared, err
}

// runHandOut hands the user a machine when RequestMachine found none to give at
// once: one freed meanwhile, or a new one. It does not wait for the machine to be
// built (that would hold a worker the build itself may need): get-vm follows the
// machine's state.
func (s *Service) runHandOut(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	pl, err := core.Decode[handOutPayload](t)
	if err != nil {
		return nil, err
	}
	u, err := s.store.GetUser(ctx, pl.UserID)
	if err != nil {
		if core.ErrorKind(err) == core.KindNotFound {
			return nil, core.Permanent(fmt.Errorf("user %s is gone", pl.UserID))
		}
		return nil, err
	}
	actx := core.WithActor(ctx, login.ActorOf(u, pl.Origin, ""))
	res := handOutResult{}
	err = core.InTx(actx, s.store, func(q Queries) error {
		p, err := q.GetPool(actx, pl.ProjectID)
		if err != nil {
			return err
		}
		m, how, err := s.pickMachine(actx, q, p, u.ID)
		if err != nil || m == nil {
			return err
		}
		res = handOutResult{InstanceID: m.ID, How: how}
		return nil
	})
	if err != nil || res.InstanceID != "" {
		return res, err
	}
	progress(10, "creating a machine")
	created, err := s.provision.CreateForRequester(actx, pl.ProjectID)
	if err != nil {
		if core.ErrorKind(err) == core.KindConflict || core.ErrorKind(err) == core.KindInvalid {
			return nil, core.Permanent(err)
		}
		return nil, err
	}
	return handOutResult{InstanceID: created.Machines[0].ID, How: handCreated}, nil
}

// GetHandOut reports a VM request of the actor in ctx. An unknown request is
// KindNotFound with reason request_not_found; another user's request is
// KindForbidden with reason request_forbidden (vm_request.view is its
// owner's alone); a client address outside the
// project's Web Guard is reason web_guard. A request that cannot end well is an
// error too: its task failed (vm_task_failed), its machine is gone
// (vm_task_process_failed), the machine made for it failed to build
// (instance_create_failed), the machine is in another state than building or
// active (instance_state), or it runs without an address (instance_ip). When the request is completed, a
// session is recorded for the caller (the acting user in ctx).
func (s *Service) GetHandOut(ctx context.Context, requestID string) (*HandOut, error) {
	notFound := core.Reasoned(core.KindNotFound, ReasonRequestNotFound, "request "+requestID+" not found", "request_id", requestID)
	if !core.ValidID(requestID) {
		return nil, notFound
	}
	t, err := s.store.GetTask(ctx, requestID)
	if core.ErrorKind(err) == core.KindNotFound || err == nil && t.Kind != KindHandOut {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	if err := s.Check(ctx, core.ActionVMRequestView, core.Resource{Type: core.ResourceVMRequest, ID: t.ID, Owner: t.TargetID}); err != nil {
		if core.ErrorKind(err) == core.KindForbidden {
			return nil, core.Reasoned(core.KindForbidden, ReasonRequestForbidden, "request "+requestID+" belongs to another user", "request_id", requestID)
		}
		return nil, err
	}
	var pl handOutPayload
	if err := json.Unmarshal(t.Payload, &pl); err != nil {
		return nil, fmt.Errorf("decode request %s payload: %w", t.ID, err)
	}
	if err := s.guardProject(ctx, pl.ProjectID); err != nil {
		return nil, err
	}
	out := &HandOut{ID: t.ID, Status: RequestInProgress, Progress: t.Progress, Message: t.Message}
	switch t.Status {
	case core.TaskSuccess:
	case core.TaskFailure, core.TaskRevoked:
		return nil, core.Reasoned(core.KindConflict, ReasonTaskFailed, "request "+t.ID+" failed: "+t.Error, "request_id", t.ID)
	default:
		return out, nil
	}
	var res handOutResult
	if err := json.Unmarshal(t.Result, &res); err != nil {
		return nil, &core.Error{Kind: core.KindInternal, Reason: ReasonTaskProcessing, Message: "the result of request " + t.ID + " cannot be read", Err: err}
	}
	m, err := machine.Load(ctx, s.store, res.InstanceID)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, core.Reasoned(core.KindConflict, ReasonTaskProcessing, "the machine of request "+t.ID+" is gone", "request_id", t.ID)
	} else if err != nil {
		return nil, err
	}
	out.Machine = m
	switch {
	case m.State == core.StateBuilding || m.State == core.StateRebooting:
		out.Progress, out.Message = 50, "waiting for machine "+m.Name
		return out, nil
	case m.State == core.StateError && res.How == handCreated:
		name := pl.ProjectID
		if p, err := s.store.GetPool(ctx, pl.ProjectID); err == nil {
			name = p.Name
		}
		return nil, core.Reasoned(core.KindConflict, ReasonCreateFailed, "machine "+m.Name+" could not be created", "project_name", name)
	case m.State != core.StateActive:
		return nil, core.Reasoned(core.KindConflict, ReasonInstanceState, fmt.Sprintf("machine %s is in state %s", m.Name, m.State),
			"instance_id", m.ID, "instance_status", string(m.State))
	case m.Address == "":
		return nil, core.Reasoned(core.KindConflict, ReasonInstanceIP, "machine "+m.Name+" has no address", "instance_id", m.ID)
	}
	out.Status, out.Progress, out.Message = RequestCompleted, 100, ""
	if _, err := s.sessions.RecordSessionOn(ctx, m.Instance, pl.Session); err != nil {
		return nil, err
	}
	return out, nil
}

// guardProject applies the Web Guard of a pool to the client in ctx (its
// actor's Source). A project that is gone passes.
func (s *Service) guardProject(ctx context.Context, projectID string) error {
	p, err := s.store.GetPool(ctx, projectID)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	return desktop.CheckWebGuard(p, core.ActorFrom(ctx).Source)
}

// UserPools lists the names of the enabled pools the user has a role
// on (the user itself, or an administrator, asks: user.view).
func (s *Service) UserPools(ctx context.Context, userID string) ([]string, error) {
	if err := s.Check(ctx, core.ActionUserView, core.UserResource(userID)); err != nil {
		return nil, err
	}
	ps, _, err := s.store.ListPools(ctx, desktop.PoolFilter{Enabled: core.Ptr(true), UserID: &userID})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out, nil
}

// --- the pool ---

// runPoolRefill keeps MinReserveVM free machines in every enabled pool,
// creating the difference. A project over its quota is skipped.
func (s *Service) runPoolRefill(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	ps, _, err := s.store.ListPools(ctx, desktop.PoolFilter{Enabled: core.Ptr(true)})
	if err != nil {
		return nil, err
	}
	created := map[string]int{}
	for _, p := range ps {
		if p.MinReserveVM <= 0 {
			continue
		}
		free, _, err := s.store.ListMachines(ctx, core.MachineFilter{ProjectID: core.ProjectCond(p.ID), Assigned: core.Ptr(false)})
		if err != nil {
			return nil, err
		}
		n := 0
		for _, m := range free {
			if usableMachine(m) {
				n++
			}
		}
		need := min(p.MinReserveVM-n, provision.MaxBatch)
		if need <= 0 {
			continue
		}
		if _, err := s.provision.CreateMachines(ctx, p.ID, need, nil, nil); err != nil {
			if k := core.ErrorKind(err); k == core.KindConflict || k == core.KindInvalid {
				s.Log.Warn("trs pool: project not refilled", "project", p.Name, "err", err)
				continue
			}
			return nil, err
		}
		created[p.ID] = need
	}
	return map[string]any{"created": created}, nil
}

type autoAllocatePayload struct {
	ProjectID string `json:"project_id"`
}

// AutoAllocateUsers starts a task that gives each member of a pool (a user
// with a role on it) who holds no machine there a free machine (admins only).
func (s *Service) AutoAllocateUsers(ctx context.Context, projectID string) (*core.Task, error) {
	if err := s.Check(ctx, core.ActionProjectAllocate, core.On(core.ResourceProject, projectID)); err != nil {
		return nil, err
	}
	if !core.ValidID(projectID) {
		return nil, core.NotFound("project", projectID)
	}
	var t *core.Task
	err := s.change(ctx, func(q Queries) error {
		if _, err := q.GetPool(ctx, projectID); err != nil {
			return err
		}
		var err error
		if t, err = s.Enqueue(ctx, q, KindAutoAllocate, "project", projectID, autoAllocatePayload{ProjectID: projectID}); err != nil {
			return err
		}
		return s.Audit(ctx, q, "project.auto_allocate", "project", projectID, map[string]string{"task_id": t.ID})
	})
	return t, err
}

// runAutoAllocate assigns free machines to the project's members without one,
// each in its own transaction; members left over are reported.
func (s *Service) runAutoAllocate(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	pl, err := core.Decode[autoAllocatePayload](t)
	if err != nil {
		return nil, err
	}
	users, _, err := s.store.ListUsers(ctx, core.UserFilter{ProjectID: &pl.ProjectID})
	if err != nil {
		return nil, err
	}
	assigned := map[string]string{}
	waiting := []string{}
	for _, u := range users {
		err = core.InTx(ctx, s.store, func(q Queries) error {
			p, err := q.GetPool(ctx, pl.ProjectID)
			if err != nil {
				return err
			}
			held, _, err := q.ListMachines(ctx, core.MachineFilter{ProjectID: core.ProjectCond(p.ID), UserID: &u.ID})
			if err != nil || len(held) > 0 {
				return err
			}
			// Only free machines, in both modes: sharing is the broker's choice.
			m, err := s.pickFree(ctx, q, p, u.ID)
			if err != nil {
				return err
			}
			if m == nil {
				waiting = append(waiting, u.ID)
				return nil
			}
			assigned[u.ID] = m.ID
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return map[string]any{"assigned": assigned, "without_machine": waiting}, nil
}

// pickFree assigns a free machine of p to the user, or returns nil.
func (s *Service) pickFree(ctx context.Context, q Queries, p *desktop.Pool, userID string) (*core.Instance, error) {
	only := *p
	only.OperationMode = desktop.ModeStandard // do not fall back to sharing
	m, _, err := s.pickMachine(ctx, q, &only, userID)
	return m, err
}

// PoolRefillEvery is how often the pool is refilled.
const PoolRefillEvery = 30 * time.Second
