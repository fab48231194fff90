package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hostdeck/internal/testenv"
	"hostdeck/notify/smtptest"
)

// TestCrashPostgresMidway kills PostgreSQL itself with SIGKILL while clients are
// being created, on a server whose commits are durable (fsync, synchronous_commit
// and full_page_writes on), then kills hostdeck too. Every client whose creation
// was acknowledged (202 with its task) must exist afterwards with its task
// finished in SUCCESS, and no record may be half-written: no client without its
// instance or its task, no task without its client. During the outage requests
// may fail with 503, never with a 500, a 4xx or a panic; once PostgreSQL is back
// the same hostdeck process serves again (its connection pool reconnects, no
// restart needed).
//
// kill -9 ends processes, not the machine: the operating system still writes what
// PostgreSQL handed it, so fsync itself is not put to the test here (that takes a
// power cut). What is, is synchronous_commit: with it off, as in the fast test
// server, a commit is acknowledged before its WAL record leaves PostgreSQL's
// memory, and a kill -9 loses it.
func TestCrashPostgresMidway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	pg := testenv.CrashPostgres(t)
	mail := smtptest.Start(t)
	data := t.TempDir()
	env := []string{
		"HOSTDECK_DB=" + pg.DSN, "HOSTDECK_DATA=" + data, "HOSTDECK_SIM_DELAY=100ms",
		"HOSTDECK_TASK_LEASE=2s", "HOSTDECK_WORKERS=16", "HOSTDECK_RECONCILE_EVERY=1h",
		"HOSTDECK_SMTP_ADDR=" + mail.Addr,
	}
	p := start(t, env...)
	if code, _ := p.call("POST", "/servers/create", map[string]any{"name": "node-1", "capacity": 1000}); code != 201 {
		t.Fatalf("create server: %d", code)
	}

	load := startCreates(t, p.base, 8)
	load.waitAcked(t, 30, 20*time.Second)

	// PostgreSQL dies with requests in flight, stays down a while, comes back.
	downAt := time.Now()
	killed := pg.Kill(t)
	time.Sleep(1500 * time.Millisecond)
	pg.Start(t)
	upAt := time.Now()
	recoveredAt := load.waitAckAfter(t, upAt, 30*time.Second)
	ackedBefore := load.count()
	load.waitAcked(t, ackedBefore+30, 20*time.Second)

	// Then hostdeck dies with requests and tasks in flight, and starts again.
	killAt := time.Now()
	p.kill()
	load.stop()
	logs := p.logs.String()
	restartAt := time.Now()
	p = start(t, env...)
	hostdeckUp := time.Since(restartAt)

	acked := load.ackedCopy()
	// Every task there is, not len(acked): the lost ones would never come.
	tasks := waitTasks(t, p, "client.create", 0, time.Minute)
	settled := time.Since(restartAt)
	clients := p.all("/clients")
	p.stop()
	logs += p.logs.String()

	taskByID := map[string]resource{}
	for _, tk := range tasks {
		taskByID[tk.ID] = tk
	}
	clientByID := map[string]resource{}
	for _, c := range clients {
		clientByID[c.ID] = c
	}
	lost := 0
	for clientID, taskID := range acked {
		c, okC := clientByID[clientID]
		tk, okT := taskByID[taskID]
		switch {
		case !okC || !okT:
			lost++
			t.Errorf("acknowledged client %s (task %s) lost: client found %v, task found %v", clientID, taskID, okC, okT)
		case str(tk, "target_id") != clientID:
			t.Errorf("task %s targets %q, want client %s", taskID, str(tk, "target_id"), clientID)
		case str(tk, "status") != "SUCCESS":
			t.Errorf("task %s of acknowledged client %s ended %s after %v attempts: %s", taskID, clientID, str(tk, "status"), tk.Attributes["attempts"], str(tk, "error"))
		case str(c, "status") != "active":
			t.Errorf("acknowledged client %s is %s", clientID, str(c, "status"))
		}
	}
	// Commits whose answer never arrived (PostgreSQL or hostdeck died between
	// the commit and the reply) may exist; whole, like the others.
	unacked := len(clients) - (len(acked) - lost)
	for _, q := range []struct{ what, sql string }{
		{"clients without their instance", `SELECT c.id FROM clients c WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = c.instance_id)`},
		{"clients without their create task", `SELECT c.id FROM clients c WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.kind = 'client.create' AND t.target_id = c.id)`},
		{"create tasks without their client", `SELECT t.id FROM tasks t WHERE t.kind = 'client.create' AND NOT EXISTS (SELECT 1 FROM clients c WHERE c.id = t.target_id)`},
		{"clients without their audit event", `SELECT c.id FROM clients c WHERE NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.action = 'client.create' AND a.target_id = c.id)`},
		{"clients not built", `SELECT c.id FROM clients c WHERE c.status <> 'active'`},
	} {
		if ids := queryIDs(t, pg.DSN, q.sql); len(ids) > 0 {
			t.Errorf("%d %s: %v", len(ids), q.what, ids)
		}
	}
	if strings.Contains(logs, "panic") {
		t.Errorf("hostdeck logged a panic:\n%s", logs)
	}
	codes := load.check(t, downAt, recoveredAt, killAt)
	if t.Failed() {
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, `"msg":"http request"`) && strings.Contains(line, `"status":5`) && !strings.Contains(line, `"status":503`) {
				t.Logf("hostdeck: %.600s", line)
			}
		}
	}
	t.Logf("reliability: acknowledged=%d lost=%d committed-unacknowledged=%d; PostgreSQL (%d processes) killed, down %s, hostdeck serving again %s after it was back (no restart); hostdeck killed, up again in %s, every task finished %s after that; answers %s",
		len(acked), lost, unacked, killed, upAt.Sub(downAt).Round(time.Millisecond), recoveredAt.Sub(upAt).Round(time.Millisecond),
		hostdeckUp.Round(time.Millisecond), settled.Round(time.Millisecond), codes)
}

