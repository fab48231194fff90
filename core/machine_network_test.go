package core_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/handout"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/desktop/provision"
	"hostdeck/internal/testenv"
	"hostdeck/runtime/docker"
)

func TestMachineNetworkName(t *testing.T) {
	for _, tc := range []struct{ id, networkID, want string }{
		{"0190b6c4-6d5a-7000-8000-000000000001", "", "hostdeck-trs-0190b6c4-6d5a-7000-8000-000000000001"},
		{"p", "39523179-37b5-4fd7-bf14-a1f7134a6b1f", "hostdeck-net-39523179-37b5-4fd7-bf14-a1f7134a6b1f"},
		{"p", "lab_net.2", "hostdeck-net-lab_net.2"},
	} {
		if got := provision.MachineNetwork(&desktop.Pool{ID: tc.id, NetworkID: tc.networkID}); got != tc.want {
			t.Errorf("network of %q/%q = %q, want %q", tc.id, tc.networkID, got, tc.want)
		}
	}
	// A network_id a runtime would refuse as a name is hashed: a fixed shape, the
	// same for every project, different for another network_id.
	seen := map[string]string{}
	for _, id := range []string{"my net/1", "my net/2", strings.Repeat("n", 65), "сеть"} {
		got := provision.MachineNetwork(&desktop.Pool{ID: "p", NetworkID: id})
		rest, ok := strings.CutPrefix(got, "hostdeck-net-")
		if _, err := hex.DecodeString(rest); !ok || err != nil || len(rest) != 16 {
			t.Errorf("network of %q = %q", id, got)
		}
		if again := provision.MachineNetwork(&desktop.Pool{ID: "q", NetworkID: id}); again != got {
			t.Errorf("network of %q = %q, then %q", id, got, again)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%q and %q share %q", id, other, got)
		}
		seen[got] = id
	}
}

