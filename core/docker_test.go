package core_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	dockerclient "github.com/moby/moby/client"

	"hostdeck/core"
	"hostdeck/core/cloud"
	"hostdeck/core/fleet"
	"hostdeck/internal/testenv"
	"hostdeck/runtime/docker"
	"hostdeck/sampleapp"
)

// dockerEnv is an Env whose "docker" runtime is the real local engine, with the
// sample client image and its template.
func dockerEnv(t *testing.T) (*testenv.Env, *countingDocker) {
	t.Helper()
	return dockerEnvWith(t, sampleapp.Template())
}

// dockerEnvWith is dockerEnv with the template tmpl (its image replaced by the
// sample image built for the tests).
func dockerEnvWith(t *testing.T, tmpl core.ClientTemplate) (*testenv.Env, *countingDocker) {
	t.Helper()
	tmpl.Image = testenv.DockerImage(t)
	d := &countingDocker{Docker: docker.New(docker.Options{})}
	t.Cleanup(func() { d.Close() })
	e := testenv.NewWith(t, testenv.Options{Config: core.Config{Template: tmpl}, Runtimes: map[string]core.Runtime{"docker": d}})
	return e, d
}

// countingDocker is the Docker runtime counting the commands it execs in
// containers (the hooks, and the tests' own).
type countingDocker struct {
	*docker.Docker
	execs atomic.Int64
}

func (d *countingDocker) Exec(ctx context.Context, srv *core.Server, ref string, cmd []string, stdin []byte) (core.ExecResult, error) {
	d.execs.Add(1)
	return d.Docker.Exec(ctx, srv, ref, cmd, stdin)
}

// ownerRecord reads the sample app's owner password record in a container.
func ownerRecord(t *testing.T, d *countingDocker, srv *core.Server, ref string) []byte {
	t.Helper()
	res, err := d.Docker.Exec(context.Background(), srv, ref, []string{"/hostdeck", "sample-app", "read-file", "/data/" + sampleapp.PasswordFile}, nil)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("read owner password record: %+v, %v", res, err)
	}
	return []byte(res.Stdout)
}

// wantOwnerPassword fails unless the owner password record in a container is
// the client's owner password (as sealed in its record).
func wantOwnerPassword(t *testing.T, e *testenv.Env, d *countingDocker, srv *core.Server, clientID, ref string) {
	t.Helper()
	c, err := e.Store.GetClient(context.Background(), clientID)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := e.Svc.Sealer.Open(c.OwnerPasswordEnc)
	if err != nil {
		t.Fatal(err)
	}
	rec := ownerRecord(t, d, srv, ref)
	parts := strings.Split(strings.TrimSpace(string(rec)), "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		t.Fatalf("owner password record = %q", rec)
	}
	iter, _ := strconv.Atoi(parts[1])
	salt, _ := hex.DecodeString(parts[2])
	key, err := pbkdf2.Key(sha256.New, string(pw), salt, iter, 32)
	if err != nil || hex.EncodeToString(key) != parts[3] {
		t.Fatalf("owner password record %q is not the client's password (%v)", rec, err)
	}
}

