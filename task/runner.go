// Package task runs hostdeck's durable tasks: it claims runnable tasks from the
// store under a lease, runs each with the handler registered for its kind, keeps
// the lease alive while the handler works, and records the outcome (success,
// retry with backoff, failure, revocation). It also enqueues periodic jobs once
// per time slot per cluster, however many replicas run a Runner.
//
// A crash loses nothing: a task whose worker died is claimed again when its lease
// runs out, and after too many lost attempts it fails with a reason instead of
// running forever. On graceful shutdown running tasks are handed back to the store
// so the next start runs them at once.
package task

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"hostdeck/core"
)

const (
	defaultWorkers     = 8
	defaultLease       = 30 * time.Second
	defaultPoll        = time.Second
	defaultGrace       = 10 * time.Second
	defaultMaxAttempts = 5

	// storeTimeout bounds one store call made on behalf of a task (finish,
	// progress, release), which run on contexts that shutdown does not cancel.
	storeTimeout = 10 * time.Second
	// progressEvery is the least time between two progress writes of one task.
	progressEvery = 500 * time.Millisecond
	// periodicAttempts is the MaxAttempts of periodic tasks: the next slot retries.
	periodicAttempts = 1
)

// Causes of a handler's context being cancelled.
var (
	errRevoked   = errors.New("task revoked")
	errLeaseLost = errors.New("task lease lost")
	errShutdown  = errors.New("task runner shutting down")
)

// Options configure a Runner. Zero fields take the defaults given.
type Options struct {
	// Owner names this runner in task leases; it must be unique per process.
	// Default: hostname-pid-random.
	Owner string
	// Workers is how many tasks run at once. Default 8.
	Workers int
	// Lease is how long a claim lasts; it is renewed every Lease/3 while a task
	// runs. Default 30s.
	Lease time.Duration
	// Poll is how often the store is asked for runnable tasks when nothing wakes
	// the runner sooner. Default 1s.
	Poll time.Duration
	// Backoff is the delay before retry number attempt (1 after the first failed
	// attempt). Default: 1s, 2s, 4s… capped at 5m, with ±20% jitter.
	Backoff func(attempt int) time.Duration
	// Grace bounds how long shutdown waits for handlers to return. A handler
	// still running then (one that ignores its context) is abandoned: its task
	// is logged by kind and ID and released all the same. Default 10s.
	Grace time.Duration
	// Clock is the time stamped on the store's records. Default time.Now.
	Clock func() time.Time
	// Log receives one line per finished task. Default: discarded.
	Log *slog.Logger
}

// Stats are a runner's counters since it was created.
type Stats struct {
	Running   int    // tasks being run now
	Claimed   uint64 // tasks claimed from the store
	Succeeded uint64
	Failed    uint64
	Retried   uint64
	Revoked   uint64
	Lost      uint64 // lease lost or outcome not recorded: another worker will run them
	Released  uint64 // stopped by shutdown and handed back
}

// Store is what the runner asks of the store. Errors are *core.Error kinds.
type Store interface {
	// CreateTask stores t (the periodic jobs' tasks); a Key that another task
	// holds is KindConflict.
	CreateTask(ctx context.Context, t *core.Task) error
	// ClaimTasks leases up to limit runnable tasks to owner until now+lease:
	// PENDING or RETRY tasks whose RunAt has come, and STARTED tasks whose lease
	// ran out (their worker died). Claimed tasks become STARTED with Attempts
	// incremented. On PostgreSQL concurrent claimers never get the same task
	// (SKIP LOCKED).
	ClaimTasks(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*core.Task, error)
	// ExtendTaskLease renews the lease and returns the task (to see
	// CancelRequested); KindConflict if owner no longer holds it.
	ExtendTaskLease(ctx context.Context, id, owner string, until time.Time) (*core.Task, error)
	// SetTaskProgress records progress while owner holds the lease.
	SetTaskProgress(ctx context.Context, id, owner string, progress int, message string) error
	// FinishTask records the outcome of the attempt owner holds; KindConflict
	// if the lease was lost.
	FinishTask(ctx context.Context, id, owner string, o core.TaskOutcome, now time.Time) error
	// ReleaseTasks hands owner's STARTED tasks back (PENDING, lease cleared,
	// the attempt not counted) so that the next start runs them: graceful
	// shutdown.
	ReleaseTasks(ctx context.Context, owner string, now time.Time) error
}