// TestMachineNetworkSim: on the simulator, each project's machines are on the
// project's network, with addresses of one block, unique; another project's are
// on another network; the broker hands out the machine's address; os_server's
// network name is the spec's.
func TestMachineNetworkSim(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	e.Server(t, "node-1", 50)
	pa := newPool(t, e, "lab-a", desktop.ModeStandard, 0, "")
	pb := newPool(t, e, "lab-b", desktop.ModeSimultaneous, 0, "")
	shared := "39523179-37b5-4fd7-bf14-a1f7134a6b1f"
	pc := newPool(t, e, "lab-c", desktop.ModeSimultaneous, 0, "")
	if _, err := e.Desktop.UpdatePool(ctx, pc.ID, desktop.PoolInput{NetworkID: &shared}); err != nil {
		t.Fatal(err)
	}

	made := func(p *desktop.Pool, n int) []*machine.Machine {
		t.Helper()
		res, err := e.Provision.CreateMachines(ctx, p.ID, n, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]*machine.Machine, n)
		for i, tk := range res.Tasks {
			if done := e.WaitTask(t, tk.ID); done.Status != core.TaskSuccess {
				t.Fatalf("%s: %s %s", done.Kind, done.Status, done.Error)
			}
			if out[i], err = e.Machine.GetMachine(ctx, res.Machines[i].ID); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	block := func(m *machine.Machine) netip.Prefix {
		t.Helper()
		a, err := netip.ParseAddr(m.Address)
		if err != nil || !netip.MustParsePrefix("10.128.0.0/9").Contains(a) {
			t.Fatalf("machine %s address %q", m.Name, m.Address)
		}
		p, _ := a.Prefix(20)
		return p
	}
	seen := map[string]bool{}
	blocks := map[netip.Prefix]string{}
	for _, g := range []struct {
		p    *desktop.Pool
		want string
	}{{pa, "hostdeck-trs-" + pa.ID}, {pb, "hostdeck-trs-" + pb.ID}, {pc, "hostdeck-net-" + shared}} {
		ms := made(g.p, 3)
		for _, m := range ms {
			if m.Spec.Network != g.want {
				t.Fatalf("machine %s network = %q, want %q", m.Name, m.Spec.Network, g.want)
			}
			if seen[m.Address] {
				t.Fatalf("address %s twice", m.Address)
			}
			seen[m.Address] = true
			if b := block(m); b != block(ms[0]) {
				t.Fatalf("machines of %s in %s and %s", g.p.Name, b, block(ms[0]))
			}
		}
		if other, dup := blocks[block(ms[0])]; dup {
			t.Fatalf("projects %s and %s share %s", other, g.p.Name, block(ms[0]))
		}
		blocks[block(ms[0])] = g.p.Name
	}

	// The broker hands out a machine with its address on the project's network.
	alice := brokerUser(t, e, pa, "alice")
	r, err := handOut(t, e, alice)
	if err != nil || r.Machine == nil {
		t.Fatalf("request = %+v, %v", r, err)
	}
	if r.Machine.Spec.Network != "hostdeck-trs-"+pa.ID || !seen[r.Machine.Address] {
		t.Fatalf("handed out %s on %q at %q", r.Machine.Name, r.Machine.Spec.Network, r.Machine.Address)
	}
}

// TestDockerMachineNetwork: TRS machines on a docker server are on their
// project's bridge network; the broker's machine answers on its address and the
// sample app's own port; two projects' machines are on different networks.
func TestDockerMachineNetwork(t *testing.T) {
	e, d := dockerEnv(t)
	srv := dockerServer(t, e, "docker-trs")
	ctx := e.AdminCtx()
	cli, err := d.Client(srv)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 3)
	rand.Read(b)
	prefix := "hdnet-" + hex.EncodeToString(b) + "-"
	im, err := e.Catalogue.CreateImage(ctx, core.ImageInput{Name: "sample " + prefix, Ref: testenv.DockerImage(t)})
	if err != nil {
		t.Fatal(err)
	}
	project := func(name string) *desktop.Pool {
		t.Helper()
		mode, pattern := desktop.ModeStandard, prefix+name+"-**"
		p, err := e.Desktop.CreatePool(ctx, desktop.PoolInput{Name: &name, FlavorID: ptr(flavorSmall), ImageID: &im.ID,
			OperationMode: &mode, InstanceNamePattern: &pattern})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pa, pb := project("a"), project("b")
	t.Cleanup(func() {
		// Leave nothing behind even if the test fails half-way: containers first,
		// then their networks.
		bg := context.Background()
		list, _ := d.List(bg, srv)
		for _, ri := range list {
			if strings.HasPrefix(ri.Name, prefix) {
				if err := d.Delete(bg, srv, ri.Ref); err != nil {
					t.Errorf("cleanup %s: %v", ri.Name, err)
				}
			}
		}
		for _, p := range []*desktop.Pool{pa, pb} {
			if err := d.RemoveNetwork(bg, srv, provision.MachineNetwork(p)); err != nil {
				t.Errorf("cleanup network: %v", err)
			}
		}
	})

	// A machine handed out through the broker answers on its address.
	alice := brokerUser(t, e, pa, "alice")
	r, err := handOut(t, e, alice)
	if err != nil || r.Status != handout.RequestCompleted || r.Machine == nil {
		t.Fatalf("request = %+v, %v", r, err)
	}
	ma := r.Machine
	if ma.Spec.Network != "hostdeck-trs-"+pa.ID || ma.Address == "" {
		t.Fatalf("machine %s on %q at %q", ma.Name, ma.Spec.Network, ma.Address)
	}
	page := getRetry(t, "http://"+ma.Address+":8080/")
	if !strings.Contains(page, "Sample lab") {
		t.Fatalf("page at %s = %q", ma.Address, page)
	}

	// A machine of another project is on another network.
	res, err := e.Provision.CreateMachines(ctx, pb.ID, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if done := e.WaitTask(t, res.Tasks[0].ID); done.Status != core.TaskSuccess {
		t.Fatalf("%s: %s %s", done.Kind, done.Status, done.Error)
	}
	mb, err := e.Machine.GetMachine(ctx, res.Machines[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	getRetry(t, "http://"+mb.Address+":8080/healthz")

	subnet := func(m *machine.Machine) netip.Prefix {
		t.Helper()
		c, err := cli.ContainerInspect(context.Background(), m.RuntimeRef, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		nets := c.Container.NetworkSettings.Networks
		ep := nets[m.Spec.Network]
		if len(nets) != 1 || ep == nil || ep.IPAddress.String() != m.Address {
			t.Fatalf("machine %s networks = %v, want only %s at %s", m.Name, nets, m.Spec.Network, m.Address)
		}
		n, err := cli.NetworkInspect(context.Background(), ep.NetworkID, client.NetworkInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n.Network.Name != m.Spec.Network || n.Network.Labels[docker.LabelNetwork] != m.Spec.Network || len(n.Network.IPAM.Config) == 0 {
			t.Fatalf("network of %s = %+v", m.Name, n.Network)
		}
		return n.Network.IPAM.Config[0].Subnet
	}
	sa, sb := subnet(ma), subnet(mb)
	t.Logf("%s at %s on %s (%s); %s at %s on %s (%s)", ma.Name, ma.Address, ma.Spec.Network, sa, mb.Name, mb.Address, mb.Spec.Network, sb)
	if mb.Spec.Network == ma.Spec.Network || sa == sb || sa.Contains(netip.MustParseAddr(mb.Address)) {
		t.Fatalf("projects share a network: %s %s and %s %s", ma.Spec.Network, sa, mb.Spec.Network, sb)
	}
}

// getRetry GETs url until it answers 200 (a machine is active once its
// container runs, which is a moment before its server listens).
func getRetry(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := c.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(b)
			}
			err = &httpStatusError{resp.StatusCode}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type httpStatusError struct{ code int }

func (e *httpStatusError) Error() string { return http.StatusText(e.code) }
