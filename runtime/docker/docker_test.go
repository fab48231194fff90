package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"hostdeck/core"
	"hostdeck/sampleapp"
)

// These tests run against the real local engine. TestMain builds a static binary
// of sampleapp (hostdeck/sampleapp/cmd/sample) and imports it as an image tagged
// hdtest-sample-<random>, removed at the end. Without an engine the tests skip,
// unless HOSTDECK_REQUIRE_DOCKER=1.

var (
	testImage   string // tag of the image built for this run
	testBinary  string // the static sampleapp binary
	dockerError string // why the engine cannot be used, or ""
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hdtest-docker-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	testBinary = filepath.Join(dir, "hostdeck")
	build := exec.Command("go", "build", "-o", testBinary, "hostdeck/sampleapp/cmd/sample")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build sample binary: %v\n%s", err, out)
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cli, err := NewClient("")
	if err == nil {
		_, err = cli.Ping(ctx, client.PingOptions{})
	}
	if err != nil {
		dockerError = err.Error()
		return m.Run()
	}
	defer cli.Close()
	testImage = "hdtest-sample-" + randHex(4) + ":latest"
	if err := BuildSampleImage(ctx, cli, testBinary, testImage); err != nil {
		fmt.Fprintf(os.Stderr, "build test image: %v\n", err)
		return 1
	}
	defer cli.ImageRemove(context.Background(), testImage, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	return m.Run()
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// needDocker skips the test when the engine is not reachable, or fails it when
// HOSTDECK_REQUIRE_DOCKER=1.
func needDocker(t testing.TB) {
	t.Helper()
	if dockerError == "" {
		return
	}
	if os.Getenv("HOSTDECK_REQUIRE_DOCKER") == "1" {
		t.Fatalf("docker engine not reachable: %s", dockerError)
	}
	t.Skip("docker engine not reachable: " + dockerError)
}

var local = &core.Server{ID: "local"}

// testSpec is the spec of a sample client container named hdtest-<name>-<random>;
// the container and its volume are removed when the test ends.
func testSpec(t testing.TB, d *Docker, name string) core.InstanceSpec {
	t.Helper()
	name = "hdtest-" + name + "-" + randHex(3)
	t.Cleanup(func() {
		if err := d.Delete(context.Background(), local, name); err != nil {
			t.Errorf("cleanup %s: %v", name, err)
		}
	})
	return core.InstanceSpec{
		Name:       name,
		Image:      testImage,
		Env:        map[string]string{"CLIENT_NAME": "Lab " + name},
		Ports:      []core.Port{{Container: 8080}},
		Volumes:    []core.Volume{{Name: name + "-data", Path: "/data"}},
		Labels:     map[string]string{core.LabelInstance: "inst-" + name},
		HealthPath: "/healthz",
	}
}

// waitFor polls Inspect until cond holds.
func waitFor(t testing.TB, d *Docker, ref string, what string, cond func(core.InstanceStatus) bool) core.InstanceStatus {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := d.Inspect(ctx, local, ref)
		if err != nil {
			t.Fatalf("inspect: %v", err)
		}
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: last %+v", what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func healthy(st core.InstanceStatus) bool { return st.Healthy }

func TestCheckStatic(t *testing.T) {
	if err := CheckStatic(testBinary); err != nil {
		t.Fatalf("static binary rejected: %v", err)
	}
	dyn, err := exec.LookPath("ls")
	if err != nil {
		t.Skip("no ls to test a dynamic binary with")
	}
	if err := CheckStatic(dyn); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Fatalf("dynamic binary %s: %v", dyn, err)
	}
	if err := CheckStatic("docker_test.go"); err == nil {
		t.Fatal("non-ELF file accepted")
	}
}

func TestLifecycle(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	d := New(Options{})
	t.Cleanup(func() { d.Close() })
	spec := testSpec(t, d, "life")

	ref, err := d.Create(ctx, local, spec)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := d.Create(ctx, local, spec); err != nil || again != ref {
		t.Fatalf("second create = %s, %v; want %s", again, err, ref)
	}
	cli, _ := d.Client(local)
	ins, err := cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("negotiated API version %s", cli.ClientVersion())
	c := ins.Container
	if c.Name != "/"+spec.Name || c.Config.Labels[core.LabelInstance] != "inst-"+spec.Name || c.Config.Labels[LabelHealth] != "/healthz" {
		t.Fatalf("name %s labels %v", c.Name, c.Config.Labels)
	}
	if !slices.Contains(c.Config.Env, "CLIENT_NAME=Lab "+spec.Name) {
		t.Fatalf("env %v", c.Config.Env)
	}
	if len(c.HostConfig.Mounts) != 1 || c.HostConfig.Mounts[0].Source != spec.Name+"-data" || c.HostConfig.Mounts[0].Target != "/data" {
		t.Fatalf("mounts %+v", c.HostConfig.Mounts)
	}
	vol, err := cli.VolumeInspect(ctx, spec.Name+"-data", client.VolumeInspectOptions{})
	if err != nil || vol.Volume.Labels[core.LabelInstance] != "inst-"+spec.Name {
		t.Fatalf("volume %+v, %v", vol.Volume, err)
	}
	if st, err := d.Inspect(ctx, local, ref); err != nil || st.State != core.StateBuilding || st.Healthy {
		t.Fatalf("created: %+v, %v", st, err)
	}

	if err := d.Start(ctx, local, ref); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, local, ref); err != nil {
		t.Fatalf("second start: %v", err)
	}
	st := waitFor(t, d, ref, "healthy", healthy)
	if st.State != core.StateActive || st.Address == "" || !strings.HasPrefix(st.URL, "http://127.0.0.1:") {
		t.Fatalf("started: %+v", st)
	}
	page := get(t, st.URL)
	if !strings.Contains(page, "Lab "+spec.Name) || !strings.Contains(page, "Owner password: not set") {
		t.Fatalf("page: %s", page)
	}

	// Hooks: the password goes on stdin; the app stores only a hash.
	const pw = "Pw-" + "correct-horse-42"
	res, err := d.Exec(ctx, local, ref, []string{"/hostdeck", "sample-app", "owner-password"}, []byte(pw+"\n"))
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("owner-password: %+v, %v", res, err)
	}
	res, err = d.Exec(ctx, local, ref, []string{"/hostdeck", "sample-app", "read-file", "/data/owner-password"}, nil)
	if err != nil || res.ExitCode != 0 || !strings.HasPrefix(res.Stdout, "pbkdf2-sha256$") || strings.Contains(res.Stdout, pw) {
		t.Fatalf("stored password: %+v, %v", res, err)
	}
	if res, _ := d.Exec(ctx, local, ref, []string{"/hostdeck", "sample-app", "demo-enable"}, nil); res.ExitCode != 0 {
		t.Fatalf("demo-enable: %+v", res)
	}
	if page := get(t, st.URL); !strings.Contains(page, "Demo data: on") || !strings.Contains(page, "Owner password: set") {
		t.Fatalf("page after hooks: %s", page)
	}
	res, err = d.Exec(ctx, local, ref, []string{"/hostdeck", "sample-app", "read-file", "/data/missing"}, nil)
	if err != nil || res.ExitCode != 1 || !strings.Contains(res.Stderr, "no such file") || res.Stdout != "" {
		t.Fatalf("failing command: %+v, %v", res, err)
	}
	res, err = d.Exec(ctx, local, ref, []string{"/hostdeck", "sample-app", "owner-password"}, nil)
	if err != nil || res.ExitCode == 0 {
		t.Fatalf("empty password: %+v, %v", res, err)
	}
	// The engine cannot start a missing binary: an error, or a non-zero exit code.
	if res, err := d.Exec(ctx, local, ref, []string{"/no/such/binary"}, nil); err == nil && res.ExitCode == 0 {
		t.Fatal("missing binary exited 0")
	} else {
		t.Logf("missing binary: %+v, %v", res, err)
	}

	list, err := d.List(ctx, local)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(list, func(in core.RuntimeInstance) bool { return in.Ref == ref })
	if i < 0 || list[i].Name != spec.Name || list[i].InstanceID != "inst-"+spec.Name || list[i].State != core.StateActive {
		t.Fatalf("list: %+v", list)
	}

	load, err := d.Load(ctx, local)
	if err != nil || !load.Reachable || load.Instances < 1 || load.MemoryTotal == 0 || load.MemoryUsed == 0 {
		t.Fatalf("load: %+v, %v", load, err)
	}
	get(t, st.URL) // some CPU between two readings
	load, err = d.Load(ctx, local)
	if err != nil || load.CPUPercent < 0 || load.CPUPercent > 100 {
		t.Fatalf("second load: %+v, %v", load, err)
	}
	t.Logf("load: %+v", load)

	if err := d.Restart(ctx, local, ref); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, d, ref, "healthy after restart", healthy)
	if page := get(t, st.URL); !strings.Contains(page, "Demo data: on") {
		t.Fatalf("state lost on restart: %s", page)
	}

	if err := d.Stop(ctx, local, ref); err != nil {
		t.Fatal(err)
	}
	if st, err := d.Inspect(ctx, local, ref); err != nil || st.State != core.StateStopped || st.Healthy {
		t.Fatalf("stopped: %+v, %v", st, err)
	}
	if _, err := d.Exec(ctx, local, ref, []string{"/hostdeck"}, nil); core.ErrorKind(err) != core.KindConflict {
		t.Fatalf("exec in stopped container: %v", err)
	}

	if err := d.Delete(ctx, local, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Inspect(ctx, local, ref); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("inspect after delete: %v", err)
	}
	if _, err := cli.VolumeInspect(ctx, spec.Name+"-data", client.VolumeInspectOptions{}); core.ErrorKind(classify(err)) != core.KindNotFound {
		t.Fatalf("volume after delete: %v", err)
	}
	if err := d.Delete(ctx, local, ref); err != nil {
		t.Fatalf("second delete: %v", err)
	}
}

