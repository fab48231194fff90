package core_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/fleet"
	"hostdeck/core/services"
	"hostdeck/internal/testenv"
)

// BenchmarkReconcile runs one reconciliation pass over a server holding 1,000
// and then 20,000 running instances, and reports the pass's peak live heap (as
// each garbage collection found it) above what was live before it: the records
// are read a batch at a time, so it grows only with the runtime's list of
// references, not with the records.
func BenchmarkReconcile(b *testing.B) {
	for _, n := range []int{1_000, 20_000} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			e := testenv.New(b)
			srv := e.Server(b, "big", n)
			ctx := context.Background()
			err := e.Store.InTx(ctx, func(q services.Queries) error {
				for i := range n {
					spec := core.InstanceSpec{Name: fmt.Sprintf("walk-%06d", i), Image: "sample"}
					in := &core.Instance{ID: core.NewID(), Name: spec.Name, ServerID: srv.ID, State: core.StateActive, Spec: spec}
					spec.Labels = map[string]string{core.LabelInstance: in.ID}
					ref, err := e.Sim.Create(ctx, srv, spec)
					if err == nil {
						err = e.Sim.Start(ctx, srv, ref)
					}
					if err != nil {
						return err
					}
					in.RuntimeRef = ref
					if err := q.CreateInstance(ctx, in); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			pass := e.Svc.TaskHandlers()[fleet.KindReconcile]
			var peak uint64
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				base := liveHeap()
				var top atomic.Uint64
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					t := time.NewTicker(time.Millisecond)
					defer t.Stop()
					for {
						if l := liveHeap(); l > base && l-base > top.Load() {
							top.Store(l - base)
						}
						select {
						case <-stop:
							return
						case <-t.C:
						}
					}
				})
				b.StartTimer()
				out, err := pass(ctx, &core.Task{Kind: fleet.KindReconcile}, func(int, string) {})
				b.StopTimer()
				close(stop)
				wg.Wait()
				if err != nil {
					b.Fatal(err)
				}
				if r := out.(map[string]int); r["missing"]+r["orphans_removed"] > 0 {
					b.Fatalf("pass: %v", r)
				}
				peak = max(peak, top.Load())
				b.StartTimer()
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(peak)/float64(n), "peak-B/instance")
		})
	}
}

// liveHeap is the heap the last garbage collection found live.
func liveHeap() uint64 {
	m := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(m)
	return m[0].Value.Uint64()
}
