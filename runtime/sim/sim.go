// Package sim is an in-process simulator of a runtime: it implements core.Runtime
// and core.VolumeCopier, with realistic asynchronous state changes, configurable
// delays and scriptable faults per server. It is the embedded default runtime and
// what most tests and benchmarks use.
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
//
// # Scale
//
// The simulator is meant to hold a whole fleet: 100,000 tenant clouds and 10,000
// desktop machines on a handful of servers. So a change costs the same at 100,000
// instances as at ten, and memory holds per instance only what every call needs:
// its ref and name, the two labels List reports, its address on its network, its
// state and its row in the state file, about 350 bytes with the indexes by ref
// and by name (BenchmarkMemoryPerInstance), where it held the whole spec and
// volumes before, 1.7 KB. The spec and the files written into its volumes are
// kept in the store (store.go) and read when WriteFile, ReadFile, CopyVolumes
// or Usage need them: in memory without Options.StateFile, in the state file
// with it.
//
// # State file
//
// With Options.StateFile the instances live in an SQLite database in that file
// (statefile.go), in WAL mode with synchronous=FULL: every change is one
// transaction, in the log and fsync'd before the call returns. That costs one
// B-tree update and one fsync whatever the number of instances: the JSON file
// this replaces was rewritten and fsync'd whole on every change, 66 MB at
// 110,000 instances. BenchmarkCreateStart and BenchmarkStopStart measure it at
// 10 and at 100,000 instances beside BenchmarkFsync, the fsync of one small
// record to a plain file. The Sim holds its lock through the fsync, so changes
// are made one at a time: a few thousand a second on a disk that fsyncs in
// 200 microseconds.
//
// An embedded database was chosen over an append-only log of our own because
// SQLite already does, tested for decades, all that such a log must do. Its
// write-ahead log is checksummed, so a torn last frame (a crash mid-write) is
// dropped on recovery. Checkpoints fold the log into the file, and a process
// that dies midway loses nothing. The space of deleted instances is reused, so
// there is no compaction to write. And one instance's spec or files are read
// by key, where a log would need an index of offsets kept in memory and
// rebuilt on every compaction. It is also the driver the control plane's own
// store uses (modernc.org/sqlite, pure Go). The price is 10 to 20 microseconds
// of CPU per change, small beside the fsync. Tables are keyed by an integer row
// id that memory keeps, so that a new instance is appended at the end of each
// table and no table needs a second index: consecutive changes touch few
// pages, and checkpoints have few to copy.
//
// Open reads the instances table whole and checks every page of the file
// (PRAGMA quick_check), about a third of a second for 100,000 instances
// (BenchmarkReopen). A file that is neither an SQLite database nor a JSON state
// file, or that is corrupt anywhere, refuses to open: running on without the
// previous state would silently lose instances. A JSON state file of an
// earlier version is converted on open, atomically.
package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
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

	// StateFile, when set, is the SQLite database the instances are persisted in
	// (every change durable before the call returns; read by New), so that they
	// survive a restart of the process, also a kill -9. Faults, loads and exec
	// records are not persisted.
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
	st      store // specs and volumes; with a state file, every change
	servers map[string]*server
	nets    map[string]*simNetwork // named networks, by name
	blocks  map[int]string         // network name by address block
	labels  map[string]string      // LabelServer values, one copy each (many instances share one)

	// Rarely set, so kept beside the instances rather than in each of them.
	rescue map[*instance]string       // image of the rescue system while in rescue (rescue.go)
	execs  map[*instance][]ExecRecord // never persisted: stdin may hold a password
}

// server is what the simulator knows of one server (by Server.ID).
type server struct {
	byRef  map[string]*instance
	byName map[string]*instance // Create is idempotent by name

	unreachable bool
	failCreate  error
	crashStart  bool
	cpu         float64
	memUsed     uint64
	memTotal    uint64
}

// instance is what every call needs of an instance, and no more: there are
// 100,000 of them (see the package doc). The spec and the volumes are in s.st.
type instance struct {
	ref  string
	name string // the spec's Name
	// id and srvLabel are the spec's LabelInstance and LabelServer, which List
	// reports; listed says the spec carries LabelInstance at all.
	id, srvLabel string
	addr         string // on the spec's Network; "" without one

	state  core.InstanceState
	next   core.InstanceState // state reached at nextAt
	nextAt int64              // Unix nanoseconds
	listed bool

	row int64 // in the state file
}

