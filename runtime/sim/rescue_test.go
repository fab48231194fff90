package sim

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hostdeck/core"
)

// TestRescueStates: rescue only from active, unrescue only from rescue (or a
// retry on the way back), volumes untouched, the state kept across a restart.
func TestRescueStates(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "state.json")
	s, clk := newSim(t, Options{StartDelay: time.Second, StateFile: file})
	ref, err := s.Create(ctx, srvA, spec("r1"))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Rescue(ctx, srvA, ref, "rescue:1", "pw")
	if core.ErrorKind(err) != core.KindConflict || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("rescue of a stopped instance: %v", err)
	}
	if err := s.Start(ctx, srvA, ref); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	if err := s.WriteFile(srvA.ID, ref, "r1-data", "/data/keep", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Rescue(ctx, srvA, ref, "", ""); core.ErrorKind(err) != core.KindInvalid {
		t.Fatalf("empty image: %v", err)
	}
	if err := s.Rescue(ctx, srvA, ref, "rescue:1", "pw"); err != nil {
		t.Fatal(err)
	}
	if err := s.Rescue(ctx, srvA, ref, "rescue:1", "pw"); err != nil {
		t.Fatalf("repeated rescue: %v", err)
	}
	if err := s.Rescue(ctx, srvA, ref, "other:1", ""); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("rescue from another image while in rescue: %v", err)
	}
	st, _ := s.Inspect(ctx, srvA, ref)
	if st.State != core.StateRescue || st.Healthy || s.RescueImage(srvA.ID, ref) != "rescue:1" {
		t.Fatalf("in rescue: %+v %q", st, s.RescueImage(srvA.ID, ref))
	}
	if _, err := s.Exec(ctx, srvA, ref, []string{"true"}, nil); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("exec in rescue: %v", err)
	}
	// A restart keeps the rescue.
	s2, err := Open(Options{StateFile: file, Now: clk.Now, StartDelay: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if s2.RescueImage(srvA.ID, ref) != "rescue:1" {
		t.Fatal("rescue lost across a restart")
	}

	if err := s.Unrescue(ctx, srvA, ref); err != nil {
		t.Fatal(err)
	}
	st, _ = s.Inspect(ctx, srvA, ref)
	if st.State != core.StateBuilding || s.RescueImage(srvA.ID, ref) != "" {
		t.Fatalf("after unrescue: %+v", st)
	}
	if err := s.Unrescue(ctx, srvA, ref); err != nil {
		t.Fatalf("retried unrescue on the way back: %v", err)
	}
	clk.Add(time.Second)
	st, _ = s.Inspect(ctx, srvA, ref)
	if st.State != core.StateActive {
		t.Fatalf("after start delay: %+v", st)
	}
	if b, err := s.ReadFile(srvA.ID, ref, "r1-data", "/data/keep"); err != nil || string(b) != "x" {
		t.Fatalf("volume after rescue: %q %v", b, err)
	}
	if err := s.Stop(ctx, srvA, ref); err != nil {
		t.Fatal(err)
	}
	err = s.Unrescue(ctx, srvA, ref)
	if core.ErrorKind(err) != core.KindConflict || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("unrescue of a stopped instance: %v", err)
	}
	if err := s.Rescue(ctx, srvA, "nope", "rescue:1", ""); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("unknown ref: %v", err)
	}
}

// TestDeleteInRescue: deleting an instance in rescue takes its rescue system
// and its volumes with it.
func TestDeleteInRescue(t *testing.T) {
	ctx := context.Background()
	s, _ := newSim(t, Options{})
	ref, err := s.Create(ctx, srvA, spec("r2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx, srvA, ref); err != nil {
		t.Fatal(err)
	}
	if err := s.Rescue(ctx, srvA, ref, "rescue:1", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, srvA, ref); err != nil {
		t.Fatal(err)
	}
	if s.RescueImage(srvA.ID, ref) != "" {
		t.Fatal("rescue system left after delete")
	}
	if _, err := s.Inspect(ctx, srvA, ref); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("inspect after delete: %v", err)
	}
	if _, err := s.ReadFile(srvA.ID, ref, "r2-data", "/"); err == nil {
		t.Fatal("volume left after delete")
	}
}
