package task

import (
	"context"
	"log/slog"
	"time"

	"hostdeck/core"
)

// recordWaiting records the outcomes waiting in r.outcomes, all in one write.
func (r *Runner) recordWaiting(bg context.Context) {
	batch := r.batch[:0]
	for more := true; more; {
		select {
		case a := <-r.outcomes:
			batch = append(batch, a)
		default:
			more = false
		}
	}
	if len(batch) == 0 {
		return
	}
	outs := r.outs[:0]
	for _, a := range batch {
		outs = append(outs, a.o)
	}
	r.record(bg, batch, outs)
	clear(batch)
	clear(outs)
	r.batch, r.outs = batch[:0], outs[:0]
}

// record writes the outcomes outs of batch and logs each. A transient store
// error is retried a few times: left unrecorded, a task would run again once
// its lease ran out.
func (r *Runner) record(bg context.Context, batch []*attempt, outs []core.TaskOutcome) {
	var (
		lost []string
		err  error
	)
	for try := 0; try < 3; try++ {
		if try > 0 {
			time.Sleep(time.Duration(try) * 200 * time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(bg, storeTimeout)
		lost, err = r.store.FinishTasks(ctx, r.o.Owner, outs, r.o.Clock())
		cancel()
		if err == nil || core.ErrorKind(err) == core.KindInvalid {
			break
		}
	}
	var gone map[string]bool
	if len(lost) > 0 {
		gone = make(map[string]bool, len(lost))
		for _, id := range lost {
			gone[id] = true
		}
	}
	for _, a := range batch {
		switch {
		case err != nil:
			r.notRecorded(a, err)
		case gone[a.t.ID]:
			r.notRecorded(a, core.Errorf(core.KindConflict, "task %s is not leased to %s", a.t.ID, r.o.Owner))
		default:
			r.recorded(a)
		}

	}
}

func (r *Runner) notRecorded(a *attempt, err error) {
	r.lost.Add(1)
	r.log.Error("record task outcome", "kind", a.t.Kind, "id", a.t.ID, "attempts", a.t.Attempts,
		"duration", time.Since(a.start), "status", a.o.Status, "outcome_err", a.herr, "err", err)
}

// recorded counts a's outcome and logs it, one line per task.
func (r *Runner) recorded(a *attempt) {
	level := slog.LevelInfo
	switch a.o.Status {
	case core.TaskSuccess:
		r.succeeded.Add(1)
	case core.TaskRetry:
		r.retried.Add(1)
		level = slog.LevelWarn
	case core.TaskFailure:
		r.failed.Add(1)
		level = slog.LevelError
	case core.TaskRevoked:
		r.revoked.Add(1)
	}
	ctx := context.Background()
	if !r.log.Enabled(ctx, level) {
		return
	}
	attrs := []any{"kind", a.t.Kind, "id", a.t.ID, "attempts", a.t.Attempts, "duration", time.Since(a.start)}
	if a.o.Status == core.TaskRetry {
		attrs = append(attrs, "retry_at", a.o.RunAt)
	}
	attrs = append(attrs, "status", a.o.Status)
	if a.herr != nil {
		attrs = append(attrs, "err", a.herr)
	} else if a.o.Error != "" {
		attrs = append(attrs, "err", a.o.Error)
	}
	r.log.Log(ctx, level, "task finished", attrs...)
}
