package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// These tests drive the client verbs against fakeAlfa, a test double of the alfa
// face serving canned JSON:API documents, until the real face can be started in
// tests instead.

const (
	cliTestUser     = "ops"
	cliTestPassword = "s3cret"
)

// fakeAlfa records requests and answers them from routes ("GET /alfa/servers").
type fakeAlfa struct {
	t      testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	reqs   []fakeRequest
}

type fakeRequest struct {
	Method, Path, Query string
	User, Password      string
	HasAuth             bool
	ContentType         string
	Body                []byte
}

func newFakeAlfa(t testing.TB) *fakeAlfa {
	t.Helper()
	f := &fakeAlfa{t: t, routes: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		user, pw, ok := r.BasicAuth()
		f.mu.Lock()
		f.reqs = append(f.reqs, fakeRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			User: user, Password: pw, HasAuth: ok, ContentType: r.Header.Get("Content-Type"), Body: body})
		h := f.routes[r.Method+" "+r.URL.Path]
		f.mu.Unlock()
		if h == nil {
			writeDoc(w, http.StatusNotFound, `{"errors":[{"status":"404","title":"Not Found","detail":"no route `+r.URL.Path+`"}]}`)
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAlfa) handle(route string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[route] = h
}

// answer serves a fixed document with a status.
func (f *fakeAlfa) answer(route string, status int, doc string) {
	f.handle(route, func(w http.ResponseWriter, _ *http.Request) { writeDoc(w, status, doc) })
}

func (f *fakeAlfa) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.reqs...)
}

func writeDoc(w http.ResponseWriter, status int, doc string) {
	w.Header().Set("Content-Type", jsonAPIMedia)
	w.WriteHeader(status)
	io.WriteString(w, doc)
}

// cliRun runs `hostdeck args...` with the client verbs wired to the given server
// URL and environment, returning stdout, stderr and the error Execute returned.
func cliRun(t testing.TB, server string, vars map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	if vars == nil {
		vars = map[string]string{"HOSTDECK_USER": cliTestUser, "HOSTDECK_PASSWORD": cliTestPassword}
	}
	if server != "" {
		vars["HOSTDECK_SERVER"] = server
	}
	env := cliEnv{
		getenv:   func(k string) string { return vars[k] },
		http:     &http.Client{Timeout: 10 * time.Second},
		poll:     time.Millisecond,
		terminal: func(io.Writer) bool { return false },
	}
	return cliRunEnv(t, env, args...)
}

func cliRunEnv(t testing.TB, env cliEnv, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := &cobra.Command{Use: "hostdeck", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(serversCmd(env), clientsCmd(env), tasksCmd(env))
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errb.String(), err
}

// cliLines splits output into lines with runs of spaces collapsed, so table
// assertions do not depend on column widths.
func cliLines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return out
}

func wantLines(t testing.TB, got string, want ...string) {
	t.Helper()
	g := cliLines(got)
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant (spaces collapsed):\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

const serverA = `{"type":"servers","id":"srv-a","attributes":{"name":"alpha","address":"unix:///var/run/docker.sock","runtime":"docker","capacity":20,"location":"fra1","status":"active","created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}}`
const serverB = `{"type":"servers","id":"srv-b","attributes":{"name":"beta","address":"","runtime":"sim","capacity":5,"location":"","status":"disabled","created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}}`
const serverC = `{"type":"servers","id":"srv-c","attributes":{"name":"gamma","address":"10.0.0.3","runtime":"sim","capacity":7,"location":"ams","status":"active","created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}}`

func TestCLIServersListTable(t *testing.T) {
	f := newFakeAlfa(t)
	f.answer("GET /alfa/servers", 200, `{"data":[`+serverA+`,`+serverB+`],"links":{"next":null}}`)
	out, _, err := cliRun(t, f.srv.URL, nil, "servers", "list")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out,
		"ID NAME ADDRESS RUNTIME CAPACITY LOCATION STATUS",
		"srv-a alpha unix:///var/run/docker.sock docker 20 fra1 active",
		"srv-b beta - sim 5 - disabled",
	)
	// The table is aligned: every row's second column starts where the header's does.
	lines := strings.Split(out, "\n")
	col := strings.Index(lines[0], "NAME")
	for _, l := range lines[1:3] {
		if l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("row %q not aligned under NAME at %d", l, col)
		}
	}
	r := f.requests()[0]
	if !r.HasAuth || r.User != cliTestUser || r.Password != cliTestPassword {
		t.Errorf("auth = %v %q %q, want basic %q", r.HasAuth, r.User, r.Password, cliTestUser)
	}
}