func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

func TestCopyVolumes(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	d := New(Options{})
	t.Cleanup(func() { d.Close() })
	from, err := d.Create(ctx, local, testSpec(t, d, "from"))
	if err != nil {
		t.Fatal(err)
	}
	to, err := d.Create(ctx, local, testSpec(t, d, "to"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, local, from); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, from, "source running", func(st core.InstanceStatus) bool { return st.State == core.StateActive })
	for path, content := range map[string]string{"/data/a.txt": "alpha", "/data/sub/b.txt": "beta"} {
		res, err := d.Exec(ctx, local, from, []string{"/hostdeck", "sample-app", "write-file", path}, []byte(content))
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("write-file %s: %+v, %v", path, res, err)
		}
	}
	if err := d.Stop(ctx, local, from); err != nil {
		t.Fatal(err)
	}

	// Both stopped: the target has never run.
	if err := d.CopyVolumes(ctx, local, from, local, to); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, local, to); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, to, "target running", func(st core.InstanceStatus) bool { return st.State == core.StateActive })
	for path, content := range map[string]string{"/data/a.txt": "alpha", "/data/sub/b.txt": "beta"} {
		res, err := d.Exec(ctx, local, to, []string{"/hostdeck", "sample-app", "read-file", path}, nil)
		if err != nil || res.ExitCode != 0 || res.Stdout != content {
			t.Fatalf("read-file %s in target: %+v, %v", path, res, err)
		}
	}

	if err := d.CopyVolumes(ctx, local, from, local, "hdtest-missing"); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("copy to missing container: %v", err)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	d := New(Options{})
	t.Cleanup(func() { d.Close() })

	down := &core.Server{ID: "down", Address: "tcp://127.0.0.1:1"}
	if _, err := d.Inspect(ctx, down, "x"); core.ErrorKind(err) != core.KindUnavailable {
		t.Fatalf("inspect on unreachable engine: %v", err)
	}
	if _, err := d.Create(ctx, down, core.InstanceSpec{Name: "hdtest-x", Image: "x"}); core.ErrorKind(err) != core.KindUnavailable {
		t.Fatalf("create on unreachable engine: %v", err)
	}
	load, err := d.Load(ctx, down)
	if core.ErrorKind(err) != core.KindUnavailable || load.Reachable || load.Error == "" {
		t.Fatalf("load on unreachable engine: %+v, %v", load, err)
	}

	needDocker(t)
	if _, err := d.Inspect(ctx, local, "hdtest-missing"); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("inspect missing: %v", err)
	}
	if err := d.Start(ctx, local, "hdtest-missing"); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("start missing: %v", err)
	}
	if err := d.Delete(ctx, local, "hdtest-missing"); err != nil {
		t.Fatalf("delete missing: %v", err)
	}
	spec := testSpec(t, d, "noimage")
	spec.Image = "hdtest-no-such-image:latest"
	if _, err := d.Create(ctx, local, spec); core.ErrorKind(err) != core.KindNotFound || !strings.Contains(err.Error(), "create container") {
		t.Fatalf("create with missing image: %v", err)
	}
}

