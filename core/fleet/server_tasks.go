package fleet

import (
	"context"
	"errors"
	"fmt"
	"hostdeck/core"
	"hostdeck/core/instance"
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
	insts, _, err := s.store.ListInstances(ctx, core.InstanceFilter{ServerID: &srv.ID})
	if err != nil {
		return nil, err
	}
	// The instances the lifecycle lets reboot restart; the others (in rescue,
	// being built, already rebooting) are skipped, by name with their state.
	var live []*core.Instance
	skipped := map[string]core.InstanceState{}
	for _, in := range insts {
		if in.State == core.StateDeleted {
			continue
		}
		if _, err := instance.Lifecycle(in, instance.ActionReboot); err != nil || in.RuntimeRef == "" {
			skipped[in.Name] = in.State
			continue
		}
		live = append(live, in)
	}
	var failed []string
	restarted := 0
	for i, in := range live {
		progress(100*i/len(live), "restarting "+in.Name)
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
	if len(failed) > 0 {
		return nil, core.Permanent(fmt.Errorf("%d of %d instances did not come back: %s", len(failed), len(live), strings.Join(failed, "; ")))
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
	byID := map[string]core.RuntimeInstance{}
	for _, ri := range seen {
		if ri.ServerID != "" && ri.ServerID != srv.ID {
			continue // made for another server on the same engine: its own pass sees to it
		}
		in, err := s.store.GetInstance(ctx, ri.InstanceID)
		if err != nil && core.ErrorKind(err) != core.KindNotFound {
			return err
		}
		switch {
		case in != nil && in.State != core.StateDeleted && in.ServerID == srv.ID:
			byID[in.ID] = ri
		case ri.ServerID == srv.ID || in != nil && in.State == core.StateDeleted:
			// Made for this server and no live record owns it, or (made before
			// instances carried their server) its record is deleted: an orphan.
			if err := rt.Delete(ctx, srv, ri.Ref); err != nil {
				return err
			}
			s.Log.Warn("reconcile: removed an instance no record owns", "server", srv.ID, "ref", ri.Ref, "name", ri.Name)
			report["orphans_removed"]++
		default:
			// Without a server label and no record of this install that is gone:
			// another install's, or another server's, on a shared engine. Not ours
			// to remove.
			report["foreign"]++
		}
	}
	insts, _, err := s.store.ListInstances(ctx, core.InstanceFilter{ServerID: &srv.ID})
	if err != nil {
		return err
	}
	for _, in := range insts {
		// Where a task is at work (building, rebooting), in rescue (the runtime
		// shows the instance stopped) or deleted, the lifecycle refuses what
		// reconciliation saw.
		if _, err := instance.Lifecycle(in, instance.ActionSeenError); err != nil {
			continue
		}
		action := instance.ActionSeenError
		if ri, ok := byID[in.ID]; ok {
			st, err := rt.Inspect(ctx, srv, ri.Ref)
			if err != nil {
				continue
			}
			if action, ok = seenAction(st); !ok {
				continue // passing through a state; the next pass looks again
			}
		} else {
			s.Log.Warn("reconcile: instance record has no runtime instance", "instance", in.ID, "server", srv.ID)
			report["missing"]++
		}
		if next, err := instance.Lifecycle(in, action); err != nil || next == in.State {
			continue
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