func TestCLIServersListFollowsNext(t *testing.T) {
	f := newFakeAlfa(t)
	f.handle("GET /alfa/servers", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page[number]") {
		case "":
			// An absolute link, as a server would send.
			writeDoc(w, 200, `{"data":[`+serverA+`],"links":{"next":"`+f.srv.URL+`/alfa/servers?page[number]=2&page[size]=1"}}`)
		case "2":
			// A relative link object.
			writeDoc(w, 200, `{"data":[`+serverB+`],"links":{"next":{"href":"/alfa/servers?page[number]=3&page[size]=1"}}}`)
		case "3":
			writeDoc(w, 200, `{"data":[`+serverC+`],"links":{"self":"/alfa/servers?page[number]=3&page[size]=1"}}`)
		default:
			t.Errorf("unexpected page %q", r.URL.RawQuery)
		}
	})
	out, _, err := cliRun(t, f.srv.URL, nil, "servers", "list")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(cliLines(out)); got != 4 {
		t.Errorf("got %d lines, want header and 3 servers:\n%s", got, out)
	}
	for _, id := range []string{"srv-a", "srv-b", "srv-c"} {
		if !strings.Contains(out, id) {
			t.Errorf("%s missing from:\n%s", id, out)
		}
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}

	// --json prints all pages as one array.
	out, _, err = cliRun(t, f.srv.URL, nil, "servers", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rs []apiResource
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 3 {
		t.Errorf("--json: %d resources, err %v:\n%s", len(rs), err, out)
	}
}

func TestCLIServersListOnePage(t *testing.T) {
	f := newFakeAlfa(t)
	f.answer("GET /alfa/servers", 200, `{"data":[`+serverB+`],"links":{"next":"/alfa/servers?page[number]=3&page[size]=1"}}`)
	if _, _, err := cliRun(t, f.srv.URL, nil, "servers", "list", "--page", "2", "--size", "1"); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1 (no following with --page)", len(reqs))
	}
	if q := reqs[0].Query; q != "page%5Bnumber%5D=2&page%5Bsize%5D=1" {
		t.Errorf("query = %q", q)
	}
}

func TestCLIServersShow(t *testing.T) {
	f := newFakeAlfa(t)
	f.answer("GET /alfa/servers/srv-a", 200, `{"data":{"type":"servers","id":"srv-a","attributes":{"name":"alpha","address":"","runtime":"sim","capacity":20,"location":"fra1","status":"active","created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z",
		"load":{"reachable":true,"cpu_percent":12.5,"memory_used":1073741824,"memory_total":8589934592,"instances":3,"capacity":20,"clients":2,"last_heartbeat":"2026-01-02T03:05:00Z","checked_at":"2026-01-02T03:05:01Z"}}}}`)
	out, _, err := cliRun(t, f.srv.URL, nil, "servers", "show", "srv-a")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out,
		"id srv-a",
		"name alpha",
		"address -",
		"runtime sim",
		"capacity 20",
		"location fra1",
		"status active",
		"created_at 2026-01-02T03:04:05Z",
		"updated_at 2026-01-02T03:04:05Z",
		"load.reachable yes",
		"load.cpu_percent 12.5",
		"load.memory_used 1.0 GiB",
		"load.memory_total 8.0 GiB",
		"load.instances 3",
		"load.capacity 20",
		"load.clients 2",
		"load.last_heartbeat 2026-01-02T03:05:00Z",
		"load.checked_at 2026-01-02T03:05:01Z",
	)

	// --json keeps numbers exact and the server's own order.
	out, _, err = cliRun(t, f.srv.URL, nil, "servers", "show", "srv-a", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "{\n  \"type\": \"servers\",\n  \"id\": \"srv-a\",") || !strings.Contains(out, `"memory_total": 8589934592`) {
		t.Errorf("--json output:\n%s", out)
	}
}

