// Package docker implements core.Runtime and core.VolumeCopier over the Docker
// Engine API (github.com/moby/moby/client). An instance is a container named after
// the instance; its volumes are named Docker volumes; its ports are published on
// 127.0.0.1 with random host ports; a spec that names a Network puts it on that
// bridge network, made on first use (network.go). The package also builds the
// sample client image from the hostdeck binary, since no registry is reachable
// (see BuildSampleImage).
//
// The client negotiates the API version with each engine on first use, so engines
// from 20.10 (API 1.41) on work; the client's own minimum is API 1.40.
package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"hostdeck/core"
)

var (
	_ core.Runtime      = (*Docker)(nil)
	_ core.VolumeCopier = (*Docker)(nil)
	_ core.StdinWriter  = (*Docker)(nil)
)

// Labels hostdeck puts on containers besides spec.Labels, so that Inspect knows
// what the spec said.
const (
	LabelHealth = "hostdeck.health" // spec.HealthPath
	LabelPort   = "hostdeck.port"   // the first port of the spec, e.g. "8080/tcp"
)

// Options configures a Docker runtime. The zero value is usable.
type Options struct {
	// HealthTimeout bounds the HTTP health check of Inspect; 1 s when zero.
	HealthTimeout time.Duration
	// StopTimeout is how long Stop and Restart wait for a graceful exit before
	// killing; 10 s when zero.
	StopTimeout time.Duration
}

// Docker is the Docker runtime. It keeps one API client per engine address and is
// safe for concurrent use.
type Docker struct {
	opts   Options
	health *http.Client

	mu       sync.Mutex
	clients  map[string]*client.Client
	cpu      map[string]cpuSample   // last stats sample per container, for CPU deltas
	netLocks map[string]*sync.Mutex // one per engine and network name (lockNetwork)
}

type cpuSample struct {
	total, system uint64
}

// New returns a Docker runtime.
func New(opts Options) *Docker {
	if opts.HealthTimeout == 0 {
		opts.HealthTimeout = time.Second
	}
	if opts.StopTimeout == 0 {
		opts.StopTimeout = 10 * time.Second
	}
	return &Docker{
		opts:    opts,
		health:  &http.Client{Timeout: opts.HealthTimeout},
		clients: map[string]*client.Client{},
		cpu:     map[string]cpuSample{},
	}
}

// Close closes the cached API clients.
func (d *Docker) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for addr, c := range d.clients {
		c.Close()
		delete(d.clients, addr)
	}
	return nil
}

// Client returns the (cached) API client for a server: srv.Address "" or the
// default socket means the local engine (honouring DOCKER_HOST), anything else
// (e.g. "tcp://host:2375") that host.
func (d *Docker) Client(srv *core.Server) (*client.Client, error) {
	addr := engineAddr(srv)
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.clients[addr]; ok {
		return c, nil
	}
	c, err := NewClient(addr)
	if err != nil {
		return nil, err
	}
	d.clients[addr] = c
	return c, nil
}

// engineAddr is the engine srv names, "" for the local default (also when it
// names the default socket), so that one engine has one key.
func engineAddr(srv *core.Server) string {
	if srv == nil || srv.Address == "unix:///var/run/docker.sock" {
		return ""
	}
	return srv.Address
}

// NewClient returns an API client for an engine address ("" = local default).
// API versions are negotiated on first use.
func NewClient(addr string) (*client.Client, error) {
	opts := []client.Opt{client.FromEnv}
	if addr != "" && addr != "unix:///var/run/docker.sock" {
		opts = append(opts, client.WithHost(addr))
	}
	c, err := client.New(opts...)
	if err != nil {
		return nil, core.Wrap(core.KindInvalid, err, "bad docker address %q", addr)
	}
	return c, nil
}

// classify gives an engine error its core kind: unreachable engine → Unavailable,
// unknown object → NotFound, conflicting state → Conflict.
func classify(err error) error {
	var ce *core.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return err
	case client.IsErrConnectionFailed(err):
		return core.Wrap(core.KindUnavailable, err, "docker engine unreachable")
	case cerrdefs.IsNotFound(err):
		return core.Wrap(core.KindNotFound, err, "not found")
	case cerrdefs.IsConflict(err):
		return core.Wrap(core.KindConflict, err, "conflict")
	case cerrdefs.IsUnavailable(err):
		return core.Wrap(core.KindUnavailable, err, "docker engine unavailable")
	}
	return err
}

