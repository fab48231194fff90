// Package sim is an in-process simulator of a runtime: it implements core.Runtime
// and core.VolumeCopier in memory, with realistic asynchronous state changes,
// configurable delays and scriptable faults per server. It is the embedded default
// runtime and what most tests and benchmarks use.
//
// State changes are computed lazily from a clock: an instance holds its state and,
// when a change is under way, the state it reaches and when. Every read settles
// what is due, so no goroutine or timer runs, zero delays cost nothing, a fake clock
// makes tests deterministic, and a change under way survives a restart of the
// process when Options.StateFile is set.
//
// Life of an instance:
//
//	Create  -> building, then stopped after BuildDelay (created, not started)
//	Start   -> building until the build is done plus StartDelay, then active
//	           (error instead when the server is scripted with CrashOnStart)
//	Restart -> rebooting for RebootDelay, then active
//	Stop    -> stopped at once
//	Delete  -> gone (Inspect returns KindNotFound)
//
// Healthy is state active. The URL of an instance is fake:
// http://<srv.Address or "sim">/<spec.Name>/ . An active instance reports an
// address: on its spec's Network when it names one (see network.go), else one
// derived from its ref.
package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"hostdeck/core"
)

var (
	_ core.Runtime      = (*Sim)(nil)
	_ core.VolumeCopier = (*Sim)(nil)
)

// Options configures a Sim. The zero value is a simulator without delays.
type Options struct {
	BuildDelay  time.Duration // from Create until the instance is built (stopped)
	StartDelay  time.Duration // from Start (or the end of the build) until active
	RebootDelay time.Duration // from Restart until active again

	// Now is the clock; time.Now when nil.
	Now func() time.Time

	// OnExec, when set, decides the result of Exec (which is recorded first).
	// Without it, Exec succeeds with exit code 0 and no output.
	OnExec func(ctx context.Context, srv *core.Server, ref string, cmd []string, stdin []byte) (core.ExecResult, error)

	// StateFile, when set, is where the instances are persisted as JSON (written
	// atomically on every change and read by New), so that they survive a restart
	// of the process. Faults, loads and exec records are not persisted.
	StateFile string
}

// ExecRecord is one command run by Exec.
type ExecRecord struct {
	Cmd   []string
	Stdin []byte
	At    time.Time
}

// Sim is the simulator. It is safe for concurrent use.
type Sim struct {
	opts Options

	mu      sync.Mutex
	servers map[string]*server
	nets    map[string]*simNetwork // named networks, by name
	blocks  map[int]string         // network name by address block
}

// server is what the simulator knows of one server (by Server.ID).
type server struct {
	Instances map[string]*instance `json:"instances"` // by ref

	unreachable bool
	failCreate  error
	crashStart  bool
	cpu         float64
	memUsed     uint64
	memTotal    uint64
}

type instance struct {
	Ref       string                       `json:"ref"`
	Spec      core.InstanceSpec            `json:"spec"`
	State     core.InstanceState           `json:"state"`
	Next      core.InstanceState           `json:"next,omitempty"` // state reached at NextAt
	NextAt    time.Time                    `json:"next_at,omitzero"`
	Volumes   map[string]map[string][]byte `json:"volumes"` // volume name -> path -> content
	CreatedAt time.Time                    `json:"created_at"`
	Addr      string                       `json:"addr,omitempty"` // on Spec.Network

	// RescueImage is the image of the rescue system while the instance is in rescue (rescue.go).
	RescueImage string `json:"rescue_image,omitempty"`

	execs []ExecRecord // never persisted: stdin may hold a password
}

// settle applies the pending state change if it is due.
func (in *instance) settle(now time.Time) {
	if in.Next != "" && !now.Before(in.NextAt) {
		in.State, in.Next, in.NextAt = in.Next, "", time.Time{}
	}
}

// New returns a simulator. With opts.StateFile set it loads the instances saved
// there; it panics if that file exists but cannot be read, since running on
// without the previous state would silently lose instances.
func New(opts Options) *Sim {
	s, err := Open(opts)
	if err != nil {
		panic(err)
	}
	return s
}

// Open is New returning the error of loading opts.StateFile instead of panicking.
func Open(opts Options) (*Sim, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Sim{opts: opts, servers: map[string]*server{}, nets: map[string]*simNetwork{}, blocks: map[int]string{}}
	if opts.StateFile == "" {
		return s, nil
	}
	b, err := os.ReadFile(opts.StateFile)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read sim state: %w", err)
	}
	var saved map[string]*server
	if err := json.Unmarshal(b, &saved); err != nil {
		return nil, fmt.Errorf("decode sim state %s: %w", opts.StateFile, err)
	}
	for id, sv := range saved {
		if sv.Instances == nil {
			sv.Instances = map[string]*instance{}
		}
		s.servers[id] = sv
		for _, in := range sv.Instances {
			if in.Spec.Network != "" {
				s.noteAddr(in.Spec.Network, in.Addr)
			}
		}
	}
	return s, nil
}