func TestCLIServersCreate(t *testing.T) {
	f := newFakeAlfa(t)
	f.answer("POST /alfa/servers/create", 201, `{"data":`+serverC+`}`)
	out, _, err := cliRun(t, f.srv.URL, nil, "servers", "create", "--name", "gamma", "--address", "10.0.0.3", "--runtime", "sim", "--capacity", "7")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cliLines(out)[0], "id srv-c") {
		t.Errorf("output:\n%s", out)
	}
	r := f.requests()[0]
	if r.ContentType != jsonAPIMedia {
		t.Errorf("Content-Type = %q", r.ContentType)
	}
	if r.User != cliTestUser || r.Password != cliTestPassword {
		t.Errorf("auth = %q %q", r.User, r.Password)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	// Only the flags given are sent; --location was not.
	want := map[string]any{"data": map[string]any{"type": "servers", "attributes": map[string]any{
		"name": "gamma", "address": "10.0.0.3", "runtime": "sim", "capacity": 7.0}}}
	if fmt.Sprint(body) != fmt.Sprint(want) {
		t.Errorf("body = %v\nwant %v", body, want)
	}

	// --name is required, and checked before any request.
	if _, _, err := cliRun(t, f.srv.URL, nil, "servers", "create"); err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("without --name: %v", err)
	}
}

const clientOne = `{"type":"clients","id":"cl-1","attributes":{"name":"acme","email":"ops@acme.test","phone":"","lang":"en","status":"active","server_id":"srv-a","expire_date":"2026-12-31","demo":false,"url":"https://acme.example","available":true,"owner_login":"owner","created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}}`
const clientTwo = `{"type":"clients","id":"cl-2","attributes":{"name":"globex","email":"it@globex.test","phone":"+100","lang":"ru","status":"creating","server_id":"srv-a","expire_date":null,"demo":true,"url":"","available":false,"owner_login":"owner","created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}}`

func TestCLIClientsList(t *testing.T) {
	f := newFakeAlfa(t)
	f.answer("GET /alfa/clients", 200, `{"data":[`+clientOne+`,`+clientTwo+`],"links":{}}`)
	out, _, err := cliRun(t, f.srv.URL, nil, "clients", "list", "--server-id", "srv-a", "--status", "active")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out,
		"ID NAME EMAIL STATUS SERVER_ID AVAILABLE URL EXPIRE_DATE",
		"cl-1 acme ops@acme.test active srv-a yes https://acme.example 2026-12-31",
		"cl-2 globex it@globex.test creating srv-a no - -",
	)
	if q := f.requests()[0].Query; q != "filter%5Bserver_id%5D=srv-a&filter%5Bstatus%5D=active" {
		t.Errorf("query = %q", q)
	}
}

func TestCLIClientsShow(t *testing.T) {
	f := newFakeAlfa(t)
	f.answer("GET /alfa/clients/cl-2", 200, `{"data":`+clientTwo+`}`)
	out, _, err := cliRun(t, f.srv.URL, nil, "clients", "show", "cl-2")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out,
		"id cl-2",
		"name globex",
		"email it@globex.test",
		"phone +100",
		"lang ru",
		"status creating",
		"server_id srv-a",
		"expire_date -",
		"demo yes",
		"url -",
		"available no",
		"owner_login owner",
		"created_at 2026-01-02T03:04:05Z",
		"updated_at 2026-01-02T03:04:05Z",
	)
}

// taskDoc is a tasks resource document.
func taskDoc(id, status string, progress int, message, errMsg string) string {
	attrs, _ := json.Marshal(map[string]any{"kind": "client.create", "status": status, "progress": progress,
		"message": message, "error": errMsg, "attempts": 1, "creator": "ops", "target_type": "clients", "target_id": "cl-9",
		"created_at": "2026-01-02T03:04:05Z"})
	return `{"data":{"type":"tasks","id":"` + id + `","attributes":` + string(attrs) + `}}`
}