// Create makes a container named spec.Name (returning the existing one's ID if the
// name is taken), with its named volumes, labels, env, command and ports, and its
// stdin open when spec.Stdin (and kept open across attaches: WriteStdin).
func (d *Docker) Create(ctx context.Context, srv *core.Server, spec core.InstanceSpec) (string, error) {
	cli, err := d.Client(srv)
	if err != nil {
		return "", fmt.Errorf("create container %s: %w", spec.Name, err)
	}
	if spec.Name == "" {
		return "", core.Invalid("name", "instance name is empty")
	}
	if spec.Network != "" {
		if err := checkNetworkName(spec.Network); err != nil {
			return "", err
		}
	}
	labels := map[string]string{}
	for k, v := range spec.Labels {
		labels[k] = v
	}
	if spec.HealthPath != "" {
		labels[LabelHealth] = spec.HealthPath
	}
	hostConfig := &container.HostConfig{}
	if spec.Network != "" {
		id, err := d.ensureNetwork(ctx, srv, cli, spec.Network)
		if err != nil {
			return "", fmt.Errorf("create container %s: %w", spec.Name, err)
		}
		// By ID: the name is the network's, and nothing else's, only once
		// ensureNetwork has set a duplicate right.
		hostConfig.NetworkMode = container.NetworkMode(id)
		labels[LabelNetwork] = spec.Network
	}
	exposed := network.PortSet{}
	bindings := network.PortMap{}
	for i, p := range spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		port, err := network.ParsePort(fmt.Sprintf("%d/%s", p.Container, proto))
		if err != nil {
			return "", core.Invalid("ports", "bad port %d/%s", p.Container, proto)
		}
		if i == 0 {
			labels[LabelPort] = port.String()
		}
		exposed[port] = struct{}{}
		bindings[port] = []network.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1")}}
	}
	var mounts []mount.Mount
	for _, v := range spec.Volumes {
		if _, err := cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: v.Name, Labels: spec.Labels}); err != nil {
			return "", fmt.Errorf("create volume %s: %w", v.Name, classify(err))
		}
		mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: v.Name, Target: v.Path})
	}
	hostConfig.PortBindings, hostConfig.Mounts = bindings, mounts
	env := make([]string, 0, len(spec.Env))
	for k, v := range spec.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)

	res, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: spec.Name,
		Config: &container.Config{
			Image:        spec.Image,
			Cmd:          spec.Cmd,
			Env:          env,
			Labels:       labels,
			ExposedPorts: exposed,
			OpenStdin:    spec.Stdin,
		},
		HostConfig: hostConfig,
	})
	if cerrdefs.IsConflict(err) {
		// The name is taken (by an earlier attempt, or concurrently): idempotent
		// all the same. Asking first would cost every creation a round trip.
		if got, ierr := cli.ContainerInspect(ctx, spec.Name, client.ContainerInspectOptions{}); ierr == nil {
			return got.Container.ID, nil
		}
	}
	if err != nil {
		// Do not leave the volumes behind; one in use by another container stays.
		for _, m := range mounts {
			cli.VolumeRemove(ctx, m.Source, client.VolumeRemoveOptions{})
		}
		return "", fmt.Errorf("create container %s: %w", spec.Name, classify(err))
	}
	return res.ID, nil
}

// Start starts a container; starting a running one is not an error.
func (d *Docker) Start(ctx context.Context, srv *core.Server, ref string) error {
	cli, err := d.Client(srv)
	if err == nil {
		_, err = cli.ContainerStart(ctx, ref, client.ContainerStartOptions{})
	}
	if err != nil {
		return fmt.Errorf("start container %s: %w", ref, classify(err))
	}
	return nil
}

// Stop stops a container, killing it after Options.StopTimeout.
func (d *Docker) Stop(ctx context.Context, srv *core.Server, ref string) error {
	cli, err := d.Client(srv)
	if err == nil {
		t := int(d.opts.StopTimeout / time.Second)
		_, err = cli.ContainerStop(ctx, ref, client.ContainerStopOptions{Timeout: &t})
	}
	if err != nil {
		return fmt.Errorf("stop container %s: %w", ref, classify(err))
	}
	return nil
}

