package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"hostdeck/sampleapp"
)

// SampleImage is the default tag of the sample client image.
const SampleImage = sampleapp.Image

// LabelSampleVersion is the label of the sample image that carries the
// sampleapp.Version it was built for (SampleImageCurrent).
const LabelSampleVersion = "hostdeck.sample-app"

// BuildSampleImage builds the sample client image from the hostdeck binary at
// binaryPath, without a registry or a Dockerfile: it imports a tar holding the
// binary at /hostdeck and empty /data and /tmp directories, with CMD
// ["/hostdeck","sample-app","serve"], ENV PORT=8080, EXPOSE 8080 and the label
// LabelSampleVersion. The image has no libc, so the binary must be statically
// linked (CGO_ENABLED=0).
func BuildSampleImage(ctx context.Context, cli *client.Client, binaryPath, tag string) error {
	if tag == "" {
		tag = SampleImage
	}
	if err := CheckStatic(binaryPath); err != nil {
		return fmt.Errorf("build image %s: %w", tag, err)
	}
	bin, err := os.ReadFile(binaryPath)
	if err != nil {
		return fmt.Errorf("build image %s: %w", tag, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, h := range []*tar.Header{
		{Name: "data/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now},
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: now},
		{Name: "hostdeck", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin)), ModTime: now},
	} {
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("build image %s: %w", tag, err)
		}
	}
	tw.Write(bin)
	if err := tw.Close(); err != nil {
		return fmt.Errorf("build image %s: %w", tag, err)
	}

	res, err := cli.ImageImport(ctx, client.ImageImportSource{Source: &buf, SourceName: "-"}, tag, client.ImageImportOptions{
		Message: "hostdeck sample client",
		Changes: []string{
			`CMD ["/hostdeck","sample-app","serve"]`,
			`ENV PORT=8080`,
			`EXPOSE 8080`,
			`LABEL ` + LabelSampleVersion + `=` + sampleapp.Version,
		},
	})
	if err != nil {
		return fmt.Errorf("build image %s: %w", tag, classify(err))
	}
	defer res.Close()
	// The engine answers with a stream of JSON messages; an error may arrive there
	// after a 200 status.
	dec := json.NewDecoder(res)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("build image %s: read import status: %w", tag, err)
		}
		if msg.Error != "" {
			return fmt.Errorf("build image %s: %s", tag, msg.Error)
		}
	}
}

// EnsureSampleImage builds the sample image on the engine at addr ("" = local)
// unless tag is already there, built for this sampleapp.Version.
func EnsureSampleImage(ctx context.Context, addr, binaryPath, tag string) error {
	if tag == "" {
		tag = SampleImage
	}
	cli, err := NewClient(addr)
	if err != nil {
		return err
	}
	defer cli.Close()
	if ok, err := SampleImageCurrent(ctx, cli, tag); err != nil || ok {
		return err
	}
	return BuildSampleImage(ctx, cli, binaryPath, tag)
}

// SampleImageCurrent reports whether the sample image tag is on the engine and
// was built for this sampleapp.Version: one an older hostdeck built may lack what
// the sample template relies on (it would never set the owner password it is
// given on stdin).
func SampleImageCurrent(ctx context.Context, cli *client.Client, tag string) (bool, error) {
	img, err := cli.ImageInspect(ctx, tag)
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inspect image %s: %w", tag, classify(err))
	}
	return img.Config != nil && img.Config.Labels[LabelSampleVersion] == sampleapp.Version, nil
}

// CheckStatic returns an error unless path is an ELF executable without a program
// interpreter (PT_INTERP), i.e. one that runs in an image without libc.
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("binary %s is not an ELF executable: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("binary " + path + " is dynamically linked; build it with CGO_ENABLED=0")
		}
	}
	return nil
}
