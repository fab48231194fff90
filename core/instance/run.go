package instance

import (
	"context"
	"errors"
	"fmt"
	"hostdeck/core"
	"time"
)

func (s *Service) LoadInstance(ctx context.Context, id string) (*core.Instance, *core.Server, core.Runtime, error) {
	inst, err := s.store.GetInstance(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	srv, err := s.store.GetServer(ctx, inst.ServerID)
	if err != nil {
		return nil, nil, nil, err
	}
	rt, err := s.RuntimeFor(srv)
	if err != nil {
		return nil, nil, nil, err
	}
	return inst, srv, rt, nil
}

// EnsureRunning creates (idempotently by name) and starts an instance that is
// being built, waits until it is healthy and records its state, ref, address and
// URL, in one write. An instance the lifecycle no longer lets come up (deleted
// meanwhile) is its refusal.
func (s *Service) EnsureRunning(ctx context.Context, inst *core.Instance, srv *core.Server, rt core.Runtime) (*core.Instance, error) {
	return s.EnsureRunningWith(ctx, inst, srv, rt, nil)
}

// EnsureRunningWith is EnsureRunning that calls beforeStart (when not nil) with
// the instance's ref between its creation and its start, to put in place what
// its app reads when it comes up (a secret). On a retry the instance may be
// running already: beforeStart must be idempotent and work then too.
func (s *Service) EnsureRunningWith(ctx context.Context, inst *core.Instance, srv *core.Server, rt core.Runtime, beforeStart func(ctx context.Context, ref string) error) (*core.Instance, error) {
	_, ready, err := s.BringUp(ctx, inst, srv, rt, beforeStart)
	if err != nil {
		return nil, err
	}
	return s.moveReady(ctx, inst.ID, ready)
}

// BringUp is EnsureRunningWith but for the write: it returns the instance as it
// runs (its ref, address and URL) and the update that records it came up, for
// the caller to write with MoveInstance(ActionReady) in a transaction of its
// own change (a client's activation, say), rather than in a write of its own.
//
// Until then the record may lack the ref, which costs nothing: another
// attempt's Create finds the instance by name, RemoveInstance deletes it by
// name, and reconciliation knows it by its instance label.
func (s *Service) BringUp(ctx context.Context, inst *core.Instance, srv *core.Server, rt core.Runtime, beforeStart func(ctx context.Context, ref string) error) (*core.Instance, core.InstanceUpdate, error) {
	if _, err := Lifecycle(inst, ActionReady); err != nil {
		return nil, core.InstanceUpdate{}, err
	}
	ref, err := rt.Create(ctx, srv, inst.Spec.On(srv))
	if err != nil {
		return nil, core.InstanceUpdate{}, fmt.Errorf("create instance %s: %w", inst.Name, err)
	}
	if beforeStart != nil {
		if err := beforeStart(ctx, ref); err != nil {
			return nil, core.InstanceUpdate{}, err
		}
	}
	if err := rt.Start(ctx, srv, ref); err != nil {
		return nil, core.InstanceUpdate{}, fmt.Errorf("start instance %s: %w", inst.Name, err)
	}
	run := *inst
	run.RuntimeRef = ref
	st, err := s.WaitHealthy(ctx, &run, srv, rt)
	if err != nil {
		return nil, core.InstanceUpdate{}, err
	}
	ready := readyUpdate(st)
	if ref != inst.RuntimeRef {
		ready.RuntimeRef = &ref
	}
	run.Address, run.URL = st.Address, st.URL
	return &run, ready, nil
}

// recheckEvery is how often waitHealthy reads the instance's record.
const recheckEvery = 200 * time.Millisecond

// pollWait is how long WaitHealthy waits between two looks after waiting
// waited so far: a tenth of it, from 5 to 25 ms, so that noticing the instance
// healthy adds about a tenth to the time it took (an app up 30 ms after its
// start is seen within 5 ms), and a slow one costs a look every 25 ms.
func pollWait(waited time.Duration) time.Duration {
	return min(max(waited/10, 5*time.Millisecond), 25*time.Millisecond)
}

// WaitHealthy polls the runtime until instance in (in.RuntimeRef) answers its
// health check. It reads the record too, at once when the runtime no longer
// knows the instance and every recheckEvery otherwise, and stops as soon as the
// lifecycle says the instance can no longer come up (it was deleted meanwhile):
// no task waits on an instance that is gone.
func (s *Service) WaitHealthy(ctx context.Context, in *core.Instance, srv *core.Server, rt core.Runtime) (core.InstanceStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, s.Cfg.ReadyTimeout)
	defer cancel()
	begun := time.Now()
	checked := begun
	for {
		st, err := rt.Inspect(ctx, srv, in.RuntimeRef)
		if err == nil && st.Healthy {
			return st, nil
		}
		if err == nil && st.State == core.StateError {
			return st, errors.New("instance went into error state")
		}
		if core.ErrorKind(err) == core.KindNotFound || time.Since(checked) >= recheckEvery {
			checked = time.Now()
			if gone := s.comingUp(ctx, in.ID); gone != nil {
				return st, gone
			}
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("instance is %s and not healthy", st.State)
			}
			return st, fmt.Errorf("wait for instance to be healthy: %w (%v)", ctx.Err(), err)
		case <-time.After(pollWait(time.Since(begun))):
		}
	}
}

// Restart reboots an instance as the lifecycle allows: it shows rebooting until
// it answers again (then active) or does not (then error). An instance that the
// lifecycle does not let reboot, now or any more while it waits (one in rescue,
// or deleted), is its refusal.
func (s *Service) Restart(ctx context.Context, inst *core.Instance, srv *core.Server, rt core.Runtime) error {
	inst, _, err := s.BeginInstance(ctx, inst.ID, ActionReboot)
	if err != nil {
		return err
	}
	if err := rt.Restart(ctx, srv, inst.RuntimeRef); err != nil {
		if gone := s.comingUp(ctx, inst.ID); gone != nil {
			return gone
		}
		return fmt.Errorf("restart instance %s: %w", inst.Name, err)
	}
	st, err := s.WaitHealthy(ctx, inst, srv, rt)
	if err == nil {
		_, err = s.ReadyInstance(ctx, inst.ID, st)
	}
	if err != nil {
		s.FailInstance(ctx, inst.ID, "instance.reboot_failed", err)
		return err
	}
	return nil
}

// RemoveInstance marks an instance deleted, so that any task waiting on it
// stops, then deletes it with its volumes (and its rescue system) from its
// server. It is idempotent; an instance whose runtime removal failed is
// deleted, and reconciliation removes what is left.
func (s *Service) RemoveInstance(ctx context.Context, instanceID string) error {
	inst, srv, rt, err := s.LoadInstance(ctx, instanceID)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if inst, _, err = s.BeginInstance(ctx, inst.ID, ActionDelete); err != nil {
		return err
	}
	ref := inst.RuntimeRef
	if ref == "" {
		ref = inst.Name // created by a crashed attempt before its ref was saved, if at all
	}
	if err := rt.Delete(ctx, srv, ref); err != nil {
		return fmt.Errorf("delete instance %s: %w", inst.Name, err)
	}
	return nil
}
