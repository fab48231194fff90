package instance

import (
	"context"
	"hostdeck/core"
	"strings"
)

// This file is the instance lifecycle: one table of which action may be done to
// an instance in which state, and the state it leads to. It is the rule for
// every face and every task: a use case asks it in the transaction that locks
// the instance and enqueues the work (lockInstance in instance_actions.go,
// lockClientInstance in core/cloud); the task asks it again when it runs
// (BeginInstance) and before it records a state (MoveInstance), because the
// state may have changed in between. Who may ask for an action is another
// question, answered by the access policy.

// InstanceAction is something done to an instance that its state must allow.
type InstanceAction string

// What a caller asks for.
const (
	ActionStart    InstanceAction = "start"
	ActionStop     InstanceAction = "stop"
	ActionReboot   InstanceAction = "reboot"
	ActionRescue   InstanceAction = "rescue"
	ActionUnrescue InstanceAction = "unrescue"
	ActionDelete   InstanceAction = "delete"
	// ActionTransfer: the instance's client moves to another server; the
	// instance keeps its state while a copy is made there, then is deleted.
	ActionTransfer InstanceAction = "transfer"
)

// What tasks and reconciliation record. The names read as verbs because the
// refusal's message uses them ("cannot bring up instance …").
const (
	// ActionReady: the runtime reports the instance up and healthy, which ends
	// a build, a start, a reboot or an unrescue.
	ActionReady InstanceAction = "bring up"
	// ActionFail: a task's work failed for good and left the instance broken.
	ActionFail InstanceAction = "mark failed"
	// ActionSeenActive, ActionSeenStopped, ActionSeenError: reconciliation found
	// the runtime instance running and healthy, stopped, or broken or missing.
	// They apply only where no task is at work on the instance.
	ActionSeenActive  InstanceAction = "record as active"
	ActionSeenStopped InstanceAction = "record as stopped"
	ActionSeenError   InstanceAction = "record as error"
)

// instanceStates lists the states in the order refusals name them.
var instanceStates = []core.InstanceState{
	core.StateBuilding, core.StateActive, core.StateRebooting, core.StateStopped, core.StateError, core.StateRescue, core.StateDeleted,
}

// lifecycle is the table: lifecycle[state][action] is the state action leads
// to from state; an action missing from a state's row is refused in it.
var lifecycle = map[core.InstanceState]map[InstanceAction]core.InstanceState{
	core.StateBuilding: {
		ActionDelete: core.StateDeleted,
		ActionReady:  core.StateActive, ActionFail: core.StateError,
	},
	core.StateActive: {
		ActionStop: core.StateStopped, ActionReboot: core.StateRebooting, ActionRescue: core.StateRescue,
		ActionDelete: core.StateDeleted, ActionTransfer: core.StateActive,
		ActionReady: core.StateActive, ActionFail: core.StateError,
		ActionSeenActive: core.StateActive, ActionSeenStopped: core.StateStopped, ActionSeenError: core.StateError,
	},
	core.StateRebooting: {
		ActionDelete: core.StateDeleted,
		ActionReady:  core.StateActive, ActionFail: core.StateError,
	},
	core.StateStopped: {
		ActionStart: core.StateBuilding, ActionReboot: core.StateRebooting,
		ActionDelete: core.StateDeleted, ActionTransfer: core.StateStopped,
		ActionFail:       core.StateError,
		ActionSeenActive: core.StateActive, ActionSeenStopped: core.StateStopped, ActionSeenError: core.StateError,
	},
	core.StateError: {
		ActionStart: core.StateBuilding, ActionStop: core.StateStopped, ActionReboot: core.StateRebooting,
		ActionDelete: core.StateDeleted, ActionTransfer: core.StateError,
		ActionFail:       core.StateError,
		ActionSeenActive: core.StateActive, ActionSeenStopped: core.StateStopped, ActionSeenError: core.StateError,
	},
	core.StateRescue: {
		ActionUnrescue: core.StateBuilding,
		ActionDelete:   core.StateDeleted,
		ActionFail:     core.StateError,
	},
	core.StateDeleted: {
		ActionDelete: core.StateDeleted, // removing again what may be left is no harm
	},
}

