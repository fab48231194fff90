package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"hostdeck/core"
	"hostdeck/notify/smtptest"
	"hostdeck/runtime/sim"
)

// These tests run the real hostdeck binary as separate processes and drive it over
// HTTP, as an operator would: kill -9 in the middle of work, two replicas on one
// PostgreSQL database.

var built struct {
	once sync.Once
	path string
	err  error
}

// binary builds hostdeck once per test run.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "hdtest-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "hostdeck")
		out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

const procAdminPassword = "proc-admin-password"

type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	logs *bytes.Buffer
	done chan struct{}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs `hostdeck serve` with the given environment and waits for /healthz.
func start(t *testing.T, env ...string) *proc {
	t.Helper()
	return startArgs(t, nil, env...)
}

// startArgs is start with flags of serve besides --listen.
func startArgs(t *testing.T, args []string, env ...string) *proc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary(t), append([]string{"serve", "--listen", addr}, args...)...)
	cmd.Env = append(os.Environ(),
		"HOSTDECK_ADMIN_USER=admin", "HOSTDECK_ADMIN_PASSWORD="+procAdminPassword,
		"HOSTDECK_ARGON2_MEMORY_KIB=64", "HOSTDECK_LOG_LEVEL=warn",
		"HOSTDECK_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"HOSTDECK_DATA="+t.TempDir(), // env may name another; the last one counts
	)
	cmd.Env = append(cmd.Env, env...)
	p := &proc{t: t, cmd: cmd, base: "http://" + addr, logs: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("hostdeck exited at start:\n%s", p.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hostdeck not healthy after 30s:\n%s", p.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// stop ends the process gracefully (SIGTERM) and waits.
func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Errorf("hostdeck did not stop within 30s of SIGTERM")
		p.kill()
	}
}

type resource struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Attributes map[string]any `json:"attributes"`
}

