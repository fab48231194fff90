package sim

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hostdeck/core"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var srvA = &core.Server{ID: "srv-a", Address: "a.example"}

func spec(name string) core.InstanceSpec {
	return core.InstanceSpec{
		Name:    name,
		Image:   "img",
		Ports:   []core.Port{{Container: 8080}},
		Volumes: []core.Volume{{Name: name + "-data", Path: "/data"}},
		Labels:  map[string]string{core.LabelInstance: "inst-" + name},
	}
}

func newSim(t testing.TB, opts Options) (*Sim, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	s := New(opts)
	t.Cleanup(func() { s.Close() })
	return s, clk
}

func mustCreate(t testing.TB, s *Sim, srv *core.Server, name string) string {
	t.Helper()
	ref, err := s.Create(context.Background(), srv, spec(name))
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return ref
}

func state(t testing.TB, s *Sim, srv *core.Server, ref string) core.InstanceState {
	t.Helper()
	st, err := s.Inspect(context.Background(), srv, ref)
	if err != nil {
		t.Fatalf("inspect %s: %v", ref, err)
	}
	if st.Healthy != (st.State == core.StateActive) {
		t.Fatalf("healthy %v in state %s", st.Healthy, st.State)
	}
	return st.State
}

func TestStateMachine(t *testing.T) {
	opts := Options{BuildDelay: 2 * time.Second, StartDelay: 3 * time.Second, RebootDelay: 1 * time.Second}
	type step struct {
		do   string        // create, start, stop, restart, crash, wait
		wait time.Duration // for wait
		want core.InstanceState
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"build then stopped", []step{
			{do: "create", want: core.StateBuilding},
			{do: "wait", wait: 1999 * time.Millisecond, want: core.StateBuilding},
			{do: "wait", wait: time.Millisecond, want: core.StateStopped},
		}},
		{"start during build waits for build", []step{
			{do: "create", want: core.StateBuilding},
			{do: "start", want: core.StateBuilding},
			{do: "wait", wait: 4 * time.Second, want: core.StateBuilding},
			{do: "wait", wait: time.Second, want: core.StateActive},
		}},
		{"start after build", []step{
			{do: "create"},
			{do: "wait", wait: time.Minute, want: core.StateStopped},
			{do: "start", want: core.StateBuilding},
			{do: "wait", wait: 3 * time.Second, want: core.StateActive},
			{do: "start", want: core.StateActive},
		}},
		{"restart reboots", []step{
			{do: "create"}, {do: "start"}, {do: "wait", wait: time.Minute, want: core.StateActive},
			{do: "restart", want: core.StateRebooting},
			{do: "wait", wait: time.Second, want: core.StateActive},
		}},
		{"stop is immediate", []step{
			{do: "create"}, {do: "start"}, {do: "wait", wait: time.Minute},
			{do: "stop", want: core.StateStopped},
			{do: "wait", wait: time.Minute, want: core.StateStopped},
			{do: "start", want: core.StateBuilding},
			{do: "wait", wait: 3 * time.Second, want: core.StateActive},
		}},
		{"crash on start", []step{
			{do: "crash"}, {do: "create"}, {do: "start"},
			{do: "wait", wait: time.Minute, want: core.StateError},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newSim(t, opts)
			ctx := context.Background()
			var ref string
			for i, st := range tt.steps {
				var err error
				switch st.do {
				case "create":
					ref = mustCreate(t, s, srvA, "web")
				case "start":
					err = s.Start(ctx, srvA, ref)
				case "stop":
					err = s.Stop(ctx, srvA, ref)
				case "restart":
					err = s.Restart(ctx, srvA, ref)
				case "crash":
					s.CrashOnStart(srvA.ID, true)
				case "wait":
					clk.Add(st.wait)
				}
				if err != nil {
					t.Fatalf("step %d %s: %v", i, st.do, err)
				}
				if st.want != "" && ref != "" {
					if got := state(t, s, srvA, ref); got != st.want {
						t.Fatalf("step %d %s: state %s, want %s", i, st.do, got, st.want)
					}
				}
			}
		})
	}
}

