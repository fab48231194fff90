package docker

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"hostdeck/core"
)

// Named networks. A spec that names a Network gets a container attached to that
// user-defined bridge network only (it is the container's network from create
// on), and Inspect reports the container's address on it. The network is made
// on first use, labelled LabelNetwork=<name>; hostdeck never attaches a
// container to a network of that name that it did not make.
//
// Making a network is idempotent and safe under concurrent creates: within one
// process the creates of one name on one engine take turns, and across processes
// (several control-plane replicas) an engine that refuses a second network of a
// name (API 1.44 on) answers a conflict, which is taken as "made already", while
// an older engine (20.10) that makes a second network of the same name is set
// right at once: every creator keeps the oldest network of the name and removes
// the one it made if that is not it.
//
// Networks stay when their last container is deleted: removing one races with a
// create that has just found it (a created container does not hold its network
// until it starts), and a network left over is reused by the project's next
// machine. RemoveNetwork removes one when its containers are gone.

// LabelNetwork marks the networks hostdeck makes (the value is the network's
// name) and the containers it attaches to one.
const LabelNetwork = "hostdeck.network"

// networkName is what a network's name may be: what the engine accepts for
// container names, which is stricter than what it accepts for networks.
var networkName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$`)

// checkNetworkName rejects names hostdeck would not make, among them the
// engine's own networks.
func checkNetworkName(name string) error {
	switch {
	case !networkName.MatchString(name):
		return core.Invalid("network", "bad network name %q", name)
	case name == "bridge" || name == "host" || name == "none" || name == "default":
		return core.Invalid("network", "network %q is the engine's own", name)
	}
	return nil
}

// lockNetwork serialises the making of one network on one engine in this process.
func (d *Docker) lockNetwork(addr, name string) func() {
	d.mu.Lock()
	if d.netLocks == nil {
		d.netLocks = map[string]*sync.Mutex{}
	}
	key := addr + "\x00" + name
	m, ok := d.netLocks[key]
	if !ok {
		m = &sync.Mutex{}
		d.netLocks[key] = m
	}
	d.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// findNetwork returns the ID of the network hostdeck made under name, "" when
// there is none. A network of that name that hostdeck did not make is
// KindConflict. Of several (see above) the oldest is the one.
func findNetwork(ctx context.Context, cli *client.Client, name string) (string, error) {
	res, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("name", name)})
	if err != nil {
		return "", fmt.Errorf("list networks: %w", classify(err))
	}
	var ours []int
	for i, n := range res.Items {
		if n.Name != name { // the filter matches parts of names
			continue
		}
		if n.Labels[LabelNetwork] != name {
			return "", core.Errorf(core.KindConflict, "network %s exists and was not made by hostdeck", name)
		}
		ours = append(ours, i)
	}
	if len(ours) == 0 {
		return "", nil
	}
	best := slices.MinFunc(ours, func(a, b int) int {
		na, nb := res.Items[a], res.Items[b]
		if c := na.Created.Compare(nb.Created); c != 0 {
			return c
		}
		return strings.Compare(na.ID, nb.ID)
	})
	return res.Items[best].ID, nil
}

// ensureNetwork returns the ID of the bridge network hostdeck made under name on
// the engine, making it when it is missing.
func (d *Docker) ensureNetwork(ctx context.Context, srv *core.Server, cli *client.Client, name string) (string, error) {
	defer d.lockNetwork(engineAddr(srv), name)()
	if id, err := findNetwork(ctx, cli, name); err != nil || id != "" {
		return id, err
	}
	res, err := cli.NetworkCreate(ctx, name, client.NetworkCreateOptions{
		Driver: "bridge",
		Labels: map[string]string{LabelNetwork: name},
	})
	if err != nil && !cerrdefs.IsConflict(err) {
		return "", fmt.Errorf("create network %s: %w", name, classify(err))
	}
	if err != nil {
		// Made by another process meanwhile.
		id, ferr := findNetwork(ctx, cli, name)
		if ferr == nil && id == "" {
			ferr = fmt.Errorf("create network %s: %w", name, classify(err))
		}
		return id, ferr
	}
	// An engine before API 1.44 makes a second network of a name that exists (it
	// only warns), so another process may have made one too: keep the oldest. A
	// network made at the same time may show up a moment after ours, so when ours
	// is the oldest, look again a moment later.
	id, err := findNetwork(ctx, cli, name)
	if err == nil && id == res.ID {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(dupSettle):
		}
		id, err = findNetwork(ctx, cli, name)
	}
	if err != nil {
		return "", err
	}
	if id != res.ID {
		if _, rerr := cli.NetworkRemove(ctx, res.ID, client.NetworkRemoveOptions{}); rerr != nil && !cerrdefs.IsNotFound(rerr) {
			return "", fmt.Errorf("remove duplicate network %s: %w", name, classify(rerr))
		}
	}
	if id == "" {
		return "", core.Errorf(core.KindUnavailable, "network %s vanished as it was made", name)
	}
	return id, nil
}

// dupSettle is how long ensureNetwork waits for a network of the same name made
// at the same time elsewhere to show up.
const dupSettle = 200 * time.Millisecond

// RemoveNetwork removes the networks hostdeck made under name on the server's
// engine. A network that does not exist is not an error; one that still has
// containers is KindConflict.
func (d *Docker) RemoveNetwork(ctx context.Context, srv *core.Server, name string) error {
	cli, err := d.Client(srv)
	if err != nil {
		return fmt.Errorf("remove network %s: %w", name, err)
	}
	if err := checkNetworkName(name); err != nil {
		return err
	}
	defer d.lockNetwork(engineAddr(srv), name)()
	for {
		id, err := findNetwork(ctx, cli, name)
		if err != nil || id == "" {
			return err
		}
		if _, err := cli.NetworkRemove(ctx, id, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("remove network %s: %w", name, classify(err))
		}
	}
}