// Restart restarts a container (a reboot).
func (d *Docker) Restart(ctx context.Context, srv *core.Server, ref string) error {
	cli, err := d.Client(srv)
	if err == nil {
		t := int(d.opts.StopTimeout / time.Second)
		_, err = cli.ContainerRestart(ctx, ref, client.ContainerRestartOptions{Timeout: &t})
	}
	if err != nil {
		return fmt.Errorf("restart container %s: %w", ref, classify(err))
	}
	return nil
}

// Delete force-removes a container, its rescue container if it is in rescue
// (rescue.go), and the named volumes mounted in it; an unknown container is not
// an error.
func (d *Docker) Delete(ctx context.Context, srv *core.Server, ref string) error {
	cli, err := d.Client(srv)
	if err != nil {
		return fmt.Errorf("delete container %s: %w", ref, err)
	}
	res, err := cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete container %s: %w", ref, classify(err))
	}
	if err := removeRescue(ctx, cli, res.Container); err != nil {
		return fmt.Errorf("delete container %s: %w", ref, err)
	}
	_, err = cli.ContainerRemove(ctx, ref, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("delete container %s: %w", ref, classify(err))
	}
	for _, m := range res.Container.Mounts {
		if m.Type != mount.TypeVolume || m.Name == "" {
			continue
		}
		_, err := cli.VolumeRemove(ctx, m.Name, client.VolumeRemoveOptions{Force: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("delete volume %s: %w", m.Name, classify(err))
		}
	}
	d.mu.Lock()
	delete(d.cpu, res.Container.ID)
	d.mu.Unlock()
	return nil
}

// stateOf maps a container state to an instance state.
func stateOf(s container.ContainerState) core.InstanceState {
	switch s {
	case container.StateRunning:
		return core.StateActive
	case container.StateCreated:
		return core.StateBuilding
	case container.StateRestarting:
		return core.StateRebooting
	case container.StateExited, container.StatePaused:
		return core.StateStopped
	case container.StateRemoving:
		return core.StateDeleted
	}
	return core.StateError // dead, or unknown
}

// Inspect reports a container's state, address and URL. The address is the
// container's on the network its spec named, else on the first of its networks
// by name. Healthy means running and, when the spec had a health path,
// answering 200 on it through the first published port within
// Options.HealthTimeout.
func (d *Docker) Inspect(ctx context.Context, srv *core.Server, ref string) (core.InstanceStatus, error) {
	cli, err := d.Client(srv)
	if err != nil {
		return core.InstanceStatus{}, fmt.Errorf("inspect container %s: %w", ref, err)
	}
	res, err := cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		return core.InstanceStatus{}, fmt.Errorf("inspect container %s: %w", ref, classify(err))
	}
	c := res.Container
	st := core.InstanceStatus{Ref: c.ID, State: core.StateError}
	if c.State != nil {
		st.State = stateOf(c.State.Status)
	}
	var labels map[string]string
	if c.Config != nil {
		labels = c.Config.Labels
	}
	if ns := c.NetworkSettings; ns != nil {
		st.Address = addressOf(ns.Networks, labels[LabelNetwork])
		if p, err := network.ParsePort(labels[LabelPort]); err == nil {
			for _, b := range ns.Ports[p] {
				if b.HostPort != "" && (!b.HostIP.IsValid() || b.HostIP.Is4()) {
					st.URL = "http://127.0.0.1:" + b.HostPort + "/"
					break
				}
			}
		}
	}
	st.Healthy = st.State == core.StateActive
	if hp := labels[LabelHealth]; st.Healthy && hp != "" {
		st.Healthy = st.URL != "" && d.healthy(ctx, strings.TrimSuffix(st.URL, "/")+"/"+strings.TrimPrefix(hp, "/"))
	}
	return st, nil
}

// addressOf is a container's address on the network named (none when it is
// not on it), or, when no network is named, on the first of its networks by
// name ("bridge" for a container on the engine's default network).
func addressOf(nets map[string]*network.EndpointSettings, named string) string {
	if named != "" {
		if ep := nets[named]; ep != nil && ep.IPAddress.IsValid() {
			return ep.IPAddress.String()
		}
		return ""
	}
	names := make([]string, 0, len(nets))
	for name := range nets {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if ep := nets[name]; ep != nil && ep.IPAddress.IsValid() {
			return ep.IPAddress.String()
		}
	}
	return ""
}