func TestEnsureSampleImage(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	// Present already (built by TestMain): nothing to do.
	if err := EnsureSampleImage(ctx, "", "/nonexistent", testImage); err != nil {
		t.Fatalf("ensure existing: %v", err)
	}
	tag := "hdtest-ensure-" + randHex(3) + ":latest"
	cli, _ := NewClient("")
	t.Cleanup(func() {
		cli.ImageRemove(context.Background(), tag, client.ImageRemoveOptions{Force: true})
		cli.Close()
	})
	if err := EnsureSampleImage(ctx, "", testBinary, tag); err != nil {
		t.Fatal(err)
	}
	img, err := cli.ImageInspect(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := img.Config; cfg == nil || !slices.Equal(cfg.Cmd, []string{"/hostdeck", "sample-app", "serve"}) || !slices.Contains(cfg.Env, "PORT=8080") || cfg.Labels[LabelSampleVersion] != sampleapp.Version {
		t.Fatalf("image config %+v", img.Config)
	}

	// One an older hostdeck built (without the version label) is rebuilt.
	var empty bytes.Buffer
	tar.NewWriter(&empty).Close()
	res, err := cli.ImageImport(ctx, client.ImageImportSource{Source: &empty, SourceName: "-"}, tag, client.ImageImportOptions{Changes: []string{`CMD ["/hostdeck","sample-app","serve"]`}})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res)
	res.Close()
	if old, err := cli.ImageInspect(ctx, tag); err == nil {
		t.Cleanup(func() { cli.ImageRemove(context.Background(), old.ID, client.ImageRemoveOptions{Force: true}) })
	}
	if ok, err := SampleImageCurrent(ctx, cli, tag); err != nil || ok {
		t.Fatalf("an image without the version is current: %v, %v", ok, err)
	}
	if err := EnsureSampleImage(ctx, "", testBinary, tag); err != nil {
		t.Fatal(err)
	}
	if ok, err := SampleImageCurrent(ctx, cli, tag); err != nil || !ok {
		t.Fatalf("not current after EnsureSampleImage: %v, %v", ok, err)
	}
}

