package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"hostdeck/runtime/docker"
)

func newImageCmd() *cobra.Command {
	img := &cobra.Command{Use: "image", Short: "Manage the images hostdeck builds itself"}
	var tag, host, binary string
	build := &cobra.Command{
		Use:   "build-sample",
		Short: "Build the sample client image from this binary and import it into the Docker Engine",
		Long: `No registry is needed: the image holds this hostdeck binary (statically linked)
as its web app and hooks, and is imported into the engine directly.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			bin, cleanup, err := sampleBinary(cmd.Context(), binary)
			if err != nil {
				return err
			}
			defer cleanup()
			cli, err := docker.NewClient(host)
			if err != nil {
				return err
			}
			defer cli.Close()
			if err := docker.BuildSampleImage(cmd.Context(), cli, bin, tag); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tag)
			return nil
		},
	}
	build.Flags().StringVar(&tag, "tag", docker.SampleImage, "image tag")
	build.Flags().StringVar(&host, "docker-host", env("DOCKER_HOST", ""), "Docker Engine address (the local engine when empty)")
	build.Flags().StringVar(&binary, "binary", "", "static hostdeck binary to put in the image (this one when empty)")
	img.AddCommand(build)
	return img
}

// sampleBinary finds a statically linked hostdeck binary for the sample image:
// the one given, this executable when it is static, or else one built from the
// source in the current module with CGO_ENABLED=0 (as `go run` builds with cgo).
func sampleBinary(ctx context.Context, given string) (string, func(), error) {
	none := func() {}
	if given != "" {
		return given, none, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", none, err
	}
	if docker.CheckStatic(self) == nil {
		return self, none, nil
	}
	dir, err := os.MkdirTemp("", "hostdeck-sample-")
	if err != nil {
		return "", none, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	out := filepath.Join(dir, "hostdeck")
	build := exec.CommandContext(ctx, "go", "build", "-o", out, "hostdeck/cmd/hostdeck")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		cleanup()
		return "", none, fmt.Errorf("this hostdeck is dynamically linked and a static one could not be built (run from the source tree, or pass --binary): %w", err)
	}
	return out, cleanup, nil
}

// ensureSampleImage builds the sample image on the local engine unless it is
// there, built for this version of the sample app (docker.SampleImageCurrent).
func ensureSampleImage(ctx context.Context) error {
	cli, err := docker.NewClient("")
	if err != nil {
		return err
	}
	defer cli.Close()
	if ok, err := docker.SampleImageCurrent(ctx, cli, docker.SampleImage); err != nil || ok {
		return err
	}
	bin, cleanup, err := sampleBinary(ctx, "")
	if err != nil {
		return err
	}
	defer cleanup()
	return docker.BuildSampleImage(ctx, cli, bin, docker.SampleImage)
}
