package core_test

import (
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/provision"
	"hostdeck/core/login"
	"hostdeck/core/quota"
	"hostdeck/core/tenancy"
	"hostdeck/internal/testenv"
)

// machineRefs waits for the machines' creation and returns their runtime refs.
func machineRefs(t *testing.T, e *testenv.Env, cm *provision.CreatedMachines) []string {
	t.Helper()
	var refs []string
	for i, tk := range cm.Tasks {
		if got := e.WaitTask(t, tk.ID); got.Status != core.TaskSuccess {
			t.Fatalf("machine task: %s %s", got.Status, got.Error)
		}
		inst, err := e.Store.GetInstance(t.Context(), cm.Machines[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, inst.RuntimeRef)
	}
	return refs
}

// TestProjectLimitsRefuseMachines creates machines in a TRS project until its
// buckets limit, then past its stored usage as the sim reports it.
func TestProjectLimitsRefuseMachines(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	srv := e.Server(t, "node-1", 20)
	p := newPool(t, e, "limited", desktop.ModeSimultaneous, 0, "")

	if _, err := e.Quota.SetLimits(ctx, p.ID, quota.ProjectLimitsInput{Buckets: ptr(2)}); err != nil {
		t.Fatal(err)
	}
	cm, err := e.Provision.CreateMachines(ctx, p.ID, 2, nil, nil)
	if err != nil {
		t.Fatalf("within buckets: %v", err)
	}
	refs := machineRefs(t, e, cm)
	_, err = e.Provision.CreateMachines(ctx, p.ID, 1, nil, nil)
	wantReason(t, err, core.KindConflict, quota.ReasonBucketsExceeds)
	// A user volume counts too.
	vu := newMember(t, e, "volume-user")
	_, err = e.Desktop.CreateVolumeAssignment(ctx, core.VolumeAssignment{UserID: vu.ID, ProjectID: p.ID, VolumeID: "vol-1"})
	wantReason(t, err, core.KindConflict, quota.ReasonBucketsExceeds)

	// Raise buckets; limit usage to 1 MB and have the sim report 1 MB stored.
	if _, err := e.Quota.SetLimits(ctx, p.ID, quota.ProjectLimitsInput{Buckets: ptr(10), Usage: ptr(int64(1_000_000))}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Provision.CreateMachines(ctx, p.ID, 1, nil, nil); err != nil {
		t.Fatalf("under usage: %v", err)
	}
	e.Sim.SetUsage(srv.ID, refs[0], core.InstanceUsage{StoredBytes: 600_000})
	e.Sim.SetUsage(srv.ID, refs[1], core.InstanceUsage{StoredBytes: 400_000, EgressBytes: 7})
	rep, err := e.Quota.MeasureUsage(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if u := rep.Projects[p.ID]; u == nil || u.StoredBytes != 1_000_000 || u.EgressBytes != 7 {
		t.Fatalf("measured %+v", rep.Projects[p.ID])
	}
	_, err = e.Provision.CreateMachines(ctx, p.ID, 1, nil, nil)
	wantReason(t, err, core.KindConflict, quota.ReasonUsageExceeded)
	if err := e.Tenancy.ProjectUsageCheck(ctx, p.ID); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("usage check: %v", err)
	}
	// A TRS project is not deleted through the satellite.
	if err := e.Tenancy.DeleteProject(ctx, p.ID); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("delete TRS project: %v", err)
	}
}

// TestProjectUsagePerMonth records usage across a month boundary from the
// sim's figures: stored bytes as measured, egress as the counter's increase.
func TestProjectUsagePerMonth(t *testing.T) {
	clk := testenv.NewClock(time.Date(2026, 1, 20, 10, 0, 0, 0, time.UTC))
	e := testenv.NewWith(t, testenv.Options{Clock: clk.Now})
	ctx := e.AdminCtx()
	srv := e.Server(t, "node-1", 20)
	p := newPool(t, e, "metered", desktop.ModeSimultaneous, 0, "")
	other := newPool(t, e, "idle", desktop.ModeSimultaneous, 0, "")
	cm, err := e.Provision.CreateMachines(ctx, p.ID, 2, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	refs := machineRefs(t, e, cm)
	if _, err := e.Provision.CreateMachines(ctx, other.ID, 1, nil, nil); err != nil {
		t.Fatal(err)
	}

	measure := func() {
		t.Helper()
		if _, err := e.Quota.MeasureUsage(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	want := func(month string, stored, egress int64) {
		t.Helper()
		u, err := e.Store.GetProjectUsage(t.Context(), p.ID, month)
		if err != nil {
			t.Fatalf("usage of %s: %v", month, err)
		}
		if u.StoredBytes != stored || u.EgressBytes != egress {
			t.Fatalf("%s: stored %d egress %d, want %d %d", month, u.StoredBytes, u.EgressBytes, stored, egress)
		}
	}
	e.Sim.SetUsage(srv.ID, refs[0], core.InstanceUsage{StoredBytes: 100, EgressBytes: 50})
	e.Sim.SetUsage(srv.ID, refs[1], core.InstanceUsage{StoredBytes: 20, EgressBytes: 5})
	measure()
	want("2026-01", 120, 55)
	e.Sim.SetUsage(srv.ID, refs[0], core.InstanceUsage{StoredBytes: 90, EgressBytes: 80})
	measure()
	want("2026-01", 110, 85) // +30 egress

	clk.Set(time.Date(2026, 2, 1, 0, 5, 0, 0, time.UTC))
	e.Sim.SetUsage(srv.ID, refs[0], core.InstanceUsage{StoredBytes: 200, EgressBytes: 100})
	measure()
	want("2026-02", 220, 20) // only what was sent since the last reading
	want("2026-01", 110, 85)
	e.Sim.SetUsage(srv.ID, refs[1], core.InstanceUsage{StoredBytes: 20, EgressBytes: 3}) // restarted: counter reset
	measure()
	want("2026-02", 220, 23)

	// The idle project stores and sends nothing: no usage row.
	if _, err := e.Store.GetProjectUsage(t.Context(), other.ID, "2026-02"); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("idle project usage: %v", err)
	}
	hist, err := e.Quota.UsageHistory(ctx, p.ID)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history = %v, %v", hist, err)
	}
	// The periodic job is registered.
	found := false
	for _, j := range e.Svc.PeriodicJobs() {
		found = found || j.Kind == quota.KindProjectUsage
	}
	if _, ok := e.Svc.TaskHandlers()[quota.KindProjectUsage]; !ok || !found {
		t.Fatal("project usage job not registered")
	}
}

// TestProjectRate checks the token bucket behind the rate limit through
// ValidateToken with a project-scoped token.
func TestProjectRate(t *testing.T) {
	clk := testenv.NewClock(time.Date(2026, 1, 20, 10, 0, 0, 0, time.UTC))
	e := testenv.NewWith(t, testenv.Options{Clock: clk.Now})
	ctx := e.AdminCtx()
	u, err := e.Tenancy.CreateCustomer(ctx, tenancy.CustomerInput{Email: ptr("r@mail.test"), Password: ptr("secret-1")})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Tenancy.CreateProject(ctx, u.ID, "rated")
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := issueToken(e.Login, t.Context(), login.PasswordLogin{UserName: u.Name, Password: "secret-1", Scope: login.ProjectScope{ID: p.ID}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 { // rate 0: unlimited
		if _, _, err := validateToken(e.Login, t.Context(), tok); err != nil {
			t.Fatalf("unlimited call %d: %v", i, err)
		}
	}
	if _, err := e.Quota.SetLimits(ctx, p.ID, quota.ProjectLimitsInput{Rate: ptr(2)}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, _, err := validateToken(e.Login, t.Context(), tok); err != nil {
			t.Fatalf("call %d within rate: %v", i, err)
		}
	}
	_, _, err = validateToken(e.Login, t.Context(), tok)
	wantReason(t, err, core.KindTooMany, quota.ReasonRateLimited)
	clk.Set(clk.Now().Add(500 * time.Millisecond)) // one token back
	if _, _, err := validateToken(e.Login, t.Context(), tok); err != nil {
		t.Fatalf("after refill: %v", err)
	}
	_, _, err = validateToken(e.Login, t.Context(), tok)
	wantReason(t, err, core.KindTooMany, quota.ReasonRateLimited)
}
