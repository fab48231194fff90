package broker_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/broker"
	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/handout"
	"hostdeck/core/desktop/session"
	"hostdeck/core/identity"
	"hostdeck/internal/testenv"
)

// The seeded catalogue's small flavor and sample image.
const (
	flavorSmall = "0a7e5c1d-7f3b-4c2a-9d10-000000000001"
	imageSample = "1b8f6d2e-8a4c-4d3b-8e21-000000000001"
)

type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// start serves the broker under /broker/ and returns the env and the base URL.
func start(tb testing.TB) (*testenv.Env, string) {
	tb.Helper()
	env := testenv.New(tb)
	h := broker.NewHandler(env.HandOut, env.Machine, env.Login, broker.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	mux := http.NewServeMux()
	mux.Handle("/broker/", http.StripPrefix("/broker", h))
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return env, srv.URL + "/broker"
}

// client keeps a connection per concurrent user, as separate clients would
// (http.DefaultClient keeps two per host and dials anew for the rest).
var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}}

func post(tb testing.TB, url, body string, hdr ...string) *response {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	r := &response{status: resp.StatusCode, header: resp.Header}
	r.raw, _ = io.ReadAll(resp.Body)
	_ = json.Unmarshal(r.raw, &r.body)
	return r
}

// code returns the TRS error code of r (0 when r is not an error).
func (r *response) code() int {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(float64)
	if r.status != http.StatusBadRequest {
		return 0
	}
	return int(c)
}

// project creates a TRS project with users member of it (password name+"-password").
func project(tb testing.TB, env *testenv.Env, name string, mode, quota int, users ...string) *desktop.Pool {
	tb.Helper()
	ctx := env.AdminCtx()
	fl, im := flavorSmall, imageSample
	p, err := env.Desktop.CreatePool(ctx, desktop.PoolInput{Name: &name, FlavorID: &fl, ImageID: &im, OperationMode: &mode, MaxInstances: &quota})
	if err != nil {
		tb.Fatal(err)
	}
	for _, u := range users {
		pw := u + "-password"
		usr, err := env.Identity.CreateUser(ctx, identity.UserInput{Name: &u, Password: &pw})
		if err != nil {
			tb.Fatal(err)
		}
		if err := env.Identity.GrantProjectRole(ctx, p.ID, usr.ID, core.RoleMember); err != nil {
			tb.Fatal(err)
		}
	}
	return p
}

func loginBody(user string) string {
	return `{"user": "` + user + `", "password": "` + user + `-password", "user_domain_name": "default"}`
}

// handOut requests a machine as user and polls get-vm until it is completed.
func handOut(tb testing.TB, base, user string, poll time.Duration) map[string]any {
	tb.Helper()
	r := post(tb, base+"/v1/request-vm/", loginBody(user))
	id, _ := r.body["request_id"].(string)
	tok := r.header.Get("X-Auth-Token")
	if r.status != http.StatusOK || id == "" || tok == "" {
		tb.Fatalf("request-vm: %d %s", r.status, r.raw)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		g := post(tb, base+"/v1/get-vm/", `{"request": "`+id+`"}`, "Authorization", "Bearer "+tok)
		if g.status != http.StatusOK {
			tb.Fatalf("get-vm: %d %s", g.status, g.raw)
		}
		switch g.body["status"] {
		case handout.RequestCompleted:
			return g.body
		}
		if time.Now().After(deadline) {
			tb.Fatalf("request %s still %s", id, g.raw)
		}
		time.Sleep(poll)
	}
}

