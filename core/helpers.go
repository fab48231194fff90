package core

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"
)

// NewID returns a new sortable record id (UUIDv7).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// ValidID reports whether id is a well-formed record id (a UUID); faces and use
// cases reject others as not found before touching the store.
func ValidID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}

// Recorder is what a change's transaction needs of the store for its audit
// trail and its tasks: every capability's Queries embed it.
type Recorder interface {
	AddAudit(ctx context.Context, e *AuditEvent) error
	// CreateTask stores t as PENDING, or as it is when its status is a finished
	// one (work done synchronously, recorded as a task). A Key that another task
	// holds is KindConflict.
	CreateTask(ctx context.Context, t *Task) error
}

// Audit records a change made by the actor in ctx.
func (s *Service) Audit(ctx context.Context, q Recorder, action, targetType, targetID string, detail any) error {
	a := ActorFrom(ctx)
	e := &AuditEvent{
		At: s.Now().UTC(), Actor: a.Name, Face: a.Face, Source: a.Source,
		Action: action, TargetType: targetType, TargetID: targetID,
	}
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("encode audit detail: %w", err)
		}
		e.Detail = b
	}
	return q.AddAudit(ctx, e)
}

// Enqueue writes a task in q's transaction. Run it in Change, which wakes the
// task runner after the commit.
func (s *Service) Enqueue(ctx context.Context, q Recorder, kind, targetType, targetID string, payload any) (*Task, error) {
	t, err := s.newTask(ctx, kind, targetType, targetID, payload)
	if err != nil {
		return nil, err
	}
	if err := q.CreateTask(ctx, t); err != nil {
		return nil, err
	}
	s.enqueued.Add(1)
	return t, nil
}

// RecordDone writes a task that is already done, with its result: work a use case
// finished synchronously, kept so that it reads like any other task.
func (s *Service) RecordDone(ctx context.Context, q Recorder, kind, targetType, targetID string, payload, result any) (*Task, error) {
	t, err := s.newTask(ctx, kind, targetType, targetID, payload)
	if err != nil {
		return nil, err
	}
	if t.Result, err = json.Marshal(result); err != nil {
		return nil, fmt.Errorf("encode task result: %w", err)
	}
	t.Status, t.Progress, t.StartedAt, t.FinishedAt = TaskSuccess, 100, &t.RunAt, &t.RunAt
	return t, q.CreateTask(ctx, t)
}

func (s *Service) newTask(ctx context.Context, kind, targetType, targetID string, payload any) (*Task, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("encode task payload: %w", err)
	}
	return &Task{
		ID: NewID(), Kind: kind, Status: TaskPending, Payload: b, MaxAttempts: 5,
		RunAt: s.Now().UTC(), Creator: ActorFrom(ctx).Name,
		TargetType: targetType, TargetID: targetID,
	}, nil
}

// Change runs fn in one transaction of t, with its queries as the caller's
// own interface Q (InTx), and, when fn enqueued a task (or another change did
// meanwhile), wakes s's task runner after the commit, so that the task starts
// at once.
func Change[Q any](ctx context.Context, s *Service, t Transactor, fn func(q Q) error) error {
	before := s.enqueued.Load()
	if err := InTx(ctx, t, fn); err != nil {
		return err
	}
	if s.enqueued.Load() != before {
		s.Wake()
	}
	return nil
}

func (s *Service) RuntimeFor(srv *Server) (Runtime, error) {
	rt, ok := s.Runtimes[srv.Runtime]
	if !ok {
		return nil, Errorf(KindUnavailable, "runtime %q of server %s is not available", srv.Runtime, srv.Name)
	}
	return rt, nil
}

func Ptr[T any](v T) *T { return &v }

// Dedupe returns ids without repeats, in their first order.
func Dedupe(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