func TestDeleteAndNotFound(t *testing.T) {
	s, _ := newSim(t, Options{})
	ctx := context.Background()
	ref := mustCreate(t, s, srvA, "web")
	if err := s.Delete(ctx, srvA, ref); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, srvA, ref); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	_, err := s.Inspect(ctx, srvA, ref)
	if core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("inspect deleted: %v", err)
	}
	for name, f := range map[string]func() error{
		"start":   func() error { return s.Start(ctx, srvA, "nope") },
		"stop":    func() error { return s.Stop(ctx, srvA, "nope") },
		"restart": func() error { return s.Restart(ctx, srvA, "nope") },
		"exec":    func() error { _, err := s.Exec(ctx, srvA, "nope", []string{"x"}, nil); return err },
		"copy":    func() error { return s.CopyVolumes(ctx, srvA, "nope", srvA, "nope") },
	} {
		if err := f(); core.ErrorKind(err) != core.KindNotFound {
			t.Errorf("%s unknown ref: %v", name, err)
		}
	}
	// Instances are per server: the same ref on another server is unknown.
	ref = mustCreate(t, s, srvA, "web")
	if _, err := s.Inspect(ctx, &core.Server{ID: "srv-b"}, ref); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("inspect on other server: %v", err)
	}
}

func TestIdempotentCreate(t *testing.T) {
	s, _ := newSim(t, Options{})
	ref1 := mustCreate(t, s, srvA, "web")
	ref2 := mustCreate(t, s, srvA, "web")
	if ref1 != ref2 {
		t.Fatalf("refs differ: %s, %s", ref1, ref2)
	}
	other := mustCreate(t, s, &core.Server{ID: "srv-b"}, "web")
	if other == ref1 {
		t.Fatal("same ref on another server")
	}
	list, err := s.List(context.Background(), srvA)
	if err != nil || len(list) != 1 {
		t.Fatalf("list = %v, %v", list, err)
	}
	if list[0].InstanceID != "inst-web" || list[0].Name != "web" || list[0].Ref != ref1 {
		t.Fatalf("list[0] = %+v", list[0])
	}
}

func TestFaults(t *testing.T) {
	s, _ := newSim(t, Options{})
	ctx := context.Background()
	ref := mustCreate(t, s, srvA, "web")

	boom := core.Errorf(core.KindUnavailable, "no capacity")
	s.FailCreate(srvA.ID, boom)
	if _, err := s.Create(ctx, srvA, spec("other")); !errors.Is(err, boom) {
		t.Fatalf("create with fault: %v", err)
	}
	if r, err := s.Create(ctx, srvA, spec("web")); err != nil || r != ref {
		t.Fatalf("create of existing name with fault = %s, %v", r, err)
	}
	if _, err := s.Create(ctx, &core.Server{ID: "srv-b"}, spec("other")); err != nil {
		t.Fatalf("fault leaked to other server: %v", err)
	}
	s.FailCreate(srvA.ID, nil)
	mustCreate(t, s, srvA, "other")

	s.SetUnreachable(srvA.ID, true)
	calls := map[string]func() error{
		"create":  func() error { _, err := s.Create(ctx, srvA, spec("x")); return err },
		"start":   func() error { return s.Start(ctx, srvA, ref) },
		"stop":    func() error { return s.Stop(ctx, srvA, ref) },
		"restart": func() error { return s.Restart(ctx, srvA, ref) },
		"delete":  func() error { return s.Delete(ctx, srvA, ref) },
		"inspect": func() error { _, err := s.Inspect(ctx, srvA, ref); return err },
		"list":    func() error { _, err := s.List(ctx, srvA); return err },
		"exec":    func() error { _, err := s.Exec(ctx, srvA, ref, []string{"x"}, nil); return err },
		"load":    func() error { _, err := s.Load(ctx, srvA); return err },
		"copy":    func() error { return s.CopyVolumes(ctx, srvA, ref, srvA, ref) },
	}
	for name, f := range calls {
		if err := f(); core.ErrorKind(err) != core.KindUnavailable {
			t.Errorf("%s while unreachable: %v", name, err)
		}
	}
	if l, _ := s.Load(ctx, srvA); l.Reachable || l.Error == "" {
		t.Errorf("load while unreachable = %+v", l)
	}
	s.ClearFaults(srvA.ID)
	if _, err := s.Inspect(ctx, srvA, ref); err != nil {
		t.Fatalf("after clear: %v", err)
	}

	if err := s.SetState(srvA.ID, ref, core.StateError); err != nil {
		t.Fatal(err)
	}
	if got := state(t, s, srvA, ref); got != core.StateError {
		t.Fatalf("state %s", got)
	}
}