func TestBroker(t *testing.T) {
	env, base := start(t)
	env.Server(t, "node-1", 10)
	project(t, env, "trs_project1", desktop.ModeStandard, 2, "trs", "other")

	got := handOut(t, base, "trs", 10*time.Millisecond)
	srv, _ := got["server"].(map[string]any)
	if srv == nil || srv["status"] != "ACTIVE" || srv["vm_state"] != "active" || srv["ip"] == "" || srv["id"] == "" ||
		srv["task_state"] != nil || got["message"] != nil {
		t.Fatalf("get-vm = %v", got)
	}
	again := handOut(t, base, "trs", 10*time.Millisecond)
	if again["server"].(map[string]any)["id"] != srv["id"] {
		t.Fatalf("second hand-out = %v, first %v", again, got)
	}
	_, n, err := env.Session.ListSessions(env.AdminCtx(), session.SessionFilter{})
	if err != nil || n != 2 {
		t.Fatalf("sessions = %d, %v", n, err)
	}

	// Errors: bad body, wrong password, foreign and unknown request ids, no token.
	if c := post(t, base+"/v1/request-vm/", `{"user": `).code(); c != 9 {
		t.Fatalf("bad body: code %d", c)
	}
	if c := post(t, base+"/v1/request-vm/", `{"user": "trs", "password": "wrong-password", "user_domain_name": "default"}`).code(); c != 6 {
		t.Fatalf("wrong password: code %d", c)
	}
	mine := post(t, base+"/v1/request-vm/", loginBody("trs"))
	other := post(t, base+"/v1/request-vm/", loginBody("other"))
	foreign := post(t, base+"/v1/get-vm/", `{"request": "`+other.body["request_id"].(string)+`"}`, "X-Auth-Token", mine.header.Get("X-Auth-Token"))
	if c := foreign.code(); c != 11 {
		t.Fatalf("foreign request: code %d %s", c, foreign.raw)
	}
	if c := post(t, base+"/v1/get-vm/", `{"request": "req-48a56205-f4b5-4c05-8c64-30342a7e1cee"}`, "Authorization", "Bearer "+mine.header.Get("X-Auth-Token")).code(); c != 10 {
		t.Fatalf("unknown request: code %d", c)
	}
	if c := post(t, base+"/v1/get-vm/", `{"request": "x"}`).code(); c != 24 {
		t.Fatalf("no token: code %d", c)
	}
	if c := post(t, base+"/v1/request-vm/", `{"user": "trs", "password": "trs-password", "auth_tenant": "none"}`).code(); c != 5 {
		t.Fatalf("unknown project: code %d", c)
	}

	// Projects, leaving a machine, changing the password.
	p := post(t, base+"/v1/get-projects/", loginBody("trs"))
	if names, _ := p.body["projects"].([]any); len(names) != 1 || names[0] != "trs_project1" {
		t.Fatalf("get-projects = %s", p.raw)
	}
	rm := post(t, base+"/v1/server-remove-user/", `{"user": "trs", "password": "trs-password", "user_domain_name": "default", "instance_id": "`+srv["id"].(string)+`"}`)
	if msg, _ := rm.body["message"].(string); rm.status != http.StatusOK || msg == "" {
		t.Fatalf("server-remove-user = %s", rm.raw)
	}
	cp := post(t, base+"/v1/change-password/", `{"user": "trs", "user_domain_name": "default", "password": "trs-password", "new_password": "Qdr4H2d5bn01"}`)
	if cp.status != http.StatusOK || cp.body["message"] != "Password successfully changed for user 'trs'" {
		t.Fatalf("change-password = %s", cp.raw)
	}
	if c := post(t, base+"/v1/get-projects/", loginBody("trs")).code(); c != 6 {
		t.Fatalf("old password: code %d", c)
	}
}

// BenchmarkHandOut hands machines of a warm pool to 100 concurrent users (mode
// 1, sim with no delay; HANDOUT_USERS sets another number): each requests a
// machine and polls until it is completed. Each round is followed by the same
// client code against the anchor, a server replaying the bytes of a completed
// hand-out (request-vm's answer and token, then get-vm's). It reports the 99th
// percentile of both, and their ratio, and fails if a machine is given to two
// users.
func BenchmarkHandOut(b *testing.B) {
	users := 100
	if n, err := strconv.Atoi(os.Getenv("HANDOUT_USERS")); err == nil {
		users = n
	}
	env, base := start(b)
	env.Server(b, "node-1", 2*users+1)
	names := make([]string, users)
	for i := range names {
		names[i] = fmt.Sprintf("user%03d", i)
	}
	p := project(b, env, "bench", desktop.ModeStandard, 0, append(names, "anchor")...)
	ctx := env.AdminCtx()
	created, err := env.Provision.CreateMachines(ctx, p.ID, users, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	spare, err := env.Provision.CreateMachines(ctx, p.ID, 1, nil, nil) // the anchor's
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range append(created.Tasks, spare.Tasks...) {
		if got := env.WaitTask(b, t.ID); got.Status != core.TaskSuccess {
			b.Fatalf("warm pool: %s", got.Error)
		}
	}
	anchor := replayHandOut(b, base, "anchor")
	round := func(base string) []time.Duration {
		lat := make([]time.Duration, users)
		got := make([]string, users)
		var wg sync.WaitGroup
		for i, name := range names {
			wg.Go(func() {
				t0 := time.Now()
				res := handOut(b, base, name, 5*time.Millisecond)
				lat[i] = time.Since(t0)
				got[i], _ = res["server"].(map[string]any)["id"].(string)
			})
		}
		wg.Wait()
		if base == anchor {
			return lat
		}
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				b.Fatalf("machine %s given to two users", id)
			}
			seen[id] = true
		}
		return lat
	}
	var all, replayed []time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		for _, m := range created.Machines {
			if _, err := env.Machine.UpdateMachine(ctx, m.ID, &[]string{}, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		all = append(all, round(base)...)
		b.StopTimer()
		replayed = append(replayed, round(anchor)...)
		b.StartTimer()
	}
	p99 := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)*99/100].Microseconds()) / 1000
	}
	hd, an := p99(all), p99(replayed)
	b.ReportMetric(hd, "p99-ms")
	b.ReportMetric(an, "anchor-p99-ms")
	b.ReportMetric(hd/an, "ratio")
}

// replayHandOut hands user a machine through base and returns the URL of a
// server that answers request-vm and get-vm with the bytes (and the token)
// that hand-out answered, from memory.
func replayHandOut(tb testing.TB, base, user string) string {
	tb.Helper()
	req := post(tb, base+"/v1/request-vm/", loginBody(user))
	id, _ := req.body["request_id"].(string)
	var done *response
	for done == nil || done.body["status"] != handout.RequestCompleted {
		done = post(tb, base+"/v1/get-vm/", `{"request": "`+id+`"}`, "Authorization", "Bearer "+req.header.Get("X-Auth-Token"))
		time.Sleep(5 * time.Millisecond)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		body := done.raw
		if r.URL.Path == "/v1/request-vm/" {
			w.Header().Set("X-Auth-Token", req.header.Get("X-Auth-Token"))
			body = req.raw
		}
		w.Write(body)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL
}
