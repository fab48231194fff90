package docker

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"hostdeck/core"
)

func TestAddressOf(t *testing.T) {
	ep := func(ip string) *network.EndpointSettings {
		e := &network.EndpointSettings{}
		if ip != "" {
			e.IPAddress = netip.MustParseAddr(ip)
		}
		return e
	}
	nets := map[string]*network.EndpointSettings{
		"bridge": ep("172.17.0.5"), "hostdeck-trs-a": ep("172.20.0.2"), "stopped": ep(""),
	}
	for _, tc := range []struct {
		named string
		nets  map[string]*network.EndpointSettings
		want  string
	}{
		{"", nets, "172.17.0.5"},
		{"hostdeck-trs-a", nets, "172.20.0.2"},
		{"stopped", nets, ""},
		{"elsewhere", nets, ""}, // never another network's address
		{"", map[string]*network.EndpointSettings{"zz": ep("10.0.0.9"), "aa": ep("")}, "10.0.0.9"},
		{"", nil, ""},
	} {
		if got := addressOf(tc.nets, tc.named); got != tc.want {
			t.Errorf("addressOf(%q) = %q, want %q", tc.named, got, tc.want)
		}
	}
}

func TestCheckNetworkName(t *testing.T) {
	for name, ok := range map[string]bool{
		"hostdeck-trs-0b5c": true, "hostdeck-net-a.b_c": true,
		"": false, "bridge": false, "host": false, "none": false, "default": false,
		"-x": false, "a b": false, "a/b": false, strings.Repeat("a", 129): false,
	} {
		err := checkNetworkName(name)
		if ok != (err == nil) || !ok && core.ErrorKind(err) != core.KindInvalid {
			t.Errorf("checkNetworkName(%q) = %v", name, err)
		}
	}
}

// testNetwork is the name of a network for one test, removed (with every
// network of that name) when the test ends, after the containers.
func testNetwork(t *testing.T, d *Docker) string {
	t.Helper()
	name := "hdtest-net-" + randHex(4)
	t.Cleanup(func() {
		if err := d.RemoveNetwork(context.Background(), local, name); err != nil {
			t.Errorf("cleanup network %s: %v", name, err)
		}
	})
	return name
}

// networksNamed lists the engine's networks of exactly that name.
func networksNamed(t *testing.T, cli *client.Client, name string) []network.Summary {
	t.Helper()
	res, err := cli.NetworkList(context.Background(), client.NetworkListOptions{Filters: make(client.Filters).Add("name", name)})
	if err != nil {
		t.Fatal(err)
	}
	var out []network.Summary
	for _, n := range res.Items {
		if n.Name == name {
			out = append(out, n)
		}
	}
	return out
}