func TestLoad(t *testing.T) {
	s, _ := newSim(t, Options{})
	ctx := context.Background()
	for i := range 3 {
		ref := mustCreate(t, s, srvA, fmt.Sprint("web", i))
		if i < 2 {
			s.Start(ctx, srvA, ref)
		}
	}
	s.SetLoad(srvA.ID, 42.5, 1<<30, 4<<30)
	l, err := s.Load(ctx, srvA)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Reachable || l.Instances != 2 || l.CPUPercent != 42.5 || l.MemoryUsed != 1<<30 || l.MemoryTotal != 4<<30 || l.CheckedAt.IsZero() {
		t.Fatalf("load = %+v", l)
	}
}

func TestExecAndInspect(t *testing.T) {
	var hookCalls int
	s, _ := newSim(t, Options{OnExec: func(ctx context.Context, srv *core.Server, ref string, cmd []string, stdin []byte) (core.ExecResult, error) {
		hookCalls++
		if cmd[len(cmd)-1] == "fail" {
			return core.ExecResult{Stderr: "boom", ExitCode: 3}, nil
		}
		return core.ExecResult{Stdout: "ok"}, nil
	}})
	ctx := context.Background()
	ref := mustCreate(t, s, srvA, "web")
	if _, err := s.Exec(ctx, srvA, ref, []string{"x"}, nil); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("exec in stopped instance: %v", err)
	}
	s.Start(ctx, srvA, ref)
	st, err := s.Inspect(ctx, srvA, ref)
	if err != nil || st.URL != "http://a.example/web/" || st.Address == "" || !st.Healthy {
		t.Fatalf("inspect = %+v, %v", st, err)
	}
	res, err := s.Exec(ctx, srvA, ref, []string{"/hostdeck", "sample-app", "owner-password"}, []byte("pw-123"))
	if err != nil || res.Stdout != "ok" {
		t.Fatalf("exec = %+v, %v", res, err)
	}
	res, _ = s.Exec(ctx, srvA, ref, []string{"fail"}, nil)
	if res.ExitCode != 3 {
		t.Fatalf("exit code = %d", res.ExitCode)
	}
	execs := s.Execs(srvA.ID, ref)
	if len(execs) != 2 || execs[0].Cmd[2] != "owner-password" || string(execs[0].Stdin) != "pw-123" || hookCalls != 2 {
		t.Fatalf("execs = %+v, hook calls %d", execs, hookCalls)
	}
	other, _ := newSim(t, Options{})
	r := mustCreate(t, other, &core.Server{ID: "x"}, "w")
	other.Start(ctx, &core.Server{ID: "x"}, r)
	if st, _ := other.Inspect(ctx, &core.Server{ID: "x"}, r); st.URL != "http://sim/w/" {
		t.Fatalf("default URL = %s", st.URL)
	}
	if res, err := other.Exec(ctx, &core.Server{ID: "x"}, r, []string{"true"}, nil); err != nil || res.ExitCode != 0 {
		t.Fatalf("default exec = %+v, %v", res, err)
	}
}

func TestCopyVolumes(t *testing.T) {
	s, _ := newSim(t, Options{})
	ctx := context.Background()
	srvB := &core.Server{ID: "srv-b"}
	from := mustCreate(t, s, srvA, "old")
	to := mustCreate(t, s, srvB, "new")
	if err := s.WriteFile(srvA.ID, from, "old-data", "demo.json", []byte("demo")); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFile(srvB.ID, to, "new-data", "stale", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFile(srvA.ID, from, "nope", "f", nil); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("write to unknown volume: %v", err)
	}
	if err := s.CopyVolumes(ctx, srvA, from, srvB, to); err != nil {
		t.Fatal(err)
	}
	b, err := s.ReadFile(srvB.ID, to, "new-data", "demo.json")
	if err != nil || string(b) != "demo" {
		t.Fatalf("copied file = %q, %v", b, err)
	}
	if _, err := s.ReadFile(srvB.ID, to, "new-data", "stale"); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("stale file survived: %v", err)
	}
	// The copy is deep: changing the source later does not change the target.
	s.WriteFile(srvA.ID, from, "old-data", "demo.json", []byte("changed"))
	if b, _ := s.ReadFile(srvB.ID, to, "new-data", "demo.json"); string(b) != "demo" {
		t.Fatalf("target changed with source: %q", b)
	}
}

func TestStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.json")
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	opts := Options{StartDelay: 10 * time.Second, Now: clk.Now, StateFile: path}
	ctx := context.Background()

	s1 := New(opts)
	active := mustCreate(t, s1, srvA, "active")
	s1.Start(ctx, srvA, active)
	clk.Add(time.Minute)
	booting := mustCreate(t, s1, srvA, "booting")
	s1.Start(ctx, srvA, booting)
	gone := mustCreate(t, s1, srvA, "gone")
	s1.Delete(ctx, srvA, gone)
	s1.WriteFile(srvA.ID, active, "active-data", "f", []byte("kept"))
	s1.Exec(ctx, srvA, active, []string{"pw"}, []byte("secret"))

	// A new process: the same file, the clock moved on.
	s2 := New(opts)
	if got := state(t, s2, srvA, active); got != core.StateActive {
		t.Fatalf("active after reload: %s", got)
	}
	if got := state(t, s2, srvA, booting); got != core.StateBuilding {
		t.Fatalf("booting after reload: %s", got)
	}
	clk.Add(10 * time.Second)
	if got := state(t, s2, srvA, booting); got != core.StateActive {
		t.Fatalf("booting after delay: %s", got)
	}
	if _, err := s2.Inspect(ctx, srvA, gone); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("deleted instance came back: %v", err)
	}
	if b, _ := s2.ReadFile(srvA.ID, active, "active-data", "f"); string(b) != "kept" {
		t.Fatalf("volume after reload = %q", b)
	}
	if ref, _ := s2.Create(ctx, srvA, spec("active")); ref != active {
		t.Fatalf("idempotent create after reload = %s", ref)
	}
	if len(s2.Execs(srvA.ID, active)) != 0 {
		t.Fatal("exec records (with stdin) were persisted")
	}

	if _, err := Open(Options{StateFile: filepath.Join(t.TempDir(), "missing.json")}); err != nil {
		t.Fatalf("missing state file: %v", err)
	}
}

func TestRealClockDelays(t *testing.T) {
	s := New(Options{StartDelay: 50 * time.Millisecond})
	ctx := context.Background()
	ref := mustCreate(t, s, srvA, "web")
	s.Start(ctx, srvA, ref)
	if got := state(t, s, srvA, ref); got != core.StateBuilding {
		t.Fatalf("state right after start: %s", got)
	}
	deadline := time.Now().Add(2 * time.Second)
	for state(t, s, srvA, ref) != core.StateActive {
		if time.Now().After(deadline) {
			t.Fatal("never became active")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConcurrent(t *testing.T) {
	s := New(Options{StartDelay: time.Millisecond, RebootDelay: time.Millisecond})
	ctx := context.Background()
	servers := []*core.Server{{ID: "c1"}, {ID: "c2"}}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			srv := servers[g%2]
			for i := range 50 {
				name := fmt.Sprintf("w%d-%d", g%4, i) // goroutines g and g+4 race on names
				ref, err := s.Create(ctx, srv, spec(name))
				if err != nil {
					t.Error(err)
					return
				}
				s.Start(ctx, srv, ref)
				s.Inspect(ctx, srv, ref)
				s.Exec(ctx, srv, ref, []string{"x"}, nil)
				s.Restart(ctx, srv, ref)
				s.List(ctx, srv)
				s.Load(ctx, srv)
				s.SetLoad(srv.ID, float64(i), 0, 0)
				s.CopyVolumes(ctx, srv, ref, servers[(g+1)%2], ref)
				if i%3 == 0 {
					s.Delete(ctx, srv, ref)
				}
			}
		})
	}
	wg.Wait()
	for _, srv := range servers {
		list, err := s.List(ctx, srv)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, in := range list {
			if names[in.Name] {
				t.Fatalf("duplicate name %s on %s", in.Name, srv.ID)
			}
			names[in.Name] = true
		}
	}
}

func TestThousandFast(t *testing.T) {
	s := New(Options{})
	ctx := context.Background()
	start := time.Now()
	for i := range 1000 {
		ref := mustCreate(t, s, srvA, fmt.Sprint("w", i))
		if err := s.Start(ctx, srvA, ref); err != nil {
			t.Fatal(err)
		}
	}
	if l, _ := s.Load(ctx, srvA); l.Instances != 1000 {
		t.Fatalf("instances = %d", l.Instances)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("1000 create+start took %v", d)
	}
}

func BenchmarkCreateStart1000(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		s := New(Options{})
		for i := range 1000 {
			ref, err := s.Create(ctx, srvA, spec(fmt.Sprint("w", i)))
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Start(ctx, srvA, ref); err != nil {
				b.Fatal(err)
			}
			if st, _ := s.Inspect(ctx, srvA, ref); !st.Healthy {
				b.Fatal("not healthy")
			}
		}
	}
}