// healthy reports whether GET url answers 200.
func (d *Docker) healthy(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := d.health.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode == http.StatusOK
}

// List reports every container carrying core.LabelInstance, in any state.
func (d *Docker) List(ctx context.Context, srv *core.Server) ([]core.RuntimeInstance, error) {
	cli, err := d.Client(srv)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", core.LabelInstance),
	})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", classify(err))
	}
	out := make([]core.RuntimeInstance, 0, len(res.Items))
	for _, c := range res.Items {
		name := ""
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, core.RuntimeInstance{
			Ref: c.ID, Name: name, InstanceID: c.Labels[core.LabelInstance], ServerID: c.Labels[core.LabelServer], State: stateOf(c.State),
		})
	}
	slices.SortFunc(out, func(a, b core.RuntimeInstance) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// WriteStdin writes data to the standard input of a container created with
// spec.Stdin, through an attach: nothing runs in the container for it, and data
// is on no command line, in no env and in no log (the engine logs stdout and
// stderr only). Before the start the engine holds data until the app reads it.
// The container's stdin stays open when the attach ends (it is not StdinOnce),
// so another write later, or after a restart, still reaches the app.
func (d *Docker) WriteStdin(ctx context.Context, srv *core.Server, ref string, data []byte) error {
	cli, err := d.Client(srv)
	if err != nil {
		return fmt.Errorf("write stdin of container %s: %w", ref, err)
	}
	att, err := cli.ContainerAttach(ctx, ref, client.ContainerAttachOptions{Stream: true, Stdin: true})
	if err != nil {
		// A refused upgrade does not keep the engine's status: an unknown
		// container is to be NotFound all the same.
		if _, ierr := cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{}); cerrdefs.IsNotFound(ierr) {
			err = ierr
		}
		return fmt.Errorf("write stdin of container %s: %w", ref, classify(err))
	}
	defer att.Close()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, att.Close)
		defer stop()
	}
	// The engine reads what is sent before the end of the stream even when the
	// app has not started yet: there is nothing to wait for.
	if _, err := att.Conn.Write(data); err != nil {
		return fmt.Errorf("write stdin of container %s: %w", ref, err)
	}
	if err := att.CloseWrite(); err != nil {
		return fmt.Errorf("write stdin of container %s: %w", ref, err)
	}
	return nil
}

// Exec runs cmd in a running container with stdin attached, returning stdout and
// stderr separately and the exit code. stdin is sent over the attached stream, so
// a secret given there never appears on a command line.
func (d *Docker) Exec(ctx context.Context, srv *core.Server, ref string, cmd []string, stdin []byte) (core.ExecResult, error) {
	cli, err := d.Client(srv)
	if err != nil {
		return core.ExecResult{}, fmt.Errorf("exec in container %s: %w", ref, err)
	}
	if len(cmd) == 0 {
		return core.ExecResult{}, core.Invalid("cmd", "empty command")
	}
	created, err := cli.ExecCreate(ctx, ref, client.ExecCreateOptions{
		Cmd: cmd, AttachStdin: true, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return core.ExecResult{}, fmt.Errorf("exec in container %s: %w", ref, classify(err))
	}
	att, err := cli.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return core.ExecResult{}, fmt.Errorf("exec in container %s: %w", ref, classify(err))
	}
	defer att.Close()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, att.Close)
		defer stop()
	}
	go func() {
		// The command may exit without reading; its errors then do not matter.
		att.Conn.Write(stdin)
		att.CloseWrite()
	}()
	var stdout, stderr strings.Builder
	if _, err := stdcopy.StdCopy(&stdout, &stderr, att.Reader); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return core.ExecResult{}, fmt.Errorf("exec in container %s: read output: %w", ref, err)
	}
	res := core.ExecResult{Stdout: stdout.String(), Stderr: stderr.String()}
	// The stream ends when the process does; the engine may record the exit code
	// a moment later.
	for {
		ins, err := cli.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
		if err != nil {
			return res, fmt.Errorf("exec in container %s: %w", ref, classify(err))
		}
		if !ins.Running {
			res.ExitCode = ins.ExitCode
			return res, nil
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("exec in container %s: %w", ref, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