// FailCreate makes every Create on the server fail with err; nil clears it.
func (s *Sim) FailCreate(serverID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.server(serverID).failCreate = err
}

// SetUnreachable makes every call for the server fail with KindUnavailable (true)
// or work again (false).
func (s *Sim) SetUnreachable(serverID string, unreachable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.server(serverID).unreachable = unreachable
}

// CrashOnStart makes instances started (or restarted) on the server end in state
// error instead of active, as a workload that dies while booting.
func (s *Sim) CrashOnStart(serverID string, crash bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.server(serverID).crashStart = crash
}

// SetState forces an instance into a state at once (for example StateError, as a
// crash), cancelling any change under way.
func (s *Sim) SetState(serverID, ref string, state core.InstanceState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.server(serverID).Instances[ref]
	if !ok {
		return core.NotFound("instance", ref)
	}
	in.State, in.Next, in.NextAt = state, "", time.Time{}
	return s.saveLocked()
}

// ClearFaults removes every fault scripted for the server.
func (s *Sim) ClearFaults(serverID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv := s.server(serverID)
	sv.unreachable, sv.failCreate, sv.crashStart = false, nil, false
}

// SetLoad sets the CPU (percent of the whole server) and memory Load reports.
func (s *Sim) SetLoad(serverID string, cpuPercent float64, memUsed, memTotal uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv := s.server(serverID)
	sv.cpu, sv.memUsed, sv.memTotal = cpuPercent, memUsed, memTotal
}

// Execs returns the commands Exec ran in an instance, oldest first.
func (s *Sim) Execs(serverID, ref string) []ExecRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in, ok := s.server(serverID).Instances[ref]; ok {
		return slices.Clone(in.execs)
	}
	return nil
}

// WriteFile writes a file into a volume of an instance.
func (s *Sim) WriteFile(serverID, ref, volume, path string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.server(serverID).Instances[ref]
	if !ok {
		return core.NotFound("instance", ref)
	}
	files, ok := in.Volumes[volume]
	if !ok {
		return core.NotFound("volume", volume)
	}
	files[path] = slices.Clone(data)
	return s.saveLocked()
}

// ReadFile reads a file from a volume of an instance; a missing file is KindNotFound.
func (s *Sim) ReadFile(serverID, ref, volume, path string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.server(serverID).Instances[ref]
	if !ok {
		return nil, core.NotFound("instance", ref)
	}
	b, ok := in.Volumes[volume][path]
	if !ok {
		return nil, core.NotFound("file", path)
	}
	return slices.Clone(b), nil
}

// Create makes an instance in state building; it is idempotent by spec.Name.
func (s *Sim) Create(ctx context.Context, srv *core.Server, spec core.InstanceSpec) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, err := s.reach(ctx, srv)
	if err != nil {
		return "", fmt.Errorf("create instance %s: %w", spec.Name, err)
	}
	if spec.Name == "" {
		return "", core.Invalid("name", "instance name is empty")
	}
	for _, in := range sv.Instances {
		if in.Spec.Name == spec.Name {
			return in.Ref, nil
		}
	}
	if sv.failCreate != nil {
		return "", fmt.Errorf("create instance %s: %w", spec.Name, sv.failCreate)
	}
	now := s.opts.Now()
	in := &instance{
		Ref:       newRef(),
		Spec:      cloneSpec(spec),
		State:     core.StateBuilding,
		Next:      core.StateStopped,
		NextAt:    now.Add(s.opts.BuildDelay),
		Volumes:   map[string]map[string][]byte{},
		CreatedAt: now,
	}
	for _, v := range spec.Volumes {
		in.Volumes[v.Name] = map[string][]byte{}
	}
	if spec.Network != "" {
		if in.Addr, err = s.netAddr(spec.Network); err != nil {
			return "", fmt.Errorf("create instance %s: %w", spec.Name, err)
		}
	}
	in.settle(now)
	sv.Instances[in.Ref] = in
	return in.Ref, s.saveLocked()
}