// queryIDs runs a query returning one text column on dsn.
func queryIDs(t *testing.T, dsn, query string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return ids
}

// creates is a load of client creations sent by several goroutines until stopped,
// recording every answer and every acknowledged client.
type creates struct {
	base   string
	client *http.Client
	seq    atomic.Int64
	quit   chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	acked   map[string]string // client id → task id, of every 202
	answers []answer
	bad     []string // 202s that did not carry a task and a client
}

// answer is one request: when it was sent and answered, and its status (0: no
// HTTP answer at all).
type answer struct {
	sent, done time.Time
	code       int
	err        string
}

func startCreates(t *testing.T, base string, workers int) *creates {
	l := &creates{base: base, client: &http.Client{Timeout: 10 * time.Second}, quit: make(chan struct{}), acked: map[string]string{}}
	for range workers {
		l.wg.Go(func() {
			for {
				select {
				case <-l.quit:
					return
				default:
				}
				l.one()
			}
		})
	}
	t.Cleanup(l.stop)
	return l
}

func (l *creates) one() {
	n := l.seq.Add(1)
	body, _ := json.Marshal(map[string]any{"data": map[string]any{"type": "clients", "attributes": map[string]any{
		"name": fmt.Sprintf("pgcrash-%04d", n), "email": fmt.Sprintf("pgcrash%04d@example.test", n),
	}}})
	req, _ := http.NewRequest("POST", l.base+"/alfa/clients/create", bytes.NewReader(body))
	req.SetBasicAuth("admin", procAdminPassword)
	req.Header.Set("Content-Type", "application/vnd.api+json")
	a := answer{sent: time.Now()}
	resp, err := l.client.Do(req)
	var raw []byte
	if err == nil {
		raw, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		a.code = resp.StatusCode
	}
	a.done = time.Now()
	if err != nil {
		a.code, a.err = 0, err.Error()
	} else if a.code >= 300 {
		a.err = string(raw)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.answers = append(l.answers, a)
	if a.code != http.StatusAccepted {
		time.Sleep(10 * time.Millisecond) // a client backing off, not a busy loop
		return
	}
	var doc struct {
		Data     resource   `json:"data"`
		Included []resource `json:"included"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Data.Type != "tasks" || doc.Data.ID == "" ||
		len(doc.Included) != 1 || doc.Included[0].Type != "clients" || doc.Included[0].ID == "" {
		l.bad = append(l.bad, string(raw))
		return
	}
	l.acked[doc.Included[0].ID] = doc.Data.ID
}

func (l *creates) stop() {
	select {
	case <-l.quit:
	default:
		close(l.quit)
	}
	l.wg.Wait()
}

func (l *creates) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func (l *creates) ackedCopy() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]string, len(l.acked))
	for k, v := range l.acked {
		out[k] = v
	}
	return out
}

// waitAcked waits until n creations in all were acknowledged.
func (l *creates) waitAcked(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for l.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d creations acknowledged after %s, want %d", l.count(), timeout, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitAckAfter waits for the first acknowledgement of a request sent after since
// and returns when it was answered.
func (l *creates) waitAckAfter(t *testing.T, since time.Time, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		l.mu.Lock()
		var first time.Time
		for _, a := range l.answers {
			if a.code == http.StatusAccepted && !a.sent.Before(since) && (first.IsZero() || a.done.Before(first)) {
				first = a.done
			}
		}
		l.mu.Unlock()
		if !first.IsZero() {
			return first
		}
		if time.Now().After(deadline) {
			t.Fatalf("no creation acknowledged within %s of PostgreSQL being back", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// check holds the answers to the rules: a 202 carries its task and client;
// requests that met the outage (answered after downAt, sent before recoveredAt)
// got 202 or 503 (a database down is a dependency unavailable, never a 500); the
// others got 202, or no answer once hostdeck was killed
// at killAt. It returns the answers counted by status.
func (l *creates) check(t *testing.T, downAt, recoveredAt, killAt time.Time) string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, raw := range l.bad {
		t.Errorf("202 without a task and its client: %s", raw)
	}
	byCode := map[int]int{}
	for _, a := range l.answers {
		byCode[a.code]++
		outage := a.done.After(downAt) && a.sent.Before(recoveredAt)
		switch {
		case a.code == http.StatusAccepted:
		case outage && a.code == http.StatusServiceUnavailable:
		case a.code == 0 && !a.done.Before(killAt):
		default:
			t.Errorf("answer %d (outage %v) to a request sent %s after PostgreSQL was killed: %s", a.code, outage, a.sent.Sub(downAt).Round(time.Millisecond), a.err)
		}
	}
	codes := make([]int, 0, len(byCode))
	for c := range byCode {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		name := fmt.Sprint(c)
		if c == 0 {
			name = "none"
		}
		parts[i] = fmt.Sprintf("%s×%d", name, byCode[c])
	}
	return strings.Join(parts, " ")
}
