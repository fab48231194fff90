package docker

import (
	"context"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"hostdeck/core"
)

// TestRescueTwoVolumes: with several volumes each is mounted at
// /mnt/rescue/<volume>; the rescue container is on the instance's network; a
// repeated Rescue keeps it; Unrescue removes it, keeps the volumes and starts
// the instance.
func TestRescueTwoVolumes(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	d := New(Options{})
	t.Cleanup(func() { d.Close() })
	network := testNetwork(t, d) // removed last, after the containers
	spec := testSpec(t, d, "rescue")
	spec.Network = network
	spec.Volumes = append(spec.Volumes, core.Volume{Name: spec.Name + "-logs", Path: "/logs"})
	ref, err := d.Create(ctx, local, spec)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := d.Client(local)
	if err != nil {
		t.Fatal(err)
	}
	rescue := spec.Name + "-rescue"
	t.Cleanup(func() { cli.ContainerRemove(context.Background(), rescue, client.ContainerRemoveOptions{Force: true}) })
	if err := d.Start(ctx, local, ref); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, ref, "healthy", healthy)

	if err := d.Rescue(ctx, local, ref, testImage, ""); err != nil {
		t.Fatal(err)
	}
	first, err := cli.ContainerInspect(ctx, rescue, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l := first.Container.Config.Labels; l[LabelRescueOf] != ref || l[LabelRescueInstance] != "inst-"+spec.Name || l[core.LabelInstance] != "" {
		t.Fatalf("rescue labels = %v", l)
	}
	if nets := first.Container.NetworkSettings.Networks; len(nets) != 1 || nets[network] == nil {
		t.Fatalf("rescue networks = %v, want only %s", nets, network)
	}
	if err := d.Rescue(ctx, local, ref, testImage, ""); err != nil {
		t.Fatalf("repeated rescue: %v", err)
	}
	again, _ := cli.ContainerInspect(ctx, rescue, client.ContainerInspectOptions{})
	if again.Container.ID != first.Container.ID {
		t.Fatal("repeated rescue replaced the rescue container")
	}
	if st, _ := d.Inspect(ctx, local, ref); st.State != core.StateStopped {
		t.Fatalf("instance in rescue is %s", st.State)
	}
	for _, vol := range []string{spec.Name + "-data", spec.Name + "-logs"} {
		res, err := d.Exec(ctx, local, rescue, []string{"/hostdeck", "sample-app", "write-file", RescueMount + "/" + vol + "/mark"}, []byte(vol))
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("write into %s: %+v %v", vol, res, err)
		}
	}
	// No password given: no password file.
	if res, err := d.Exec(ctx, local, rescue, []string{"/hostdeck", "sample-app", "read-file", RescuePasswordFile}, nil); err != nil || res.ExitCode == 0 {
		t.Fatalf("password file without a password: %+v %v", res, err)
	}

	if err := d.Unrescue(ctx, local, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.ContainerInspect(ctx, rescue, client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Fatalf("rescue container after unrescue: %v", err)
	}
	waitFor(t, d, ref, "healthy after unrescue", healthy)
	for path, want := range map[string]string{"/data/mark": spec.Name + "-data", "/logs/mark": spec.Name + "-logs"} {
		res, err := d.Exec(ctx, local, ref, []string{"/hostdeck", "sample-app", "read-file", path}, nil)
		if err != nil || res.Stdout != want {
			t.Fatalf("%s in the instance = %+v, %v", path, res, err)
		}
	}
	if err := d.Unrescue(ctx, local, ref); err != nil {
		t.Fatalf("unrescue without a rescue container: %v", err)
	}
	if err := d.Rescue(ctx, local, "hdtest-no-such-container", testImage, ""); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("unknown ref: %v", err)
	}
	err = d.Rescue(ctx, local, ref, "hdtest-no-such-image:1", "")
	if core.ErrorKind(err) != core.KindNotFound || !strings.Contains(err.Error(), "hdtest-no-such-image:1") {
		t.Fatalf("missing image: %v", err)
	}
	if st, _ := d.Inspect(ctx, local, ref); st.State != core.StateActive {
		t.Fatalf("a missing rescue image stopped the instance: %s", st.State)
	}
}

// TestDeleteInRescue: deleting an instance in rescue removes its rescue
// container too, and with it the last user of the instance's volumes, which go.
func TestDeleteInRescue(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	d := New(Options{})
	t.Cleanup(func() { d.Close() })
	spec := testSpec(t, d, "rescue-delete")
	ref, err := d.Create(ctx, local, spec)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := d.Client(local)
	if err != nil {
		t.Fatal(err)
	}
	rescue := spec.Name + "-rescue"
	t.Cleanup(func() { cli.ContainerRemove(context.Background(), rescue, client.ContainerRemoveOptions{Force: true}) })
	if err := d.Start(ctx, local, ref); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, ref, "healthy", healthy)
	if err := d.Rescue(ctx, local, ref, testImage, "pw"); err != nil {
		t.Fatal(err)
	}

	if err := d.Delete(ctx, local, ref); err != nil {
		t.Fatalf("delete in rescue: %v", err)
	}
	if _, err := cli.ContainerInspect(ctx, rescue, client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Fatalf("rescue container after delete: %v", err)
	}
	if _, err := cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Fatalf("instance container after delete: %v", err)
	}
	for _, v := range spec.Volumes {
		if _, err := cli.VolumeInspect(ctx, v.Name, client.VolumeInspectOptions{}); !cerrdefs.IsNotFound(err) {
			t.Fatalf("volume %s after delete: %v", v.Name, err)
		}
	}
	if err := d.Delete(ctx, local, ref); err != nil {
		t.Fatalf("second delete: %v", err)
	}
}

// TestDeleteSparesAnotherRescue: a container that only bears the rescue name of
// an instance, without its label, is not the instance's and stays.
func TestDeleteSparesAnotherRescue(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	d := New(Options{})
	t.Cleanup(func() { d.Close() })
	spec := testSpec(t, d, "rescue-spare")
	ref, err := d.Create(ctx, local, spec)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := d.Client(local)
	if err != nil {
		t.Fatal(err)
	}
	other := spec.Name + "-rescue"
	if _, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: other, Config: &container.Config{Image: testImage}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.ContainerRemove(context.Background(), other, client.ContainerRemoveOptions{Force: true}) })
	if err := d.Delete(ctx, local, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.ContainerInspect(ctx, other, client.ContainerInspectOptions{}); err != nil {
		t.Fatalf("another container removed: %v", err)
	}
}
