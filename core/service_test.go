package core_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/cloud"
	"hostdeck/core/fleet"
	"hostdeck/internal/testenv"
)

func createClient(t *testing.T, e *testenv.Env, name string) (*core.Client, *core.Task) {
	t.Helper()
	email := strings.ToLower(name) + "@example.test"
	c, tk, err := e.Cloud.CreateClient(e.AdminCtx(), cloud.ClientInput{Name: &name, Email: &email})
	if err != nil {
		t.Fatalf("create client %s: %v", name, err)
	}
	return c, tk
}

func wantKind(t *testing.T, err error, kind core.Kind) {
	t.Helper()
	if core.ErrorKind(err) != kind {
		t.Fatalf("err = %v (kind %q), want kind %q", err, core.ErrorKind(err), kind)
	}
}

func TestClientCreateFullCycle(t *testing.T) {
	e := testenv.New(t)
	srv := e.Server(t, "s1", 10)
	c, tk := createClient(t, e, "Lab1")
	if c.ServerID != srv.ID || c.Status != core.ClientCreating {
		t.Fatalf("client = %+v", c)
	}
	if done := e.WaitTask(t, tk.ID); done.Status != core.TaskSuccess {
		t.Fatalf("task = %s: %s", done.Status, done.Error)
	}
	v, err := e.Cloud.GetClient(e.AdminCtx(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != core.ClientActive || !v.Available || v.URL == "" {
		t.Fatalf("client after create = %+v available=%v", v.Client, v.Available)
	}
	// The owner password reached the hook on stdin, and never its command line.
	inst := v.Instance
	execs := e.Sim.Execs(srv.ID, inst.RuntimeRef)
	if len(execs) != 1 || execs[0].Cmd[len(execs[0].Cmd)-1] != "owner-password" || len(execs[0].Stdin) < 9 {
		t.Fatalf("execs = %+v", execs)
	}
	password := strings.TrimSpace(string(execs[0].Stdin))
	for _, arg := range execs[0].Cmd {
		if strings.Contains(arg, password) {
			t.Fatal("password on the command line")
		}
	}
	// The welcome e-mail carries URL, login and that password.
	msgs := e.Mail.WaitFor(t, 1, 10*time.Second)
	m := msgs[0]
	if m.To[0] != "lab1@example.test" || !strings.Contains(m.Body, password) || !strings.Contains(m.Body, v.URL) {
		t.Fatalf("mail = %+v", m)
	}
	// Everything was audited.
	evs, _, err := e.Svc.ListAudit(e.AdminCtx(), core.AuditFilter{TargetID: &c.ID})
	if err != nil || len(evs) == 0 || evs[0].Actor != "admin" {
		t.Fatalf("audit = %v, %v", evs, err)
	}
}

func TestPlacementLeastLoadedAndFull(t *testing.T) {
	e := testenv.New(t)
	a := e.Server(t, "a", 2)
	b := e.Server(t, "b", 4)
	counts := map[string]int{}
	for i := range 6 {
		c, _ := createClient(t, e, "lab"+string(rune('a'+i)))
		counts[c.ServerID]++
	}
	if counts[a.ID] != 2 || counts[b.ID] != 4 {
		t.Fatalf("placement = %v", counts)
	}
	name, email := "extra", "extra@example.test"
	_, _, err := e.Cloud.CreateClient(e.AdminCtx(), cloud.ClientInput{Name: &name, Email: &email})
	wantKind(t, err, core.KindConflict)
	// Nothing was half-written by the refused create.
	all, _ := e.Cloud.ListClients(e.AdminCtx(), core.ClientFilter{})
	if all.Total != 6 || len(all.Items) != 6 {
		t.Fatalf("clients = %d", all.Total)
	}
	err = e.Fleet.DeleteServer(e.AdminCtx(), a.ID)
	wantKind(t, err, core.KindConflict)
}

func TestClientInputErrors(t *testing.T) {
	e := testenv.New(t)
	e.Server(t, "s", 5)
	bad := "not-an-email"
	name := "x"
	for _, tc := range []struct {
		in    cloud.ClientInput
		field string
	}{
		{cloud.ClientInput{Email: &bad}, "name"},
		{cloud.ClientInput{Name: &name}, "email"},
		{cloud.ClientInput{Name: &name, Email: &bad}, "email"},
	} {
		_, _, err := e.Cloud.CreateClient(e.AdminCtx(), tc.in)
		wantKind(t, err, core.KindInvalid)
		if core.ErrorField(err) != tc.field {
			t.Errorf("field = %q, want %q", core.ErrorField(err), tc.field)
		}
	}
	_, err := e.Cloud.GetClient(e.AdminCtx(), "nope")
	wantKind(t, err, core.KindNotFound)
}

func TestExpireDateHistoryAndNotices(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	e := testenv.NewWith(t, testenv.Options{Clock: func() time.Time { return now }, Config: core.Config{ExpireNoticeDays: 7}})
	e.Server(t, "s", 5)
	c, tk := createClient(t, e, "Exp")
	e.WaitTask(t, tk.ID)
	e.Mail.WaitFor(t, 1, 10*time.Second) // welcome
	d1 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	d2 := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	for _, d := range []time.Time{d1, d2} {
		if _, err := e.Cloud.SetExpireDate(e.AdminCtx(), c.ID, &d); err != nil {
			t.Fatal(err)
		}
	}
	hist, total, err := e.Cloud.ExpireHistory(e.AdminCtx(), c.ID, core.Page{})
	if err != nil || total != 2 {
		t.Fatalf("history = %v, %d, %v", hist, total, err)
	}
	if hist[0].Old != nil || !hist[0].New.Equal(d1) || !hist[1].Old.Equal(d1) || !hist[1].New.Equal(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)) || hist[1].Actor != "admin" {
		t.Fatalf("history = %+v %+v", hist[0], hist[1])
	}
	// The notice job sends once per client per expiry date.
	for range 2 {
		runPeriodic(t, e, cloud.KindExpiryNotices)
	}
	msgs := e.Mail.WaitFor(t, 2, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := len(e.Mail.Messages()); n != 2 {
		t.Fatalf("messages = %d, want 2 (welcome + one notice)", n)
	}
	if !strings.Contains(msgs[1].Subject, "27.11.2026") && !strings.Contains(msgs[1].Subject, "2026-11-27") {
		t.Fatalf("notice subject = %q", msgs[1].Subject)
	}
}

// runPeriodic runs a periodic job's handler now, as the runner would.
func runPeriodic(t *testing.T, e *testenv.Env, kind string) any {
	t.Helper()
	h := e.Svc.TaskHandlers()[kind]
	res, err := h(context.Background(), &core.Task{Kind: kind, MaxAttempts: 1, Attempts: 1}, func(int, string) {})
	if err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	return res
}

func TestClientActions(t *testing.T) {
	e := testenv.New(t)
	srv := e.Server(t, "s", 5)
	c, tk := createClient(t, e, "Act")
	e.WaitTask(t, tk.ID)
	ctx := e.AdminCtx()

	steps := []func() (*core.Task, error){
		func() (*core.Task, error) { return e.Cloud.SetDemo(ctx, c.ID, true) },
		func() (*core.Task, error) { return e.Cloud.RebootClient(ctx, c.ID) },
		func() (*core.Task, error) { return e.Cloud.SetOwnerPassword(ctx, c.ID, "new-owner-password") },
		func() (*core.Task, error) { return e.Cloud.SendSuccess(ctx, c.ID) },
		func() (*core.Task, error) { return e.Fleet.RebootServer(ctx, srv.ID) },
	}
	for i, step := range steps {
		tk, err := step()
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if done := e.WaitTask(t, tk.ID); done.Status != core.TaskSuccess {
			t.Fatalf("step %d (%s): %s %s", i, done.Kind, done.Status, done.Error)
		}
	}
	v, _ := e.Cloud.GetClient(ctx, c.ID)
	if !v.Demo || !v.Available {
		t.Fatalf("client = %+v", v.Client)
	}
	execs := e.Sim.Execs(srv.ID, v.Instance.RuntimeRef)
	last := execs[len(execs)-1]
	if string(last.Stdin) != "new-owner-password\n" {
		t.Fatalf("last exec = %q", last.Stdin)
	}
	// send_success re-sends the current password.
	msgs := e.Mail.WaitFor(t, 2, 10*time.Second)
	if !strings.Contains(msgs[1].Body, "new-owner-password") {
		t.Fatalf("resent mail = %q", msgs[1].Body)
	}
	_, err := e.Cloud.SendExpire(ctx, c.ID)
	wantKind(t, err, core.KindConflict) // no expiry date

	// Delete removes the instance from the server.
	tk, err = e.Cloud.DeleteClient(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.WaitTask(t, tk.ID)
	if _, err := e.Sim.Inspect(ctx, srv, v.Instance.RuntimeRef); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("instance still there: %v", err)
	}
	v, _ = e.Cloud.GetClient(ctx, c.ID)
	if v.Status != core.ClientDeleted {
		t.Fatalf("status = %s", v.Status)
	}
	_, err = e.Cloud.RebootClient(ctx, c.ID)
	wantKind(t, err, core.KindConflict)
}

func TestTransferCopiesData(t *testing.T) {
	e := testenv.New(t)
	a := e.Server(t, "a", 5)
	b := e.Server(t, "b", 5)
	aID := a.ID
	name, email := "Mover", "mover@example.test"
	c, tk, err := e.Cloud.CreateClient(e.AdminCtx(), cloud.ClientInput{Name: &name, Email: &email, ServerID: &aID})
	if err != nil {
		t.Fatal(err)
	}
	e.WaitTask(t, tk.ID)
	v, _ := e.Cloud.GetClient(e.AdminCtx(), c.ID)
	vol := v.Instance.Spec.Volumes[0].Name
	if err := e.Sim.WriteFile(a.ID, v.Instance.RuntimeRef, vol, "lab.db", []byte("results")); err != nil {
		t.Fatal(err)
	}
	tk, err = e.Cloud.TransferClient(e.AdminCtx(), c.ID, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done := e.WaitTask(t, tk.ID); done.Status != core.TaskSuccess {
		t.Fatalf("transfer: %s %s", done.Status, done.Error)
	}
	moved, _ := e.Cloud.GetClient(e.AdminCtx(), c.ID)
	if moved.ServerID != b.ID || moved.InstanceID == v.InstanceID || !moved.Available {
		t.Fatalf("moved = %+v", moved.Client)
	}
	got, err := e.Sim.ReadFile(b.ID, moved.Instance.RuntimeRef, moved.Instance.Spec.Volumes[0].Name, "lab.db")
	if err != nil || string(got) != "results" {
		t.Fatalf("data after transfer = %q, %v", got, err)
	}
	if _, err := e.Sim.Inspect(context.Background(), a, v.Instance.RuntimeRef); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("old instance still there: %v", err)
	}
	_, err = e.Cloud.TransferClient(e.AdminCtx(), c.ID, b.ID)
	wantKind(t, err, core.KindInvalid)
}

func TestCreateFailsOnFaultyServer(t *testing.T) {
	e := testenv.New(t)
	srv := e.Server(t, "bad", 5)
	e.Sim.FailCreate(srv.ID, core.Permanent(errors.New("disk full")))
	c, tk := createClient(t, e, "Doomed")
	done := e.WaitTask(t, tk.ID)
	if done.Status != core.TaskFailure || !strings.Contains(done.Error, "disk full") {
		t.Fatalf("task = %s %q", done.Status, done.Error)
	}
	v, _ := e.Cloud.GetClient(e.AdminCtx(), c.ID)
	if v.Status != core.ClientFailed || v.Available {
		t.Fatalf("client = %+v", v.Client)
	}
}

func TestReconcileRemovesOrphansAndFlagsMissing(t *testing.T) {
	e := testenv.New(t)
	srv := e.Server(t, "s", 5)
	c, tk := createClient(t, e, "Rec")
	e.WaitTask(t, tk.ID)
	ctx := context.Background()
	// An instance made for this server that no record owns is removed; one made
	// for another server on the same engine, or one without a server label that
	// this install has no record of (another install's), is left alone.
	unowned := "00000000-0000-0000-0000-000000000000"
	made := func(name string, labels map[string]string) string {
		t.Helper()
		labels[core.LabelInstance] = unowned
		ref, err := e.Sim.Create(ctx, srv, core.InstanceSpec{Name: name, Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	orphan := made("stray", map[string]string{core.LabelServer: srv.ID})
	others := []string{made("other-server", map[string]string{core.LabelServer: "0190b6c4-6d5a-7000-8000-0000000000ff"}), made("other-install", map[string]string{})}
	res := runPeriodic(t, e, fleet.KindReconcile).(map[string]int)
	if res["orphans_removed"] != 1 || res["foreign"] != 1 {
		t.Fatalf("reconcile = %v", res)
	}
	if _, err := e.Sim.Inspect(ctx, srv, orphan); core.ErrorKind(err) != core.KindNotFound {
		t.Fatal("orphan still there")
	}
	for _, ref := range others {
		if _, err := e.Sim.Inspect(ctx, srv, ref); err != nil {
			t.Fatalf("another's instance removed: %v", err)
		}
	}
	// The client's own instance carries its server.
	if v, _ := e.Cloud.GetClient(ctx, c.ID); v.Instance.Spec.Labels[core.LabelServer] != "" {
		t.Fatalf("the record's spec holds the server label: %v", v.Instance.Spec.Labels)
	}
	if list, _ := e.Sim.List(ctx, srv); !slices.ContainsFunc(list, func(ri core.RuntimeInstance) bool { return ri.ServerID == srv.ID && ri.InstanceID != unowned }) {
		t.Fatalf("the client's instance is not labelled with its server: %+v", list)
	}
	// A record whose instance vanished is flagged: the client is no longer available.
	v, _ := e.Cloud.GetClient(ctx, c.ID)
	e.Sim.Delete(ctx, srv, v.Instance.RuntimeRef)
	res = runPeriodic(t, e, fleet.KindReconcile).(map[string]int)
	if res["missing"] != 1 {
		t.Fatalf("reconcile = %v", res)
	}
	v, _ = e.Cloud.GetClient(ctx, c.ID)
	if v.Available || v.Instance.State != core.StateError {
		t.Fatalf("after vanish: available=%v state=%s", v.Available, v.Instance.State)
	}
	d, err := e.Fleet.ServerDetail(ctx, srv.ID)
	if err != nil || !d.Load.Reachable || d.LastSeenAt == nil || d.Clients != 1 {
		t.Fatalf("detail = %+v, %v", d, err)
	}
}

func TestAuthenticateRotationAndThrottle(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	u, err := authenticate(e.Login, ctx, testenv.AdminUser, testenv.AdminPassword, "10.0.0.1")
	if err != nil || u.Role != core.RoleAdmin {
		t.Fatalf("login: %v", err)
	}
	if err := e.Login.SetPassword(e.AdminCtx(), u.ID, "rotated-password"); err != nil {
		t.Fatal(err)
	}
	_, err = authenticate(e.Login, ctx, testenv.AdminUser, testenv.AdminPassword, "10.0.0.1")
	wantKind(t, err, core.KindUnauthenticated)
	if _, err := authenticate(e.Login, ctx, testenv.AdminUser, "rotated-password", "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, e.Login.SetPassword(e.AdminCtx(), u.ID, "short"), core.KindInvalid)
	for range 5 {
		_, err = authenticate(e.Login, ctx, testenv.AdminUser, "wrong", "10.0.0.2")
	}
	_, err = authenticate(e.Login, ctx, testenv.AdminUser, "rotated-password", "10.0.0.2")
	wantKind(t, err, core.KindTooMany)
	// Another address is not affected.
	if _, err := authenticate(e.Login, ctx, testenv.AdminUser, "rotated-password", "10.0.0.3"); err != nil {
		t.Fatal(err)
	}
	// Restarting (EnsureAdmin again) never changes existing credentials.
	if gen, err := e.Identity.EnsureAdmin(ctx, testenv.AdminUser, "other-password"); err != nil || gen != "" {
		t.Fatal(gen, err)
	}
	if _, err := authenticate(e.Login, ctx, testenv.AdminUser, "rotated-password", "10.0.0.3"); err != nil {
		t.Fatal(err)
	}
}

func TestClientNameUniqueAmongLiveClients(t *testing.T) {
	e := testenv.New(t)
	e.Server(t, "s", 5)
	c, tk := createClient(t, e, "Same")
	e.WaitTask(t, tk.ID)
	name, email := "Same", "other@example.test"
	_, _, err := e.Cloud.CreateClient(e.AdminCtx(), cloud.ClientInput{Name: &name, Email: &email})
	wantKind(t, err, core.KindConflict)
	tk, err = e.Cloud.DeleteClient(e.AdminCtx(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.WaitTask(t, tk.ID)
	if _, _, err := e.Cloud.CreateClient(e.AdminCtx(), cloud.ClientInput{Name: &name, Email: &email}); err != nil {
		t.Fatalf("name of a deleted client not reusable: %v", err)
	}
}