// BenchmarkPlainCreateStart creates and starts a sample container with the API
// client directly and waits until its health URL answers: the floor that
// BenchmarkRuntimeCreateStart is compared with.
func BenchmarkPlainCreateStart(b *testing.B) {
	needDocker(b)
	ctx := context.Background()
	cli, err := NewClient("")
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	d := New(Options{}) // for cleanup (Delete by name) and the same health probe only
	defer d.Close()
	for b.Loop() {
		spec := testSpec(b, d, "plain")
		port := network.MustParsePort("8080/tcp")
		_, err := cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: spec.Volumes[0].Name})
		if err != nil {
			b.Fatal(err)
		}
		_, err = cli.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name: spec.Name,
			Config: &container.Config{
				Image: testImage, Labels: spec.Labels, ExposedPorts: network.PortSet{port: {}},
			},
			HostConfig: &container.HostConfig{
				PortBindings: network.PortMap{port: {{HostIP: netip.MustParseAddr("127.0.0.1")}}},
				Mounts:       []mount.Mount{{Type: mount.TypeVolume, Source: spec.Volumes[0].Name, Target: "/data"}},
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cli.ContainerStart(ctx, spec.Name, client.ContainerStartOptions{}); err != nil {
			b.Fatal(err)
		}
		var url string
		for url == "" {
			ins, err := cli.ContainerInspect(ctx, spec.Name, client.ContainerInspectOptions{})
			if err != nil {
				b.Fatal(err)
			}
			for _, pb := range ins.Container.NetworkSettings.Ports {
				if len(pb) > 0 && pb[0].HostPort != "" {
					url = "http://127.0.0.1:" + pb[0].HostPort + "/healthz"
				}
			}
		}
		for !d.healthy(ctx, url) {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// BenchmarkRuntimeCreateStart creates and starts a sample container through the
// Runtime and polls Inspect until it reports Healthy.
func BenchmarkRuntimeCreateStart(b *testing.B) {
	needDocker(b)
	ctx := context.Background()
	d := New(Options{})
	defer d.Close()
	for b.Loop() {
		spec := testSpec(b, d, "rt")
		ref, err := d.Create(ctx, local, spec)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Start(ctx, local, ref); err != nil {
			b.Fatal(err)
		}
		for {
			st, err := d.Inspect(ctx, local, ref)
			if err != nil {
				b.Fatal(err)
			}
			if st.Healthy {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
