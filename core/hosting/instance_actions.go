package hosting

import (
	"context"
	"fmt"
	"hostdeck/core"
	"hostdeck/core/instance"
)

// This file holds start, stop and reboot of any instance the actor may act on:
// each is checked at once (access and lifecycle, lockInstance) and then runs as
// a durable task. Rescue mode is in rescue.go.

// Task kinds of plain instance actions.
const (
	KindInstanceStart  = "instance.start"
	KindInstanceStop   = "instance.stop"
	KindInstanceReboot = "instance.reboot"
)

// registerTasks gives core's task runner the work behind the task kinds of
// instances' power actions and rescue.
func (s *Service) registerTasks() {
	for kind, fn := range map[string]core.TaskFunc{
		KindInstanceStart:    s.runInstanceStart,
		KindInstanceStop:     s.runInstanceStop,
		KindInstanceReboot:   s.runInstanceReboot,
		KindInstanceRescue:   s.runInstanceRescue,
		KindInstanceUnrescue: s.runInstanceUnrescue,
	} {
		s.Register(kind, fn)
	}
}

type instancePayload struct {
	InstanceID string `json:"instance_id"`
}

// instanceAction checks that the actor sees the instance and that the lifecycle
// allows action in its state, then enqueues kind as a task, audited as
// instance.<action>.
func (s *Service) instanceAction(ctx context.Context, id, kind string, action instance.InstanceAction) (*core.Task, error) {
	var t *core.Task
	err := s.change(ctx, func(q Queries) error {
		in, _, err := lockInstance(ctx, q, id, action)
		if err != nil {
			return err
		}
		if in.RuntimeRef == "" {
			return core.Errorf(core.KindConflict, "instance %s has not been created on its server yet", in.Name)
		}
		if t, err = s.Enqueue(ctx, q, kind, "instance", id, instancePayload{InstanceID: id}); err != nil {
			return err
		}
		return s.Audit(ctx, q, "instance."+string(action), "instance", id, map[string]string{"task_id": t.ID})
	})
	return t, err
}

// lockInstance locks instance id in q for a request of action a by the actor in
// ctx. One the actor may not take a on (instanceAccess), or a deleted one, is
// KindNotFound; one whose state does not allow a is the lifecycle's refusal. It
// returns the instance and the state a leads to.
func lockInstance(ctx context.Context, q Queries, id string, a instance.InstanceAction) (*core.Instance, core.InstanceState, error) {
	if !core.ValidID(id) {
		return nil, "", core.NotFound("instance", id)
	}
	in, err := q.LockMachine(ctx, id)
	if err != nil {
		return nil, "", err
	}
	ok, err := core.Allowed(ctx, q, instance.InstanceAccess(a), core.InstanceResource(in))
	if err != nil {
		return nil, "", err
	}
	if !ok || in.State == core.StateDeleted {
		return nil, "", core.NotFound("instance", id)
	}
	next, err := instance.Lifecycle(in, a)
	return in, next, err
}

// StartInstance starts a stopped (or failed) instance, as a task.
func (s *Service) StartInstance(ctx context.Context, id string) (*core.Task, error) {
	return s.instanceAction(ctx, id, KindInstanceStart, instance.ActionStart)
}

// StopInstance stops an active (or failed) instance, as a task.
func (s *Service) StopInstance(ctx context.Context, id string) (*core.Task, error) {
	return s.instanceAction(ctx, id, KindInstanceStop, instance.ActionStop)
}

// RebootInstance restarts an active, stopped or failed instance, as a task.
func (s *Service) RebootInstance(ctx context.Context, id string) (*core.Task, error) {
	return s.instanceAction(ctx, id, KindInstanceReboot, instance.ActionReboot)
}

func (s *Service) taskInstance(ctx context.Context, t *core.Task) (*core.Instance, *core.Server, core.Runtime, error) {
	p, err := core.Decode[instancePayload](t)
	if err != nil {
		return nil, nil, nil, err
	}
	return s.inst.LoadInstance(ctx, p.InstanceID)
}

func (s *Service) runInstanceStart(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	in, srv, rt, err := s.taskInstance(ctx, t)
	if err != nil {
		return nil, err
	}
	in, done, err := s.inst.BeginInstance(ctx, in.ID, instance.ActionStart)
	if err != nil {
		return nil, err
	}
	if done {
		return map[string]string{"instance_id": in.ID, "state": string(core.StateActive)}, nil
	}
	if err := rt.Start(ctx, srv, in.RuntimeRef); err != nil {
		return nil, fmt.Errorf("start instance %s: %w", in.Name, err)
	}
	st, err := s.inst.WaitHealthy(ctx, in, srv, rt)
	if err == nil {
		_, err = s.inst.ReadyInstance(ctx, in.ID, st)
	}
	if err != nil {
		if core.LastAttempt(t, err) {
			s.inst.FailInstance(ctx, in.ID, "instance.start_failed", err)
		}
		return nil, err
	}
	return map[string]string{"instance_id": in.ID, "state": string(core.StateActive)}, nil
}

func (s *Service) runInstanceStop(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	in, srv, rt, err := s.taskInstance(ctx, t)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.inst.BeginInstance(ctx, in.ID, instance.ActionStop); err != nil {
		return nil, err
	}
	if err := rt.Stop(ctx, srv, in.RuntimeRef); err != nil {
		return nil, fmt.Errorf("stop instance %s: %w", in.Name, err)
	}
	return map[string]string{"instance_id": in.ID, "state": string(core.StateStopped)}, nil
}

func (s *Service) runInstanceReboot(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	in, srv, rt, err := s.taskInstance(ctx, t)
	if err != nil {
		return nil, err
	}
	if err := s.inst.Restart(ctx, in, srv, rt); err != nil {
		return nil, err
	}
	return map[string]string{"instance_id": in.ID, "state": string(core.StateActive)}, nil
}
