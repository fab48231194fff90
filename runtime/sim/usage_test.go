package sim

import (
	"context"
	"testing"

	"hostdeck/core"
)

func TestUsage(t *testing.T) {
	ctx := context.Background()
	s, _ := newSim(t, Options{})
	ref := mustCreate(t, s, srvA, "u1")

	// Unset: the bytes written into the volumes, no egress.
	got, err := s.Usage(ctx, srvA, ref)
	if err != nil || got != (core.InstanceUsage{}) {
		t.Fatalf("fresh usage = %+v, %v", got, err)
	}
	if err := s.WriteFile(srvA.ID, ref, "u1-data", "/data/a", make([]byte, 1500)); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Usage(ctx, srvA, ref); got.StoredBytes != 1500 || got.EgressBytes != 0 {
		t.Fatalf("usage after write = %+v", got)
	}

	// Set: exactly what the test says, per simulator and instance.
	s.SetUsage(srvA.ID, ref, core.InstanceUsage{StoredBytes: 1 << 30, EgressBytes: 42})
	if got, _ = s.Usage(ctx, srvA, ref); got != (core.InstanceUsage{StoredBytes: 1 << 30, EgressBytes: 42}) {
		t.Fatalf("set usage = %+v", got)
	}
	other, _ := newSim(t, Options{})
	ref2 := mustCreate(t, other, srvA, "u1")
	if got, _ = other.Usage(ctx, srvA, ref2); got.StoredBytes != 0 {
		t.Fatalf("another sim sees %+v", got)
	}

	if _, err := s.Usage(ctx, srvA, "nope"); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("unknown ref: %v", err)
	}
	s.SetUnreachable(srvA.ID, true)
	if _, err := s.Usage(ctx, srvA, ref); core.ErrorKind(err) != core.KindUnavailable {
		t.Fatalf("unreachable: %v", err)
	}
}
