package sim

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"hostdeck/core"
)

// The benchmarks of the state file at fleet scale. Each figure has its anchor in
// the same run: Create+Start on a Sim holding 100,000 instances beside one
// holding 10 (the ratio should be near 1), the fsync that bounds a change,
// reopening 100,000 beside reopening 10, and memory per instance.
//
//	go test -run '^$' -bench 'CreateStart|Fsync|Reopen|Memory' -benchmem ./runtime/sim

// fleetServers is the handful of servers a fleet's instances are spread over.
var fleetServers = []*core.Server{{ID: "srv-1"}, {ID: "srv-2"}, {ID: "srv-3"}, {ID: "srv-4"}}

// fleetSpec is the spec of the i-th instance of a fleet: nine in ten a tenant
// cloud (env, port, volume, labels as core/cloud makes them), one in ten a
// desktop machine on its project's network (as core/desktop makes them).
func fleetSpec(srv *core.Server, prefix string, i int) core.InstanceSpec {
	id := fmt.Sprintf("%08x-%04x-4000-8000-%012x", i, len(prefix), i)
	if i%10 == 9 {
		return core.InstanceSpec{
			Name: fmt.Sprintf("%sdesk-%06d", prefix, i), Image: "registry.example/hostdeck/desktop:24.04",
			Network: fmt.Sprintf("hostdeck-desk-%02d", i/10%40),
			Labels:  map[string]string{core.LabelInstance: id, "hostdeck.project": "proj-" + id[:8], core.LabelServer: srv.ID},
		}
	}
	name := fmt.Sprintf("%scloud-%06d", prefix, i)
	return core.InstanceSpec{
		Name: name, Image: "registry.example/hostdeck/cloud:1.4",
		Env:        map[string]string{"CLIENT_ID": id, "CLIENT_NAME": "Client " + name},
		Ports:      []core.Port{{Container: 8080}},
		Volumes:    []core.Volume{{Name: name + "-data", Path: "/data"}},
		Labels:     map[string]string{core.LabelInstance: id, "hostdeck.client": id, core.LabelServer: srv.ID},
		HealthPath: "/healthz",
	}
}

// fill creates n instances of a fleet on s, each started, spread over
// fleetServers. With a state file, the caller may have turned its fsyncs off.
func fill(tb testing.TB, s *Sim, n int) {
	tb.Helper()
	ctx := context.Background()
	for i := range n {
		srv := fleetServers[i%len(fleetServers)]
		ref, err := s.Create(ctx, srv, fleetSpec(srv, "", i))
		if err != nil {
			tb.Fatal(err)
		}
		if err := s.Start(ctx, srv, ref); err != nil {
			tb.Fatal(err)
		}
	}
}

// unsynced turns off the state file's fsyncs, to seed a benchmark's fleet in
// seconds rather than minutes; nothing measured runs with it.
func unsynced(tb testing.TB, s *Sim) {
	tb.Helper()
	if _, err := s.st.(*fileStore).db.Exec("PRAGMA synchronous = OFF"); err != nil {
		tb.Fatal(err)
	}
}

var seeded struct {
	sync.Mutex
	dir   string
	files map[int]string
}

// seededFile returns a copy, the benchmark's own, of a state file holding a
// fleet of n started instances. The fleet is made once per process.
func seededFile(b *testing.B, n int) string {
	b.Helper()
	seeded.Lock()
	defer seeded.Unlock()
	if seeded.files == nil {
		dir, err := os.MkdirTemp("", "sim-bench-")
		if err != nil {
			b.Fatal(err)
		}
		seeded.dir, seeded.files = dir, map[int]string{}
	}
	src, ok := seeded.files[n]
	if !ok {
		src = filepath.Join(seeded.dir, fmt.Sprintf("fleet-%d.db", n))
		s, err := Open(Options{StateFile: src})
		if err != nil {
			b.Fatal(err)
		}
		unsynced(b, s)
		fill(b, s, n)
		if err := s.Close(); err != nil { // folds the WAL into the file
			b.Fatal(err)
		}
		seeded.files[n] = src
	}
	dst := filepath.Join(b.TempDir(), "sim.db")
	copyFile(b, src, dst)
	return dst
}

