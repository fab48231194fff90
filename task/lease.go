package task

import (
	"context"
	"time"

	"hostdeck/core"
)

// keepLeases renews the leases of the running tasks until stop is closed: one
// goroutine for them all, looking every Lease/6 (or progressEvery, if less) and
// renewing each lease a third of a lease after its last renewal (or its claim),
// so that a renewal that fails has two more chances before the lease runs out.
// It cancels a handler with errRevoked when its task is asked to stop, and with
// errLeaseLost when the store says another owner holds the task or when
// renewals kept failing until the lease ran out. On the way it writes the
// progress reports that have waited long enough (report).
func (r *Runner) keepLeases(bg context.Context, stop <-chan struct{}) {
	tick := time.NewTicker(min(r.o.Lease/6, progressEvery))
	defer tick.Stop()
	var running []*attempt
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		running = running[:0]
		for i := range r.current {
			if a := r.current[i].Load(); a != nil && !a.lostLease {
				running = append(running, a)
			}
		}
		for _, a := range running {
			select {
			case <-stop:
				return
			default:
			}
			if time.Since(a.renewedAt) >= r.o.Lease/3 {
				r.renew(bg, a)
			}
			a.pmu.Lock()
			r.writeProgressLocked(bg, a)
			a.pmu.Unlock()
		}
		clear(running)
	}
}

// renew renews a's lease once.
func (r *Runner) renew(bg context.Context, a *attempt) {
	t := a.t
	asked := time.Now()
	// A renewal is worth waiting for as long as the lease held so far lasts.
	ctx, cancel := context.WithDeadline(bg, a.heldUntil)
	got, err := r.store.ExtendTaskLease(ctx, t.ID, r.o.Owner, r.o.Clock().Add(r.o.Lease))
	cancel()
	switch core.ErrorKind(err) {
	case "":
		a.heldUntil, a.renewedAt = asked.Add(r.o.Lease), asked
		if got.CancelRequested && !a.revoked {
			a.revoked = true
			r.log.Info("task revoked; cancelling handler", "kind", t.Kind, "id", t.ID)
			r.cancelAttempt(a, errRevoked)
		}
	case core.KindConflict, core.KindNotFound:
		a.lostLease = true
		r.cancelAttempt(a, errLeaseLost)
	default:
		r.log.Warn("extend task lease", "kind", t.Kind, "id", t.ID, "err", err)
		if time.Now().After(a.heldUntil) {
			a.lostLease = true
			r.cancelAttempt(a, errLeaseLost)
		}
	}
}

// cancelAttempt ends a's handler context with cause, if the handler still runs.
func (r *Runner) cancelAttempt(a *attempt, cause error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running {
		a.cancel(cause)
	}
}
