package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"hostdeck/core"
)

// attempt is one claimed attempt of a task, from its claim until its outcome is
// recorded or it is given up.
type attempt struct {
	t     *core.Task
	start time.Time // when its worker took it

	// Guarded by mu: running is true while the handler runs, and only then may
	// cancel end its context.
	mu      sync.Mutex
	running bool
	cancel  context.CancelCauseFunc

	// The lease, kept by the lease keeper alone (lease.go): heldUntil by the
	// monotonic clock, renewedAt the last renewal (or the claim).
	heldUntil, renewedAt time.Time
	revoked, lostLease   bool

	// The handler's progress: the latest report, whether it is still to be
	// written, and the last write (at first the start).
	pmu       sync.Mutex
	lastWrite time.Time
	pending   bool
	progress  core.TaskProgress

	o    core.TaskOutcome // to record
	herr error            // the handler's error, for the log
}

// execute runs attempt a on a worker: the handler (on work), or it settles an
// outcome that needs none; then it hands a back, with the outcome for Run to
// record. The store is called on bg.
func (r *Runner) execute(work, bg context.Context, current *atomic.Pointer[attempt], a *attempt) {
	t := a.t
	a.start = time.Now()
	if work.Err() != nil {
		// Claimed as shutdown began and not started: released with the rest.
		r.relsd.Add(1)
		r.handBack(a, false)
		return
	}
	if t.MaxAttempts <= 0 {
		t.MaxAttempts = defaultMaxAttempts
	}
	switch h := r.handlers[t.Kind]; {
	case t.CancelRequested:
		// Cancelled while its previous worker held it, and that worker died.
		a.o = core.TaskOutcome{Status: core.TaskRevoked, Error: "revoked by request"}
	case t.Attempts > t.MaxAttempts:
		// Every attempt so far was claimed and never finished: each time the
		// process running it died. Running it again would likely kill this one.
		a.o = core.TaskOutcome{Status: core.TaskFailure, Error: fmt.Sprintf("abandoned after %d attempts: worker lost", t.Attempts-1)}
	case h == nil:
		a.o = core.TaskOutcome{Status: core.TaskFailure, Error: fmt.Sprintf("unknown task kind %q", t.Kind)}
	default:
		if !r.attempt(work, bg, current, a, h) {
			r.handBack(a, false)
			return
		}
	}
	a.o.ID = t.ID
	r.handBack(a, true)
}

// attempt runs handler h on a's task while the lease keeper keeps its lease, and
// sets a.o to the outcome to record and a.herr to the handler's error. It
// returns false when no outcome may be recorded: the lease was lost (another
// worker owns the task) or the runner is shutting down (the task is released
// instead).
func (r *Runner) attempt(work, bg context.Context, current *atomic.Pointer[attempt], a *attempt, h core.TaskFunc) bool {
	t := a.t
	ctx, cancel := context.WithCancelCause(work)
	defer cancel(nil)
	a.lastWrite = a.start // guarded by a.pmu once the handler runs
	a.mu.Lock()
	a.running, a.cancel = true, cancel
	a.mu.Unlock()
	current.Store(a)
	r.running.Add(1)
	result, err := r.call(ctx, t, h, func(pct int, msg string) { r.report(bg, a, pct, msg) })
	r.running.Add(-1)
	current.Store(nil)
	a.mu.Lock()
	a.running = false // the keeper cancels no more: the cause is settled
	a.mu.Unlock()

	cause := context.Cause(ctx)
	if cause == errLeaseLost {
		r.lost.Add(1)
		r.log.Warn("task lease lost; outcome not recorded", "kind", t.Kind, "id", t.ID, "attempts", t.Attempts, "err", err)
		return false
	}
	a.pmu.Lock()
	if a.pending {
		p := a.progress
		a.o.Progress, a.pending = &p, false
	}
	a.pmu.Unlock()
	a.herr = err
	if err == nil {
		// The work is done, so say so even if a revocation or shutdown came too
		// late to stop it.
		a.o.Status = core.TaskSuccess
		if result != nil {
			b, err := json.Marshal(result)
			if err != nil {
				a.herr = fmt.Errorf("encode result: %w", err)
				a.o.Status, a.o.Error = core.TaskFailure, a.herr.Error()
				return true
			}
			a.o.Result = b
		}
		return true
	}
	switch cause {
	case errRevoked:
		a.o.Status, a.o.Error = core.TaskRevoked, "revoked by request"
		return true
	case errShutdown:
		r.relsd.Add(1)
		r.log.Info("task stopped by shutdown; released", "kind", t.Kind, "id", t.ID, "attempts", t.Attempts, "err", err)
		return false
	}
	var pe panicError
	if errors.As(err, &pe) {
		a.o.Status, a.o.Error = core.TaskFailure, err.Error()
		return true
	}
	a.o.Error = errorText(err)
	if core.IsPermanent(err) || t.Attempts >= t.MaxAttempts {
		a.o.Status = core.TaskFailure
		return true
	}
	a.o.Status, a.o.RunAt = core.TaskRetry, r.o.Clock().Add(r.o.Backoff(t.Attempts))
	return true
}

// errorText is what a task records of err. A task's Error is read by operators,
// so internal errors keep their detail; other kinds keep their client-safe message.
func errorText(err error) string {
	if core.ErrorKind(err) == core.KindInternal {
		return err.Error()
	}
	return core.ErrorMessage(err)
}

type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprintf("panic: %v", p.v) }

// call runs h, turning a panic into an error and logging its stack.
func (r *Runner) call(ctx context.Context, t *core.Task, h core.TaskFunc, progress func(int, string)) (result any, err error) {
	defer func() {
		if v := recover(); v != nil {
			r.log.Error("task handler panicked", "kind", t.Kind, "id", t.ID, "panic", v, "stack", string(debug.Stack()))
			result, err = nil, panicError{v}
		}
	}()
	return h(ctx, t, progress)
}

// report records a handler's progress. A report is written when the last write
// (or the start, for the first) is progressEvery old; else it waits, for the
// lease keeper to write it once it is (lease.go) or for the outcome, which
// carries the latest. A task that ends within progressEvery writes no progress
// of its own.
func (r *Runner) report(bg context.Context, a *attempt, pct int, msg string) {
	pct = max(0, min(100, pct))
	a.pmu.Lock()
	defer a.pmu.Unlock()
	a.progress, a.pending = core.TaskProgress{Percent: pct, Message: msg}, true
	r.writeProgressLocked(bg, a)
}

// writeProgressLocked writes a's pending report if its last write is
// progressEvery old. a.pmu is held.
func (r *Runner) writeProgressLocked(bg context.Context, a *attempt) {
	if !a.pending || time.Since(a.lastWrite) < progressEvery {
		return
	}
	a.pending, a.lastWrite = false, time.Now()
	ctx, cancel := context.WithTimeout(bg, storeTimeout)
	defer cancel()
	if err := r.store.SetTaskProgress(ctx, a.t.ID, r.o.Owner, a.progress.Percent, a.progress.Message); err != nil {
		r.log.Warn("set task progress", "kind", a.t.Kind, "id", a.t.ID, "err", err)
	}
}
