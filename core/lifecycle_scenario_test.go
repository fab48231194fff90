package core_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/cloud"
	"hostdeck/core/fleet"
	"hostdeck/core/hosting"
	"hostdeck/internal/testenv"
	"hostdeck/runtime/sim"
)

// These tests walk an instance through the lifecycle's hard cases on the
// simulator: what rescue refuses (a client reboot, a transfer), what a server
// reboot does to an instance in rescue, a delete from rescue, and a delete that
// supersedes a reboot under way.

// clientOn creates a client on srv and waits until its instance is active.
func clientOn(t *testing.T, e *testenv.Env, srv *core.Server, name string) (*core.Client, *core.Instance) {
	t.Helper()
	email := strings.ToLower(strings.ReplaceAll(name, " ", "")) + "@example.test"
	c, tk, err := e.Cloud.CreateClient(e.AdminCtx(), cloud.ClientInput{Name: &name, Email: &email, ServerID: &srv.ID})
	if err != nil {
		t.Fatal(err)
	}
	if done := e.WaitTask(t, tk.ID); done.Status != core.TaskSuccess {
		t.Fatalf("create %s: %s %s", name, done.Status, done.Error)
	}
	in, err := e.Store.GetInstance(context.Background(), c.InstanceID)
	if err != nil {
		t.Fatal(err)
	}
	return c, in
}

// rescued puts in into rescue through the rescue use case and waits for it.
func rescued(t *testing.T, e *testenv.Env, in *core.Instance) {
	t.Helper()
	if _, err := e.Hosting.SeedRescueImages(e.AdminCtx()); err != nil {
		t.Fatal(err)
	}
	wantTask(t, e, func() (*core.Task, error) { return e.Hosting.Rescue(e.AdminCtx(), in.ID, ubuntu2204, "") })
	if st := instanceState(t, e, in.ID); st != core.StateRescue {
		t.Fatalf("state after rescue = %s", st)
	}
}

// wantStateRefusal checks that err is the lifecycle's refusal of an instance in
// state st: a conflict with reason invalid_state that names the state.
func wantStateRefusal(t *testing.T, err error, in *core.Instance, st core.InstanceState) {
	t.Helper()
	wantReason(t, err, core.KindConflict, "invalid_state")
	p := core.ErrorParams(err)
	if p["instance_id"] != in.ID || p["instance_status"] != string(st) {
		t.Fatalf("params = %v", p)
	}
	if msg := core.ErrorMessage(err); !strings.Contains(msg, in.Name) || !strings.Contains(msg, "it is "+string(st)) {
		t.Fatalf("message %q does not name the instance and its state", msg)
	}
}

// runTask runs the handler of a task kind at once, outside the runner, as a
// task accepted earlier would run now.
func runTask(t *testing.T, e *testenv.Env, kind string, payload any) (any, error) {
	t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	tk := &core.Task{ID: "0190b6c4-6d5a-7000-8000-00000000dead", Kind: kind, Payload: b, Attempts: 1, MaxAttempts: 5}
	return e.Svc.TaskHandlers()[kind](e.AdminCtx(), tk, func(int, string) {})
}

// TestRescueThenClientReboot: the alfa face's reboot of a client whose instance
// is in rescue is refused, naming the state; a reboot accepted before the rescue
// that runs after it fails for good and leaves the rescue alone.
func TestRescueThenClientReboot(t *testing.T) {
	e := testenv.New(t)
	srv := e.Server(t, "s1", 10)
	c, in := clientOn(t, e, srv, "Rescue Reboot")
	rescued(t, e, in)

	_, err := e.Cloud.RebootClient(e.AdminCtx(), c.ID)
	wantStateRefusal(t, err, in, core.StateRescue)

	_, err = runTask(t, e, cloud.KindClientReboot, map[string]string{"client_id": c.ID})
	wantStateRefusal(t, err, in, core.StateRescue)
	if !core.IsPermanent(err) {
		t.Fatal("the refusal of a task is not permanent")
	}
	_, err = runTask(t, e, hosting.KindInstanceReboot, map[string]string{"instance_id": in.ID})
	wantStateRefusal(t, err, in, core.StateRescue)
	if st := instanceState(t, e, in.ID); st != core.StateRescue {
		t.Fatalf("state = %s", st)
	}
	if img := e.Sim.RescueImage(srv.ID, in.RuntimeRef); img == "" {
		t.Fatal("the rescue system is gone")
	}
}

