package docker

import (
	"context"
	"fmt"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"hostdeck/core"
)

var _ core.UsageMeter = (*Docker)(nil)

// Usage measures a container: StoredBytes is the size of its named volumes as
// the engine's disk-usage API (GET /system/df) reports them (a volume whose
// driver cannot tell counts 0), EgressBytes the tx_bytes of its network
// interfaces from one stats sample (0 while the container is not running; the
// counter restarts with the container).
func (d *Docker) Usage(ctx context.Context, srv *core.Server, ref string) (core.InstanceUsage, error) {
	cli, err := d.Client(srv)
	if err != nil {
		return core.InstanceUsage{}, fmt.Errorf("usage of %s: %w", ref, classify(err))
	}
	ins, err := cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		return core.InstanceUsage{}, fmt.Errorf("usage of %s: %w", ref, classify(err))
	}
	var u core.InstanceUsage
	names := map[string]bool{}
	for _, m := range ins.Container.Mounts {
		if m.Type == "volume" && m.Name != "" {
			names[m.Name] = true
		}
	}
	if len(names) > 0 {
		du, err := cli.DiskUsage(ctx, client.DiskUsageOptions{Volumes: true, Verbose: true})
		if err != nil {
			return core.InstanceUsage{}, fmt.Errorf("disk usage: %w", classify(err))
		}
		for _, v := range du.Volumes.Items {
			if names[v.Name] && v.UsageData != nil && v.UsageData.Size > 0 {
				u.StoredBytes += v.UsageData.Size
			}
		}
	}
	if st := ins.Container.State; st != nil && st.Running {
		s, err := oneStats(ctx, cli, ins.Container.ID)
		if err != nil {
			return core.InstanceUsage{}, fmt.Errorf("stats of %s: %w", ref, classify(err))
		}
		u.EgressBytes = egressOf(s)
	}
	return u, nil
}

// egressOf sums the bytes sent on every interface of a stats sample.
func egressOf(s *container.StatsResponse) int64 {
	var n uint64
	for _, nw := range s.Networks {
		n += nw.TxBytes
	}
	return int64(n)
}