// Start boots an instance: it shows building until it is active.
func (s *Sim) Start(ctx context.Context, srv *core.Server, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, in, now, err := s.lookup(ctx, srv, ref)
	if err != nil {
		return fmt.Errorf("start instance %s: %w", ref, err)
	}
	switch {
	case in.State == core.StateActive, in.Next == core.StateActive, in.Next == core.StateError:
		return nil // running or on its way
	}
	ready := now
	if in.Next == core.StateStopped && in.NextAt.After(now) {
		ready = in.NextAt // still building: starting waits for the build
	}
	in.State, in.Next, in.NextAt = core.StateBuilding, s.upState(sv), ready.Add(s.opts.StartDelay)
	in.settle(now)
	return s.saveLocked()
}

// Stop stops an instance at once.
func (s *Sim) Stop(ctx context.Context, srv *core.Server, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, in, _, err := s.lookup(ctx, srv, ref)
	if err != nil {
		return fmt.Errorf("stop instance %s: %w", ref, err)
	}
	in.State, in.Next, in.NextAt = core.StateStopped, "", time.Time{}
	return s.saveLocked()
}

// Restart reboots an instance: rebooting for RebootDelay, then active.
func (s *Sim) Restart(ctx context.Context, srv *core.Server, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, in, now, err := s.lookup(ctx, srv, ref)
	if err != nil {
		return fmt.Errorf("restart instance %s: %w", ref, err)
	}
	in.State, in.Next, in.NextAt = core.StateRebooting, s.upState(sv), now.Add(s.opts.RebootDelay)
	in.settle(now)
	return s.saveLocked()
}

// Delete removes an instance and its volumes; an unknown ref is not an error.
func (s *Sim) Delete(ctx context.Context, srv *core.Server, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, err := s.reach(ctx, srv)
	if err != nil {
		return fmt.Errorf("delete instance %s: %w", ref, err)
	}
	if _, ok := sv.Instances[ref]; !ok {
		return nil
	}
	delete(sv.Instances, ref)
	return s.saveLocked()
}

// Inspect reports an instance's state; healthy is state active.
func (s *Sim) Inspect(ctx context.Context, srv *core.Server, ref string) (core.InstanceStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, in, _, err := s.lookup(ctx, srv, ref)
	if err != nil {
		return core.InstanceStatus{}, fmt.Errorf("inspect instance %s: %w", ref, err)
	}
	host := srv.Address
	if host == "" {
		host = "sim"
	}
	st := core.InstanceStatus{
		Ref:     in.Ref,
		State:   in.State,
		Healthy: in.State == core.StateActive,
		URL:     "http://" + host + "/" + in.Spec.Name + "/",
	}
	if in.State == core.StateActive {
		st.Address = fakeIP(in.Ref)
		if in.Spec.Network != "" {
			st.Address = in.Addr
		}
	}
	return st, nil
}