func dockerServer(t *testing.T, e *testenv.Env, name string) *core.Server {
	t.Helper()
	rt, capacity := "docker", 5
	srv, err := e.Fleet.CreateServer(e.AdminCtx(), fleet.ServerInput{Name: &name, Runtime: &rt, Capacity: &capacity})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestDockerClientLifecycle runs a client's whole life on real containers: create
// (healthy, password hook), demo data, reboot, transfer with its data, delete with
// its volumes.
func TestDockerClientLifecycle(t *testing.T) {
	e, d := dockerEnv(t)
	a := dockerServer(t, e, "docker-a")
	b := dockerServer(t, e, "docker-b")
	ctx := e.AdminCtx()
	aID := a.ID
	name, email := "Docker Lab", "docker@example.test"
	c, tk, err := e.Cloud.CreateClient(ctx, cloud.ClientInput{Name: &name, Email: &email, ServerID: &aID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Leave nothing behind even if the test fails half-way.
		for _, srv := range []*core.Server{a, b} {
			list, _ := d.List(context.Background(), srv)
			for _, ri := range list {
				if strings.HasPrefix(ri.Name, "hd-") {
					d.Delete(context.Background(), srv, ri.Ref)
				}
			}
		}
	})
	wantSuccess := func(tk *core.Task, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if done := e.WaitTask(t, tk.ID); done.Status != core.TaskSuccess {
			t.Fatalf("%s: %s %s", done.Kind, done.Status, done.Error)
		}
	}
	wantSuccess(tk, nil)
	v, _ := e.Cloud.GetClient(ctx, c.ID)
	if !v.Available || !strings.HasPrefix(v.URL, "http://127.0.0.1:") {
		t.Fatalf("client = %+v", v.Client)
	}
	page := func(url string) string {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if p := page(v.URL); !strings.Contains(p, "Docker Lab") {
		t.Fatalf("cloud page = %q", p)
	}
	// docker-a and docker-b are one engine: reconciling b, and another install
	// reconciling its own server there, leave a's container alone.
	other, _ := dockerEnv(t)
	dockerServer(t, other, "another-install")
	for _, env := range []*testenv.Env{e, other} {
		if res := runPeriodic(t, env, fleet.KindReconcile).(map[string]int); res["orphans_removed"] != 0 {
			t.Fatalf("reconcile removed %d instances of another server: %v", res["orphans_removed"], res)
		}
	}
	if p := page(v.URL); !strings.Contains(p, "Docker Lab") {
		t.Fatalf("cloud page after reconciliation = %q", p)
	}
	// The owner password went in on stdin before the start: no exec, and it
	// shows nowhere in what the engine says of the container.
	if n := d.execs.Load(); n != 0 {
		t.Fatalf("creating the client ran %d commands in its container", n)
	}
	wantOwnerPassword(t, e, d, a, c.ID, v.Instance.RuntimeRef)
	cli, err := d.Client(a)
	if err != nil {
		t.Fatal(err)
	}
	ins, err := cli.ContainerInspect(context.Background(), v.Instance.RuntimeRef, dockerclient.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	shown, _ := json.Marshal(ins.Container)
	if sealed, _ := e.Store.GetClient(ctx, c.ID); bytes.Contains(shown, mustOpen(t, e, sealed.OwnerPasswordEnc)) {
		t.Fatal("the owner password shows in the container's inspect")
	}
	// A change goes through the hook, into the running app.
	wantSuccess(e.Cloud.SetOwnerPassword(ctx, c.ID, "Changed-owner-pw-9"))
	wantOwnerPassword(t, e, d, a, c.ID, v.Instance.RuntimeRef)

	wantSuccess(e.Cloud.SetDemo(ctx, c.ID, true))
	wantSuccess(e.Cloud.RebootClient(ctx, c.ID))
	v, _ = e.Cloud.GetClient(ctx, c.ID)
	if !v.Demo || !v.Available {
		t.Fatalf("after demo+reboot: %+v", v.Client)
	}

	wantSuccess(e.Cloud.TransferClient(ctx, c.ID, b.ID))
	moved, _ := e.Cloud.GetClient(ctx, c.ID)
	if moved.ServerID != b.ID || !moved.Available {
		t.Fatalf("moved = %+v", moved.Client)
	}
	// The demo data moved with the volume, and the new container took the
	// owner password at its start.
	wantOwnerPassword(t, e, d, b, c.ID, moved.Instance.RuntimeRef)
	res, err := d.Exec(context.Background(), b, moved.Instance.RuntimeRef, []string{"/hostdeck", "sample-app", "read-file", "/data/" + sampleapp.DemoFile}, nil)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("demo data after transfer: %+v %v", res, err)
	}
	if _, err := d.Inspect(context.Background(), a, v.Instance.RuntimeRef); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("old container still there: %v", err)
	}

	wantSuccess(e.Cloud.DeleteClient(ctx, c.ID))
	if _, err := d.Inspect(context.Background(), b, moved.Instance.RuntimeRef); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("container still there after delete: %v", err)
	}
}