// Runner claims and runs tasks. Create it with New and start it with Run.
type Runner struct {
	store    Store
	handlers map[string]core.TaskFunc
	periodic []core.PeriodicJob
	o        Options
	log      *slog.Logger
	wake     chan struct{}

	// slots holds, per periodic kind, the latest slot known to have its task.
	// Only Run's goroutine touches it.
	slots map[string]time.Time

	running                                                   atomic.Int64
	inflight                                                  sync.Map // task ID → *core.Task, while its attempt runs
	claimed, succeeded, failed, retried, revoked, lost, relsd atomic.Uint64
}

// New returns a Runner that runs tasks of store with handlers (by task kind) and
// enqueues the periodic jobs.
func New(store Store, handlers map[string]core.TaskFunc, periodic []core.PeriodicJob, o Options) *Runner {
	if o.Owner == "" {
		o.Owner = defaultOwner()
	}
	if o.Workers <= 0 {
		o.Workers = defaultWorkers
	}
	if o.Lease <= 0 {
		o.Lease = defaultLease
	}
	if o.Poll <= 0 {
		o.Poll = defaultPoll
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.Grace <= 0 {
		o.Grace = defaultGrace
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	hs := make(map[string]core.TaskFunc, len(handlers))
	for k, h := range handlers {
		hs[k] = h
	}
	var jobs []core.PeriodicJob
	for _, j := range periodic {
		if j.Every <= 0 {
			o.Log.Error("periodic job ignored: period must be positive", "kind", j.Kind, "every", j.Every)
			continue
		}
		jobs = append(jobs, j)
	}
	return &Runner{
		store:    store,
		handlers: hs,
		periodic: jobs,
		o:        o,
		log:      o.Log.With("owner", o.Owner),
		wake:     make(chan struct{}, 1),
		slots:    make(map[string]time.Time),
	}
}

// DefaultBackoff waits 1s after the first failed attempt, doubling each time up to
// 5 minutes, spread by ±20% so that tasks failing together do not retry together.
func DefaultBackoff(attempt int) time.Duration {
	const base, max = time.Second, 5 * time.Minute
	d := max
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 20 {
		d = min(base<<(attempt-1), max)
	}
	return time.Duration(float64(d) * (0.8 + 0.4*mrand.Float64()))
}

func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Owner is the name this runner holds leases under.
func (r *Runner) Owner() string { return r.o.Owner }

// Wake makes the runner look for tasks now instead of at its next poll. It never
// blocks; call it after committing a task.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Stats returns the runner's counters.
func (r *Runner) Stats() Stats {
	return Stats{
		Running:   int(r.running.Load()),
		Claimed:   r.claimed.Load(),
		Succeeded: r.succeeded.Load(),
		Failed:    r.failed.Load(),
		Retried:   r.retried.Load(),
		Revoked:   r.revoked.Load(),
		Lost:      r.lost.Load(),
		Released:  r.relsd.Load(),
	}
}

// Run claims and runs tasks until ctx is done. It then stops claiming, cancels
// the running handlers, waits for them (at most Options.Grace) and hands their
// tasks back to the store. It returns nil after a clean shutdown and an error
// only if the tasks could not be handed back. Call Run once.
func (r *Runner) Run(ctx context.Context) error {
	r.log.Info("task runner started", "workers", r.o.Workers, "lease", r.o.Lease, "poll", r.o.Poll)
	// Handlers run on work, which outlives ctx until shutdown cancels it with
	// errShutdown; store calls made for a task run on bg, which shutdown does not
	// cancel, so an outcome already reached is still recorded.
	bg := context.WithoutCancel(ctx)
	work, stop := context.WithCancelCause(bg)
	defer stop(nil)

	var wg sync.WaitGroup
	done := make(chan struct{}, r.o.Workers)
	free := r.o.Workers
	tick := time.NewTicker(r.o.Poll)
	defer tick.Stop()

	// claim says whether to ask the store for tasks; more, whether the last claim
	// filled every free slot, so that more tasks may be waiting. A finished task
	// frees a slot, but only when more is true is it worth claiming for at once:
	// a claim is a write, and on SQLite writes are serial.
	claim, more := true, false
	for {
		r.schedule(ctx)
		if claim && free > 0 && ctx.Err() == nil {
			claimedAt := time.Now()
			n := free
			tasks, err := r.store.ClaimTasks(ctx, r.o.Owner, r.o.Clock(), r.o.Lease, n)
			if err != nil && ctx.Err() == nil {
				r.log.Error("claim tasks", "err", err)
			}
			more = err == nil && len(tasks) == n
			for _, t := range tasks {
				free--
				r.claimed.Add(1)
				r.running.Add(1)
				r.inflight.Store(t.ID, t)
				wg.Go(func() {
					defer func() {
						r.inflight.Delete(t.ID)
						r.running.Add(-1)
						done <- struct{}{}
					}()
					r.execute(work, bg, t, claimedAt)
				})
			}
		}
		select {
		case <-ctx.Done():
			return r.shutdown(bg, stop, &wg)
		case <-tick.C:
			claim = true
		case <-r.wake:
			claim = true
		case <-done:
			free++
			claim = more
		}
		for drained := false; !drained; {
			select {
			case <-done:
				free++
			default:
				drained = true
			}
		}
	}
}

func (r *Runner) shutdown(bg context.Context, stop context.CancelCauseFunc, wg *sync.WaitGroup) error {
	stop(errShutdown)
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(r.o.Grace):
		// Their tasks are released anyway; whatever such a handler later records
		// is refused because the lease is gone. Each is named, so that an
		// operator can find the handler that ignores its context.
		r.log.Warn("task handlers still running after grace period", "running", r.running.Load(), "grace", r.o.Grace)
		r.inflight.Range(func(_, v any) bool {
			t := v.(*core.Task)
			r.log.Warn("task abandoned at shutdown: its handler ignored the cancelled context; released for the next start",
				"kind", t.Kind, "id", t.ID, "attempts", t.Attempts)
			return true
		})
	}
	ctx, cancel := context.WithTimeout(bg, storeTimeout)
	defer cancel()
	if err := r.store.ReleaseTasks(ctx, r.o.Owner, r.o.Clock()); err != nil {
		r.log.Error("release tasks", "err", err)
		return fmt.Errorf("release tasks: %w", err)
	}
	r.log.Info("task runner stopped")
	return nil
}

// schedule enqueues the task of the current slot of every periodic job that does
// not have it yet. A KindConflict on the slot's key means another replica, or an
// earlier tick, already did.
func (r *Runner) schedule(ctx context.Context) {
	if len(r.periodic) == 0 || ctx.Err() != nil {
		return
	}
	now := r.o.Clock()
	for _, j := range r.periodic {
		slot := now.Truncate(j.Every)
		if r.slots[j.Kind].Equal(slot) {
			continue
		}
		payload, _ := json.Marshal(struct {
			Slot time.Time `json:"slot"`
		}{slot.UTC()})
		t := &core.Task{
			Kind:        j.Kind,
			Key:         fmt.Sprintf("periodic:%s:%d", j.Kind, slot.Unix()),
			Payload:     payload,
			MaxAttempts: periodicAttempts,
			RunAt:       now,
			Creator:     "system",
		}
		err := r.store.CreateTask(ctx, t)
		switch {
		case err == nil:
			r.log.Debug("periodic task created", "kind", j.Kind, "id", t.ID, "slot", slot)
			r.Wake()
		case core.ErrorKind(err) == core.KindConflict:
		default:
			if ctx.Err() == nil {
				r.log.Error("create periodic task", "kind", j.Kind, "err", err)
			}
			continue // try again at the next tick
		}
		r.slots[j.Kind] = slot
	}
}

// execute runs one claimed attempt of t and records its outcome. Handlers run on
// work; the store is called on bg.
func (r *Runner) execute(work, bg context.Context, t *core.Task, claimedAt time.Time) {
	start := time.Now()
	if t.MaxAttempts <= 0 {
		t.MaxAttempts = defaultMaxAttempts
	}
	var (
		o    core.TaskOutcome
		herr error
	)
	switch h := r.handlers[t.Kind]; {
	case t.CancelRequested:
		// Cancelled while its previous worker held it, and that worker died.
		o = core.TaskOutcome{Status: core.TaskRevoked, Error: "revoked by request"}
	case t.Attempts > t.MaxAttempts:
		// Every attempt so far was claimed and never finished: each time the
		// process running it died. Running it again would likely kill this one.
		o = core.TaskOutcome{Status: core.TaskFailure, Error: fmt.Sprintf("abandoned after %d attempts: worker lost", t.Attempts-1)}
	case h == nil:
		o = core.TaskOutcome{Status: core.TaskFailure, Error: fmt.Sprintf("unknown task kind %q", t.Kind)}
	default:
		var recorded bool
		o, recorded, herr = r.attempt(work, bg, t, h, claimedAt)
		if !recorded {
			return
		}
	}
	r.finish(bg, t, o, herr, start)
}

// attempt runs handler h on t while keeping t's lease, and returns the outcome
// to record and the handler's error (for the log). recorded is false when no
// outcome may be recorded: the lease was lost (another worker owns the task) or
// the runner is shutting down (the task is released instead).
func (r *Runner) attempt(work, bg context.Context, t *core.Task, h core.TaskFunc, claimedAt time.Time) (o core.TaskOutcome, recorded bool, herr error) {
	ctx, cancel := context.WithCancelCause(work)
	defer cancel(nil)

	stopLease := make(chan struct{})
	leaseDone := make(chan struct{})
	go func() {
		defer close(leaseDone)
		r.keepLease(bg, t, cancel, claimedAt, stopLease)
	}()
	p := &progress{r: r, ctx: bg, t: t}
	result, err := r.call(ctx, t, h, p.report)
	close(stopLease)
	<-leaseDone

	cause := context.Cause(ctx)
	if cause == errLeaseLost {
		r.lost.Add(1)
		r.log.Warn("task lease lost; outcome not recorded", "kind", t.Kind, "id", t.ID, "attempts", t.Attempts, "err", err)
		return core.TaskOutcome{}, false, nil
	}
	p.flush()
	if err == nil {
		// The work is done, so say so even if a revocation or shutdown came too
		// late to stop it.
		o = core.TaskOutcome{Status: core.TaskSuccess}
		if result != nil {
			b, err := json.Marshal(result)
			if err != nil {
				err = fmt.Errorf("encode result: %w", err)
				return core.TaskOutcome{Status: core.TaskFailure, Error: err.Error()}, true, err
			}
			o.Result = b
		}
		return o, true, nil
	}
	switch cause {
	case errRevoked:
		return core.TaskOutcome{Status: core.TaskRevoked, Error: "revoked by request"}, true, err
	case errShutdown:
		r.relsd.Add(1)
		r.log.Info("task stopped by shutdown; released", "kind", t.Kind, "id", t.ID, "attempts", t.Attempts, "err", err)
		return core.TaskOutcome{}, false, nil
	}
	var pe panicError
	if errors.As(err, &pe) {
		return core.TaskOutcome{Status: core.TaskFailure, Error: err.Error()}, true, err
	}
	msg := errorText(err)
	if core.IsPermanent(err) || t.Attempts >= t.MaxAttempts {
		return core.TaskOutcome{Status: core.TaskFailure, Error: msg}, true, err
	}
	return core.TaskOutcome{Status: core.TaskRetry, Error: msg, RunAt: r.o.Clock().Add(r.o.Backoff(t.Attempts))}, true, err
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
