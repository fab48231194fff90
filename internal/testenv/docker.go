package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"hostdeck/runtime/docker"
)

var sample struct {
	once sync.Once
	tag  string
	err  string
}

// DockerImage returns the tag of a sample client image built for this test binary
// from a static build of hostdeck/sampleapp/cmd/sample. Without a reachable engine
// the test skips, or fails when HOSTDECK_REQUIRE_DOCKER=1. The image stays for the
// next run (it is rebuilt only when missing), under a tag of its own.
func DockerImage(t testing.TB) string {
	t.Helper()
	sample.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cli, err := docker.NewClient("")
		if err == nil {
			_, err = cli.Ping(ctx, client.PingOptions{})
		}
		if err != nil {
			sample.err = "docker engine not reachable: " + err.Error()
			return
		}
		defer cli.Close()
		dir, err := os.MkdirTemp("", "hdtest-sample-")
		if err != nil {
			sample.err = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "hostdeck")
		build := exec.Command("go", "build", "-o", bin, "hostdeck/sampleapp/cmd/sample")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			sample.err = "build sample binary: " + err.Error() + "\n" + string(out)
			return
		}
		// Always rebuild: the binary may have changed since the last run.
		const tag = "hostdeck/sample-client:test"
		if err := docker.BuildSampleImage(ctx, cli, bin, tag); err != nil {
			sample.err = "build sample image: " + err.Error()
			return
		}
		sample.tag = tag
	})
	if sample.err != "" {
		if os.Getenv("HOSTDECK_REQUIRE_DOCKER") == "1" {
			t.Fatal(sample.err)
		}
		t.Skip(sample.err)
	}
	return sample.tag
}
