package cloud

import (
	"context"
	"fmt"
	"hostdeck/core"
	"hostdeck/core/instance"
	"strings"
	"time"
)

// Task kinds of clients.
const (
	KindClientCreate        = "client.create"
	KindClientReboot        = "client.reboot"
	KindClientDelete        = "client.delete"
	KindClientTransfer      = "client.transfer"
	KindClientDemo          = "client.demo"
	KindClientOwnerPassword = "client.owner_password"
	KindClientSendSuccess   = "client.send_success"
	KindClientSendExpire    = "client.send_expire"
	KindExpiryNotices       = "periodic.expiry_notices"
)

// registerTasks gives core's task runner the work behind the task kinds of
// clients, and schedules the expiry notices every expiryEvery.
func (s *Service) registerTasks(expiryEvery time.Duration) {
	for kind, fn := range map[string]core.TaskFunc{
		KindClientCreate:        s.runClientCreate,
		KindClientReboot:        s.runClientReboot,
		KindClientDelete:        s.runClientDelete,
		KindClientTransfer:      s.runClientTransfer,
		KindClientDemo:          s.runClientDemo,
		KindClientOwnerPassword: s.runOwnerPassword,
		KindClientSendSuccess:   s.runSendSuccess,
		KindClientSendExpire:    s.runSendExpire,
		KindExpiryNotices:       s.runExpiryNotices,
	} {
		s.Register(kind, fn)
	}
	s.RegisterPeriodic(core.PeriodicJob{Kind: KindExpiryNotices, Every: expiryEvery})
}

// target is a client with its instance, server and runtime, as a task sees them.
type target struct {
	client *core.Client
	inst   *core.Instance
	srv    *core.Server
	rt     core.Runtime
}

func (s *Service) loadTarget(ctx context.Context, clientID string) (*target, error) {
	c, err := s.store.GetClient(ctx, clientID)
	if err != nil {
		return nil, err
	}
	inst, srv, rt, err := s.inst.LoadInstance(ctx, c.InstanceID)
	if err != nil {
		return nil, err
	}
	return &target{client: c, inst: inst, srv: srv, rt: rt}, nil
}

func (s *Service) runClientCreate(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	p, err := core.Decode[clientPayload](t)
	if err != nil {
		return nil, err
	}
	res, err := s.createClientCloud(ctx, p.ClientID, progress)
	if err != nil && core.LastAttempt(t, err) {
		s.markClientFailed(ctx, p.ClientID, err)
	}
	return res, err
}

// markClientFailed records that a client's creation failed for good: the client
// is failed and its instance, if the lifecycle lets it fail, in error. A client
// deleted meanwhile stays deleted.
func (s *Service) markClientFailed(ctx context.Context, clientID string, cause error) {
	ctx = context.WithoutCancel(ctx)
	c, err := s.store.GetClient(ctx, clientID)
	if err != nil || c.Status == core.ClientDeleting || c.Status == core.ClientDeleted {
		return
	}
	_ = core.InTx(ctx, s.store, func(q Queries) error {
		if _, err := q.UpdateClient(ctx, clientID, core.ClientUpdate{Status: core.Ptr(core.ClientFailed)}); err != nil {
			return err
		}
		return s.Audit(ctx, q, "client.failed", "client", clientID, map[string]string{"error": cause.Error()})
	})
	s.inst.FailInstance(ctx, c.InstanceID, "instance.create_failed", cause)
}