// taskScript serves GET /alfa/tasks/{id} from a list of documents, repeating the
// last; a document "503" is answered as a server that is restarting.
func taskScript(f *fakeAlfa, id string, docs ...string) {
	var mu sync.Mutex
	i := 0
	f.handle("GET /alfa/tasks/"+id, func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		d := docs[min(i, len(docs)-1)]
		i++
		mu.Unlock()
		if d == "503" {
			writeDoc(w, 503, `{"errors":[{"status":"503","title":"Unavailable"}]}`)
			return
		}
		writeDoc(w, 200, d)
	})
}

func TestCLIClientsCreate(t *testing.T) {
	f := newFakeAlfa(t)
	created := strings.TrimSuffix(taskDoc("t-9", "PENDING", 0, "", ""), "}") +
		`,"included":[{"type":"clients","id":"cl-9","attributes":{"name":"initech","status":"creating"}}]}`
	f.answer("POST /alfa/clients/create", 202, created)
	taskScript(f, "t-9",
		taskDoc("t-9", "STARTED", 30, "building", ""),
		taskDoc("t-9", "STARTED", 80, "starting", ""),
		taskDoc("t-9", "SUCCESS", 100, "ready", ""))

	out, stderr, err := cliRun(t, f.srv.URL, nil, "clients", "create", "--name", "initech", "--email", "it@initech.test",
		"--expire-date", "2027-01-31", "--lang", "ru", "--wait")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out, "client cl-9", "task t-9", "task t-9 SUCCESS: ready")
	if !strings.Contains(stderr, "80% starting") {
		t.Errorf("stderr has no progress lines:\n%s", stderr)
	}
	r := f.requests()[0]
	if r.Method != "POST" || r.Path != "/alfa/clients/create" || r.ContentType != jsonAPIMedia {
		t.Errorf("request %s %s %s", r.Method, r.Path, r.ContentType)
	}
	if r.User != cliTestUser || r.Password != cliTestPassword {
		t.Errorf("auth = %q %q", r.User, r.Password)
	}
	var body struct {
		Data struct {
			Type       string            `json:"type"`
			Attributes map[string]string `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"name": "initech", "email": "it@initech.test", "expire_date": "2027-01-31", "lang": "ru"}
	if body.Data.Type != "clients" || fmt.Sprint(body.Data.Attributes) != fmt.Sprint(want) {
		t.Errorf("body = %s", r.Body)
	}

	// Without --wait: ids only, no polling.
	before := len(f.requests())
	out, _, err = cliRun(t, f.srv.URL, nil, "clients", "create", "--name", "initech", "--email", "it@initech.test")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out, "client cl-9", "task t-9")
	if n := len(f.requests()) - before; n != 1 {
		t.Errorf("%d requests without --wait, want 1", n)
	}

	// --json: one document, the task and the included client.
	out, _, err = cliRun(t, f.srv.URL, nil, "clients", "create", "--name", "initech", "--email", "it@initech.test", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Data     apiResource   `json:"data"`
		Included []apiResource `json:"included"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Data.ID != "t-9" || len(doc.Included) != 1 || doc.Included[0].ID != "cl-9" {
		t.Errorf("--json output (err %v):\n%s", err, out)
	}

	// Bad dates are refused before any request.
	before = len(f.requests())
	if _, _, err := cliRun(t, f.srv.URL, nil, "clients", "create", "--name", "x", "--email", "x@y", "--expire-date", "31.12.2026"); err == nil {
		t.Error("bad --expire-date accepted")
	}
	if len(f.requests()) != before {
		t.Error("request sent for a bad --expire-date")
	}
}

func TestCLIClientsRebootDelete(t *testing.T) {
	f := newFakeAlfa(t)
	f.answer("POST /alfa/clients/cl-1/reboot", 202, taskDoc("t-r", "PENDING", 0, "", ""))
	f.answer("DELETE /alfa/clients/cl-1/delete", 202, taskDoc("t-d", "PENDING", 0, "", ""))
	taskScript(f, "t-d", taskDoc("t-d", "STARTED", 50, "removing", ""), taskDoc("t-d", "SUCCESS", 100, "", ""))

	out, _, err := cliRun(t, f.srv.URL, nil, "clients", "reboot", "cl-1")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out, "task t-r")

	out, _, err = cliRun(t, f.srv.URL, nil, "clients", "delete", "cl-1", "--wait")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out, "task t-d", "task t-d SUCCESS")
}

