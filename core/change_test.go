package core_test

import (
	"context"
	"fmt"
	"testing"

	"hostdeck/core"
)

// recorder is a transaction that keeps the tasks written to it.
type recorder struct{ tasks []*core.Task }

func (r *recorder) AddAudit(context.Context, *core.AuditEvent) error { return nil }
func (r *recorder) CreateTask(_ context.Context, t *core.Task) error {
	r.tasks = append(r.tasks, t)
	return nil
}
func (r *recorder) Transact(_ context.Context, fn func(tx any) error) error { return fn(r) }

// TestChangeWakesForTasks: a change wakes the task runner when it enqueued a
// task, and only then (a claim is a write: a change that gives the runner
// nothing to do does not make it claim).
func TestChangeWakesForTasks(t *testing.T) {
	ctx := context.Background()
	wakes := 0
	s := core.New(core.Deps{Wake: func() { wakes++ }}, core.Config{})
	r := &recorder{}
	change := func(fn func(q core.Recorder) error) error { return core.Change(ctx, s, r, fn) }
	if err := change(func(q core.Recorder) error { return s.Audit(ctx, q, "x.change", "x", "1", nil) }); err != nil || wakes != 0 {
		t.Fatalf("a change without a task: %v, %d wakes", err, wakes)
	}
	if err := change(func(q core.Recorder) error {
		_, err := s.RecordDone(ctx, q, "x.done", "x", "1", nil, nil)
		return err
	}); err != nil || wakes != 0 {
		t.Fatalf("a change recording a task done: %v, %d wakes", err, wakes)
	}
	if err := change(func(q core.Recorder) error {
		_, err := s.Enqueue(ctx, q, "x.run", "x", "1", nil)
		return err
	}); err != nil || wakes != 1 || len(r.tasks) != 2 {
		t.Fatalf("a change enqueuing a task: %v, %d wakes, %d tasks", err, wakes, len(r.tasks))
	}
	if err := change(func(q core.Recorder) error {
		if _, err := s.Enqueue(ctx, q, "x.run", "x", "1", nil); err != nil {
			return err
		}
		return fmt.Errorf("rolled back")
	}); err == nil || wakes != 1 {
		t.Fatalf("a change that failed: %v, %d wakes", err, wakes)
	}
}
