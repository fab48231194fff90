package sim

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"

	"hostdeck/core"
)

func netSpec(name, network string) core.InstanceSpec {
	sp := spec(name)
	sp.Network = network
	return sp
}

// activeAddr creates and starts an instance and returns the address Inspect
// reports once it is active.
func activeAddr(t *testing.T, s *Sim, srv *core.Server, sp core.InstanceSpec) (string, string) {
	t.Helper()
	ctx := context.Background()
	ref, err := s.Create(ctx, srv, sp)
	if err != nil {
		t.Fatalf("create %s: %v", sp.Name, err)
	}
	if err := s.Start(ctx, srv, ref); err != nil {
		t.Fatal(err)
	}
	st, err := s.Inspect(ctx, srv, ref)
	if err != nil || st.State != core.StateActive {
		t.Fatalf("inspect %s: %+v %v", sp.Name, st, err)
	}
	return ref, st.Address
}

// block is the /20 an address is in.
func block(t *testing.T, addr string) netip.Prefix {
	t.Helper()
	a, err := netip.ParseAddr(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	p, _ := a.Prefix(20)
	return p
}

func TestNetworkAddressShape(t *testing.T) {
	s, _ := newSim(t, Options{})
	srvB := &core.Server{ID: "srv-b"}
	pool := netip.MustParsePrefix("10.128.0.0/9")
	seen := map[string]string{}
	var nets []netip.Prefix
	for n, network := range []string{"hostdeck-trs-one", "hostdeck-trs-two"} {
		var first netip.Prefix
		for i := range 5 {
			srv := srvA
			if i%2 == 1 {
				srv = srvB // one network across servers
			}
			_, addr := activeAddr(t, s, srv, netSpec(fmt.Sprintf("m%d-%d", n, i), network))
			if prev, dup := seen[addr]; dup {
				t.Fatalf("%s given twice (%s and m%d-%d)", addr, prev, n, i)
			}
			seen[addr] = fmt.Sprintf("m%d-%d", n, i)
			a := netip.MustParseAddr(addr)
			if !pool.Contains(a) {
				t.Fatalf("%s is outside %s", addr, pool)
			}
			if i == 0 {
				first = block(t, addr)
				// The first instance takes .2 of the block, as on a Docker bridge.
				if want := first.Addr().Next().Next(); a != want {
					t.Fatalf("first address of %s = %s, want %s", network, a, want)
				}
			} else if b := block(t, addr); b != first {
				t.Fatalf("%s of %s is in %s, want %s", addr, network, b, first)
			}
		}
		nets = append(nets, first)
	}
	if nets[0] == nets[1] {
		t.Fatalf("two networks share block %s", nets[0])
	}

	// Deterministic: a new simulator gives the same network the same addresses.
	s2, _ := newSim(t, Options{})
	_, a1 := activeAddr(t, s2, srvA, netSpec("x", "hostdeck-trs-two"))
	if block(t, a1) != nets[1] || a1 != nets[1].Addr().Next().Next().String() {
		t.Fatalf("address on a fresh simulator = %s, want the first of %s", a1, nets[1])
	}
}

func TestNetworkAddressNotReused(t *testing.T) {
	s, _ := newSim(t, Options{})
	ctx := context.Background()
	ref, a1 := activeAddr(t, s, srvA, netSpec("m1", "net"))
	if err := s.Delete(ctx, srvA, ref); err != nil {
		t.Fatal(err)
	}
	_, a2 := activeAddr(t, s, srvA, netSpec("m2", "net"))
	if a1 == a2 {
		t.Fatalf("deleted instance's address %s handed out again", a1)
	}
	// Create is idempotent by name: the same instance, the same address.
	ref3, a3 := activeAddr(t, s, srvA, netSpec("m2", "net"))
	if a3 != a2 {
		t.Fatalf("second create of m2: %s (%s), want %s", a3, ref3, a2)
	}
}

func TestNetworkAddressOnlyWhileActive(t *testing.T) {
	s, _ := newSim(t, Options{})
	ctx := context.Background()
	ref, addr := activeAddr(t, s, srvA, netSpec("m1", "net"))
	if err := s.Stop(ctx, srvA, ref); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Inspect(ctx, srvA, ref)
	if st.Address != "" {
		t.Fatalf("stopped instance reports %q", st.Address)
	}
	if err := s.Start(ctx, srvA, ref); err != nil {
		t.Fatal(err)
	}
	st, _ = s.Inspect(ctx, srvA, ref)
	if st.Address != addr {
		t.Fatalf("after restart address = %q, want %q (a container keeps its address)", st.Address, addr)
	}
}

func TestNoNetworkAddressUnchanged(t *testing.T) {
	s, _ := newSim(t, Options{})
	ref, addr := activeAddr(t, s, srvA, spec("plain"))
	if addr != fakeIP(ref) || block(t, addr).Addr().As4()[1] != 88 {
		t.Fatalf("instance without a network reports %q, want %q", addr, fakeIP(ref))
	}
}

func TestNetworkStateFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sim.json")
	s, _ := newSim(t, Options{StateFile: file})
	_, a1 := activeAddr(t, s, srvA, netSpec("m1", "net-a"))
	_, a2 := activeAddr(t, s, srvA, netSpec("m2", "net-a"))
	_, b1 := activeAddr(t, s, srvA, netSpec("m3", "net-b"))

	again, _ := newSim(t, Options{StateFile: file})
	list, err := again.List(context.Background(), srvA)
	if err != nil || len(list) != 3 {
		t.Fatalf("list after reload = %+v %v", list, err)
	}
	st, err := again.Inspect(context.Background(), srvA, list[0].Ref)
	if err != nil || st.Address != a1 {
		t.Fatalf("m1 after reload: %+v %v, want %s", st, err, a1)
	}
	// The network goes on after its highest address, in the same block.
	_, a3 := activeAddr(t, again, srvA, netSpec("m4", "net-a"))
	if block(t, a3) != block(t, a1) || a3 == a1 || a3 == a2 {
		t.Fatalf("next on net-a after reload = %s (had %s, %s)", a3, a1, a2)
	}
	want := netip.MustParseAddr(a2).Next().String()
	if a3 != want {
		t.Fatalf("next on net-a after reload = %s, want %s", a3, want)
	}
	_, b2 := activeAddr(t, again, srvA, netSpec("m5", "net-b"))
	if b2 != netip.MustParseAddr(b1).Next().String() {
		t.Fatalf("next on net-b after reload = %s, want after %s", b2, b1)
	}
}

func TestNetworkBlockCollision(t *testing.T) {
	s, _ := newSim(t, Options{})
	s.mu.Lock()
	// Take the block "net" hashes to, as another network would.
	addr, err := s.netAddr("net")
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	taken := block(t, addr)
	s.mu.Lock()
	b := s.nets["net"].block
	delete(s.nets, "net")
	s.blocks[b] = "other"
	addr2, err := s.netAddr("net")
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if got := block(t, addr2); got == taken {
		t.Fatalf("network given a block already taken: %s", got)
	}
}

func TestNetworkFull(t *testing.T) {
	s, _ := newSim(t, Options{})
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for i := range netHosts {
		a, err := s.netAddr("big")
		if err != nil {
			t.Fatalf("address %d: %v", i, err)
		}
		if seen[a] {
			t.Fatalf("address %s twice", a)
		}
		seen[a] = true
	}
	if _, err := s.netAddr("big"); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("address past the block: %v, want conflict", err)
	}
	// The last address is below the block's broadcast address.
	last := blockAddr(s.nets["big"].block, netHosts)
	if p, _ := last.Prefix(20); last.Next() == p.Addr() || !p.Contains(last.Next()) {
		t.Fatalf("last address %s leaves no broadcast in %s", last, p)
	}
}
