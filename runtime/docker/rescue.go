package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"

	"hostdeck/core"
)

var _ core.Rescuer = (*Docker)(nil)

// Rescue containers. A rescue container is named "<instance container>-rescue" and
// carries LabelRescueOf (the instance's container ID) and LabelRescueInstance (the
// instance record's id) but never core.LabelInstance, so List (and with it
// reconciliation) does not take it for an instance.
const (
	LabelRescueOf       = "hostdeck.rescue-of"
	LabelRescueInstance = "hostdeck.rescue-instance"
	// RescueMount is where the instance's volumes are mounted in the rescue
	// container: the volume itself when there is one, else one directory per
	// volume named after it.
	RescueMount = "/mnt/rescue"
	// RescuePasswordFile is where the rescue password is written, hashed, before the
	// rescue container starts: "pbkdf2-sha256$<iter>$<salt hex>$<key hex>", mode
	// 0600. The plaintext is never stored, put on a command line or in the env.
	RescuePasswordFile = "/etc/hostdeck/rescue-password"
)

// rescueName is the name of the rescue container of an instance's container.
func rescueName(instanceName string) string { return instanceName + "-rescue" }

// Rescue stops the instance's container and starts a rescue container from image
// (which must be on the engine: no registry is used) with every named volume of
// the instance mounted under RescueMount and the password, when given, hashed into
// RescuePasswordFile. The rescue container runs the image's own command. A rescue
// container already there from the same image is started again; one from another
// image is replaced.
func (d *Docker) Rescue(ctx context.Context, srv *core.Server, ref string, image string, password string) error {
	cli, err := d.Client(srv)
	if err != nil {
		return fmt.Errorf("rescue container %s: %w", ref, err)
	}
	if image == "" {
		return core.Invalid("image", "rescue image is empty")
	}
	res, err := cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("rescue container %s: %w", ref, classify(err))
	}
	// Check the image before the instance stops: a missing one leaves it running.
	if _, err := cli.ImageInspect(ctx, image); cerrdefs.IsNotFound(err) {
		return core.Errorf(core.KindNotFound, "rescue image %s is not on the docker engine (no registry is used)", image)
	} else if err != nil {
		return fmt.Errorf("rescue container %s: inspect image %s: %w", ref, image, classify(err))
	}
	inst := res.Container
	name := rescueName(strings.TrimPrefix(inst.Name, "/"))
	var vols []mount.Mount
	var netMode container.NetworkMode // the rescue system is on the instance's network
	if hc := inst.HostConfig; hc != nil {
		netMode = hc.NetworkMode
		for _, m := range hc.Mounts {
			if m.Type == mount.TypeVolume {
				vols = append(vols, m)
			}
		}
	}
	if err := d.Stop(ctx, srv, inst.ID); err != nil {
		return fmt.Errorf("rescue container %s: %w", ref, err)
	}

	if old, err := cli.ContainerInspect(ctx, name, client.ContainerInspectOptions{}); err == nil {
		c := old.Container
		if c.Config != nil && c.Config.Image == image && c.Config.Labels[LabelRescueOf] == inst.ID {
			return d.startRescue(ctx, cli, name)
		}
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("replace rescue container %s: %w", name, classify(err))
		}
	} else if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("rescue container %s: %w", ref, classify(err))
	}

	mounts := make([]mount.Mount, 0, len(vols))
	for _, v := range vols {
		target := RescueMount
		if len(vols) > 1 {
			target = RescueMount + "/" + v.Source
		}
		mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: v.Source, Target: target})
	}
	labels := map[string]string{LabelRescueOf: inst.ID}
	if inst.Config != nil {
		labels[LabelRescueInstance] = inst.Config.Labels[core.LabelInstance]
	}
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:       name,
		Config:     &container.Config{Image: image, Labels: labels},
		HostConfig: &container.HostConfig{Mounts: mounts, NetworkMode: netMode},
	})
	if err != nil {
		return fmt.Errorf("create rescue container %s: %w", name, classify(err))
	}
	if password != "" {
		if err := writePasswordFile(ctx, cli, created.ID, password); err != nil {
			cli.ContainerRemove(ctx, created.ID, client.ContainerRemoveOptions{Force: true})
			return fmt.Errorf("set rescue password in %s: %w", name, err)
		}
	}
	return d.startRescue(ctx, cli, name)
}

func (d *Docker) startRescue(ctx context.Context, cli *client.Client, name string) error {
	if _, err := cli.ContainerStart(ctx, name, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start rescue container %s: %w", name, classify(err))
	}
	return nil
}

// writePasswordFile puts the hashed password at RescuePasswordFile of a created
// container, through the archive endpoint (the image needs no shell).
func writePasswordFile(ctx context.Context, cli *client.Client, id, password string) error {
	salt := make([]byte, 16)
	rand.Read(salt)
	const iter = 100_000
	key, err := pbkdf2.Key(sha256.New, password, salt, iter, 32)
	if err != nil {
		return err
	}
	rec := []byte(fmt.Sprintf("pbkdf2-sha256$%d$%s$%s\n", iter, hex.EncodeToString(salt), hex.EncodeToString(key)))
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	file := strings.TrimPrefix(RescuePasswordFile, "/")
	dir := file[:strings.LastIndexByte(file, '/')+1]
	for _, h := range []*tar.Header{
		{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now},
		{Name: file, Typeflag: tar.TypeReg, Mode: 0o600, Size: int64(len(rec)), ModTime: now},
	} {
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
	}
	tw.Write(rec)
	if err := tw.Close(); err != nil {
		return err
	}
	_, err = cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/", Content: &buf})
	return classify(err)
}

// removeRescue force-removes the rescue container of the instance's container
// inst, if there is one: the container of the rescue name that carries
// LabelRescueOf with inst's ID (a container that only has the name is left).
// The volumes it mounts stay: they are the instance's.
func removeRescue(ctx context.Context, cli *client.Client, inst container.InspectResponse) error {
	name := rescueName(strings.TrimPrefix(inst.Name, "/"))
	res, err := cli.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("inspect rescue container %s: %w", name, classify(err))
	}
	if c := res.Container; c.Config == nil || c.Config.Labels[LabelRescueOf] != inst.ID {
		return nil
	}
	if _, err := cli.ContainerRemove(ctx, res.Container.ID, client.ContainerRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove rescue container %s: %w", name, classify(err))
	}
	return nil
}

// Unrescue removes the instance's rescue container (its volumes stay: they are
// the instance's) and starts the instance's container again. Without a rescue
// container it only starts the instance.
func (d *Docker) Unrescue(ctx context.Context, srv *core.Server, ref string) error {
	cli, err := d.Client(srv)
	if err != nil {
		return fmt.Errorf("unrescue container %s: %w", ref, err)
	}
	res, err := cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("unrescue container %s: %w", ref, classify(err))
	}
	if err := removeRescue(ctx, cli, res.Container); err != nil {
		return fmt.Errorf("unrescue container %s: %w", ref, err)
	}
	return d.Start(ctx, srv, res.Container.ID)
}
