package core_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"hostdeck/core"
	"hostdeck/core/cloud"
	"hostdeck/core/fleet"
	"hostdeck/internal/testenv"
	"hostdeck/runtime/docker"
	"hostdeck/sampleapp"
)

// dockerEnv is an Env whose "docker" runtime is the real local engine, with the
// sample client image.
func dockerEnv(t *testing.T) (*testenv.Env, *docker.Docker) {
	t.Helper()
	tmpl := sampleapp.Template()
	tmpl.Image = testenv.DockerImage(t)
	d := docker.New(docker.Options{})
	t.Cleanup(func() { d.Close() })
	e := testenv.NewWith(t, testenv.Options{Config: core.Config{Template: tmpl}, Runtimes: map[string]core.Runtime{"docker": d}})
	return e, d
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
	owner := func(ref string) string {
		res, err := d.Exec(context.Background(), a, ref, []string{"/hostdeck", "sample-app", "read-file", "/data/" + sampleapp.PasswordFile}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Stdout
	}
	if owner(v.Instance.RuntimeRef) == "" {
		t.Fatal("owner password hook did not run")
	}

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
	// The demo data moved with the volume.
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

// BenchmarkDockerClientCreate times a client from CreateClient to available (its
// container created, started, healthy and its owner password set), on the real
// engine. Compare with runtime/docker's BenchmarkPlainCreateStart, the same image
// through the Docker API alone.
func BenchmarkDockerClientCreate(b *testing.B) {
	tmpl := sampleapp.Template()
	tmpl.Image = testenv.DockerImage(b)
	d := docker.New(docker.Options{})
	defer d.Close()
	e := testenv.NewWith(b, testenv.Options{Config: core.Config{Template: tmpl}, Runtimes: map[string]core.Runtime{"docker": d}})
	rt, name, capacity := "docker", "bench", 100000
	srv, err := e.Fleet.CreateServer(e.AdminCtx(), fleet.ServerInput{Name: &name, Runtime: &rt, Capacity: &capacity})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		list, _ := d.List(context.Background(), srv)
		for _, ri := range list {
			d.Delete(context.Background(), srv, ri.Ref)
		}
	}()
	i := 0
	for b.Loop() {
		i++
		name, email := fmt.Sprintf("bench-%d", i), fmt.Sprintf("bench%d@example.test", i)
		_, tk, err := e.Cloud.CreateClient(e.AdminCtx(), cloud.ClientInput{Name: &name, Email: &email})
		if err != nil {
			b.Fatal(err)
		}
		if done := e.WaitTask(b, tk.ID); done.Status != core.TaskSuccess {
			b.Fatalf("%s: %s", done.Status, done.Error)
		}
	}
}