// settle applies the pending state change if it is due.
func (in *instance) settle(now time.Time) {
	if in.next != "" && now.UnixNano() >= in.nextAt {
		in.state, in.next, in.nextAt = in.next, "", 0
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
	s := &Sim{
		opts: opts, servers: map[string]*server{}, nets: map[string]*simNetwork{}, blocks: map[int]string{},
		labels: map[string]string{}, rescue: map[*instance]string{}, execs: map[*instance][]ExecRecord{},
	}
	if opts.StateFile == "" {
		s.st = memStore{}
		return s, nil
	}
	st, err := openFileStore(opts.StateFile)
	if err != nil {
		return nil, err
	}
	if err := st.load(s.loaded); err != nil {
		st.close()
		return nil, fmt.Errorf("load sim state %s: %w", opts.StateFile, err)
	}
	s.st = st
	return s, nil
}

// loaded takes in an instance read back from the state file.
func (s *Sim) loaded(serverID string, in *instance, network, rescue string) {
	sv := s.server(serverID)
	sv.byRef[in.ref], sv.byName[in.name] = in, in
	in.srvLabel = s.intern(in.srvLabel)
	if network != "" {
		s.noteAddr(network, in.addr)
	}
	if rescue != "" {
		s.rescue[in] = rescue
	}
}

// Close releases the state file. Every change was durable when it returned, so
// a process that ends without Close loses nothing; the Sim must not be used
// after.
func (s *Sim) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.close()
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
	in, ok := s.server(serverID).byRef[ref]
	if !ok {
		return core.NotFound("instance", ref)
	}
	to := *in
	to.state, to.next, to.nextAt = state, "", 0
	return s.change(in, to)
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
	if in, ok := s.server(serverID).byRef[ref]; ok {
		return slices.Clone(s.execs[in])
	}
	return nil
}

// WriteFile writes a file into a volume of an instance.
func (s *Sim) WriteFile(serverID, ref, volume, path string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.server(serverID).byRef[ref]
	if !ok {
		return core.NotFound("instance", ref)
	}
	vols, err := s.st.volumes(in)
	if err != nil {
		return fmt.Errorf("write file %s: %w", path, err)
	}
	if !slices.Contains(vols, volume) {
		return core.NotFound("volume", volume)
	}
	if err := s.st.writeFile(in, volume, path, data); err != nil {
		return fmt.Errorf("save sim state: %w", err)
	}
	return nil
}

// ReadFile reads a file from a volume of an instance; a missing file is KindNotFound.
func (s *Sim) ReadFile(serverID, ref, volume, path string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.server(serverID).byRef[ref]
	if !ok {
		return nil, core.NotFound("instance", ref)
	}
	b, ok, err := s.st.readFile(in, volume, path)
	if err != nil {
		return nil, fmt.Errorf("read file %s: %w", path, err)
	}
	if !ok {
		return nil, core.NotFound("file", path)
	}
	return b, nil
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
	if in, ok := sv.byName[spec.Name]; ok {
		return in.ref, nil
	}
	if sv.failCreate != nil {
		return "", fmt.Errorf("create instance %s: %w", spec.Name, sv.failCreate)
	}
	now := s.opts.Now()
	id, listed := spec.Labels[core.LabelInstance]
	in := &instance{
		ref:      newRef(),
		name:     strings.Clone(spec.Name),
		id:       strings.Clone(id),
		srvLabel: s.intern(spec.Labels[core.LabelServer]),
		listed:   listed,
		state:    core.StateBuilding,
		next:     core.StateStopped,
		nextAt:   now.Add(s.opts.BuildDelay).UnixNano(),
	}
	if spec.Network != "" {
		if in.addr, err = s.netAddr(spec.Network); err != nil {
			return "", fmt.Errorf("create instance %s: %w", spec.Name, err)
		}
	}
	in.settle(now)
	if err := s.st.create(srv.ID, in, cloneSpec(spec), now); err != nil {
		return "", fmt.Errorf("create instance %s: save sim state: %w", spec.Name, err)
	}
	sv.byRef[in.ref], sv.byName[in.name] = in, in
	return in.ref, nil
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
	case in.state == core.StateActive, in.next == core.StateActive, in.next == core.StateError:
		return nil // running or on its way
	}
	ready := now.UnixNano()
	if in.next == core.StateStopped && in.nextAt > ready {
		ready = in.nextAt // still building: starting waits for the build
	}
	to := *in
	to.state, to.next, to.nextAt = core.StateBuilding, s.upState(sv), ready+int64(s.opts.StartDelay)
	to.settle(now)
	return s.change(in, to)
}

// Stop stops an instance at once.
func (s *Sim) Stop(ctx context.Context, srv *core.Server, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, in, _, err := s.lookup(ctx, srv, ref)
	if err != nil {
		return fmt.Errorf("stop instance %s: %w", ref, err)
	}
	to := *in
	to.state, to.next, to.nextAt = core.StateStopped, "", 0
	return s.change(in, to)
}

// Restart reboots an instance: rebooting for RebootDelay, then active.
func (s *Sim) Restart(ctx context.Context, srv *core.Server, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, in, now, err := s.lookup(ctx, srv, ref)
	if err != nil {
		return fmt.Errorf("restart instance %s: %w", ref, err)
	}
	to := *in
	to.state, to.next, to.nextAt = core.StateRebooting, s.upState(sv), now.Add(s.opts.RebootDelay).UnixNano()
	to.settle(now)
	return s.change(in, to)
}