// TestRescueThenServerReboot: a server reboot restarts the server's instances
// that the lifecycle lets reboot and skips the others, naming them and their
// state in the task's result: an instance in rescue stays in rescue.
func TestRescueThenServerReboot(t *testing.T) {
	e := testenv.New(t)
	srv := e.Server(t, "s1", 10)
	_, plain := clientOn(t, e, srv, "Plain")
	_, resc := clientOn(t, e, srv, "In Rescue")
	rescued(t, e, resc)

	done := wantTask(t, e, func() (*core.Task, error) { return e.Fleet.RebootServer(e.AdminCtx(), srv.ID) })
	var res struct {
		Restarted int               `json:"restarted"`
		Skipped   map[string]string `json:"skipped"`
	}
	if err := json.Unmarshal(done.Result, &res); err != nil {
		t.Fatal(err)
	}
	if res.Restarted != 1 || len(res.Skipped) != 1 || res.Skipped[resc.Name] != string(core.StateRescue) {
		t.Fatalf("result = %s", done.Result)
	}
	if st := instanceState(t, e, resc.ID); st != core.StateRescue {
		t.Fatalf("rescued instance after the server reboot = %s", st)
	}
	if img := e.Sim.RescueImage(srv.ID, resc.RuntimeRef); img == "" {
		t.Fatal("the server reboot ended the rescue system")
	}
	if st, err := e.Sim.Inspect(context.Background(), srv, resc.RuntimeRef); err != nil || st.State != core.StateRescue {
		t.Fatalf("runtime instance in rescue = %+v, %v", st, err)
	}
	if st := instanceState(t, e, plain.ID); st != core.StateActive {
		t.Fatalf("other instance after the server reboot = %s", st)
	}
}

// TestRescueThenDelete: a client whose instance is in rescue can be deleted;
// the instance and its rescue system go.
func TestRescueThenDelete(t *testing.T) {
	e := testenv.New(t)
	srv := e.Server(t, "s1", 10)
	c, in := clientOn(t, e, srv, "Rescue Delete")
	rescued(t, e, in)

	wantTask(t, e, func() (*core.Task, error) { return e.Cloud.DeleteClient(e.AdminCtx(), c.ID) })
	if st := instanceState(t, e, in.ID); st != core.StateDeleted {
		t.Fatalf("state after delete = %s", st)
	}
	if list, err := e.Sim.List(context.Background(), srv); err != nil || len(list) != 0 {
		t.Fatalf("runtime instances after delete = %+v, %v", list, err)
	}
	if img := e.Sim.RescueImage(srv.ID, in.RuntimeRef); img != "" {
		t.Fatalf("rescue system from %s left behind", img)
	}
	v, err := e.Cloud.GetClient(e.AdminCtx(), c.ID)
	if err != nil || v.Status != core.ClientDeleted {
		t.Fatalf("client = %+v, %v", v, err)
	}
}

// TestRescueThenTransfer: a client whose instance is in rescue cannot move to
// another server; nothing of the transfer is left.
func TestRescueThenTransfer(t *testing.T) {
	e := testenv.New(t)
	a := e.Server(t, "a", 10)
	b := e.Server(t, "b", 10)
	c, in := clientOn(t, e, a, "Rescue Move")
	rescued(t, e, in)

	_, err := e.Cloud.TransferClient(e.AdminCtx(), c.ID, b.ID)
	wantStateRefusal(t, err, in, core.StateRescue)
	v, err := e.Cloud.GetClient(e.AdminCtx(), c.ID)
	if err != nil || v.Status != core.ClientActive || v.ServerID != a.ID {
		t.Fatalf("client after the refused transfer = %+v, %v", v.Client, err)
	}
	if _, n, _ := e.Store.ListInstances(context.Background(), core.InstanceFilter{ServerID: &b.ID}); n != 0 {
		t.Fatalf("%d instances made on the other server", n)
	}
	// A transfer accepted before the rescue that runs after it fails for good.
	_, err = runTask(t, e, cloud.KindClientTransfer, map[string]string{"client_id": c.ID, "from_instance_id": in.ID, "to_instance_id": "0190b6c4-6d5a-7000-8000-0000000000aa"})
	wantStateRefusal(t, err, in, core.StateRescue)
	if st := instanceState(t, e, in.ID); st != core.StateRescue {
		t.Fatalf("state = %s", st)
	}
}

// TestRebootThenDelete is the alfa walk-through's reboot and delete at once: the
// delete supersedes the reboot, which ends at once (revoked, or failed saying
// the instance was deleted) instead of waiting for an instance that is gone;
// the delete succeeds and the instance stays deleted. A task of the client not
// yet run is revoked in the delete's own transaction.
func TestRebootThenDelete(t *testing.T) { rebootThenDelete(t, nil) }

