package docker

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"

	"hostdeck/core"
)

// CopyVolumes copies the content of each volume of container fromRef into the
// volume at the same position (in creation order) of container toRef, through the
// engines' archive endpoints; the engines may differ and the containers may be
// stopped. Files in the target that the source lacks are left alone: a transfer
// copies into a fresh instance.
func (d *Docker) CopyVolumes(ctx context.Context, from *core.Server, fromRef string, to *core.Server, toRef string) error {
	src, err := d.Client(from)
	if err != nil {
		return fmt.Errorf("copy volumes from %s: %w", fromRef, err)
	}
	dst, err := d.Client(to)
	if err != nil {
		return fmt.Errorf("copy volumes to %s: %w", toRef, err)
	}
	srcMounts, err := volumeMounts(ctx, src, fromRef)
	if err != nil {
		return fmt.Errorf("copy volumes from %s: %w", fromRef, err)
	}
	dstMounts, err := volumeMounts(ctx, dst, toRef)
	if err != nil {
		return fmt.Errorf("copy volumes to %s: %w", toRef, err)
	}
	if len(srcMounts) != len(dstMounts) {
		return core.Errorf(core.KindConflict, "copy volumes: %s has %d volumes, %s has %d",
			fromRef, len(srcMounts), toRef, len(dstMounts))
	}
	for i, sm := range srcMounts {
		dm := dstMounts[i]
		if err := copyDir(ctx, src, fromRef, sm.Target, dst, toRef, dm.Target); err != nil {
			return fmt.Errorf("copy volume %s to %s: %w", sm.Source, dm.Source, err)
		}
	}
	return nil
}

// volumeMounts lists a container's volume mounts in the order they were created.
func volumeMounts(ctx context.Context, cli *client.Client, ref string) ([]mount.Mount, error) {
	res, err := cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		return nil, classify(err)
	}
	var out []mount.Mount
	if hc := res.Container.HostConfig; hc != nil {
		for _, m := range hc.Mounts {
			if m.Type == mount.TypeVolume {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// copyDir streams the directory srcPath of one container into dstPath of another.
// The engine archives srcPath under its base name; the entries are renamed to be
// relative to dstPath.
func copyDir(ctx context.Context, src *client.Client, srcRef, srcPath string, dst *client.Client, dstRef, dstPath string) error {
	res, err := src.CopyFromContainer(ctx, srcRef, client.CopyFromContainerOptions{SourcePath: srcPath})
	if err != nil {
		return classify(err)
	}
	defer res.Content.Close()
	base := path.Base(path.Clean(srcPath))

	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(rebase(res.Content, pw, base)) }()
	_, err = dst.CopyToContainer(ctx, dstRef, client.CopyToContainerOptions{
		DestinationPath: dstPath,
		Content:         pr,
		CopyUIDGID:      true,
	})
	pr.CloseWithError(errors.New("copy aborted"))
	return classify(err)
}

// rebase copies a tar stream, dropping the top directory base and the leading
// "base/" of every other entry.
func rebase(r io.Reader, w io.Writer, base string) error {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return tw.Close()
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(strings.TrimSuffix(h.Name, "/"), "./")
		if name == base {
			continue
		}
		rel, ok := strings.CutPrefix(name, base+"/")
		if !ok {
			continue
		}
		h.Name = rel
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		if h.Typeflag == tar.TypeLink {
			h.Linkname = strings.TrimPrefix(strings.TrimPrefix(h.Linkname, "./"), base+"/")
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}
