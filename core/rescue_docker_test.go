package core_test

import (
	"context"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"hostdeck/core"
	"hostdeck/core/cloud"
	"hostdeck/runtime/docker"
)

// TestDockerRescue puts a client's container into rescue on the real engine: the
// instance stops, a rescue container from the (local) rescue image runs with the
// instance's volume at /mnt/rescue and the password hashed in place; a file written
// there from rescue mode is in the instance after unrescue.
func TestDockerRescue(t *testing.T) {
	e, d := dockerEnv(t)
	srv := dockerServer(t, e, "docker-rescue")
	ctx := e.AdminCtx()
	bg := context.Background()
	if _, err := e.Hosting.SeedRescueImages(ctx); err != nil {
		t.Fatal(err)
	}
	name, email := "Rescue Lab", "rescue@example.test"
	c, tk, err := e.Cloud.CreateClient(ctx, cloud.ClientInput{Name: &name, Email: &email, ServerID: &srv.ID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		list, _ := d.List(bg, srv)
		for _, ri := range list {
			if strings.HasPrefix(ri.Name, "hd-") {
				if cli, err := d.Client(srv); err == nil {
					cli.ContainerRemove(bg, ri.Name+"-rescue", client.ContainerRemoveOptions{Force: true})
				}
				d.Delete(bg, srv, ri.Ref)
			}
		}
	})
	if done := e.WaitTask(t, tk.ID); done.Status != core.TaskSuccess {
		t.Fatalf("create: %s %s", done.Status, done.Error)
	}
	in, err := e.Store.GetInstance(bg, c.InstanceID)
	if err != nil {
		t.Fatal(err)
	}

	// The document's Ubuntu 22.04 has no ref: it boots the configured rescue image
	// (the test's sample image).
	wantTask(t, e, func() (*core.Task, error) { return e.Hosting.Rescue(ctx, in.ID, ubuntu2204, "MyPassword1") })
	if st, err := d.Inspect(bg, srv, in.RuntimeRef); err != nil || st.State != core.StateStopped {
		t.Fatalf("instance container in rescue = %+v, %v", st, err)
	}
	rescue := in.Name + "-rescue"
	exec := func(ref string, stdin string, cmd ...string) core.ExecResult {
		t.Helper()
		res, err := d.Exec(bg, srv, ref, append([]string{"/hostdeck", "sample-app"}, cmd...), []byte(stdin))
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("exec %v in %s: %+v, %v", cmd, ref, res, err)
		}
		return res
	}
	exec(rescue, "written from rescue\n", "write-file", docker.RescueMount+"/rescued.txt")
	pw := exec(rescue, "", "read-file", docker.RescuePasswordFile).Stdout
	if !strings.HasPrefix(pw, "pbkdf2-sha256$") || strings.Contains(pw, "MyPassword1") {
		t.Fatalf("rescue password file = %q", pw)
	}
	// The rescue container is not an instance: List (and reconciliation) skip it.
	list, err := d.List(bg, srv)
	if err != nil {
		t.Fatal(err)
	}
	for _, ri := range list {
		if ri.Name == rescue {
			t.Fatal("List reports the rescue container")
		}
	}

	wantTask(t, e, func() (*core.Task, error) { return e.Hosting.Unrescue(ctx, in.ID) })
	if got := exec(in.RuntimeRef, "", "read-file", "/data/rescued.txt").Stdout; got != "written from rescue\n" {
		t.Fatalf("file in the instance after unrescue = %q", got)
	}
	if cli, err := d.Client(srv); err == nil {
		if _, err := cli.ContainerInspect(bg, rescue, client.ContainerInspectOptions{}); err == nil {
			t.Fatal("rescue container still there after unrescue")
		}
	}
	v, err := e.Cloud.GetClient(ctx, c.ID)
	if err != nil || !v.Available || v.Instance.State != core.StateActive {
		t.Fatalf("client after unrescue = %+v, %v", v, err)
	}
}

// TestDockerRescueThenDelete deletes a client whose container is in rescue on
// the real engine: the delete succeeds and leaves neither the rescue container,
// the instance's container nor its volume.
func TestDockerRescueThenDelete(t *testing.T) {
	e, d := dockerEnv(t)
	srv := dockerServer(t, e, "docker-rescue-delete")
	ctx := e.AdminCtx()
	bg := context.Background()
	if _, err := e.Hosting.SeedRescueImages(ctx); err != nil {
		t.Fatal(err)
	}
	name, email := "Rescue Delete Lab", "rescue-delete@example.test"
	c, tk, err := e.Cloud.CreateClient(ctx, cloud.ClientInput{Name: &name, Email: &email, ServerID: &srv.ID})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := d.Client(srv)
	if err != nil {
		t.Fatal(err)
	}
	in, err := e.Store.GetInstance(bg, c.InstanceID)
	if err != nil {
		t.Fatal(err)
	}
	rescue := in.Name + "-rescue"
	t.Cleanup(func() {
		cli.ContainerRemove(bg, rescue, client.ContainerRemoveOptions{Force: true})
		d.Delete(bg, srv, in.Name)
	})
	if done := e.WaitTask(t, tk.ID); done.Status != core.TaskSuccess {
		t.Fatalf("create: %s %s", done.Status, done.Error)
	}
	wantTask(t, e, func() (*core.Task, error) { return e.Hosting.Rescue(ctx, in.ID, ubuntu2204, "") })
	if _, err := cli.ContainerInspect(bg, rescue, client.ContainerInspectOptions{}); err != nil {
		t.Fatalf("no rescue container: %v", err)
	}

	wantTask(t, e, func() (*core.Task, error) { return e.Cloud.DeleteClient(ctx, c.ID) })
	for _, name := range []string{rescue, in.Name} {
		if _, err := cli.ContainerInspect(bg, name, client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
			t.Fatalf("container %s after delete: %v", name, err)
		}
	}
	for _, v := range in.Spec.Volumes {
		if _, err := cli.VolumeInspect(bg, v.Name, client.VolumeInspectOptions{}); !cerrdefs.IsNotFound(err) {
			t.Fatalf("volume %s after delete: %v", v.Name, err)
		}
	}
	if st := instanceState(t, e, in.ID); st != core.StateDeleted {
		t.Fatalf("state after delete = %s", st)
	}
}