// List reports the instances on srv that carry core.LabelInstance, by name.
func (s *Sim) List(ctx context.Context, srv *core.Server) ([]core.RuntimeInstance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, err := s.reach(ctx, srv)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	now := s.opts.Now()
	out := []core.RuntimeInstance{}
	for _, in := range sv.Instances {
		id, ok := in.Spec.Labels[core.LabelInstance]
		if !ok {
			continue
		}
		in.settle(now)
		out = append(out, core.RuntimeInstance{Ref: in.Ref, Name: in.Spec.Name, InstanceID: id, ServerID: in.Spec.Labels[core.LabelServer], State: in.State})
	}
	slices.SortFunc(out, func(a, b core.RuntimeInstance) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out, nil
}

// Exec records cmd and stdin, then answers through Options.OnExec (exit 0 without
// it). Like a container, an instance that is not active refuses with KindConflict.
func (s *Sim) Exec(ctx context.Context, srv *core.Server, ref string, cmd []string, stdin []byte) (core.ExecResult, error) {
	s.mu.Lock()
	_, in, now, err := s.lookup(ctx, srv, ref)
	if err == nil && in.State != core.StateActive {
		err = core.Errorf(core.KindConflict, "instance %s is %s, not running", ref, in.State)
	}
	if err != nil {
		s.mu.Unlock()
		return core.ExecResult{}, fmt.Errorf("exec in instance %s: %w", ref, err)
	}
	in.execs = append(in.execs, ExecRecord{Cmd: slices.Clone(cmd), Stdin: slices.Clone(stdin), At: now})
	s.mu.Unlock()

	if s.opts.OnExec == nil {
		return core.ExecResult{}, nil
	}
	return s.opts.OnExec(ctx, srv, ref, cmd, stdin)
}

// Load reports the load set by SetLoad and the number of active instances.
func (s *Sim) Load(ctx context.Context, srv *core.Server) (core.ServerLoad, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	sv, err := s.reach(ctx, srv)
	if err != nil {
		return core.ServerLoad{Error: core.ErrorMessage(err), CheckedAt: now}, fmt.Errorf("load: %w", err)
	}
	l := core.ServerLoad{
		Reachable:   true,
		CPUPercent:  sv.cpu,
		MemoryUsed:  sv.memUsed,
		MemoryTotal: sv.memTotal,
		CheckedAt:   now,
	}
	for _, in := range sv.Instances {
		in.settle(now)
		if in.State == core.StateActive {
			l.Instances++
		}
	}
	return l, nil
}

// CopyVolumes replaces the content of each volume of toRef with that of the volume
// of fromRef at the same position in their specs.
func (s *Sim) CopyVolumes(ctx context.Context, from *core.Server, fromRef string, to *core.Server, toRef string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, src, _, err := s.lookup(ctx, from, fromRef)
	if err != nil {
		return fmt.Errorf("copy volumes from %s: %w", fromRef, err)
	}
	_, dst, _, err := s.lookup(ctx, to, toRef)
	if err != nil {
		return fmt.Errorf("copy volumes to %s: %w", toRef, err)
	}
	if len(src.Spec.Volumes) != len(dst.Spec.Volumes) {
		return core.Errorf(core.KindConflict, "copy volumes: %s has %d volumes, %s has %d",
			fromRef, len(src.Spec.Volumes), toRef, len(dst.Spec.Volumes))
	}
	for i, v := range src.Spec.Volumes {
		files := map[string][]byte{}
		for p, b := range src.Volumes[v.Name] {
			files[p] = slices.Clone(b)
		}
		dst.Volumes[dst.Spec.Volumes[i].Name] = files
	}
	return s.saveLocked()
}

// server returns the state of a server, making it on first use. Callers hold mu.
func (s *Sim) server(id string) *server {
	sv, ok := s.servers[id]
	if !ok {
		sv = &server{Instances: map[string]*instance{}}
		s.servers[id] = sv
	}
	return sv
}

// reach returns the server's state, or KindUnavailable when it is scripted as
// unreachable. Callers hold mu.
func (s *Sim) reach(ctx context.Context, srv *core.Server) (*server, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if srv == nil {
		return nil, core.Errorf(core.KindInvalid, "no server")
	}
	sv := s.server(srv.ID)
	if sv.unreachable {
		return nil, core.Errorf(core.KindUnavailable, "server %s is unreachable", srv.ID)
	}
	return sv, nil
}

// lookup finds an instance and settles its state. Callers hold mu.
func (s *Sim) lookup(ctx context.Context, srv *core.Server, ref string) (*server, *instance, time.Time, error) {
	sv, err := s.reach(ctx, srv)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	in, ok := sv.Instances[ref]
	if !ok {
		return nil, nil, time.Time{}, core.NotFound("instance", ref)
	}
	now := s.opts.Now()
	in.settle(now)
	return sv, in, now, nil
}

func (s *Sim) upState(sv *server) core.InstanceState {
	if sv.crashStart {
		return core.StateError
	}
	return core.StateActive
}

// saveLocked writes the instances to opts.StateFile through a temporary file and
// a rename, so a crash leaves either the old or the new state. Callers hold mu.
func (s *Sim) saveLocked() error {
	if s.opts.StateFile == "" {
		return nil
	}
	b, err := json.Marshal(s.servers)
	if err != nil {
		return fmt.Errorf("encode sim state: %w", err)
	}
	dir := filepath.Dir(s.opts.StateFile)
	tmp, err := os.CreateTemp(dir, ".sim-state-*")
	if err != nil {
		return fmt.Errorf("save sim state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save sim state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save sim state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save sim state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.opts.StateFile); err != nil {
		return fmt.Errorf("save sim state: %w", err)
	}
	return nil
}

func newRef() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "sim-" + hex.EncodeToString(b)
}

// fakeIP derives a stable private address from a ref.
func fakeIP(ref string) string {
	b, _ := hex.DecodeString(ref[len(ref)-4:])
	if len(b) < 2 {
		return "10.0.0.1"
	}
	return fmt.Sprintf("10.88.%d.%d", b[0], 1+int(b[1])%254)
}

func cloneSpec(spec core.InstanceSpec) core.InstanceSpec {
	spec.Cmd = slices.Clone(spec.Cmd)
	spec.Env = maps.Clone(spec.Env)
	spec.Ports = slices.Clone(spec.Ports)
	spec.Volumes = slices.Clone(spec.Volumes)
	spec.Labels = maps.Clone(spec.Labels)
	return spec
}
