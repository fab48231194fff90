package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// CrashPG is a PostgreSQL cluster of one test's own, with durable commits, that
// the test may kill -9 and start again. The fast shared server of scripts/pg-start
// runs with fsync, synchronous_commit and full_page_writes off: a crash of that one
// loses commits it acknowledged, by design, so crash tests need this one.
type CrashPG struct {
	DSN string // postgres:// URL of its database hostdeck_test
	Dir string // PGDIR: data/, server.log, the socket

	port   int
	script string
}

var subreaper struct {
	once sync.Once
	err  error
}

// CrashPostgres starts a cluster with scripts/pg-start (PG_DURABLE=1) in a new
// directory on a free port, checks that fsync, synchronous_commit and
// full_page_writes are on, and stops and removes it when the test ends. Without
// PostgreSQL's server binaries the test skips, or fails when
// HOSTDECK_REQUIRE_POSTGRES=1 (pg-start may then install them, as root).
//
// The test process becomes a child subreaper (Linux prctl) so that the
// postmaster, which pg_ctl leaves behind as an orphan, is its child: Kill reaps it
// at once. Reaping is otherwise left to PID 1, and a dead postmaster that is not
// reaped still "runs" for pg_ctl and for PostgreSQL's own lock-file check.
func CrashPostgres(t testing.TB) *CrashPG {
	t.Helper()
	subreaper.once.Do(func() {
		const prSetChildSubreaper = 36
		if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
			subreaper.err = fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
		}
	})
	if subreaper.err != nil {
		t.Fatal(subreaper.err)
	}
	script, err := findScript("scripts/pg-start")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "hostdeck-pg-crash-")
	if err != nil {
		t.Fatal(err)
	}
	c := &CrashPG{Dir: dir, port: freePort(t), script: script}
	require := os.Getenv("HOSTDECK_REQUIRE_POSTGRES") == "1"
	dsn, stderr, err := c.run()
	if err != nil {
		c.stop(t) // pg-start may have got as far as starting the server
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 2 && !require {
			t.Skipf("PostgreSQL server binaries not available for the crash test: %s", strings.TrimSpace(stderr))
		}
		t.Fatalf("scripts/pg-start: %v\n%s", err, stderr)
	}
	c.DSN = dsn
	t.Cleanup(func() { c.stop(t) })
	for _, name := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
		if v := c.show(t, name); v != "on" {
			t.Fatalf("crash-test PostgreSQL runs with %s=%s, want on", name, v)
		}
	}
	return c
}

// run runs scripts/pg-start for this cluster and returns the DSN it printed.
func (c *CrashPG) run() (dsn, stderr string, err error) {
	cmd := exec.Command(c.script)
	cmd.Env = append(os.Environ(), "PGDIR="+c.Dir, "PGPORT="+strconv.Itoa(c.port), "PG_DURABLE=1")
	if os.Getenv("HOSTDECK_REQUIRE_POSTGRES") != "1" {
		cmd.Env = append(cmd.Env, "PG_NO_INSTALL=1")
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return strings.TrimSpace(out.String()), errb.String(), err
}

// Start starts the cluster again after Kill (PostgreSQL runs crash recovery) and
// returns once it accepts connections.
func (c *CrashPG) Start(t testing.TB) {
	t.Helper()
	if _, stderr, err := c.run(); err != nil {
		t.Fatalf("restart PostgreSQL: %v\n%s\nserver log:\n%s", err, stderr, c.logTail())
	}
}

// PID is the postmaster's process id, the first line of data/postmaster.pid.
func (c *CrashPG) PID(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.Dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 1 {
		t.Fatalf("postmaster.pid: first line %q is not a pid", line)
	}
	return pid
}

// Kill sends SIGKILL to the postmaster and every process it started, as a crash
// of the database host's processes would end them: nothing is flushed or closed
// cleanly, and what was not yet in the write-ahead log is gone. The postmaster is
// stopped first so that it forks nothing between the listing and the kill, and
// its children (each PostgreSQL child is a session of its own, so a process group
// does not reach them) are found by their parent pid. It returns how many
// processes were killed, once they are all reaped.
func (c *CrashPG) Kill(t testing.TB) int {
	t.Helper()
	pm := c.PID(t)
	if err := syscall.Kill(pm, syscall.SIGSTOP); err != nil {
		t.Fatalf("stop postmaster %d: %v", pm, err)
	}
	kids := childrenOf(pm)
	for _, pid := range kids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if err := syscall.Kill(pm, syscall.SIGKILL); err != nil {
		t.Fatalf("kill postmaster %d: %v", pm, err)
	}
	// The postmaster first: once it is gone its children are ours to reap too.
	for _, pid := range append([]int{pm}, kids...) {
		if err := reap(pid, 10*time.Second); err != nil {
			t.Fatalf("process %d of PostgreSQL: %v", pid, err)
		}
	}
	return 1 + len(kids)
}

// stop shuts the cluster down (fast shutdown: SIGINT to the postmaster) and
// removes its directory.
func (c *CrashPG) stop(t testing.TB) {
	if b, err := os.ReadFile(filepath.Join(c.Dir, "data", "postmaster.pid")); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && pid > 1 && syscall.Kill(pid, syscall.SIGINT) == nil {
			if err := reap(pid, 30*time.Second); err != nil {
				t.Errorf("stop PostgreSQL: %v", err)
			}
		}
	}
	os.RemoveAll(c.Dir)
}

// show reads a server setting.
func (c *CrashPG) show(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN)
	if err != nil {
		t.Fatalf("connect to %s: %v", c.DSN, err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SHOW "+name).Scan(&v); err != nil {
		t.Fatalf("SHOW %s: %v", name, err)
	}
	return v
}

func (c *CrashPG) logTail() string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "server.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, ok := procStat(child); ok && ppid == pid {
			out = append(out, child)
		}
	}
	return out
}

// procStat reads a process's parent pid and state from /proc/pid/stat.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0][0], err == nil
}

// reap waits until process pid has exited and, when it is this process's child
// (the subreaper makes PostgreSQL's processes so), collects its exit status.
func reap(pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if got == pid {
			return nil
		}
		if errors.Is(err, syscall.ECHILD) {
			// Not ours (yet): a child of a postmaster that is still exiting, or one
			// that init adopted. Gone, or a zombie someone else must reap.
			_, state, ok := procStat(pid)
			if !ok {
				return nil
			}
			if state == 'Z' && time.Now().After(deadline) {
				return fmt.Errorf("still a zombie after %s, not reaped by its parent", timeout)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still running %s after the signal", timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// findScript finds path (relative to the module root) from the working
// directory up, as `go test` runs each package in its own directory.
func findScript(path string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, path)
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%s not found at the module root %s", path, dir)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory, so no %s", path)
		}
		dir = parent
	}
}
