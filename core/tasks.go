package core

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
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
	err := InTx(ctx, s.store, func(q Queries) error {
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
	if _, ok := s.handlers[kind]; ok {
		panic("core: task kind " + kind + " registered twice")
	}
	if s.handlers == nil {
		s.handlers = map[string]TaskFunc{}
	}
	s.handlers[kind] = fn
}

// RegisterPeriodic schedules the registered kind j.Kind every j.Every.
func (s *Service) RegisterPeriodic(j PeriodicJob) { s.periodic = append(s.periodic, j) }

// TaskHandlers returns the work behind every task kind, for the task runner.
func (s *Service) TaskHandlers() map[string]TaskFunc { return maps.Clone(s.handlers) }

// PeriodicJobs returns the work scheduled once per cluster.
func (s *Service) PeriodicJobs() []PeriodicJob { return slices.Clone(s.periodic) }

func Decode[T any](t *Task) (T, error) {
	var p T
	if err := json.Unmarshal(t.Payload, &p); err != nil {
		return p, Permanent(fmt.Errorf("decode %s payload: %w", t.Kind, err))
	}
	return p, nil
}

// LastAttempt reports whether err ends the task, so its records must show the failure.
func LastAttempt(t *Task, err error) bool {
	return IsPermanent(err) || t.Attempts >= t.MaxAttempts
}