// TestNetworkAddress puts two containers on one network and one on another:
// each reports its address on its network, answers there on the container's
// own port, keeps its published port, and is on that network only.
func TestNetworkAddress(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	d := New(Options{})
	defer d.Close()
	cli, err := d.Client(local)
	if err != nil {
		t.Fatal(err)
	}
	netA, netB := testNetwork(t, d), testNetwork(t, d)
	start := func(name, net string) (string, core.InstanceStatus) {
		t.Helper()
		sp := testSpec(t, d, name)
		sp.Network = net
		ref, err := d.Create(ctx, local, sp)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Start(ctx, local, ref); err != nil {
			t.Fatal(err)
		}
		return ref, waitFor(t, d, ref, "healthy", healthy)
	}
	subnet := func(name string) netip.Prefix {
		t.Helper()
		nets := networksNamed(t, cli, name)
		if len(nets) != 1 {
			t.Fatalf("%d networks named %s", len(nets), name)
		}
		n, err := cli.NetworkInspect(ctx, nets[0].ID, client.NetworkInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n.Network.Labels[LabelNetwork] != name || n.Network.Driver != "bridge" {
			t.Fatalf("network %s: driver %q labels %v", name, n.Network.Driver, n.Network.Labels)
		}
		if len(n.Network.IPAM.Config) == 0 || !n.Network.IPAM.Config[0].Subnet.IsValid() {
			t.Fatalf("network %s has no subnet: %+v", name, n.Network.IPAM)
		}
		return n.Network.IPAM.Config[0].Subnet
	}

	ref1, st1 := start("neta1", netA)
	_, st2 := start("neta2", netA)
	_, st3 := start("netb1", netB)
	subA, subB := subnet(netA), subnet(netB)
	if subA == subB {
		t.Fatalf("two networks share subnet %s", subA)
	}
	for _, c := range []struct {
		st  core.InstanceStatus
		sub netip.Prefix
	}{{st1, subA}, {st2, subA}, {st3, subB}} {
		a, err := netip.ParseAddr(c.st.Address)
		if err != nil || !c.sub.Contains(a) {
			t.Fatalf("address %q is not in %s", c.st.Address, c.sub)
		}
		// The container's own port, on its network address.
		if page := get(t, "http://"+c.st.Address+":8080/"); !strings.Contains(page, "Lab hdtest-") {
			t.Fatalf("page at %s = %q", c.st.Address, page)
		}
		// The published port still works, as for a client without a network.
		if !strings.HasPrefix(c.st.URL, "http://127.0.0.1:") {
			t.Fatalf("url = %q", c.st.URL)
		}
		get(t, c.st.URL+"healthz")
	}
	if st1.Address == st2.Address {
		t.Fatalf("two containers share %s", st1.Address)
	}
	res, err := cli.ContainerInspect(ctx, ref1, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if nets := res.Container.NetworkSettings.Networks; len(nets) != 1 || nets[netA] == nil {
		t.Fatalf("container networks = %v, want only %s", nets, netA)
	}
	if res.Container.Config.Labels[LabelNetwork] != netA {
		t.Fatalf("container labels = %v", res.Container.Config.Labels)
	}

	// A network in use is not removed.
	if err := d.RemoveNetwork(ctx, local, netA); err == nil {
		t.Fatal("network with running containers removed")
	}
	// A stopped container has no address.
	if err := d.Stop(ctx, local, ref1); err != nil {
		t.Fatal(err)
	}
	if st, err := d.Inspect(ctx, local, ref1); err != nil || st.Address != "" {
		t.Fatalf("stopped container: %+v %v", st, err)
	}
}

// TestNetworkConcurrentCreate creates containers on one new network at once
// through two runtimes (as two control-plane replicas would): one network is
// left, and every container is on it.
func TestNetworkConcurrentCreate(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	d1, d2 := New(Options{}), New(Options{})
	defer d1.Close()
	defer d2.Close()
	net := testNetwork(t, d1)
	specs := make([]core.InstanceSpec, 6)
	for i := range specs {
		specs[i] = testSpec(t, d1, fmt.Sprintf("conc%d", i))
		specs[i].Network = net
	}
	refs := make([]string, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i := range specs {
		d := d1
		if i%2 == 1 {
			d = d2
		}
		wg.Go(func() { refs[i], errs[i] = d.Create(ctx, local, specs[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	cli, _ := d1.Client(local)
	nets := networksNamed(t, cli, net)
	if len(nets) != 1 {
		for _, n := range nets {
			t.Logf("%s %s %v", n.ID, n.Created.Format(time.RFC3339Nano), n.Labels)
		}
		t.Fatalf("%d networks named %s after concurrent creates", len(nets), net)
	}
	for i, ref := range refs {
		res, err := cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if mode := string(res.Container.HostConfig.NetworkMode); mode != nets[0].ID {
			t.Fatalf("container %d is on %s, want %s", i, mode, nets[0].ID)
		}
	}
	// They all start on it.
	for _, ref := range refs[:2] {
		if err := d1.Start(ctx, local, ref); err != nil {
			t.Fatal(err)
		}
		if st := waitFor(t, d1, ref, "healthy", healthy); st.Address == "" {
			t.Fatalf("no address: %+v", st)
		}
	}
}

// TestNetworkNotOurs refuses to attach a container to a network hostdeck did
// not make, and to the engine's own.
func TestNetworkNotOurs(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	d := New(Options{})
	defer d.Close()
	cli, err := d.Client(local)
	if err != nil {
		t.Fatal(err)
	}
	name := "hdtest-foreign-" + randHex(4)
	res, err := cli.NetworkCreate(ctx, name, client.NetworkCreateOptions{Driver: "bridge"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.NetworkRemove(context.Background(), res.ID, client.NetworkRemoveOptions{}) })
	sp := testSpec(t, d, "foreign")
	sp.Network = name
	if _, err := d.Create(ctx, local, sp); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("create on a foreign network: %v, want conflict", err)
	}
	sp.Network = "bridge"
	if _, err := d.Create(ctx, local, sp); core.ErrorKind(err) != core.KindInvalid {
		t.Fatalf("create on bridge: %v, want invalid", err)
	}
	if err := d.RemoveNetwork(ctx, local, name); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("remove a foreign network: %v, want conflict", err)
	}
}
