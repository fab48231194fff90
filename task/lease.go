package task

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"hostdeck/core"
)

// keepLease renews t's lease every Lease/3 until stop is closed. It cancels the
// handler with errRevoked when the task is asked to stop, and with errLeaseLost
// when the store says another owner holds it or when renewals kept failing until
// the lease ran out.
func (r *Runner) keepLease(ctx context.Context, t *core.Task, cancel context.CancelCauseFunc, claimedAt time.Time, stop <-chan struct{}) {
	every := r.o.Lease / 3
	tick := time.NewTicker(every)
	defer tick.Stop()
	heldUntil := claimedAt.Add(r.o.Lease) // by the monotonic clock
	revoked := false
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		asked := time.Now()
		// A renewal is worth waiting for as long as the lease held so far lasts.
		cctx, ccancel := context.WithDeadline(ctx, heldUntil)
		got, err := r.store.ExtendTaskLease(cctx, t.ID, r.o.Owner, r.o.Clock().Add(r.o.Lease))
		ccancel()
		switch core.ErrorKind(err) {
		case "":
			heldUntil = asked.Add(r.o.Lease)
			if got.CancelRequested && !revoked {
				revoked = true
				r.log.Info("task revoked; cancelling handler", "kind", t.Kind, "id", t.ID)
				cancel(errRevoked)
			}
		case core.KindConflict, core.KindNotFound:
			cancel(errLeaseLost)
			return
		default:
			r.log.Warn("extend task lease", "kind", t.Kind, "id", t.ID, "err", err)
			if time.Now().After(heldUntil) {
				cancel(errLeaseLost)
				return
			}
		}
	}
}

// progress records a handler's progress reports, at most one write per
// progressEvery; the latest report is kept and flushed before the outcome.
type progress struct {
	r   *Runner
	ctx context.Context
	t   *core.Task

	mu      sync.Mutex
	last    time.Time
	pending bool
	pct     int
	msg     string
}

func (p *progress) report(pct int, msg string) {
	pct = max(0, min(100, pct))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pct, p.msg, p.pending = pct, msg, true
	if time.Since(p.last) >= progressEvery {
		p.writeLocked()
	}
}

func (p *progress) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending {
		p.writeLocked()
	}
}

func (p *progress) writeLocked() {
	p.pending = false
	p.last = time.Now()
	ctx, cancel := context.WithTimeout(p.ctx, storeTimeout)
	defer cancel()
	if err := p.r.store.SetTaskProgress(ctx, p.t.ID, p.r.o.Owner, p.pct, p.msg); err != nil {
		p.r.log.Warn("set task progress", "kind", p.t.Kind, "id", p.t.ID, "err", err)
	}
}

// finish records the outcome o of t's attempt and logs it. A transient store
// error is retried a few times: left unrecorded, the task would run again once
// its lease ran out.
func (r *Runner) finish(ctx context.Context, t *core.Task, o core.TaskOutcome, herr error, start time.Time) {
	var err error
	for try := 0; try < 3; try++ {
		if try > 0 {
			time.Sleep(time.Duration(try) * 200 * time.Millisecond)
		}
		fctx, cancel := context.WithTimeout(ctx, storeTimeout)
		err = r.store.FinishTask(fctx, t.ID, r.o.Owner, o, r.o.Clock())
		cancel()
		if err == nil || core.ErrorKind(err) == core.KindConflict {
			break
		}
	}
	attrs := []any{"kind", t.Kind, "id", t.ID, "attempts", t.Attempts, "duration", time.Since(start)}
	if err != nil {
		r.lost.Add(1)
		r.log.Error("record task outcome", append(attrs, "status", o.Status, "outcome_err", herr, "err", err)...)
		return
	}
	level := slog.LevelInfo
	switch o.Status {
	case core.TaskSuccess:
		r.succeeded.Add(1)
	case core.TaskRetry:
		r.retried.Add(1)
		level = slog.LevelWarn
		attrs = append(attrs, "retry_at", o.RunAt)
	case core.TaskFailure:
		r.failed.Add(1)
		level = slog.LevelError
	case core.TaskRevoked:
		r.revoked.Add(1)
	}
	attrs = append(attrs, "status", o.Status)
	if herr != nil {
		attrs = append(attrs, "err", herr)
	} else if o.Error != "" {
		attrs = append(attrs, "err", o.Error)
	}
	r.log.Log(context.Background(), level, "task finished", attrs...)
}