// Lifecycle returns the state instance in goes to when action a is done to it.
// An action its state does not allow is KindConflict with reason invalid_state
// (params instance_id, instance_status), naming the instance, its state and
// the states the action needs.
func Lifecycle(in *core.Instance, a InstanceAction) (core.InstanceState, error) {
	if next, ok := lifecycle[in.State][a]; ok {
		return next, nil
	}
	var need []string
	for _, st := range instanceStates {
		if _, ok := lifecycle[st][a]; ok {
			need = append(need, string(st))
		}
	}
	msg := "cannot " + string(a) + " instance " + in.Name + ": it is " + string(in.State)
	if len(need) > 0 {
		msg += ", and " + string(a) + " needs " + joinOr(need)
	}
	return "", core.Reasoned(core.KindConflict, "invalid_state", msg, "instance_id", in.ID, "instance_status", string(in.State))
}

// joinOr joins words as "a", "a or b", "a, b or c".
func joinOr(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// shownAtOnce are the actions whose request writes the state they lead to in
// its own transaction, so that the instance shows it at once (Rescue, Unrescue).
var shownAtOnce = map[InstanceAction]bool{ActionRescue: true, ActionUnrescue: true}

// resume is Lifecycle for the task that carries out action a, which runs after
// its request was accepted and maybe after earlier attempts. An instance in a
// state that a leads to is where the request or an earlier attempt put it: the
// work goes on (next is that state). An instance that came up from there (ready)
// is one an earlier attempt finished: done. Otherwise a must still be allowed,
// unless its request had moved the instance already (shownAtOnce): then the
// instance went elsewhere since (an unrescue after a rescue), and the work is
// refused.
func resume(in *core.Instance, a InstanceAction) (next core.InstanceState, done bool, err error) {
	var left core.InstanceState
	for _, from := range instanceStates {
		pending, ok := lifecycle[from][a]
		if !ok {
			continue
		}
		if pending == in.State {
			return pending, false, nil
		}
		if up, ok := lifecycle[pending][ActionReady]; ok && up == in.State && lifecycle[in.State][a] == "" {
			return in.State, true, nil
		}
		left = pending
	}
	if shownAtOnce[a] {
		return "", false, core.Reasoned(core.KindConflict, "invalid_state",
			"cannot "+string(a)+" instance "+in.Name+": it is "+string(in.State)+", no longer "+string(left)+" as the request left it",
			"instance_id", in.ID, "instance_status", string(in.State))
	}
	next, err = Lifecycle(in, a)
	return next, false, err
}

// InstanceWriter is what a change of an instance's state needs of a
// transaction.
type InstanceWriter interface {
	// LockMachine reads an instance and, on PostgreSQL inside a transaction,
	// locks its row until the transaction ends; KindNotFound for an unknown id.
	LockMachine(ctx context.Context, id string) (*core.Instance, error)
	UpdateInstance(ctx context.Context, id string, u core.InstanceUpdate) (*core.Instance, error)
}

// MoveInstance does action a to instance id in q: it locks the instance, asks
// the table and writes the next state with the rest of u. The refusal leaves
// the record as it is.
func MoveInstance(ctx context.Context, q InstanceWriter, id string, a InstanceAction, u core.InstanceUpdate) (*core.Instance, error) {
	in, err := q.LockMachine(ctx, id)
	if err != nil {
		return nil, err
	}
	next, err := Lifecycle(in, a)
	if err != nil {
		return in, err
	}
	u.State = &next
	return q.UpdateInstance(ctx, id, u)
}

// BeginInstance starts the work of a task that carries out action a on instance
// id: in one transaction it asks resume and records the state the work shows
// (rebooting for a reboot). done reports work an earlier attempt finished. The
// refusal (a conflict, so the task fails at once) means the instance went
// elsewhere since the request.
func (s *Service) BeginInstance(ctx context.Context, id string, a InstanceAction) (in *core.Instance, done bool, err error) {
	err = core.InTx(ctx, s.store, func(q Queries) error {
		if in, err = q.LockMachine(ctx, id); err != nil {
			return err
		}
		next, fin, err := resume(in, a)
		if err != nil {
			return err
		}
		if done = fin; done || next == in.State {
			return nil
		}
		in, err = q.UpdateInstance(ctx, id, core.InstanceUpdate{State: &next})
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return in, done, nil
}

// ReadyInstance records that instance id came up as st reports it. An instance
// that went elsewhere meanwhile (deleted, say) is the lifecycle's refusal.
func (s *Service) ReadyInstance(ctx context.Context, id string, st core.InstanceStatus) (*core.Instance, error) {
	return s.moveReady(ctx, id, readyUpdate(st))
}

// readyUpdate is what an instance's coming up as st reports it records.
func readyUpdate(st core.InstanceStatus) core.InstanceUpdate {
	return core.InstanceUpdate{Address: &st.Address, URL: &st.URL}
}

func (s *Service) moveReady(ctx context.Context, id string, u core.InstanceUpdate) (*core.Instance, error) {
	var in *core.Instance
	err := core.InTx(ctx, s.store, func(q Queries) error {
		var err error
		in, err = MoveInstance(ctx, q, id, ActionReady, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}

// FailInstance records that a task's work on instance id failed for good, as
// Audit action with its cause. A cause that is the lifecycle's refusal means
// the instance went elsewhere meanwhile, which is not this task's to undo, and
// an instance the table does not let fail (deleted) is left as it is too.
func (s *Service) FailInstance(ctx context.Context, id, action string, cause error) {
	if core.ErrorReason(cause) == "invalid_state" {
		return
	}
	ctx = context.WithoutCancel(ctx) // the task's own context may be what ended
	err := core.InTx(ctx, s.store, func(q Queries) error {
		if _, err := MoveInstance(ctx, q, id, ActionFail, core.InstanceUpdate{}); err != nil {
			return err
		}
		return s.Audit(ctx, q, action, "instance", id, map[string]string{"error": cause.Error()})
	})
	if err != nil && core.ErrorReason(err) != "invalid_state" && core.ErrorKind(err) != core.KindNotFound {
		s.Log.Warn("record instance failure", "instance", id, "err", err)
	}
}

// comingUp returns nil while instance id may still come up, else the reason to
// stop waiting for it (a conflict: the task fails at once): it was deleted, or
// went elsewhere, meanwhile. A store that does not answer is no reason: the
// caller looks again later.
func (s *Service) comingUp(ctx context.Context, id string) error {
	in, err := s.store.GetInstance(ctx, id)
	if core.ErrorKind(err) == core.KindNotFound {
		return core.Errorf(core.KindConflict, "stopped waiting for instance %s: its record is gone", id)
	}
	if err != nil {
		return nil
	}
	if _, err := Lifecycle(in, ActionReady); err != nil {
		return core.Reasoned(core.KindConflict, "invalid_state",
			"stopped waiting for instance "+in.Name+" to come up: it is "+string(in.State),
			"instance_id", in.ID, "instance_status", string(in.State))
	}
	return nil
}

// InstanceAccess is the access action a user's request of lifecycle action a on
// an instance needs ("" for one no user asks: the policy refuses it as a bug).
func InstanceAccess(a InstanceAction) core.Action {
	switch a {
	case ActionStart:
		return core.ActionInstanceStart
	case ActionStop:
		return core.ActionInstanceStop
	case ActionReboot:
		return core.ActionInstanceReboot
	case ActionRescue, ActionUnrescue:
		return core.ActionInstanceRescue
	}
	return ""
}