func (s *Service) createClientCloud(ctx context.Context, clientID string, progress func(int, string)) (any, error) {
	tg, err := s.loadTarget(ctx, clientID)
	if err != nil {
		return nil, err
	}
	switch tg.client.Status {
	case core.ClientCreating:
	case core.ClientActive: // an earlier attempt finished the work but not the task record
		return map[string]string{"client_id": clientID, "instance_id": tg.inst.ID, "server_id": tg.inst.ServerID, "url": tg.client.URL}, nil
	default:
		return nil, core.Permanent(fmt.Errorf("client is %s, not creating", tg.client.Status))
	}
	progress(10, "creating instance")
	if len(tg.client.OwnerPasswordEnc) == 0 {
		sealed := s.Sealer.Seal([]byte(s.NewPassword()))
		if tg.client, err = s.store.UpdateClient(ctx, clientID, core.ClientUpdate{OwnerPasswordEnc: &sealed}); err != nil {
			return nil, err
		}
	}
	// Where the password goes in on stdin before the start, the instance is
	// healthy only once its app has set it; else the hook sets it after.
	onStdin := s.ownerPasswordOnStdin(tg)
	// The instance's coming up is recorded with the client's activation, below:
	// one write for both.
	inst, ready, err := s.inst.BringUp(ctx, tg.inst, tg.srv, tg.rt, onStdin)
	if err != nil {
		return nil, err
	}
	if onStdin == nil {
		progress(60, "setting owner password")
		if err := s.setOwnerPassword(ctx, tg, inst); err != nil {
			return nil, err
		}
	}
	progress(90, "sending welcome e-mail")
	err = s.change(ctx, func(q Queries) error {
		if c, err := q.GetClient(ctx, clientID); err != nil {
			return err
		} else if c.Status != core.ClientCreating {
			return core.Errorf(core.KindConflict, "client %s is %s, no longer being created", c.Name, c.Status)
		}
		if _, err := instance.MoveInstance(ctx, q, inst.ID, instance.ActionReady, ready); err != nil {
			return err
		}
		if _, err := q.UpdateClient(ctx, clientID, core.ClientUpdate{Status: core.Ptr(core.ClientActive), URL: &inst.URL}); err != nil {
			return err
		}
		_, err := s.Enqueue(ctx, q, KindClientSendSuccess, "client", clientID, clientPayload{ClientID: clientID})
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{"client_id": clientID, "instance_id": inst.ID, "server_id": inst.ServerID, "url": inst.URL}, nil
}

// ownerPasswordOnStdin returns the step that writes the client's owner
// password, a line, on the standard input of its instance, before the start:
// where the instance's spec keeps stdin open (the template's
// OwnerPasswordStdin) and its runtime can write there. It is nil elsewhere,
// where the hook sets the password after the start.
func (s *Service) ownerPasswordOnStdin(tg *target) func(ctx context.Context, ref string) error {
	w, ok := tg.rt.(core.StdinWriter)
	if !ok || !tg.inst.Spec.Stdin {
		return nil
	}
	return func(ctx context.Context, ref string) error {
		pw, err := s.ownerPassword(tg.client)
		if err != nil {
			return err
		}
		if err := w.WriteStdin(ctx, tg.srv, ref, append(pw, '\n')); err != nil {
			return fmt.Errorf("write owner password on stdin: %w", err)
		}
		return nil
	}
}

// setOwnerPassword runs the owner_password hook with the password on stdin.
func (s *Service) setOwnerPassword(ctx context.Context, tg *target, inst *core.Instance) error {
	hook := s.Cfg.Template.Hooks.OwnerPassword
	if len(hook) == 0 {
		return nil
	}
	pw, err := s.ownerPassword(tg.client)
	if err != nil {
		return err
	}
	return s.runHook(ctx, tg.rt, tg.srv, inst, "owner_password", hook, append(pw, '\n'))
}

// runHook execs a template hook and turns a non-zero exit into an error that
// carries the hook's own message (never its stdin).
func (s *Service) runHook(ctx context.Context, rt core.Runtime, srv *core.Server, inst *core.Instance, name string, cmd []string, stdin []byte) error {
	res, err := rt.Exec(ctx, srv, inst.RuntimeRef, cmd, stdin)
	if err != nil {
		return fmt.Errorf("run %s hook: %w", name, err)
	}
	if res.ExitCode != 0 {
		msg := strings.TrimSpace(res.Stderr)
		if len(msg) > 500 {
			msg = msg[:500]
		}
		return core.Permanent(fmt.Errorf("%s hook exited with %d: %s", name, res.ExitCode, msg))
	}
	return nil
}

// liveTarget loads a client whose cloud should be running.
func (s *Service) liveTarget(ctx context.Context, t *core.Task) (*target, error) {
	p, err := core.Decode[clientPayload](t)
	if err != nil {
		return nil, err
	}
	tg, err := s.loadTarget(ctx, p.ClientID)
	if err != nil {
		return nil, err
	}
	if tg.inst.RuntimeRef == "" {
		return nil, core.Errorf(core.KindConflict, "client's instance has not been created yet")
	}
	return tg, nil
}

func (s *Service) runClientReboot(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	tg, err := s.liveTarget(ctx, t)
	if err != nil {
		return nil, err
	}
	return nil, s.inst.Restart(ctx, tg.inst, tg.srv, tg.rt)
}

func (s *Service) runClientDemo(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	p, err := core.Decode[demoPayload](t)
	if err != nil {
		return nil, err
	}
	tg, err := s.liveTarget(ctx, t)
	if err != nil {
		return nil, err
	}
	hook, name := s.Cfg.Template.Hooks.DemoDisable, "demo_disable"
	if p.On {
		hook, name = s.Cfg.Template.Hooks.DemoEnable, "demo_enable"
	}
	if len(hook) == 0 {
		return nil, core.Errorf(core.KindConflict, "the client template has no %s hook", name)
	}
	if err := s.runHook(ctx, tg.rt, tg.srv, tg.inst, name, hook, nil); err != nil {
		return nil, err
	}
	_, err = s.store.UpdateClient(ctx, p.ClientID, core.ClientUpdate{Demo: &p.On})
	return map[string]bool{"demo": p.On}, err
}

func (s *Service) runOwnerPassword(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	tg, err := s.liveTarget(ctx, t)
	if err != nil {
		return nil, err
	}
	return nil, s.setOwnerPassword(ctx, tg, tg.inst)
}

// taskClient loads the client a task's payload names.
func (s *Service) taskClient(ctx context.Context, t *core.Task) (*core.Client, error) {
	p, err := core.Decode[clientPayload](t)
	if err != nil {
		return nil, err
	}
	return s.store.GetClient(ctx, p.ClientID)
}

// ownerPassword unseals a client's owner password.
func (s *Service) ownerPassword(c *core.Client) ([]byte, error) {
	if len(c.OwnerPasswordEnc) == 0 {
		return nil, core.Errorf(core.KindConflict, "client has no owner password yet")
	}
	pw, err := s.Sealer.Open(c.OwnerPasswordEnc)
	if err != nil {
		return nil, core.Permanent(fmt.Errorf("open owner password: %w", err))
	}
	return pw, nil
}

func (s *Service) runSendSuccess(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	c, err := s.taskClient(ctx, t)
	if err != nil {
		return nil, err
	}
	pw, err := s.ownerPassword(c)
	if err != nil {
		return nil, err
	}
	if err := s.Notifier.ClientReady(ctx, c, string(pw)); err != nil {
		return nil, err
	}
	return map[string]string{"to": c.Email}, nil
}

func (s *Service) runSendExpire(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	c, err := s.taskClient(ctx, t)
	if err != nil {
		return nil, err
	}
	if c.ExpireDate == nil {
		return nil, core.Errorf(core.KindConflict, "client has no expiry date")
	}
	if err := s.Notifier.ClientExpiring(ctx, c); err != nil {
		return nil, err
	}
	return map[string]string{"to": c.Email, "expire_date": c.ExpireDate.Format(time.DateOnly)}, nil
}

func (s *Service) runClientDelete(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	c, err := s.taskClient(ctx, t)
	if err != nil {
		return nil, err
	}
	if err := s.inst.RemoveInstance(ctx, c.InstanceID); err != nil {
		return nil, err
	}
	_, err = s.store.UpdateClient(ctx, c.ID, core.ClientUpdate{Status: core.Ptr(core.ClientDeleted)})
	return nil, err
}

func (s *Service) runClientTransfer(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	p, err := core.Decode[transferPayload](t)
	if err != nil {
		return nil, err
	}
	res, err := s.transfer(ctx, p, progress)
	if err != nil && core.LastAttempt(t, err) {
		// The client stays where it was; the half-made copy goes, and the old
		// instance runs again unless it went elsewhere meanwhile (rescue).
		ctx := context.WithoutCancel(ctx)
		_ = s.inst.RemoveInstance(ctx, p.ToInstanceID)
		if old, srv, rt, lerr := s.inst.LoadInstance(ctx, p.FromInstanceID); lerr == nil {
			if _, lerr := instance.Lifecycle(old, instance.ActionTransfer); lerr == nil {
				_ = rt.Start(ctx, srv, old.RuntimeRef)
			}
		}
		s.store.UpdateClient(ctx, p.ClientID, core.ClientUpdate{Status: core.Ptr(core.ClientActive)})
	}
	return res, err
}

func (s *Service) transfer(ctx context.Context, p transferPayload, progress func(int, string)) (any, error) {
	from, fromSrv, rt, err := s.inst.LoadInstance(ctx, p.FromInstanceID)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.inst.BeginInstance(ctx, from.ID, instance.ActionTransfer); err != nil {
		return nil, err
	}
	to, toSrv, _, err := s.inst.LoadInstance(ctx, p.ToInstanceID)
	if err != nil {
		return nil, err
	}
	copier, ok := rt.(core.VolumeCopier)
	if !ok && len(from.Spec.Volumes) > 0 {
		return nil, core.Permanent(fmt.Errorf("runtime %s cannot copy volumes", fromSrv.Runtime))
	}
	progress(10, "creating instance on the new server")
	ref, err := rt.Create(ctx, toSrv, to.Spec.On(toSrv))
	if err != nil {
		return nil, fmt.Errorf("create instance %s: %w", to.Name, err)
	}
	if to, err = s.store.UpdateInstance(ctx, to.ID, core.InstanceUpdate{RuntimeRef: &ref}); err != nil {
		return nil, err
	}
	progress(30, "stopping the old instance")
	if err := rt.Stop(ctx, fromSrv, from.RuntimeRef); err != nil {
		return nil, fmt.Errorf("stop instance %s: %w", from.Name, err)
	}
	if ok {
		progress(50, "copying data")
		if err := copier.CopyVolumes(ctx, fromSrv, from.RuntimeRef, toSrv, ref); err != nil {
			return nil, fmt.Errorf("copy volumes: %w", err)
		}
	}
	progress(70, "starting the new instance")
	// The new instance takes the owner password at its start as the first one
	// did, whatever the copied data holds.
	c, err := s.store.GetClient(ctx, p.ClientID)
	if err != nil {
		return nil, err
	}
	onStdin := s.ownerPasswordOnStdin(&target{client: c, inst: to, srv: toSrv, rt: rt})
	if to, err = s.inst.EnsureRunningWith(ctx, to, toSrv, rt, onStdin); err != nil {
		return nil, err
	}
	// The old instance may have gone elsewhere while its data was copied.
	if _, _, err := s.inst.BeginInstance(ctx, from.ID, instance.ActionTransfer); err != nil {
		return nil, err
	}
	err = core.InTx(ctx, s.store, func(q Queries) error {
		_, err := q.UpdateClient(ctx, p.ClientID, core.ClientUpdate{
			ServerID: &toSrv.ID, InstanceID: &to.ID, URL: &to.URL, Status: core.Ptr(core.ClientActive),
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	progress(90, "removing the old instance")
	if err := s.inst.RemoveInstance(ctx, from.ID); err != nil {
		s.Log.Warn("transfer: old instance not removed; the reconciler will retry", "instance", from.ID, "err", err)
	}
	return map[string]string{"server_id": toSrv.ID, "instance_id": to.ID, "url": to.URL}, nil
}

// runExpiryNotices e-mails every active client whose cloud expires within
// ExpireNoticeDays, once per client per expiry date: marking the client and asking
// for the e-mail happen in one transaction.
func (s *Service) runExpiryNotices(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	horizon := dateOnly(s.Now()).AddDate(0, 0, s.Cfg.ExpireNoticeDays)
	active := core.ClientActive
	cs, err := s.store.ListClients(ctx, core.ClientFilter{Status: &active, ExpiringBefore: &horizon})
	if err != nil {
		return nil, err
	}
	sent := 0
	for _, row := range cs.Items {
		c := row.Client
		if c.ExpireDate == nil || (c.ExpireNoticeFor != nil && c.ExpireNoticeFor.Equal(*c.ExpireDate)) {
			continue
		}
		if c.ExpireDate.Before(dateOnly(s.Now())) {
			continue // already expired: the notice is about what is coming
		}
		err := s.change(ctx, func(q Queries) error {
			if _, err := q.UpdateClient(ctx, c.ID, core.ClientUpdate{ExpireNoticeFor: core.Ptr(c.ExpireDate)}); err != nil {
				return err
			}
			_, err := s.Enqueue(ctx, q, KindClientSendExpire, "client", c.ID, clientPayload{ClientID: c.ID})
			return err
		})
		if err != nil {
			return nil, err
		}
		sent++
	}
	return map[string]int{"notices": sent}, nil
}