// Delete removes an instance and its volumes; an unknown ref is not an error.
func (s *Sim) Delete(ctx context.Context, srv *core.Server, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, err := s.reach(ctx, srv)
	if err != nil {
		return fmt.Errorf("delete instance %s: %w", ref, err)
	}
	in, ok := sv.byRef[ref]
	if !ok {
		return nil
	}
	if err := s.st.remove(in); err != nil {
		return fmt.Errorf("delete instance %s: save sim state: %w", ref, err)
	}
	delete(sv.byRef, ref)
	delete(sv.byName, in.name)
	delete(s.rescue, in)
	delete(s.execs, in)
	return nil
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
		Ref:     in.ref,
		State:   in.state,
		Healthy: in.state == core.StateActive,
		URL:     "http://" + host + "/" + in.name + "/",
	}
	if in.state == core.StateActive {
		st.Address = fakeIP(in.ref)
		if in.addr != "" {
			st.Address = in.addr
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
	for _, in := range sv.byRef {
		if !in.listed {
			continue
		}
		in.settle(now)
		out = append(out, core.RuntimeInstance{Ref: in.ref, Name: in.name, InstanceID: in.id, ServerID: in.srvLabel, State: in.state})
	}
	slices.SortFunc(out, func(a, b core.RuntimeInstance) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Exec records cmd and stdin, then answers through Options.OnExec (exit 0 without
// it). Like a container, an instance that is not active refuses with KindConflict.
func (s *Sim) Exec(ctx context.Context, srv *core.Server, ref string, cmd []string, stdin []byte) (core.ExecResult, error) {
	s.mu.Lock()
	_, in, now, err := s.lookup(ctx, srv, ref)
	if err == nil && in.state != core.StateActive {
		err = core.Errorf(core.KindConflict, "instance %s is %s, not running", ref, in.state)
	}
	if err != nil {
		s.mu.Unlock()
		return core.ExecResult{}, fmt.Errorf("exec in instance %s: %w", ref, err)
	}
	s.execs[in] = append(s.execs[in], ExecRecord{Cmd: slices.Clone(cmd), Stdin: slices.Clone(stdin), At: now})
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
	for _, in := range sv.byRef {
		in.settle(now)
		if in.state == core.StateActive {
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
	_, srcIn, _, err := s.lookup(ctx, from, fromRef)
	if err != nil {
		return fmt.Errorf("copy volumes from %s: %w", fromRef, err)
	}
	_, dstIn, _, err := s.lookup(ctx, to, toRef)
	if err != nil {
		return fmt.Errorf("copy volumes to %s: %w", toRef, err)
	}
	src, err := s.st.volumes(srcIn)
	if err != nil {
		return fmt.Errorf("copy volumes from %s: %w", fromRef, err)
	}
	dst, err := s.st.volumes(dstIn)
	if err != nil {
		return fmt.Errorf("copy volumes to %s: %w", toRef, err)
	}
	if len(src) != len(dst) {
		return core.Errorf(core.KindConflict, "copy volumes: %s has %d volumes, %s has %d",
			fromRef, len(src), toRef, len(dst))
	}
	if err := s.st.copyVolumes(srcIn, src, dstIn, dst); err != nil {
		return fmt.Errorf("copy volumes: save sim state: %w", err)
	}
	return nil
}

// change makes to the instance's state: first in the store, then in memory, so
// that memory never holds a change the store refused. Callers hold mu.
func (s *Sim) change(in *instance, to instance) error {
	return s.changeRescue(in, to, s.rescue[in])
}

// changeRescue is change that also sets the image of the rescue system ("" when
// not in rescue). Callers hold mu.
func (s *Sim) changeRescue(in *instance, to instance, rescue string) error {
	if err := s.st.update(&to, rescue); err != nil {
		return fmt.Errorf("save sim state: %w", err)
	}
	*in = to
	if rescue == "" {
		delete(s.rescue, in)
	} else {
		s.rescue[in] = rescue
	}
	return nil
}

// server returns the state of a server, making it on first use. Callers hold mu.
func (s *Sim) server(id string) *server {
	sv, ok := s.servers[id]
	if !ok {
		sv = &server{byRef: map[string]*instance{}, byName: map[string]*instance{}}
		s.servers[id] = sv
	}
	return sv
}

// intern returns the one copy of a label value the simulator keeps. Callers hold mu.
func (s *Sim) intern(v string) string {
	if v == "" {
		return ""
	}
	if c, ok := s.labels[v]; ok {
		return c
	}
	v = strings.Clone(v)
	s.labels[v] = v
	return v
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
	in, ok := sv.byRef[ref]
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
