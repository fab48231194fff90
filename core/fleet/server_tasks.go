package fleet

import (
	"context"
	"errors"
	"fmt"
	"hostdeck/core"
	"hostdeck/core/instance"
	"slices"
	"strings"
	"time"
)

// registerTasks gives core's task runner the work behind the fleet's task
// kinds, and schedules reconciliation every reconcileEvery.
func (s *Service) registerTasks(reconcileEvery time.Duration) {
	s.Register(KindServerReboot, s.runServerReboot)
	s.Register(KindReconcile, s.runReconcile)
	s.RegisterPeriodic(core.PeriodicJob{Kind: KindReconcile, Every: reconcileEvery})
}

// Task kinds.
const (
	KindServerReboot = "server.reboot"
	KindReconcile    = "periodic.reconcile"
)

func (s *Service) runServerReboot(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	p, err := core.Decode[serverPayload](t)
	if err != nil {
		return nil, err
	}
	srv, err := s.store.GetServer(ctx, p.ServerID)
	if err != nil {
		return nil, err
	}
	rt, err := s.RuntimeFor(srv)
	if err != nil {
		return nil, err
	}
	load, err := core.CountLoad(ctx, s.store) // a row a server: the progress's total
	if err != nil {
		return nil, err
	}
	total := max(load[srv.ID], 1)
	// The instances the lifecycle lets reboot restart; the others (in rescue,
	// being built, already rebooting) are skipped, by name with their state.
	// The server's records are read a batch at a time.
	skipped := map[string]core.InstanceState{}
	var failed []string
	restarted, seen := 0, 0
	err = core.WalkInstances(ctx, s.store, srv.ID, reconcileBatch, func(insts []*core.Instance) error {
		for _, in := range insts {
			if in.State == core.StateDeleted {
				continue
			}
			seen++
			if _, err := instance.Lifecycle(in, instance.ActionReboot); err != nil || in.RuntimeRef == "" {
				skipped[in.Name] = in.State
				continue
			}
			progress(min(99, 100*(seen-1)/total), "restarting "+in.Name)
			err := s.inst.Restart(ctx, in, srv, rt)
			switch {
			case err == nil:
				restarted++
			case core.ErrorReason(err) == "invalid_state" && core.ErrorParams(err)["instance_id"] == in.ID:
				skipped[in.Name] = core.InstanceState(core.ErrorParams(err)["instance_status"]) // it went elsewhere meanwhile
			default:
				failed = append(failed, in.Name+": "+err.Error())
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(failed) > 0 {
		return nil, core.Permanent(fmt.Errorf("%d of %d instances did not come back: %s", len(failed), restarted+len(failed), strings.Join(failed, "; ")))
	}
	return map[string]any{"restarted": restarted, "skipped": skipped}, nil
}

// runReconcile compares every server's runtime with the records: it removes runtime
// instances that no live record owns, records the real state of the ones that are
// (active when healthy, error otherwise), flags records whose instance is gone, and
// takes each server's heartbeat.
func (s *Service) runReconcile(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	servers, _, err := s.store.ListServers(ctx, core.ServerFilter{})
	if err != nil {
		return nil, err
	}
	report := map[string]int{}
	for _, srv := range servers {
		if err := s.reconcileServer(ctx, srv, report); err != nil {
			s.Log.Warn("reconcile server", "server", srv.ID, "err", err)
			report["unreachable"]++
		}
	}
	return report, nil
}

// reconcileBatch is how many records reconciliation reads at once: its memory
// does not grow with the number of instances a server holds.
const reconcileBatch = 500

func (s *Service) reconcileServer(ctx context.Context, srv *core.Server, report map[string]int) error {
	rt, err := s.RuntimeFor(srv)
	if err != nil {
		return err
	}
	if load := s.probe(ctx, srv); !load.Reachable {
		return errors.New(load.Error)
	}
	seen, err := rt.List(ctx, srv)
	if err != nil {
		return err
	}
	// refs are the runtime instances live records own, by instance id; the
	// others are removed or left alone, their records read a batch at a time.
	refs := make(map[string]string, len(seen))
	for batch := range slices.Chunk(seen, reconcileBatch) {
		if err := s.sortOut(ctx, srv, rt, batch, refs, report); err != nil {
			return err
		}
	}
	seen = nil
	return core.WalkInstances(ctx, s.store, srv.ID, reconcileBatch, func(insts []*core.Instance) error {
		for _, in := range insts {
			if err := s.reconcileInstance(ctx, srv, rt, in, refs, report); err != nil {
				return err
			}
		}
		return nil
	})
}

// sortOut reads the records of a batch of a server's runtime instances in one
// query: those a live record of this server owns go into refs; those made for
// this server that no live record owns (or, made before instances carried
// their server, whose record is deleted) are orphans, removed; the rest are
// another install's or another server's on a shared engine, not ours.
func (s *Service) sortOut(ctx context.Context, srv *core.Server, rt core.Runtime, batch []core.RuntimeInstance, refs map[string]string, report map[string]int) error {
	ids := make([]string, 0, len(batch))
	for _, ri := range batch {
		if ri.InstanceID != "" {
			ids = append(ids, ri.InstanceID)
		}
	}
	recs, _, err := s.store.ListInstances(ctx, core.InstanceFilter{IDs: ids})
	if err != nil {
		return err
	}
	byID := make(map[string]*core.Instance, len(recs))
	for _, in := range recs {
		byID[in.ID] = in
	}
	for _, ri := range batch {
		if ri.ServerID != "" && ri.ServerID != srv.ID {
			continue // made for another server on the same engine: its own pass sees to it
		}
		in := byID[ri.InstanceID]
		switch {
		case in != nil && in.State != core.StateDeleted && in.ServerID == srv.ID:
			refs[in.ID] = ri.Ref
		case ri.ServerID == srv.ID || in != nil && in.State == core.StateDeleted:
			if err := rt.Delete(ctx, srv, ri.Ref); err != nil {
				return err
			}
			s.Log.Warn("reconcile: removed an instance no record owns", "server", srv.ID, "ref", ri.Ref, "name", ri.Name)
			report["orphans_removed"]++
		default:
			report["foreign"]++
		}
	}
	return nil
}

// reconcileInstance records what the runtime shows of one record's instance
// (refs: the runtime instances of the server's live records).
func (s *Service) reconcileInstance(ctx context.Context, srv *core.Server, rt core.Runtime, in *core.Instance, refs map[string]string, report map[string]int) error {
	// Where a task is at work (building, rebooting), in rescue (the runtime
	// shows the instance stopped) or deleted, the lifecycle refuses what
	// reconciliation saw.
	if _, err := instance.Lifecycle(in, instance.ActionSeenError); err != nil {
		return nil
	}
	action := instance.ActionSeenError
	if ref, ok := refs[in.ID]; ok {
		st, err := rt.Inspect(ctx, srv, ref)
		if err != nil {
			return nil
		}
		if action, ok = seenAction(st); !ok {
			return nil // passing through a state; the next pass looks again
		}
	} else {
		s.Log.Warn("reconcile: instance record has no runtime instance", "instance", in.ID, "server", srv.ID)
		report["missing"]++
	}
	if next, err := instance.Lifecycle(in, action); err != nil || next == in.State {
		return nil
	}
	err := core.InTx(ctx, s.store, func(q Queries) error {
		_, err := instance.MoveInstance(ctx, q, in.ID, action, core.InstanceUpdate{})
		return err
	})
	switch {
	case err == nil:
		report["state_changes"]++
	case core.ErrorReason(err) == "invalid_state": // a task took it up meanwhile
	default:
		return err
	}
	return nil
}

// seenAction is reconciliation's action for what the runtime shows of an
// instance: running and healthy, stopped, or broken (running but not healthy,
// or failed). ok is false for a state the instance passes through (created,
// restarting).
func seenAction(st core.InstanceStatus) (action instance.InstanceAction, ok bool) {
	switch {
	case st.State == core.StateActive && st.Healthy:
		return instance.ActionSeenActive, true
	case st.State == core.StateActive, st.State == core.StateError:
		return instance.ActionSeenError, true
	case st.State == core.StateStopped:
		return instance.ActionSeenStopped, true
	}
	return "", false
}