func TestCLITasksList(t *testing.T) {
	f := newFakeAlfa(t)
	f.answer("GET /alfa/tasks", 200, `{"data":[`+strings.TrimSuffix(strings.TrimPrefix(taskDoc("t-1", "STARTED", 40, "copying", ""), `{"data":`), "}")+`]}`)
	out, _, err := cliRun(t, f.srv.URL, nil, "tasks", "list", "--status", "STARTED", "--kind", "client.create")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out,
		"ID KIND STATUS PROGRESS TARGET CREATOR CREATED_AT MESSAGE",
		"t-1 client.create STARTED 40% clients/cl-9 ops 2026-01-02T03:04:05Z copying",
	)
	if q := f.requests()[0].Query; q != "filter%5Bkind%5D=client.create&filter%5Bstatus%5D=STARTED" {
		t.Errorf("query = %q", q)
	}
}

func TestCLITasksShowJSON(t *testing.T) {
	f := newFakeAlfa(t)
	f.answer("GET /alfa/tasks/t-1", 200, taskDoc("t-1", "FAILURE", 60, "", "image not found"))
	out, _, err := cliRun(t, f.srv.URL, nil, "tasks", "show", "t-1", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r apiResource
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Type != "tasks" || r.Attributes["error"] != "image not found" {
		t.Errorf("--json output (err %v):\n%s", err, out)
	}
	if !strings.Contains(out, "\n  \"attributes\": {\n") {
		t.Errorf("--json output not indented:\n%s", out)
	}
	out, _, err = cliRun(t, f.srv.URL, nil, "tasks", "show", "t-1")
	if err != nil {
		t.Fatal(err)
	}
	if l := cliLines(out); l[0] != "id t-1" || l[1] != "kind client.create" || l[2] != "status FAILURE" || !strings.Contains(out, "error") {
		t.Errorf("output:\n%s", out)
	}
}

func TestCLITasksWait(t *testing.T) {
	for _, tc := range []struct {
		name      string
		script    []string
		wantErr   string // empty: success
		wantOut   string
		wantPolls int
	}{
		{
			name: "success",
			script: []string{taskDoc("t", "PENDING", 0, "", ""), taskDoc("t", "STARTED", 50, "half", ""), "503",
				taskDoc("t", "RETRY", 50, "again", ""), taskDoc("t", "SUCCESS", 100, "done", "")},
			wantOut:   "task t SUCCESS: done",
			wantPolls: 5,
		},
		{
			name:      "failure",
			script:    []string{taskDoc("t", "STARTED", 10, "", ""), taskDoc("t", "FAILURE", 10, "", "runtime unreachable")},
			wantErr:   "task t FAILURE: runtime unreachable",
			wantPolls: 2,
		},
		{
			name:      "not found",
			script:    []string{`{"errors":[{"status":"404","title":"Not Found","detail":"no task t"}]}`},
			wantErr:   "404 Not Found: no task t",
			wantPolls: 1,
		},
		{
			name:      "revoked",
			script:    []string{taskDoc("t", "REVOKED", 0, "", "")},
			wantErr:   "task t REVOKED: no error given",
			wantPolls: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAlfa(t)
			taskScript(f, "t", tc.script...)
			out, _, err := cliRun(t, f.srv.URL, nil, "tasks", "wait", "t")
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				wantLines(t, out, tc.wantOut)
			} else {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
			}
			if n := len(f.requests()); n != tc.wantPolls {
				t.Errorf("%d polls, want %d", n, tc.wantPolls)
			}
		})
	}
}

func TestCLITasksWaitTimeout(t *testing.T) {
	f := newFakeAlfa(t)
	taskScript(f, "t", taskDoc("t", "STARTED", 20, "slow", ""))
	_, _, err := cliRun(t, f.srv.URL, nil, "tasks", "wait", "t", "--timeout", "50ms")
	if err == nil || !strings.Contains(err.Error(), "did not finish within 50ms (last STARTED 20%)") {
		t.Errorf("err = %v", err)
	}
}

