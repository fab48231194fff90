package docker

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"hostdeck/core"
)

// fakeEngine answers the network calls of the Engine API from a script, so that
// the paths the local engine does not take can be tested: an engine that refuses
// a duplicate name (API 1.44 on), and a network made twice elsewhere.
type fakeEngine struct {
	mu       sync.Mutex
	networks []map[string]any // what GET /networks lists
	onCreate func(name string) (status int, body map[string]any)
	creates  int
	removed  []string
}

var apiPrefix = regexp.MustCompile(`^/v1\.[0-9]+`)

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := apiPrefix.ReplaceAllString(r.URL.Path, "")
	w.Header().Set("API-Version", "1.47")
	w.Header().Set("Content-Type", "application/json")
	reply := func(status int, v any) {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	switch {
	case path == "/_ping":
		w.Write([]byte("OK"))
	case r.Method == http.MethodGet && path == "/networks":
		reply(http.StatusOK, f.networks)
	case r.Method == http.MethodPost && path == "/networks/create":
		var req struct {
			Name   string
			Labels map[string]string
		}
		json.NewDecoder(r.Body).Decode(&req)
		f.creates++
		status, body := f.onCreate(req.Name)
		reply(status, body)
	case r.Method == http.MethodDelete && strings.HasPrefix(path, "/networks/"):
		f.removed = append(f.removed, strings.TrimPrefix(path, "/networks/"))
		w.WriteHeader(http.StatusNoContent)
	default:
		reply(http.StatusNotFound, map[string]string{"message": "no such route " + r.Method + " " + path})
	}
}

func fakeNetwork(name, id string, created time.Time, ours bool) map[string]any {
	labels := map[string]string{}
	if ours {
		labels[LabelNetwork] = name
	}
	return map[string]any{"Name": name, "Id": id, "Created": created.Format(time.RFC3339Nano), "Driver": "bridge", "Labels": labels}
}

func startFake(t *testing.T, f *fakeEngine) (*Docker, *core.Server) {
	t.Helper()
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	d := New(Options{})
	t.Cleanup(func() { d.Close() })
	return d, &core.Server{ID: "fake", Address: "tcp://" + strings.TrimPrefix(ts.URL, "http://")}
}

func TestEnsureNetworkFake(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const name = "hostdeck-trs-p1"

	t.Run("conflict means made already", func(t *testing.T) {
		f := &fakeEngine{}
		f.onCreate = func(n string) (int, map[string]any) {
			// Another replica made it between our look and our create.
			f.networks = append(f.networks, fakeNetwork(n, "theirs", t0, true))
			return http.StatusConflict, map[string]any{"message": "network with name " + n + " already exists"}
		}
		d, srv := startFake(t, f)
		cli, _ := d.Client(srv)
		id, err := d.ensureNetwork(ctx, srv, cli, name)
		if err != nil || id != "theirs" || f.creates != 1 || len(f.removed) != 0 {
			t.Fatalf("ensure = %q %v (creates %d, removed %v)", id, err, f.creates, f.removed)
		}
		// Found from then on, not made again.
		if id, err := d.ensureNetwork(ctx, srv, cli, name); err != nil || id != "theirs" || f.creates != 1 {
			t.Fatalf("second ensure = %q %v (creates %d)", id, err, f.creates)
		}
	})

	t.Run("conflict with nothing to find", func(t *testing.T) {
		f := &fakeEngine{onCreate: func(n string) (int, map[string]any) {
			return http.StatusConflict, map[string]any{"message": "conflict"}
		}}
		d, srv := startFake(t, f)
		cli, _ := d.Client(srv)
		if _, err := d.ensureNetwork(ctx, srv, cli, name); core.ErrorKind(err) != core.KindConflict {
			t.Fatalf("ensure = %v, want conflict", err)
		}
	})

	t.Run("made twice, the older kept", func(t *testing.T) {
		f := &fakeEngine{}
		f.onCreate = func(n string) (int, map[string]any) {
			// An old engine makes ours although another replica's exists.
			f.networks = append(f.networks, fakeNetwork(n, "theirs", t0, true), fakeNetwork(n, "mine", t0.Add(time.Millisecond), true))
			return http.StatusCreated, map[string]any{"Id": "mine", "Warning": "Network with name " + n + " already exists"}
		}
		d, srv := startFake(t, f)
		cli, _ := d.Client(srv)
		id, err := d.ensureNetwork(ctx, srv, cli, name)
		if err != nil || id != "theirs" || len(f.removed) != 1 || f.removed[0] != "mine" {
			t.Fatalf("ensure = %q %v, removed %v", id, err, f.removed)
		}
	})

	t.Run("made twice, ours the older", func(t *testing.T) {
		f := &fakeEngine{}
		f.onCreate = func(n string) (int, map[string]any) {
			f.networks = append(f.networks, fakeNetwork(n, "mine", t0, true), fakeNetwork(n, "theirs", t0.Add(time.Millisecond), true))
			return http.StatusCreated, map[string]any{"Id": "mine"}
		}
		d, srv := startFake(t, f)
		cli, _ := d.Client(srv)
		id, err := d.ensureNetwork(ctx, srv, cli, name)
		if err != nil || id != "mine" || len(f.removed) != 0 {
			t.Fatalf("ensure = %q %v, removed %v", id, err, f.removed)
		}
	})

	t.Run("names matching in part and foreign networks", func(t *testing.T) {
		f := &fakeEngine{networks: []map[string]any{fakeNetwork(name+"-other", "longer", t0, true)}}
		f.onCreate = func(n string) (int, map[string]any) {
			f.networks = append(f.networks, fakeNetwork(n, "mine", t0.Add(time.Second), true))
			return http.StatusCreated, map[string]any{"Id": "mine"}
		}
		d, srv := startFake(t, f)
		cli, _ := d.Client(srv)
		if id, err := d.ensureNetwork(ctx, srv, cli, name); err != nil || id != "mine" {
			t.Fatalf("ensure = %q %v", id, err)
		}
		f.networks = append(f.networks, fakeNetwork("foreign", "x", t0, false))
		if _, err := d.ensureNetwork(ctx, srv, cli, "foreign"); core.ErrorKind(err) != core.KindConflict || f.creates != 1 {
			t.Fatalf("foreign network: %v (creates %d)", err, f.creates)
		}
	})
}