// call sends a JSON:API request to the alfa face and decodes the answer.
func (p *proc) call(method, path string, attrs map[string]any) (int, []resource) {
	p.t.Helper()
	var body io.Reader
	if attrs != nil {
		b, _ := json.Marshal(map[string]any{"data": map[string]any{"type": "clients", "attributes": attrs}})
		if strings.HasPrefix(path, "/servers") {
			b, _ = json.Marshal(map[string]any{"data": map[string]any{"type": "servers", "attributes": attrs}})
		}
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.base+"/alfa"+path, body)
	req.SetBasicAuth("admin", procAdminPassword)
	req.Header.Set("Content-Type", "application/vnd.api+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	json.Unmarshal(raw, &doc)
	var list []resource
	if len(doc.Data) > 0 && doc.Data[0] == '[' {
		json.Unmarshal(doc.Data, &list)
	} else if len(doc.Data) > 0 && doc.Data[0] == '{' {
		var one resource
		json.Unmarshal(doc.Data, &one)
		list = []resource{one}
	}
	if resp.StatusCode >= 400 {
		p.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, list
}

// all lists every resource at path (page size 100, following pages).
func (p *proc) all(path string) []resource {
	p.t.Helper()
	var out []resource
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for page := 1; ; page++ {
		_, items := p.call("GET", fmt.Sprintf("%s%spage[size]=100&page[number]=%d", path, sep, page), nil)
		out = append(out, items...)
		if len(items) < 100 {
			return out
		}
	}
}

func str(r resource, key string) string {
	s, _ := r.Attributes[key].(string)
	return s
}

// waitTasks waits until every task of kind is finished and returns them.
func waitTasks(t *testing.T, p *proc, kind string, want int, timeout time.Duration) []resource {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		tasks := p.all("/tasks?filter[kind]=" + url.QueryEscape(kind))
		done := 0
		for _, tk := range tasks {
			if core.TaskStatus(str(tk, "status")).Done() {
				done++
			}
		}
		if len(tasks) >= want && done == len(tasks) {
			return tasks
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d %s tasks finished after %s", done, len(tasks), kind, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// simInstances loads a stopped process's simulator state: runtime instances by server.
func simInstances(t *testing.T, stateFile string, servers []resource) []core.RuntimeInstance {
	t.Helper()
	s, err := sim.Open(sim.Options{StateFile: stateFile})
	if err != nil {
		t.Fatal(err)
	}
	var out []core.RuntimeInstance
	for _, srv := range servers {
		list, err := s.List(context.Background(), &core.Server{ID: srv.ID})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, list...)
	}
	return out
}

// TestCrashMidway starts 50 client creations, kills the server with SIGKILL while
// they run, and starts it again: every task ends in SUCCESS or FAILURE with a
// reason, no client has two instances, and no instance is left that no record owns.
func TestCrashMidway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	mail := smtptest.Start(t)
	data := t.TempDir()
	env := []string{
		"HOSTDECK_DATA=" + data, "HOSTDECK_SIM_DELAY=300ms", "HOSTDECK_TASK_LEASE=2s",
		"HOSTDECK_RECONCILE_EVERY=1s", "HOSTDECK_WORKERS=8",
		fmt.Sprintf("HOSTDECK_SMTP_ADDR=%s", mail.Addr),
	}
	p := start(t, env...)
	if code, _ := p.call("POST", "/servers/create", map[string]any{"name": "node-1", "capacity": 100}); code != 201 {
		t.Fatalf("create server: %d", code)
	}
	const n = 50
	for i := range n {
		code, _ := p.call("POST", "/clients/create", map[string]any{"name": fmt.Sprintf("crash-%02d", i), "email": fmt.Sprintf("c%02d@example.test", i)})
		if code != 202 {
			t.Fatalf("create client %d: %d", i, code)
		}
	}
	// Kill it once some, but not all, clients are built.
	deadline := time.Now().Add(60 * time.Second)
	for {
		succeeded := 0
		for _, tk := range p.all("/tasks?filter[kind]=client.create") {
			if str(tk, "status") == "SUCCESS" {
				succeeded++
			}
		}
		if succeeded >= 5 {
			if succeeded == n {
				t.Fatal("every task finished before the kill; make the work slower")
			}
			t.Logf("kill -9 with %d of %d clients built", succeeded, n)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress before the kill:\n%s", p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.kill()

	p = start(t, env...)
	tasks := waitTasks(t, p, "client.create", n, 2*time.Minute)
	for _, tk := range tasks {
		switch str(tk, "status") {
		case "SUCCESS":
		case "FAILURE":
			if str(tk, "error") == "" {
				t.Errorf("task %s failed without a reason", tk.ID)
			}
		default:
			t.Errorf("task %s ended %s", tk.ID, str(tk, "status"))
		}
	}
	clients := p.all("/clients")
	if len(clients) != n {
		t.Fatalf("clients = %d, want %d", len(clients), n)
	}
	time.Sleep(2500 * time.Millisecond) // let a reconcile pass run after the last task
	servers := p.all("/servers")
	p.stop()

	byClient := map[string]int{}
	live := map[string]bool{}
	for _, c := range clients {
		live[c.ID] = true
	}
	for _, ri := range simInstances(t, filepath.Join(data, "sim.db"), servers) {
		byClient[ri.InstanceID]++ // one runtime instance per instance record
	}
	if len(byClient) > n {
		t.Errorf("%d runtime instances for %d clients", len(byClient), n)
	}
	for id, count := range byClient {
		if count != 1 {
			t.Errorf("instance %s exists %d times in the runtime", id, count)
		}
	}
	succeeded := 0
	for _, tk := range tasks {
		if str(tk, "status") == "SUCCESS" {
			succeeded++
		}
	}
	if len(byClient) != succeeded {
		t.Errorf("runtime has %d instances, %d clients were built", len(byClient), succeeded)
	}
	t.Logf("after the crash: %d of %d clients built, %d failed with a reason", succeeded, n, n-succeeded)
}

// TestTwoReplicasOnPostgres runs two hostdeck processes on one PostgreSQL database:
// every task runs exactly once, and periodic work runs once per cluster.
func TestTwoReplicasOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dsn := os.Getenv("HOSTDECK_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("HOSTDECK_REQUIRE_POSTGRES") == "1" {
			t.Fatal("HOSTDECK_TEST_POSTGRES is not set")
		}
		t.Skip("HOSTDECK_TEST_POSTGRES is not set (scripts/pg-start prints one)")
	}
	dsn = freshDatabase(t, dsn)
	mail := smtptest.Start(t)
	common := []string{
		"HOSTDECK_DB=" + dsn, "HOSTDECK_SIM_DELAY=0s", "HOSTDECK_EXPIRY_EVERY=1s",
		"HOSTDECK_RECONCILE_EVERY=1h", "HOSTDECK_SMTP_ADDR=" + mail.Addr,
	}
	dataA, dataB := t.TempDir(), t.TempDir()
	a := start(t, append(common, "HOSTDECK_DATA="+dataA)...)
	b := start(t, append(common, "HOSTDECK_DATA="+dataB)...)
	began := time.Now()
	if code, _ := a.call("POST", "/servers/create", map[string]any{"name": "shared", "capacity": 1000}); code != 201 {
		t.Fatalf("create server: %d", code)
	}
	const n = 100
	var wg sync.WaitGroup
	for i := range n {
		p := a
		if i%2 == 1 {
			p = b
		}
		wg.Go(func() {
			code, _ := p.call("POST", "/clients/create", map[string]any{"name": fmt.Sprintf("pg-%03d", i), "email": fmt.Sprintf("pg%03d@example.test", i)})
			if code != 202 {
				t.Errorf("create %d: %d", i, code)
			}
		})
	}
	wg.Wait()
	tasks := waitTasks(t, a, "client.create", n, 2*time.Minute)
	waitTasks(t, b, "client.send_success", n, time.Minute)
	time.Sleep(1500 * time.Millisecond)
	elapsed := time.Since(began)
	servers := a.all("/servers")
	periodic := a.all("/tasks?filter[kind]=periodic.expiry_notices")
	a.stop()
	b.stop()

	// The replicas share one database: the first registered the local
	// server, the second did not add another.
	if len(servers) != 2 || (str(servers[0], "name") == "local") == (str(servers[1], "name") == "local") {
		t.Errorf("servers = %+v, want shared and one local", servers)
	}
	for _, tk := range tasks {
		if str(tk, "status") != "SUCCESS" || tk.Attributes["attempts"] != float64(1) {
			t.Errorf("task %s: %s after %v attempts: %s", tk.ID, str(tk, "status"), tk.Attributes["attempts"], str(tk, "error"))
		}
	}
	// Each client's instance was created once, by one of the two processes.
	count := map[string]int{}
	perProc := []int{0, 0}
	for i, dir := range []string{dataA, dataB} {
		for _, ri := range simInstances(t, filepath.Join(dir, "sim.db"), servers) {
			count[ri.InstanceID]++
			perProc[i]++
		}
	}
	if len(count) != n {
		t.Errorf("%d instances in the runtimes, want %d", len(count), n)
	}
	for id, c := range count {
		if c != 1 {
			t.Errorf("instance %s created %d times", id, c)
		}
	}
	if len(mail.Messages()) != n {
		t.Errorf("welcome e-mails = %d, want %d", len(mail.Messages()), n)
	}
	// One expiry pass per one-second slot for the whole cluster, not one per replica.
	slots := int(elapsed/time.Second) + 2
	if len(periodic) == 0 || len(periodic) > slots {
		t.Errorf("expiry passes = %d over %s (at most %d slots)", len(periodic), elapsed, slots)
	}
	t.Logf("work split between the replicas: %v instances; %d periodic passes in %s", perProc, len(periodic), elapsed.Round(time.Millisecond))
}

// freshDatabase creates an empty database on the server of dsn and returns its DSN.
func freshDatabase(t *testing.T, dsn string) string {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := fmt.Sprintf("hdtest_replicas_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err == nil {
			db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			db.Close()
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
