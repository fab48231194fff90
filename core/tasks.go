package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// GetTask returns one task.
func (s *Service) GetTask(ctx context.Context, id string) (*Task, error) {
	if err := s.Check(ctx, ActionTaskView, On(ResourceTask, id)); err != nil {
		return nil, err
	}
	if !ValidID(id) {
		return nil, NotFound("task", id)
	}
	return s.store.GetTask(ctx, id)
}

// ListTasks lists tasks. A Kind or Status that no task can have is
// KindInvalid naming the values there are.
func (s *Service) ListTasks(ctx context.Context, f TaskFilter) ([]*Task, int, error) {
	if err := s.Check(ctx, ActionTaskView, Resource{Type: ResourceTask}); err != nil {
		return nil, 0, err
	}
	if err := f.check(slices.Sorted(maps.Keys(s.TaskHandlers()))); err != nil {
		return nil, 0, err
	}
	return s.store.ListTasks(ctx, f)
}

// CancelTask revokes a task that has not run yet and asks a running one to stop.
func (s *Service) CancelTask(ctx context.Context, id string) (*Task, error) {
	if err := s.Check(ctx, ActionTaskCancel, On(ResourceTask, id)); err != nil {
		return nil, err
	}
	if !ValidID(id) {
		return nil, NotFound("task", id)
	}
	var t *Task
	err := s.store.InTx(ctx, func(q Queries) error {
		var err error
		if t, err = q.RequestTaskCancel(ctx, id, s.Now().UTC()); err != nil {
			return err
		}
		return s.Audit(ctx, q, "task.cancel", "task", id, nil)
	})
	return t, err
}

// ListAudit lists audit events.
func (s *Service) ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, int, error) {
	if err := s.Check(ctx, ActionAuditView, Resource{Type: ResourceAudit}); err != nil {
		return nil, 0, err
	}
	if err := f.check(); err != nil {
		return nil, 0, err
	}
	return s.store.ListAudit(ctx, f)
}

// Register adds the work behind a task kind of a capability package (which
// registers its kinds when it is made, before the task runner starts);
// RegisterPeriodic schedules one of them once per cluster. A kind registered
// twice is a programming error.
func (s *Service) Register(kind string, fn TaskFunc) {
	if _, ok := s.TaskHandlers()[kind]; ok {
		panic("core: task kind " + kind + " registered twice")
	}
	if s.handlers == nil {
		s.handlers = map[string]TaskFunc{}
	}
	s.handlers[kind] = fn
}

// RegisterPeriodic schedules the registered kind j.Kind every j.Every.
func (s *Service) RegisterPeriodic(j PeriodicJob) { s.periodic = append(s.periodic, j) }

// TaskHandlers returns the work behind every task kind, for the task runner:
// core's own and the registered ones.
func (s *Service) TaskHandlers() map[string]TaskFunc {
	h := s.ownTasks()
	maps.Copy(h, s.handlers)
	return h
}

func (s *Service) ownTasks() map[string]TaskFunc {
	return map[string]TaskFunc{
		KindProjectUsage: s.runProjectUsage,
	}
}

// PeriodicJobs returns the work scheduled once per cluster: core's own and the
// registered ones.
func (s *Service) PeriodicJobs() []PeriodicJob {
	return append([]PeriodicJob{
		{Kind: KindProjectUsage, Every: ProjectUsageEvery},
	}, s.periodic...)
}

func Decode[T any](t *Task) (T, error) {
	var p T
	if err := json.Unmarshal(t.Payload, &p); err != nil {
		return p, Permanent(fmt.Errorf("decode %s payload: %w", t.Kind, err))
	}
	return p, nil
}