func TestCLITasksWaitProgressBar(t *testing.T) {
	f := newFakeAlfa(t)
	taskScript(f, "t", taskDoc("t", "STARTED", 50, "half", ""), taskDoc("t", "SUCCESS", 100, "done", ""))
	env := cliEnv{
		getenv:   func(k string) string { return map[string]string{"HOSTDECK_SERVER": f.srv.URL}[k] },
		http:     http.DefaultClient,
		poll:     time.Millisecond,
		terminal: func(io.Writer) bool { return true },
	}
	out, stderr, err := cliRunEnv(t, env, "tasks", "wait", "t")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out, "task t SUCCESS: done")
	if !strings.Contains(stderr, "100%") {
		t.Errorf("no bar at 100%% on stderr: %q", stderr)
	}
}

func TestCLIErrorDocument(t *testing.T) {
	f := newFakeAlfa(t)
	f.answer("POST /alfa/clients/create", 422, `{"errors":[
		{"status":"422","title":"Invalid","detail":"email is not an e-mail address","source":{"pointer":"/data/attributes/email"}},
		{"status":"422","title":"Invalid","detail":"name is required"}]}`)
	_, _, err := cliRun(t, f.srv.URL, nil, "clients", "create", "--name", "x", "--email", "nope")
	var ae *apiError
	if !errors.As(err, &ae) || ae.HTTPStatus != 422 {
		t.Fatalf("err = %#v", err)
	}
	// main prefixes the first line with "hostdeck: ".
	want := "422 Invalid: email is not an e-mail address\nhostdeck: 422 Invalid: name is required"
	if err.Error() != want {
		t.Errorf("err =\n%s\nwant\n%s", err, want)
	}

	// A 404 from an unknown id, and one that is not JSON:API at all.
	_, _, err = cliRun(t, f.srv.URL, nil, "servers", "show", "nope")
	if err == nil || err.Error() != "404 Not Found: no route /alfa/servers/nope" {
		t.Errorf("err = %v", err)
	}
	f.handle("GET /alfa/tasks", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream down", http.StatusBadGateway)
	})
	_, _, err = cliRun(t, f.srv.URL, nil, "tasks", "list")
	if err == nil || err.Error() != "502 Bad Gateway: upstream down" {
		t.Errorf("err = %v", err)
	}
}

func TestCLICredentials(t *testing.T) {
	f := newFakeAlfa(t)
	f.handle("GET /alfa/servers", func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := r.BasicAuth(); !ok {
			writeDoc(w, 401, `{"errors":[{"status":"401","title":"Unauthorized","detail":"credentials required"}]}`)
			return
		}
		writeDoc(w, 200, `{"data":[]}`)
	})
	// The admin pair is the fallback, with the admin's default name.
	if _, _, err := cliRun(t, f.srv.URL, map[string]string{"HOSTDECK_ADMIN_PASSWORD": "adm"}, "servers", "list"); err != nil {
		t.Fatal(err)
	}
	if r := f.requests()[0]; r.User != "admin" || r.Password != "adm" {
		t.Errorf("auth = %q %q, want admin adm", r.User, r.Password)
	}
	_, _, err := cliRun(t, f.srv.URL, map[string]string{}, "servers", "list")
	want := "401 Unauthorized: credentials required\nhostdeck: no credentials: set HOSTDECK_USER and HOSTDECK_PASSWORD"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v", err)
	}
}

func TestCLIConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	// --server wins over HOSTDECK_SERVER.
	_, _, err = cliRun(t, "http://127.0.0.1:1", nil, "servers", "list", "--server", url+"/")
	if err == nil || !strings.Contains(err.Error(), "cannot reach hostdeck at "+url+":") {
		t.Errorf("err = %v", err)
	}
}

func TestCLIUnknownVerb(t *testing.T) {
	_, _, err := cliRun(t, "http://127.0.0.1:1", nil, "clients", "lst")
	if err == nil || !strings.Contains(err.Error(), `unknown command "lst"`) {
		t.Errorf("err = %v", err)
	}
}