// BenchmarkDockerClientCreate times the whole Docker client cycle, from
// CreateClient until its task is done (the container created, started and
// healthy, the owner password set, the client active), beside its anchor in the
// same run: the same image created, started and answering its health check
// through the Docker API alone (plainCycle). Each round runs both, which goes
// first alternating, and each cleans up after itself untimed; the report is the
// median of each (client-ms, plain-ms) and the median of the rounds' ratios of
// one to the other (ratio; the goal: ≤ 1.2), which a busy engine sways less than
// the ratio of the medians. ns/op is one round of both.
func BenchmarkDockerClientCreate(b *testing.B) {
	tmpl := sampleapp.Template()
	tmpl.Image = testenv.DockerImage(b)
	d := docker.New(docker.Options{})
	defer d.Close()
	cli, err := d.Client(nil)
	if err != nil {
		b.Fatal(err)
	}
	e := testenv.NewWith(b, testenv.Options{Config: core.Config{Template: tmpl}, Runtimes: map[string]core.Runtime{"docker": d}})
	rt, name, capacity := "docker", "bench", 100000
	srv, err := e.Fleet.CreateServer(e.AdminCtx(), fleet.ServerInput{Name: &name, Runtime: &rt, Capacity: &capacity})
	if err != nil {
		b.Fatal(err)
	}
	bg := context.Background()
	removeAll := func() {
		list, _ := d.List(bg, srv)
		for _, ri := range list {
			d.Delete(bg, srv, ri.Ref)
		}
	}
	defer removeAll()

	client := func(i int) time.Duration {
		name, email := fmt.Sprintf("bench-%d", i), fmt.Sprintf("bench%d@example.test", i)
		start := time.Now()
		_, tk, err := e.Cloud.CreateClient(e.AdminCtx(), cloud.ClientInput{Name: &name, Email: &email})
		if err != nil {
			b.Fatal(err)
		}
		done := waitTaskClosely(b, e, tk.ID)
		took := time.Since(start)
		if done.Status != core.TaskSuccess {
			b.Fatalf("%s: %s", done.Status, done.Error)
		}
		b.StopTimer()
		removeAll()
		b.StartTimer()
		return took
	}
	plain := func(i int) time.Duration {
		name := fmt.Sprintf("hdbench-plain-%d-%d", time.Now().UnixNano(), i)
		start := time.Now()
		plainCycle(b, cli, tmpl.Image, name)
		took := time.Since(start)
		b.StopTimer()
		if err := d.Delete(bg, srv, name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		return took
	}
	var clients, plains []time.Duration
	var ratios []float64
	i := 0
	for b.Loop() {
		i++
		var c, p time.Duration
		if i%2 == 0 {
			c = client(i)
			p = plain(i)
		} else {
			p = plain(i)
			c = client(i)
		}
		clients, plains = append(clients, c), append(plains, p)
		ratios = append(ratios, float64(c)/float64(p))
	}
	b.ReportMetric(float64(medianOf(clients))/float64(time.Millisecond), "client-ms")
	b.ReportMetric(float64(medianOf(plains))/float64(time.Millisecond), "plain-ms")
	b.ReportMetric(medianOf(ratios), "ratio")
}

// plainCycle creates and starts a container of image as the Docker runtime
// would (a data volume, port 8080 published on 127.0.0.1) with the API client
// alone, and waits until its health check answers, polling every 5 ms.
func plainCycle(b *testing.B, cli *dockerclient.Client, image, name string) {
	b.Helper()
	ctx := context.Background()
	port := network.MustParsePort("8080/tcp")
	vol := name + "-data"
	if _, err := cli.VolumeCreate(ctx, dockerclient.VolumeCreateOptions{Name: vol}); err != nil {
		b.Fatal(err)
	}
	_, err := cli.ContainerCreate(ctx, dockerclient.ContainerCreateOptions{
		Name: name,
		Config: &container.Config{
			Image: image, Env: []string{"CLIENT_NAME=" + name},
			Labels: map[string]string{core.LabelInstance: name}, ExposedPorts: network.PortSet{port: {}},
		},
		HostConfig: &container.HostConfig{
			PortBindings: network.PortMap{port: {{HostIP: netip.MustParseAddr("127.0.0.1")}}},
			Mounts:       []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: "/data"}},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cli.ContainerStart(ctx, name, dockerclient.ContainerStartOptions{}); err != nil {
		b.Fatal(err)
	}
	ins, err := cli.ContainerInspect(ctx, name, dockerclient.ContainerInspectOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var url string
	for _, pb := range ins.Container.NetworkSettings.Ports[port] {
		if pb.HostPort != "" {
			url = "http://127.0.0.1:" + pb.HostPort + "/healthz"
		}
	}
	if url == "" {
		b.Fatal("no published port")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s not healthy after 10 s: %v", name, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitTaskClosely is testenv's WaitTask polling every 2 ms rather than 10, so
// that the wait adds little to what a benchmark measures.
func waitTaskClosely(b *testing.B, e *testenv.Env, id string) *core.Task {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		tk, err := e.Store.GetTask(context.Background(), id)
		if err != nil {
			b.Fatal(err)
		}
		if tk.Status.Done() {
			return tk
		}
		if time.Now().After(deadline) {
			b.Fatalf("task %s still %s after 30 s", id, tk.Status)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func medianOf[T cmp.Ordered](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func mustOpen(t *testing.T, e *testenv.Env, sealed []byte) []byte {
	t.Helper()
	pw, err := e.Svc.Sealer.Open(sealed)
	if err != nil {
		t.Fatal(err)
	}
	return pw
}

// TestDockerOwnerPasswordHook creates a client on the real engine from a
// template whose image takes its owner password only through the hook (an
// operator's own image): the hook sets it after the start.
func TestDockerOwnerPasswordHook(t *testing.T) {
	tmpl := sampleapp.Template()
	tmpl.OwnerPasswordStdin = false
	e, d := dockerEnvWith(t, tmpl)
	srv := dockerServer(t, e, "docker-hook")
	ctx := e.AdminCtx()
	name, email := "Hook Lab", "hook@example.test"
	c, tk, err := e.Cloud.CreateClient(ctx, cloud.ClientInput{Name: &name, Email: &email, ServerID: &srv.ID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		list, _ := d.List(context.Background(), srv)
		for _, ri := range list {
			d.Delete(context.Background(), srv, ri.Ref)
		}
	})
	if done := e.WaitTask(t, tk.ID); done.Status != core.TaskSuccess {
		t.Fatalf("create: %s %s", done.Status, done.Error)
	}
	if n := d.execs.Load(); n != 1 {
		t.Fatalf("creating the client ran %d commands in its container, want the hook", n)
	}
	v, err := e.Cloud.GetClient(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantOwnerPassword(t, e, d, srv, c.ID, v.Instance.RuntimeRef)
}
