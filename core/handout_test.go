package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/handout"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/desktop/session"
	"hostdeck/core/quota"
	"hostdeck/internal/testenv"
)

// brokerUser creates a member of p and returns it.
func brokerUser(t *testing.T, e *testenv.Env, p *desktop.Pool, name string) *core.User {
	t.Helper()
	u := newMember(t, e, name)
	if err := e.Identity.GrantProjectRole(e.AdminCtx(), p.ID, u.ID, core.RoleMember); err != nil {
		t.Fatal(err)
	}
	return u
}

// handOut asks for a machine as u and polls get-vm until the request is no
// longer in progress.
func handOut(t *testing.T, e *testenv.Env, u *core.User) (*handout.HandOut, error) {
	t.Helper()
	tk, err := requestVM(e, context.Background(), brokerLogin(u.Name, u.Name+"-password"),
		handout.HandOutInput{Session: session.SessionInput{ConnType: session.ConnWeb, ClientIP: "10.0.0.7", ClientOS: "linux", ClientInfo: "test"}})
	if err != nil {
		return nil, err
	}
	ctx := core.WithActor(context.Background(), core.Actor{UserID: u.ID, Name: u.Name, Role: u.Role})
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := e.HandOut.GetHandOut(ctx, tk.ID)
		if err != nil || r.Status != handout.RequestInProgress || time.Now().After(deadline) {
			return r, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRequestVM(t *testing.T) {
	e := testenv.New(t)
	e.Server(t, "node-1", 20)
	p := newPool(t, e, "lab", desktop.ModeStandard, 2, "")
	alice := brokerUser(t, e, p, "alice")

	r, err := handOut(t, e, alice)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != handout.RequestCompleted || r.Machine == nil || r.Machine.State != core.StateActive ||
		len(r.Machine.Users) != 1 || r.Machine.Users[0] != alice.ID || r.Machine.Address == "" {
		t.Fatalf("request = %+v machine %+v", r, r.Machine)
	}
	again, err := handOut(t, e, alice)
	if err != nil || again.Machine == nil || again.Machine.ID != r.Machine.ID {
		t.Fatalf("second request = %+v, %v", again, err)
	}
	sessions, n, err := e.Session.ListSessions(e.AdminCtx(), session.SessionFilter{})
	if err != nil || n != 2 || sessions[0].ClientIP != "10.0.0.7" || sessions[0].ConnType != session.ConnWeb {
		t.Fatalf("sessions = %d %+v, %v", n, sessions, err)
	}

	// Another user's request, an unknown one, a wrong password, no project, quota.
	bob := brokerUser(t, e, p, "bob")
	tk, err := requestVM(e, context.Background(), brokerLogin("bob", "bob-password"), handout.HandOutInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := tk.ID
	if _, err := e.HandOut.GetHandOut(memberCtx(alice), id); core.ErrorReason(err) != handout.ReasonRequestForbidden {
		t.Fatalf("foreign request: %v", err)
	}
	if _, err := e.HandOut.GetHandOut(memberCtx(alice), alice.ID); core.ErrorReason(err) != handout.ReasonRequestNotFound {
		t.Fatalf("unknown request: %v", err)
	}
	e.WaitTask(t, id)
	if _, err := requestVM(e, context.Background(), brokerLogin("bob", "nope"), handout.HandOutInput{}); core.ErrorReason(err) != core.ReasonInvalidCredentials {
		t.Fatalf("wrong password: %v", err)
	}
	newMember(t, e, "carol")
	if _, err := requestVM(e, context.Background(), brokerLogin("carol", "carol-password"), handout.HandOutInput{}); core.ErrorReason(err) != handout.ReasonNoPool {
		t.Fatalf("no project: %v", err)
	}
	dave := brokerUser(t, e, p, "dave")
	if _, err := requestVM(e, context.Background(), brokerLogin(dave.Name, "dave-password"), handout.HandOutInput{}); core.ErrorReason(err) != quota.ReasonQuotaExceeded {
		t.Fatalf("quota: %v", err)
	}
	if _, err := requestVM(e, context.Background(), brokerLogin("bob", "bob-password"), handout.HandOutInput{Project: "nowhere"}); core.ErrorReason(err) != handout.ReasonNoPool {
		t.Fatalf("unknown tenant: %v", err)
	}
	_ = bob
}

func TestRequestVMModeOneNeverShares(t *testing.T) {
	handOutConcurrently(t, testenv.New(t), 3, 8)
}

// On PostgreSQL concurrent hand-outs lock different free machines (SKIP
// LOCKED); none goes to two users.
func TestRequestVMOnPostgres(t *testing.T) {
	handOutConcurrently(t, testenv.NewWith(t, testenv.Options{Store: testenv.Postgres(t)}), 10, 20)
}

// handOutConcurrently has n users of a mode 1 project with a warm pool of
// machines ask for a machine at once, and checks that no machine went to two.
func handOutConcurrently(t *testing.T, e *testenv.Env, machines, n int) {
	e.Server(t, "node-1", 50)
	p := newPool(t, e, "lab", desktop.ModeStandard, 0, "")
	created, err := e.Provision.CreateMachines(e.AdminCtx(), p.ID, machines, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range created.Tasks {
		e.WaitTask(t, tk.ID)
	}
	users := make([]*core.User, n)
	for i := range users {
		users[i] = brokerUser(t, e, p, fmt.Sprintf("user%d", i))
	}
	var wg sync.WaitGroup
	got := make([]string, n)
	for i, u := range users {
		wg.Go(func() {
			r, err := handOut(t, e, u)
			if err != nil || r.Status != handout.RequestCompleted {
				t.Errorf("%s: %+v %v", u.Name, r, err)
				return
			}
			got[i] = r.Machine.ID
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("machine %s handed to two users: %v", id, got)
		}
		seen[id] = true
	}
}

// A free active machine is handed out within RequestMachine itself: the request is
// done when it returns. Without one, a task builds a machine.
func TestRequestVMFromWarmPool(t *testing.T) {
	e := testenv.New(t)
	e.Server(t, "node-1", 10)
	p := newPool(t, e, "lab", desktop.ModeStandard, 0, "")
	created, err := e.Provision.CreateMachines(e.AdminCtx(), p.ID, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.WaitTask(t, created.Tasks[0].ID)
	alice, bob := brokerUser(t, e, p, "alice"), brokerUser(t, e, p, "bob")

	tk, err := requestVM(e, context.Background(), brokerLogin("alice", "alice-password"), handout.HandOutInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := tk.ID
	r, err := e.HandOut.GetHandOut(core.WithActor(context.Background(), core.Actor{UserID: alice.ID, Name: alice.Name}), id)
	if err != nil || r.Status != handout.RequestCompleted || r.Machine.ID != created.Machines[0].ID {
		t.Fatalf("warm hand-out = %+v, %v", r, err)
	}
	task, err := e.Store.GetTask(context.Background(), id)
	if err != nil || task.Status != core.TaskSuccess || task.Attempts != 0 || task.FinishedAt == nil {
		t.Fatalf("recorded task = %+v, %v", task, err)
	}

	// The pool is empty: bob's machine is created by the task.
	tk, err = requestVM(e, context.Background(), brokerLogin("bob", "bob-password"), handout.HandOutInput{})
	if err != nil {
		t.Fatal(err)
	}
	id = tk.ID
	if got := e.WaitTask(t, id); got.Status != core.TaskSuccess || got.Attempts != 1 {
		t.Fatalf("cold hand-out task = %+v", got)
	}
	// get-vm follows the new machine: in progress while it builds, then completed.
	bctx := core.WithActor(context.Background(), core.Actor{UserID: bob.ID, Name: bob.Name})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		r, err = e.HandOut.GetHandOut(bctx, id)
		if err != nil || r.Status != handout.RequestInProgress || time.Now().After(deadline) {
			break
		}
		if r.Machine != nil && r.Machine.State != core.StateBuilding {
			t.Fatalf("in progress with machine %s", r.Machine.State)
		}
	}
	if err != nil || r.Status != handout.RequestCompleted || r.Machine.ID == created.Machines[0].ID {
		t.Fatalf("cold hand-out = %+v, %v", r, err)
	}
	// The task made the machine as bob's act, from where bob asked.
	evs, _, err := e.Svc.ListAudit(e.AdminCtx(), core.AuditFilter{Action: ptr("machine.create")})
	if err != nil {
		t.Fatal(err)
	}
	var made *core.AuditEvent
	for _, ev := range evs {
		if ev.TargetID == r.Machine.ID {
			made = ev
		}
	}
	if made == nil || made.Actor != "bob" || made.Face != "test" || made.Source != "192.0.2.1" {
		t.Fatalf("machine.create audit = %+v", made)
	}
}

// In mode 2 users share: once no machine is free, the next user gets the least
// shared active machine rather than a new one.
func TestRequestVMModeTwoShares(t *testing.T) {
	e := testenv.New(t)
	e.Server(t, "node-1", 10)
	p := newPool(t, e, "shared", desktop.ModeSimultaneous, 0, "")
	created, err := e.Provision.CreateMachines(e.AdminCtx(), p.ID, 2, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range created.Tasks {
		e.WaitTask(t, tk.ID)
	}
	var users []*core.User
	for i := range 4 {
		users = append(users, brokerUser(t, e, p, fmt.Sprintf("user%d", i)))
	}
	perMachine := map[string][]string{}
	for _, u := range users {
		r, err := handOut(t, e, u)
		if err != nil || r.Status != handout.RequestCompleted {
			t.Fatalf("%s: %+v, %v", u.Name, r, err)
		}
		perMachine[r.Machine.ID] = append(perMachine[r.Machine.ID], u.ID)
	}
	if len(perMachine) != 2 {
		t.Fatalf("machines used = %v, want the 2 of the pool", perMachine)
	}
	for id, us := range perMachine {
		m, err := e.Machine.GetMachine(e.AdminCtx(), id)
		if err != nil || len(us) != 2 || len(m.Users) != 2 {
			t.Fatalf("machine %s: users %v, record %+v, %v", id, us, m, err)
		}
	}
}

func TestPoolRefillAndAutoAllocate(t *testing.T) {
	e := testenv.New(t)
	e.Server(t, "node-1", 20)
	p := newPool(t, e, "lab", desktop.ModeStandard, 0, "")
	if _, err := e.Desktop.UpdatePool(e.AdminCtx(), p.ID, desktop.PoolInput{MinReserveVM: ptr(3)}); err != nil {
		t.Fatal(err)
	}
	refill := func() {
		t.Helper()
		runPeriodic(t, e, handout.KindPoolRefill)
	}
	free := func() int {
		t.Helper()
		ms, err := e.Machine.ListMachines(e.AdminCtx(), machine.MachineQuery{Assigned: &core.Cond{Op: core.OpEq, Values: []string{"false"}}})
		if err != nil {
			t.Fatal(err)
		}
		return len(ms.Items)
	}
	refill()
	if n := free(); n != 3 {
		t.Fatalf("free after refill = %d", n)
	}
	refill()
	if n := free(); n != 3 {
		t.Fatalf("free after second refill = %d", n)
	}

	a, b := brokerUser(t, e, p, "alice"), brokerUser(t, e, p, "bob")
	newMember(t, e, "outsider")
	tk, err := e.HandOut.AutoAllocateUsers(e.AdminCtx(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.WaitTask(t, tk.ID); got.Status != core.TaskSuccess {
		t.Fatalf("auto-allocate: %s %s", got.Status, got.Error)
	}
	for _, u := range []*core.User{a, b} {
		ms, err := e.Machine.ListUserMachines(e.AdminCtx(), u.ID)
		if err != nil || len(ms) != 1 || len(ms[0].Users) != 1 {
			t.Fatalf("%s machines = %+v, %v", u.Name, ms, err)
		}
	}
	if n := free(); n != 1 {
		t.Fatalf("free after auto-allocate = %d", n)
	}
	refill()
	deadline := time.Now().Add(10 * time.Second)
	for free() != 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := free(); n != 3 {
		t.Fatalf("free after refill = %d", n)
	}
}

// A request that cannot end well is an error naming why: no room for a machine,
// a failed task, a machine gone, failed to build, in another state, or without
// an address.
func TestRequestVMErrors(t *testing.T) {
	e := testenv.New(t)
	srv := e.Server(t, "node-1", 1)
	p := newPool(t, e, "lab", desktop.ModeStandard, 0, "")
	alice, bob, carol := brokerUser(t, e, p, "alice"), brokerUser(t, e, p, "bob"), brokerUser(t, e, p, "carol")
	bg := context.Background()
	actorOf := func(u *core.User) context.Context {
		return core.WithActor(bg, core.Actor{UserID: u.ID, Name: u.Name, Role: u.Role})
	}

	// The machine made for alice fails to build: instance_create_failed.
	e.Sim.FailCreate(srv.ID, core.Permanent(errors.New("no disk left")))
	_, err := handOut(t, e, alice)
	wantReason(t, err, core.KindConflict, handout.ReasonCreateFailed)
	if p := core.ErrorParams(err)["project_name"]; p != "lab" {
		t.Fatalf("project_name = %q", p)
	}
	e.Sim.ClearFaults(srv.ID)

	// A connection type the document does not know is refused by core, for
	// every face that asks for a machine.
	_, err = requestVM(e, bg, brokerLogin("bob", "bob-password"), handout.HandOutInput{Session: session.SessionInput{ConnType: "telnet"}})
	if core.ErrorKind(err) != core.KindInvalid || !strings.Contains(err.Error(), "conn_type") {
		t.Fatalf("conn_type telnet: %v", err)
	}

	// The server is full (alice's broken machine holds its one place): bob's
	// request is refused at once.
	_, err = requestVM(e, bg, brokerLogin("bob", "bob-password"), handout.HandOutInput{})
	wantReason(t, err, core.KindConflict, handout.ReasonNoInstance)

	// A handed-out machine that stops, or runs without an address.
	e.Server(t, "node-2", 10)
	r, err := handOut(t, e, bob)
	if err != nil || r.Status != handout.RequestCompleted {
		t.Fatalf("bob: %+v, %v", r, err)
	}
	tk, err := requestVM(e, bg, brokerLogin("bob", "bob-password"), handout.HandOutInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.UpdateInstance(bg, r.Machine.ID, core.InstanceUpdate{State: ptr(core.StateStopped)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.HandOut.GetHandOut(actorOf(bob), tk.ID)
	wantReason(t, err, core.KindConflict, handout.ReasonInstanceState)
	if _, err := e.Store.UpdateInstance(bg, r.Machine.ID, core.InstanceUpdate{State: ptr(core.StateActive), Address: ptr("")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.HandOut.GetHandOut(actorOf(bob), tk.ID)
	wantReason(t, err, core.KindConflict, handout.ReasonInstanceIP)

	// Recorded requests whose task failed, or whose machine is gone.
	record := func(status core.TaskStatus, result string) string {
		task := &core.Task{Kind: handout.KindHandOut, Status: status, Payload: json.RawMessage(`{"user_id":"` + carol.ID + `","project_id":"` + p.ID + `"}`),
			Result: json.RawMessage(result), Error: "worker lost", TargetType: machine.SubjectUser, TargetID: carol.ID, MaxAttempts: 1}
		if err := e.Store.CreateTask(bg, task); err != nil {
			t.Fatal(err)
		}
		return task.ID
	}
	_, err = e.HandOut.GetHandOut(actorOf(carol), record(core.TaskFailure, `null`))
	wantReason(t, err, core.KindConflict, handout.ReasonTaskFailed)
	_, err = e.HandOut.GetHandOut(actorOf(carol), record(core.TaskSuccess, `{"instance_id":"`+carol.ID+`","how":"assigned"}`))
	wantReason(t, err, core.KindConflict, handout.ReasonTaskProcessing)
}
