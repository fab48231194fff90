package core_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"hostdeck/core"
	"hostdeck/core/fleet"
	"hostdeck/internal/testenv"
	"hostdeck/runtime/sim"
	"hostdeck/sampleapp"
)

// stdinSim is the simulator with the ability to write an instance's stdin
// (core.StdinWriter), recording each write with the state the instance was in.
type stdinSim struct {
	*sim.Sim
	mu     sync.Mutex
	writes []stdinWrite
}

type stdinWrite struct {
	ref   string
	data  string
	state core.InstanceState
}

func (s *stdinSim) WriteStdin(ctx context.Context, srv *core.Server, ref string, data []byte) error {
	st, err := s.Inspect(ctx, srv, ref)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, stdinWrite{ref: ref, data: string(data), state: st.State})
	return nil
}

func (s *stdinSim) recorded() []stdinWrite {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]stdinWrite(nil), s.writes...)
}

// TestOwnerPasswordOnStdin creates clients on a runtime that can write an
// instance's stdin: from the sample template, the owner password is written
// there, a line, before the instance starts, and no hook runs; from a template
// whose image does not read it there, the hook sets it after the start, as on
// a runtime that cannot.
func TestOwnerPasswordOnStdin(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stdin   bool
		runtime string
	}{
		{"stdin", true, "simstdin"},
		{"hook only template", false, "simstdin"},
		{"runtime without stdin", true, "sim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := &stdinSim{Sim: sim.New(sim.Options{})}
			var cfg core.Config
			cfg.Template = sampleapp.Template()
			cfg.Template.OwnerPasswordStdin = tc.stdin
			e := testenv.NewWith(t, testenv.Options{Config: cfg, Runtimes: map[string]core.Runtime{"simstdin": rt}})
			name, capacity := "s-"+tc.runtime, 10
			srv, err := e.Fleet.CreateServer(e.AdminCtx(), fleet.ServerInput{Name: &name, Runtime: &tc.runtime, Capacity: &capacity})
			if err != nil {
				t.Fatal(err)
			}
			c, tk := createClient(t, e, "Lab1")
			if done := e.WaitTask(t, tk.ID); done.Status != core.TaskSuccess {
				t.Fatalf("task = %s: %s", done.Status, done.Error)
			}
			v, err := e.Cloud.GetClient(e.AdminCtx(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			pw := string(mustOpen(t, e, v.OwnerPasswordEnc))
			var execs []sim.ExecRecord
			if tc.runtime == "sim" {
				execs = e.Sim.Execs(srv.ID, v.Instance.RuntimeRef)
			} else {
				execs = rt.Execs(srv.ID, v.Instance.RuntimeRef)
			}
			writes := rt.recorded()
			if tc.stdin && tc.runtime == "simstdin" {
				if len(writes) != 1 || writes[0].ref != v.Instance.RuntimeRef || writes[0].data != pw+"\n" || writes[0].state == core.StateActive {
					t.Fatalf("stdin writes = %+v, want the password before the start", writes)
				}
				if len(execs) != 0 {
					t.Fatalf("execs = %+v, want none", execs)
				}
				return
			}
			if len(writes) != 0 {
				t.Fatalf("stdin writes = %+v, want none", writes)
			}
			if len(execs) != 1 || !strings.HasSuffix(strings.Join(execs[0].Cmd, " "), "owner-password") || string(execs[0].Stdin) != pw+"\n" {
				t.Fatalf("execs = %+v, want the hook", execs)
			}
		})
	}
}