func copyFile(tb testing.TB, src, dst string) {
	tb.Helper()
	in, err := os.Open(src)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(killChildEnv) != "" {
		killChild() // never returns
	}
	code := m.Run()
	if seeded.dir != "" {
		os.RemoveAll(seeded.dir)
	}
	os.Exit(code)
}

// BenchmarkCreateStart is one Create and one Start, each durable before it
// returns, on a Sim with a state file that holds 10 or 100,000 instances.
func BenchmarkCreateStart(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			s, err := Open(Options{StateFile: seededFile(b, n)})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			srv := fleetServers[0]
			i := 0
			for b.Loop() {
				ref, err := s.Create(ctx, srv, fleetSpec(srv, "bench-", i))
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Start(ctx, srv, ref); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkStopStart is a Stop and a Start, each durable before it returns, of
// an instance picked at random on a Sim with a state file that holds 10 or
// 100,000: unlike a new instance's, its row is on a page of its own, anywhere
// in the file (the worst case for the log's checkpoints).
func BenchmarkStopStart(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			s, err := Open(Options{StateFile: seededFile(b, n)})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			type target struct {
				srv *core.Server
				ref string
			}
			var all []target
			for _, srv := range fleetServers {
				for ref := range s.servers[srv.ID].byRef {
					all = append(all, target{srv, ref})
				}
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				t := all[rng.IntN(len(all))]
				if err := s.Stop(ctx, t.srv, t.ref); err != nil {
					b.Fatal(err)
				}
				if err := s.Start(ctx, t.srv, t.ref); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFsync is the anchor of a change: appending a small record to a plain
// file and fsyncing it, the least any durable change costs on this disk.
func BenchmarkFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rec := []byte(`{"op":"start","server":"srv-1","ref":"sim-0123456789abcdef","state":"building"}` + "\n")
	for b.Loop() {
		if _, err := f.Write(rec); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReopen is Open of a state file holding 10 or 100,000 instances (and
// Close), as a restart of the process.
func BenchmarkReopen(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			file := seededFile(b, n)
			for b.Loop() {
				s, err := Open(Options{StateFile: file})
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMemoryPerInstance reports the Go heap a Sim holds per instance
// (B/instance: HeapInuse after a GC, less that of an empty Sim, divided) for a
// fleet of 100,000: created with a state file, reopened from it, and without a
// state file (spec and volumes in memory). The measured loop is an Inspect.
// SQLite's page cache lives outside the Go heap and is bounded (2 MB by
// default), whatever the number of instances.
func BenchmarkMemoryPerInstance(b *testing.B) {
	const n = 100_000
	for _, mode := range []string{"created", "reopened", "memory"} {
		b.Run(mode, func(b *testing.B) {
			before := heapInuse()
			var s *Sim
			var err error
			switch mode {
			case "created":
				s, err = Open(Options{StateFile: filepath.Join(b.TempDir(), "sim.db")})
				if err == nil {
					unsynced(b, s)
					fill(b, s, n)
				}
			case "reopened":
				file := seededFile(b, n)
				before = heapInuse()
				s, err = Open(Options{StateFile: file})
			case "memory":
				s, err = Open(Options{})
				if err == nil {
					fill(b, s, n)
				}
			}
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			after := heapInuse()
			ctx := context.Background()
			var ref string
			for ref = range s.servers[fleetServers[0].ID].byRef {
				break
			}
			for b.Loop() {
				if _, err := s.Inspect(ctx, fleetServers[0], ref); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(after-before)/n, "B/instance")
			runtime.KeepAlive(s)
		})
	}
}

func heapInuse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
