package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"hostdeck/core"
)

// Load reads the engine's CPU count and memory and sums the stats of the running
// hostdeck containers. CPUPercent is a share of the whole server (100 = every core
// busy), computed from the difference with the previous Load of the same
// container; a container's first reading counts as 0. When the engine cannot be
// reached, the load says so (Reachable false, Error) and the error is KindUnavailable.
func (d *Docker) Load(ctx context.Context, srv *core.Server) (core.ServerLoad, error) {
	now := time.Now().UTC()
	fail := func(err error) (core.ServerLoad, error) {
		err = fmt.Errorf("load: %w", classify(err))
		return core.ServerLoad{Error: core.ErrorMessage(err), CheckedAt: now}, err
	}
	cli, err := d.Client(srv)
	if err != nil {
		return fail(err)
	}
	info, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return fail(err)
	}
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{
		Filters: make(client.Filters).Add("label", core.LabelInstance).Add("status", "running"),
	})
	if err != nil {
		return fail(err)
	}
	load := core.ServerLoad{
		Reachable:   true,
		MemoryTotal: uint64(info.Info.MemTotal),
		Instances:   len(list.Items),
		CheckedAt:   now,
	}

	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		sem     = make(chan struct{}, 4)
		cpuUsed uint64 // container CPU time since the previous samples, ns
		sysUsed uint64 // host CPU time over the same spans, ns
		counted int    // containers with a previous sample
	)
	for _, c := range list.Items {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			s, err := oneStats(ctx, cli, c.ID)
			if err != nil {
				return // gone meanwhile, or the engine hiccuped: count it as idle
			}
			mem := s.MemoryStats.Usage
			for _, k := range []string{"inactive_file", "total_inactive_file"} {
				if v, ok := s.MemoryStats.Stats[k]; ok && v <= mem {
					mem -= v
					break
				}
			}
			cur := cpuSample{total: s.CPUStats.CPUUsage.TotalUsage, system: s.CPUStats.SystemUsage}
			d.mu.Lock()
			prev, ok := d.cpu[c.ID]
			d.cpu[c.ID] = cur
			d.mu.Unlock()
			mu.Lock()
			defer mu.Unlock()
			load.MemoryUsed += mem
			if ok && cur.total >= prev.total && cur.system > prev.system {
				cpuUsed += cur.total - prev.total
				sysUsed += cur.system - prev.system
				counted++
			}
		})
	}
	wg.Wait()
	if sysUsed > 0 {
		// Each container's delta is measured over its own span of host time;
		// the spans are about the same, so the mean span stands for all.
		load.CPUPercent = float64(cpuUsed) / (float64(sysUsed) / float64(counted)) * 100
		if load.CPUPercent > 100 {
			load.CPUPercent = 100
		}
	}
	return load, nil
}

// oneStats takes one stats sample of a container without waiting for a second.
func oneStats(ctx context.Context, cli *client.Client, id string) (*container.StatsResponse, error) {
	res, err := cli.ContainerStats(ctx, id, client.ContainerStatsOptions{})
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		return nil, err
	}
	return &s, nil
}