// TestRebootThenDeleteOnPostgres is TestRebootThenDelete where the instance's
// row lock is real.
func TestRebootThenDeleteOnPostgres(t *testing.T) { rebootThenDelete(t, testenv.Postgres(t)) }

func rebootThenDelete(t *testing.T, store testenv.Store) {
	e := testenv.NewWith(t, testenv.Options{
		Store:  store,
		Sim:    sim.Options{RebootDelay: time.Hour}, // the reboot never ends by itself
		Config: core.Config{ReadyTimeout: time.Hour},
	})
	srv := e.Server(t, "s1", 10)
	c, in := clientOn(t, e, srv, "Reboot Delete")
	later := &core.Task{ID: "0190b6c4-6d5a-7000-8000-0000000beef0", Kind: cloud.KindClientSendExpire,
		Payload: json.RawMessage(`{"client_id":"` + c.ID + `"}`), MaxAttempts: 5, RunAt: time.Now().Add(time.Hour),
		TargetType: "client", TargetID: c.ID}
	if err := e.Store.CreateTask(context.Background(), later); err != nil {
		t.Fatal(err)
	}

	reboot, err := e.Cloud.RebootClient(e.AdminCtx(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for instanceState(t, e, in.ID) != core.StateRebooting {
		if time.Now().After(deadline) {
			t.Fatal("the reboot did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}

	start := time.Now()
	del, err := e.Cloud.DeleteClient(e.AdminCtx(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Store.GetTask(context.Background(), later.ID); got.Status != core.TaskRevoked {
		t.Fatalf("pending task of the deleted client is %s", got.Status)
	}
	// The client's tasks the delete supersedes are audited as such: the
	// pending one and the reboot (and, on a slow machine, the client's
	// welcome e-mail when it has not gone yet).
	cancel := "task.cancel"
	evs, _, err := e.Svc.ListAudit(e.AdminCtx(), core.AuditFilter{Action: &cancel})
	if err != nil {
		t.Fatal(err)
	}
	superseded := map[string]bool{}
	for _, ev := range evs {
		if strings.Contains(string(ev.Detail), `"superseded_by":"client.delete"`) {
			superseded[ev.TargetID] = true
		}
	}
	if !superseded[later.ID] || !superseded[reboot.ID] {
		t.Fatalf("audit of the superseded tasks: %v, want %s and %s among them", superseded, later.ID, reboot.ID)
	}
	if done := e.WaitTask(t, del.ID); done.Status != core.TaskSuccess {
		t.Fatalf("delete: %s %s", done.Status, done.Error)
	}
	r := e.WaitTask(t, reboot.ID)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the reboot ended %s after the delete", took)
	}
	t.Logf("the reboot ended %s (%s) %s after the delete", r.Status, r.Error, time.Since(start))
	switch r.Status {
	case core.TaskRevoked:
	case core.TaskFailure:
		if !strings.Contains(r.Error, "deleted") {
			t.Fatalf("reboot failed with %q", r.Error)
		}
	default:
		t.Fatalf("reboot ended %s %s", r.Status, r.Error)
	}
	if st := instanceState(t, e, in.ID); st != core.StateDeleted {
		t.Fatalf("instance after delete = %s", st)
	}
	// A reboot accepted before the delete that runs after it fails for good.
	_, err = runTask(t, e, cloud.KindClientReboot, map[string]string{"client_id": c.ID})
	wantStateRefusal(t, err, in, core.StateDeleted)
	if st := instanceState(t, e, in.ID); st != core.StateDeleted {
		t.Fatalf("instance after a late reboot = %s", st)
	}
}

// TestTasksResume: a task that runs again (a retry, or a crash after its work
// but before its record) goes on from where the lifecycle shows its work: an
// unrescue or a start an earlier attempt finished succeeds without redoing it,
// a reboot that finds the instance rebooting carries on.
func TestTasksResume(t *testing.T) {
	e := testenv.New(t)
	srv := e.Server(t, "s1", 10)
	_, in := clientOn(t, e, srv, "Resume")
	rescued(t, e, in)
	wantTask(t, e, func() (*core.Task, error) { return e.Hosting.Unrescue(e.AdminCtx(), in.ID) })

	for _, kind := range []string{hosting.KindInstanceUnrescue, hosting.KindInstanceStart} {
		if _, err := runTask(t, e, kind, map[string]string{"instance_id": in.ID}); err != nil {
			t.Fatalf("%s of an active instance, done before: %v", kind, err)
		}
	}
	if st, _ := e.Sim.Inspect(context.Background(), srv, in.RuntimeRef); st.State != core.StateActive {
		t.Fatalf("runtime instance = %+v", st)
	}
	// A rescue whose retry comes after an unrescue does not rescue again: the
	// unrescue was asked last.
	_, err := runTask(t, e, hosting.KindInstanceRescue, map[string]string{"instance_id": in.ID, "image_id": ubuntu2204, "image_ref": "rescue:1"})
	wantStateRefusal(t, err, in, core.StateActive)
	if img := e.Sim.RescueImage(srv.ID, in.RuntimeRef); img != "" || instanceState(t, e, in.ID) != core.StateActive {
		t.Fatalf("a stale rescue ran: %q", img)
	}
	if _, err := e.Store.UpdateInstance(context.Background(), in.ID, core.InstanceUpdate{State: ptr(core.StateRebooting)}); err != nil {
		t.Fatal(err)
	}
	if _, err := runTask(t, e, hosting.KindInstanceReboot, map[string]string{"instance_id": in.ID}); err != nil {
		t.Fatalf("reboot that finds its instance rebooting: %v", err)
	}
	if st := instanceState(t, e, in.ID); st != core.StateActive {
		t.Fatalf("state after the reboot = %s", st)
	}
	// A stop done twice is a stop.
	wantTask(t, e, func() (*core.Task, error) { return e.Hosting.StopInstance(e.AdminCtx(), in.ID) })
	if _, err := runTask(t, e, hosting.KindInstanceStop, map[string]string{"instance_id": in.ID}); err != nil {
		t.Fatalf("stop again: %v", err)
	}
	// But a start from stopped that finds the instance in rescue is refused.
	if _, err := e.Store.UpdateInstance(context.Background(), in.ID, core.InstanceUpdate{State: ptr(core.StateRescue)}); err != nil {
		t.Fatal(err)
	}
	_, err = runTask(t, e, hosting.KindInstanceStart, map[string]string{"instance_id": in.ID})
	wantStateRefusal(t, err, in, core.StateRescue)
}

// TestReconcileAsksTheLifecycle: reconciliation records what the runtime shows
// only where no task is at work, and never a passing state.
func TestReconcileAsksTheLifecycle(t *testing.T) {
	e := testenv.New(t)
	srv := e.Server(t, "s1", 10)
	_, in := clientOn(t, e, srv, "Reconciled")
	bg := context.Background()

	// A runtime instance passing through a reboot is looked at again later.
	if err := e.Sim.SetState(srv.ID, in.RuntimeRef, core.StateRebooting); err != nil {
		t.Fatal(err)
	}
	runPeriodic(t, e, fleet.KindReconcile)
	if st := instanceState(t, e, in.ID); st != core.StateActive {
		t.Fatalf("record after a passing state = %s", st)
	}
	// A stopped one is recorded stopped, and once it runs again, active.
	e.Sim.SetState(srv.ID, in.RuntimeRef, core.StateStopped)
	runPeriodic(t, e, fleet.KindReconcile)
	if st := instanceState(t, e, in.ID); st != core.StateStopped {
		t.Fatalf("record of a stopped instance = %s", st)
	}
	e.Sim.SetState(srv.ID, in.RuntimeRef, core.StateActive)
	runPeriodic(t, e, fleet.KindReconcile)
	if st := instanceState(t, e, in.ID); st != core.StateActive {
		t.Fatalf("record of a running instance = %s", st)
	}
	// Where a task is at work, the record stays.
	if _, err := e.Store.UpdateInstance(bg, in.ID, core.InstanceUpdate{State: ptr(core.StateRebooting)}); err != nil {
		t.Fatal(err)
	}
	e.Sim.SetState(srv.ID, in.RuntimeRef, core.StateError)
	runPeriodic(t, e, fleet.KindReconcile)
	if st := instanceState(t, e, in.ID); st != core.StateRebooting {
		t.Fatalf("record of an instance a task works on = %s", st)
	}
}

// TestDeleteWhileTransferring: a client whose data is on its way to another
// server cannot be deleted until the transfer has ended.
func TestDeleteWhileTransferring(t *testing.T) {
	e := testenv.New(t)
	srv := e.Server(t, "s1", 10)
	c, _ := clientOn(t, e, srv, "Moving")
	if _, err := e.Store.UpdateClient(context.Background(), c.ID, core.ClientUpdate{Status: ptr(core.ClientTransferring)}); err != nil {
		t.Fatal(err)
	}
	_, err := e.Cloud.DeleteClient(e.AdminCtx(), c.ID)
	wantKind(t, err, core.KindConflict)
	if !strings.Contains(err.Error(), "transferred") {
		t.Fatalf("error = %v", err)
	}
}
