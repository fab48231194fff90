package sim

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"hostdeck/core"
)

// killChildEnv names, in the environment of a re-executed test binary, the
// state file the child writes to until it is killed (see killChild).
const killChildEnv = "HOSTDECK_SIM_KILL_CHILD"

// killChild is the child of TestKill9: it creates instances on the state file
// named by killChildEnv (prefixed by HOSTDECK_SIM_KILL_PREFIX), starts, writes
// into and deletes some, and prints a line for each call once it has returned:
// what the parent may expect after the kill. It runs until it is killed.
func killChild() {
	s, err := Open(Options{StateFile: os.Getenv(killChildEnv)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	prefix := os.Getenv("HOSTDECK_SIM_KILL_PREFIX")
	ctx := context.Background()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	deadline := time.Now().Add(time.Minute) // a parent that died does not leave it running
	for i := 0; time.Now().Before(deadline); i++ {
		name := fmt.Sprintf("%s%05d", prefix, i)
		ref, err := s.Create(ctx, srvA, spec(name))
		if err != nil {
			fail(err)
		}
		fmt.Printf("create %s %s\n", name, ref)
		if i%2 == 0 {
			if err := s.Start(ctx, srvA, ref); err != nil {
				fail(err)
			}
			fmt.Printf("start %s\n", name)
		}
		if i%3 == 0 {
			if err := s.WriteFile(srvA.ID, ref, name+"-data", "f", []byte(name)); err != nil {
				fail(err)
			}
			fmt.Printf("write %s\n", name)
		}
		if i%5 == 4 {
			if err := s.Delete(ctx, srvA, ref); err != nil {
				fail(err)
			}
			fmt.Printf("delete %s\n", name)
		}
	}
	os.Exit(4)
}

// TestKill9: a child process that creates instances is killed with SIGKILL
// mid-stream, its log gets a torn last frame, and reopening the state file finds
// every change the child had seen return; three times on one file.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	file := filepath.Join(t.TempDir(), "sim.db")
	type acked struct {
		ref                    string
		started, wrote, delete bool
	}
	all := map[string]*acked{} // by name, over every round
	for round := range 3 {
		prefix := fmt.Sprintf("r%d-", round)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), killChildEnv+"="+file, "HOSTDECK_SIM_KILL_PREFIX="+prefix)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill at a point that differs from round to round, likely inside a
		// transaction: after some creates, or after a random pause.
		killAfter := 100 + rand.IntN(200)
		r, creates, killed := bufio.NewReader(out), 0, false
		timer := time.AfterFunc(time.Duration(500+rand.IntN(1500))*time.Millisecond, func() { cmd.Process.Kill() })
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				break // a line the kill cut short was never acknowledged
			}
			f := strings.Fields(line)
			switch f[0] {
			case "create":
				all[f[1]] = &acked{ref: f[2]}
				if creates++; creates == killAfter && !killed {
					cmd.Process.Kill()
					killed = true
				}
			case "start":
				all[f[1]].started = true
			case "write":
				all[f[1]].wrote = true
			case "delete":
				all[f[1]].delete = true
			}
		}
		timer.Stop()
		if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("round %d: child ended with %v, not the kill: %s", round, err, stderr.String())
		}
		if creates == 0 {
			t.Fatalf("round %d: child acknowledged nothing: %s", round, stderr.String())
		}
		tearWAL(t, file+"-wal")

		s, err := Open(Options{StateFile: file})
		if err != nil {
			t.Fatalf("round %d: reopen after kill -9 and a torn tail: %v", round, err)
		}
		ctx := context.Background()
		for name, a := range all {
			st, err := s.Inspect(ctx, srvA, a.ref)
			if a.delete {
				if core.ErrorKind(err) != core.KindNotFound {
					t.Errorf("round %d: %s was deleted, and is back: %+v %v", round, name, st, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("round %d: %s acknowledged and lost: %v", round, name, err)
				continue
			}
			if a.started && st.State != core.StateActive {
				t.Errorf("round %d: %s was started, and is %s", round, name, st.State)
			}
			if a.wrote {
				if b, err := s.ReadFile(srvA.ID, a.ref, name+"-data", "f"); err != nil || string(b) != name {
					t.Errorf("round %d: %s's file = %q, %v", round, name, b, err)
				}
			}
		}
		list, err := s.List(ctx, srvA)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range list {
			if a, ok := all[in.Name]; ok && a.ref != in.Ref {
				t.Errorf("round %d: %s is %s, acknowledged as %s", round, in.Name, in.Ref, a.ref)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d creates acknowledged before the kill", round, creates)
	}
}

// tearWAL writes a torn frame at the end of the WAL's current frames, as a
// crash halfway through writing the next transaction leaves it: a frame header
// of this generation of the log with a wrong checksum, and half a page.
func tearWAL(t *testing.T, wal string) {
	t.Helper()
	b, err := os.ReadFile(wal)
	if err != nil || len(b) < 32 {
		t.Fatalf("no WAL after the kill (%d bytes): %v", len(b), err)
	}
	pageSize := int(binary.BigEndian.Uint32(b[8:12]))
	salts := b[16:24]
	end := 32
	for end+24+pageSize <= len(b) && bytes.Equal(b[end+8:end+16], salts) {
		end += 24 + pageSize
	}
	frame := make([]byte, 24+pageSize/2)
	binary.BigEndian.PutUint32(frame[0:], 2) // page 2
	binary.BigEndian.PutUint32(frame[4:], 9) // a commit: the database is 9 pages
	copy(frame[8:], salts)
	binary.BigEndian.PutUint64(frame[16:], 0xdeadbeefdeadbeef)
	for i := 24; i < len(frame); i++ {
		frame[i] = 0xab
	}
	if err := os.WriteFile(wal, append(b[:end:end], frame...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStateFileCorrupt: a torn tail is not corruption, but anything else that
// cannot be read refuses to open.
func TestStateFileCorrupt(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	s := New(Options{StateFile: good})
	mustCreate(t, s, srvA, "web")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}

	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	header := bytes.Clone(goodBytes)
	copy(header[16:24], bytes.Repeat([]byte{0xff}, 8)) // page size and format bytes
	later := filepath.Join(dir, "later.db")
	copyFile(t, good, later)
	if db, err := sql.Open("sqlite", later); err != nil {
		t.Fatal(err)
	} else if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	} else {
		db.Close()
	}
	for name, path := range map[string]string{
		"garbage":           write("garbage", []byte("not a state file\n")),
		"broken JSON":       write("broken.json", []byte(`{"srv-a": {"instances": {`)),
		"broken header":     write("header.db", header),
		"instances page":    write("page.db", corruptTable(t, good, "instances")),
		"specs page":        write("specs.db", corruptTable(t, good, "specs")),
		"later schema":      later,
		"cut short":         write("short.db", goodBytes[:len(goodBytes)/2]),
		"directory instead": dir,
	} {
		if _, err := Open(Options{StateFile: path}); err == nil {
			t.Errorf("%s: opened", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("New of a corrupt state file did not panic")
			}
		}()
		New(Options{StateFile: filepath.Join(dir, "garbage")})
	}()

	// A file the process died before it wrote anything to is a new state file.
	empty := write("empty.db", nil)
	if s, err := Open(Options{StateFile: empty}); err != nil {
		t.Fatalf("empty file: %v", err)
	} else {
		s.Close()
	}
}

// corruptTable returns the bytes of the database at path with the root page of
// a table overwritten.
func corruptTable(t *testing.T, path, table string) []byte {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var root, pageSize int
	if err := db.QueryRow("SELECT rootpage FROM sqlite_schema WHERE name = ?", table).Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	db.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off := (root - 1) * pageSize
	for i := off; i < off+pageSize && i < len(b); i++ {
		b[i] = 0xee
	}
	return b
}

// TestStateFileFromJSON: the JSON state file of an earlier version is converted
// on open, with everything it held, and a conversion a crash cut short is done
// again.
func TestStateFileFromJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sim-state.json")
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sp := func(name, network string) core.InstanceSpec {
		s := spec(name)
		s.Network = network
		s.Labels[core.LabelServer] = srvA.ID
		return s
	}
	old := map[string]legacyServer{
		srvA.ID: {Instances: map[string]legacyInstance{
			"sim-00000000000000a1": {Spec: sp("a1", ""), State: core.StateActive, CreatedAt: at,
				Volumes: map[string]map[string][]byte{"a1-data": {"f": []byte("kept")}}},
			"sim-00000000000000a2": {Spec: sp("a2", "net"), State: core.StateBuilding, Next: core.StateActive,
				NextAt: at.Add(time.Minute), CreatedAt: at, Addr: "10.128.0.9", Volumes: map[string]map[string][]byte{"a2-data": {}}},
			"sim-00000000000000a3": {Spec: sp("a3", ""), State: core.StateRescue, RescueImage: "rescue:1", CreatedAt: at,
				Volumes: map[string]map[string][]byte{"a3-data": {}}},
		}},
	}
	b, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// What a conversion a crash cut short leaves beside the file.
	os.WriteFile(path+".convert", []byte("half a database"), 0o644)
	os.WriteFile(path+".convert-journal", []byte("a stale journal"), 0o644)

	clk := &fakeClock{t: at.Add(time.Second)}
	ctx := context.Background()
	for open := range 2 { // converted, then read as it is
		s, err := Open(Options{StateFile: path, Now: clk.Now})
		if err != nil {
			t.Fatalf("open %d: %v", open, err)
		}
		if st := state(t, s, srvA, "sim-00000000000000a1"); st != core.StateActive {
			t.Fatalf("a1 is %s", st)
		}
		if b, err := s.ReadFile(srvA.ID, "sim-00000000000000a1", "a1-data", "f"); err != nil || string(b) != "kept" {
			t.Fatalf("a1's file = %q, %v", b, err)
		}
		if st := state(t, s, srvA, "sim-00000000000000a2"); st != core.StateBuilding {
			t.Fatalf("a2 is %s", st)
		}
		if s.RescueImage(srvA.ID, "sim-00000000000000a3") != "rescue:1" {
			t.Fatal("a3's rescue lost")
		}
		list, err := s.List(ctx, srvA)
		if err != nil || len(list) != 3 || list[0].Name != "a1" || list[0].InstanceID != "inst-a1" || list[0].ServerID != srvA.ID {
			t.Fatalf("list = %+v, %v", list, err)
		}
		if ref, err := s.Create(ctx, srvA, spec("a1")); err != nil || ref != "sim-00000000000000a1" {
			t.Fatalf("idempotent create after conversion = %s, %v", ref, err)
		}
		s.Close()
	}
	clk.Add(time.Minute)
	s := New(Options{StateFile: path, Now: clk.Now})
	defer s.Close()
	if st, _ := s.Inspect(ctx, srvA, "sim-00000000000000a2"); st.State != core.StateActive || st.Address != "10.128.0.9" {
		t.Fatalf("a2 after its start = %+v", st)
	}
	_, addr := activeAddr(t, s, srvA, netSpec("a4", "net"))
	if addr != "10.128.0.10" {
		t.Fatalf("next address on the converted network = %s", addr)
	}
	head := make([]byte, len(sqliteHeader))
	f, _ := os.Open(path)
	io.ReadFull(f, head)
	f.Close()
	if string(head) != sqliteHeader {
		t.Fatalf("state file not converted: starts %q", head)
	}
	if _, err := os.Stat(path + ".convert"); err == nil {
		t.Fatal("conversion left its temporary file")
	}
}

// TestStateFileRefused: a change the state file does not take is not made in
// memory either.
func TestStateFileRefused(t *testing.T) {
	ctx := context.Background()
	s, _ := newSim(t, Options{StateFile: filepath.Join(t.TempDir(), "sim.db")})
	ref := mustCreate(t, s, srvA, "web")
	s.st.(*fileStore).db.Close()
	if err := s.Start(ctx, srvA, ref); err == nil {
		t.Fatal("start saved nowhere")
	}
	if got := state(t, s, srvA, ref); got != core.StateStopped {
		t.Fatalf("state after a refused start: %s", got)
	}
	if _, err := s.Create(ctx, srvA, spec("other")); err == nil {
		t.Fatal("create saved nowhere")
	}
	if err := s.Delete(ctx, srvA, ref); err == nil {
		t.Fatal("delete saved nowhere")
	}
	if list, _ := s.List(ctx, srvA); len(list) != 1 || list[0].Ref != ref {
		t.Fatalf("list after refused changes = %+v", list)
	}
}

var netAddrRE = regexp.MustCompile(`10\.1[2-9][0-9]\.[0-9]+\.[0-9]+`)

// TestStateFileSameAsMemory drives a Sim with a state file and one without
// through the same random calls, reopening the first now and then, and checks
// that every call answers the same.
func TestStateFileSameAsMemory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sim.db")
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	opts := Options{BuildDelay: 2 * time.Second, StartDelay: 3 * time.Second, RebootDelay: time.Second, Now: clk.Now}
	mem := New(opts)
	opts.StateFile = file
	disk := New(opts)
	defer func() { disk.Close() }()

	ctx := context.Background()
	srvB := &core.Server{ID: "srv-b"}
	servers := []*core.Server{srvA, srvB}
	rng := rand.New(rand.NewPCG(1, 2))
	// The two give instances different refs: calls name them by server and
	// name, answers are compared with refs replaced by names.
	refs := [2]map[string]string{{}, {}}
	names := []string{"a", "b", "c", "d", "e", "f"}
	norm := func(side int, v any) string {
		s := fmt.Sprintf("%+v", v)
		for key, ref := range refs[side] {
			if ref != "" {
				s = strings.ReplaceAll(s, ref, "<"+key+">")
			}
		}
		// Addresses off a network are derived from the ref; on one, a restart
		// may hand out again the highest after it was deleted (network.go).
		for _, ref := range refs[side] {
			if ref != "" {
				s = strings.ReplaceAll(s, fakeIP(ref), "<ip>")
			}
		}
		return netAddrRE.ReplaceAllString(s, "<net>")
	}
	succeeded := map[int]int{} // by op
	for step := range 3000 {
		srv := servers[rng.IntN(2)]
		name := names[rng.IntN(len(names))]
		key := srv.ID + "/" + name
		other := servers[rng.IntN(2)]
		otherKey := other.ID + "/" + names[rng.IntN(len(names))]
		op := rng.IntN(17)
		data := []byte(fmt.Sprint(step))
		var got [2]string
		for side, s := range []*Sim{mem, disk} {
			ref := refs[side][key]
			if ref == "" {
				ref = "sim-00000000deadbeef"
			}
			oref := refs[side][otherKey]
			var v any
			var err error
			switch op {
			case 0, 1:
				sp := spec(name)
				if step%3 == 0 {
					sp.Network = "net-" + srv.ID
				}
				var r string
				r, err = s.Create(ctx, srv, sp)
				if err == nil {
					refs[side][key] = r
				}
			case 2:
				err = s.Start(ctx, srv, ref)
			case 3:
				err = s.Stop(ctx, srv, ref)
			case 4:
				err = s.Restart(ctx, srv, ref)
			case 5:
				err = s.Delete(ctx, srv, ref)
			case 6:
				v, err = s.Inspect(ctx, srv, ref)
			case 7:
				v, err = s.List(ctx, srv)
			case 8:
				err = s.WriteFile(srv.ID, ref, name+"-data", fmt.Sprint("f", step%4), data)
			case 9:
				v, err = s.ReadFile(srv.ID, ref, name+"-data", fmt.Sprint("f", step%4))
			case 10:
				err = s.CopyVolumes(ctx, srv, ref, other, oref)
			case 11:
				v, err = s.Usage(ctx, srv, ref)
			case 12:
				err = s.Rescue(ctx, srv, ref, fmt.Sprint("rescue:", step%2), "")
			case 13:
				err = s.Unrescue(ctx, srv, ref)
				v = s.RescueImage(srv.ID, ref)
			case 14:
				err = s.SetState(srv.ID, ref, core.StateError)
			case 15:
				v, err = s.Load(ctx, srv)
				l := v.(core.ServerLoad)
				l.CheckedAt = time.Time{}
				v = l
			case 16:
				s.CrashOnStart(srv.ID, step%2 == 0)
			}
			got[side] = norm(side, v) + " / " + norm(side, err)
		}
		if strings.HasSuffix(got[1], " / <nil>") {
			succeeded[op]++
		}
		if got[0] != got[1] {
			t.Fatalf("step %d, op %d on %s: without a state file %s, with one %s", step, op, key, got[0], got[1])
		}
		clk.Add(time.Duration(rng.IntN(1500)) * time.Millisecond)
		if step%500 == 499 { // a restart: faults are not kept, so clear them on both
			disk.Close()
			disk = New(opts)
			for _, srv := range servers {
				mem.ClearFaults(srv.ID)
			}
		}
	}
	t.Logf("calls that succeeded, by op: %v", succeeded)
}
