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
//
// Claims and outcomes go to the store in batches: one claim for as many tasks
// as there are free workers, one write for every outcome waiting. A task is done
// once the write of its outcome has returned, never before: a crash before it
// runs the task again when its lease runs out, as a crash during its handler
// would, and a task whose outcome is written is never claimed again.
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
	// gatherDelay bounds how long Run waits for the busy workers to hand back
	// their tasks, once the first has (Runner.gather).
	gatherDelay = 200 * time.Microsecond
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
	// ran out (their worker died), earliest RunAt first. Claimed tasks become
	// STARTED with Attempts incremented. On PostgreSQL concurrent claimers never
	// get the same task (SKIP LOCKED).
	ClaimTasks(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*core.Task, error)
	// ExtendTaskLease renews the lease and returns the task (to see
	// CancelRequested); KindConflict if owner no longer holds it.
	ExtendTaskLease(ctx context.Context, id, owner string, until time.Time) (*core.Task, error)
	// SetTaskProgress records progress while owner holds the lease.
	SetTaskProgress(ctx context.Context, id, owner string, progress int, message string) error
	// FinishTasks records the outcomes of attempts owner holds, together (one
	// write for the lot on both stores). A task owner no longer holds (its lease
	// ran out and another worker took it over) is left as it is and its ID
	// returned in lost. A status that does not end an attempt is KindInvalid and
	// nothing is recorded.
	FinishTasks(ctx context.Context, owner string, outcomes []core.TaskOutcome, now time.Time) (lost []string, err error)
	// ReleaseTasks hands owner's STARTED tasks back (PENDING, lease cleared,
	// the attempt not counted) so that the next start runs them: graceful
	// shutdown.
	ReleaseTasks(ctx context.Context, owner string, now time.Time) error
}

// Runner claims and runs tasks. Create it with New and start it with Run.
//
// Inside, Run's goroutine claims tasks, as many at a time as there are free
// workers, hands them to Workers long-lived worker goroutines and records the
// outcomes they hand back, all that are waiting in one write (finish.go), so
// that under load one claim and one write serve many tasks each; one more
// goroutine keeps the leases of the running tasks (lease.go).
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

	jobs     chan *attempt // claimed attempts, for the workers
	outcomes chan *attempt // attempts whose outcome is to be recorded
	// busy counts the attempts claimed and not yet handed back by a worker (with
	// an outcome, or none): at most Workers. handedIn wakes Run when a worker
	// hands one back.
	busy      atomic.Int64
	handedIn  chan struct{}
	gathering atomic.Bool // Run waits in gather for the busy to hand back

	// current holds, per worker, the attempt whose handler it runs (nil when
	// none): what the lease keeper renews and shutdown names.
	current []atomic.Pointer[attempt]

	// Run's goroutine's buffers for recording outcomes (finish.go).
	batch []*attempt
	outs  []core.TaskOutcome

	running                                                   atomic.Int64
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
		jobs:     make(chan *attempt, o.Workers),
		outcomes: make(chan *attempt, 2*o.Workers), // see Run

		handedIn: make(chan struct{}, 1),
		current:  make([]atomic.Pointer[attempt], o.Workers),
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
// the running handlers, waits for them (at most Options.Grace), records the
// outcomes they reached and hands the other tasks back to the store. It returns
// nil after a clean shutdown and an error only if the tasks could not be handed
// back. Call Run once.
func (r *Runner) Run(ctx context.Context) error {
	r.log.Info("task runner started", "workers", r.o.Workers, "lease", r.o.Lease, "poll", r.o.Poll)
	// Handlers run on work, which outlives ctx until shutdown cancels it with
	// errShutdown; store calls made for a task run on bg, which shutdown does not
	// cancel, so an outcome already reached is still recorded.
	bg := context.WithoutCancel(ctx)
	work, stop := context.WithCancelCause(bg)
	defer stop(nil)

	var workers sync.WaitGroup
	for i := range r.o.Workers {
		workers.Go(func() {
			for a := range r.jobs {
				r.execute(work, bg, &r.current[i], a)
			}
		})
	}
	keeperStop, keeperDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(keeperDone)
		r.keepLeases(bg, keeperStop)
	}()
	stopKeeper := func() {
		close(keeperStop)
		<-keeperDone
	}

	tick := time.NewTicker(r.o.Poll)
	defer tick.Stop()

	// Each turn claims as many tasks as there are free workers, in one write,
	// then records the outcomes waiting, all in one write: under load each
	// write serves as many tasks as there are workers, and the workers run what
	// was just claimed while the outcomes are written. (The outcomes handed in
	// between two turns are of tasks running at the first or claimed by the
	// second: at most 2×Workers, cap(outcomes).)
	//
	// claim says whether to ask the store for tasks; more, whether the last claim
	// filled every free worker, so that more tasks may be waiting. A finished
	// task frees a worker, but only when more is true is it worth claiming for at
	// once: a claim is a write, and on SQLite writes are serial.
	claim, more := true, false
	gather := time.NewTimer(time.Hour)
	defer gather.Stop()
	for {
		r.schedule(ctx)
		if free := r.o.Workers - int(r.busy.Load()); claim && free > 0 && ctx.Err() == nil {
			more, claim = r.claim(ctx, free), false
		}
		r.recordWaiting(bg)
		select {
		case <-ctx.Done():
			return r.shutdown(bg, stop, &workers, stopKeeper)
		case <-tick.C:
			claim = true
		case <-r.wake:
			claim = true
		case <-r.handedIn:
			claim = claim || more
			r.gather(gather)
		}
	}
}