func (s *Service) LoadInstance(ctx context.Context, id string) (*Instance, *Server, Runtime, error) {
	inst, err := s.store.GetInstance(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	srv, err := s.store.GetServer(ctx, inst.ServerID)
	if err != nil {
		return nil, nil, nil, err
	}
	rt, err := s.RuntimeFor(srv)
	if err != nil {
		return nil, nil, nil, err
	}
	return inst, srv, rt, nil
}

// EnsureRunning creates (idempotently by name) and starts an instance that is
// being built, waits until it is healthy and records its state, ref, address and
// URL. An instance the lifecycle no longer lets come up (deleted meanwhile) is
// its refusal.
func (s *Service) EnsureRunning(ctx context.Context, inst *Instance, srv *Server, rt Runtime) (*Instance, error) {
	if _, err := Lifecycle(inst, ActionReady); err != nil {
		return nil, err
	}
	ref, err := rt.Create(ctx, srv, inst.Spec.On(srv))
	if err != nil {
		return nil, fmt.Errorf("create instance %s: %w", inst.Name, err)
	}
	if ref != inst.RuntimeRef {
		if inst, err = s.store.UpdateInstance(ctx, inst.ID, InstanceUpdate{RuntimeRef: &ref}); err != nil {
			return nil, err
		}
	}
	if err := rt.Start(ctx, srv, ref); err != nil {
		return nil, fmt.Errorf("start instance %s: %w", inst.Name, err)
	}
	st, err := s.WaitHealthy(ctx, inst, srv, rt)
	if err != nil {
		return nil, err
	}
	return s.ReadyInstance(ctx, inst.ID, st)
}

// recheckEvery is how often waitHealthy reads the instance's record.
const recheckEvery = 200 * time.Millisecond

// WaitHealthy polls the runtime until instance in (in.RuntimeRef) answers its
// health check. It reads the record too, at once when the runtime no longer
// knows the instance and every recheckEvery otherwise, and stops as soon as the
// lifecycle says the instance can no longer come up (it was deleted meanwhile):
// no task waits on an instance that is gone.
func (s *Service) WaitHealthy(ctx context.Context, in *Instance, srv *Server, rt Runtime) (InstanceStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, s.Cfg.ReadyTimeout)
	defer cancel()
	wait := 5 * time.Millisecond
	checked := time.Now()
	for {
		st, err := rt.Inspect(ctx, srv, in.RuntimeRef)
		if err == nil && st.Healthy {
			return st, nil
		}
		if err == nil && st.State == StateError {
			return st, errors.New("instance went into error state")
		}
		if ErrorKind(err) == KindNotFound || time.Since(checked) >= recheckEvery {
			checked = time.Now()
			if gone := s.comingUp(ctx, in.ID); gone != nil {
				return st, gone
			}
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("instance is %s and not healthy", st.State)
			}
			return st, fmt.Errorf("wait for instance to be healthy: %w (%v)", ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(wait*2, 25*time.Millisecond)
	}
}

// LastAttempt reports whether err ends the task, so its records must show the failure.
func LastAttempt(t *Task, err error) bool {
	return IsPermanent(err) || t.Attempts >= t.MaxAttempts
}

// Restart reboots an instance as the lifecycle allows: it shows rebooting until
// it answers again (then active) or does not (then error). An instance that the
// lifecycle does not let reboot, now or any more while it waits (one in rescue,
// or deleted), is its refusal.
func (s *Service) Restart(ctx context.Context, inst *Instance, srv *Server, rt Runtime) error {
	inst, _, err := s.BeginInstance(ctx, inst.ID, ActionReboot)
	if err != nil {
		return err
	}
	if err := rt.Restart(ctx, srv, inst.RuntimeRef); err != nil {
		if gone := s.comingUp(ctx, inst.ID); gone != nil {
			return gone
		}
		return fmt.Errorf("restart instance %s: %w", inst.Name, err)
	}
	st, err := s.WaitHealthy(ctx, inst, srv, rt)
	if err == nil {
		_, err = s.ReadyInstance(ctx, inst.ID, st)
	}
	if err != nil {
		s.FailInstance(ctx, inst.ID, "instance.reboot_failed", err)
		return err
	}
	return nil
}

// RemoveInstance marks an instance deleted, so that any task waiting on it
// stops, then deletes it with its volumes (and its rescue system) from its
// server. It is idempotent; an instance whose runtime removal failed is
// deleted, and reconciliation removes what is left.
func (s *Service) RemoveInstance(ctx context.Context, instanceID string) error {
	inst, srv, rt, err := s.LoadInstance(ctx, instanceID)
	if ErrorKind(err) == KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if inst, _, err = s.BeginInstance(ctx, inst.ID, ActionDelete); err != nil {
		return err
	}
	ref := inst.RuntimeRef
	if ref == "" {
		ref = inst.Name // created by a crashed attempt before its ref was saved, if at all
	}
	if err := rt.Delete(ctx, srv, ref); err != nil {
		return fmt.Errorf("delete instance %s: %w", inst.Name, err)
	}
	return nil
}