// gather waits, while workers are busy and at most gatherDelay, for them to
// hand their tasks back. Woken by the first of several workers that finish
// together, a turn would otherwise record that one outcome and claim for that
// one worker, and the others would each have a write and a claim of their own:
// at a small cost in latency (the delay is spent only while workers are busy,
// and only once per turn), outcomes that come together are recorded together.
// It is PostgreSQL's commit_delay, for the outcomes of tasks.
func (r *Runner) gather(timer *time.Timer) {
	if r.busy.Load() == 0 {
		return
	}
	// Meanwhile only the last worker to hand back wakes this goroutine: one
	// switch rather than one per worker.
	r.gathering.Store(true)
	defer r.gathering.Store(false)
	timer.Reset(gatherDelay)
	defer timer.Stop()
	for r.busy.Load() > 0 {
		select {
		case <-r.handedIn:
		case <-timer.C:
			return
		}
	}
}

// claim claims up to free tasks and hands them to the workers. It says whether
// it got as many as it asked for.
func (r *Runner) claim(ctx context.Context, free int) bool {
	claimedAt := time.Now()
	tasks, err := r.store.ClaimTasks(ctx, r.o.Owner, r.o.Clock(), r.o.Lease, free)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error("claim tasks", "err", err)
		}
		return false
	}
	if len(tasks) == 0 {
		return false
	}
	r.busy.Add(int64(len(tasks)))
	r.claimed.Add(uint64(len(tasks)))
	as := make([]attempt, len(tasks)) // one allocation for the lot
	for i, t := range tasks {
		a := &as[i]
		a.t, a.heldUntil, a.renewedAt = t, claimedAt.Add(r.o.Lease), claimedAt
		r.jobs <- a // never blocks: busy ≤ Workers = cap(jobs)
	}
	return len(tasks) == free
}

// handBack frees a's worker: its handler has returned or will not run. An
// outcome to record goes to Run with it.
func (r *Runner) handBack(a *attempt, outcome bool) {
	if outcome {
		r.outcomes <- a // never blocks: see Run
	}
	if r.busy.Add(-1) > 0 && r.gathering.Load() {
		return
	}
	select {
	case r.handedIn <- struct{}{}:
	default:
	}
}

func (r *Runner) shutdown(bg context.Context, stop context.CancelCauseFunc, workers *sync.WaitGroup, stopKeeper func()) error {
	stop(errShutdown)
	close(r.jobs)
	finished := make(chan struct{})
	go func() {
		workers.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(r.o.Grace):
		// Their tasks are released anyway; whatever such a handler later records
		// is refused because the lease is gone. Each is named, so that an
		// operator can find the handler that ignores its context.
		r.log.Warn("task handlers still running after grace period", "running", r.running.Load(), "grace", r.o.Grace)
		for i := range r.current {
			if a := r.current[i].Load(); a != nil {
				r.log.Warn("task abandoned at shutdown: its handler ignored the cancelled context; released for the next start",
					"kind", a.t.Kind, "id", a.t.ID, "attempts", a.t.Attempts)
			}
		}
	}
	stopKeeper()
	// Record the outcomes reached so far before the release, which would
	// otherwise hand finished work back to be run again. An abandoned handler's
	// outcome, if it ever comes, stays in r.outcomes unrecorded: the release
	// ends its lease, so the store would refuse it anyway.
	r.recordWaiting(bg)
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
