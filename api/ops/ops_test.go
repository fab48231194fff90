package ops_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/ops"
	"hostdeck/internal/testenv"
)

// site is the face served under /ops/ over a fresh core, driven over HTTP as
// a client of the document drives it.
type site struct {
	t     testing.TB
	env   *testenv.Env
	url   string
	admin string // the admin's Authorization header (Basic)
}

func start(tb testing.TB, o testenv.Options) *site {
	tb.Helper()
	env := testenv.NewWith(tb, o)
	h := ops.NewHandler(ops.Services{Core: env.Svc, Identity: env.Identity, Login: env.Login, Apps: env.Apps, Fleet: env.Fleet, Links: env.Links},
		ops.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	mux := http.NewServeMux()
	mux.Handle("/ops/", http.StripPrefix("/ops", h))
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return &site{t: tb, env: env, url: srv.URL + "/ops", admin: basicAuth(testenv.AdminUser, testenv.AdminPassword)}
}

// stores runs fn on SQLite and, when configured, on PostgreSQL.
func stores(t *testing.T, fn func(t *testing.T, s *site)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, start(t, testenv.Options{})) })
	t.Run("postgres", func(t *testing.T) { fn(t, start(t, testenv.Options{Store: testenv.Postgres(t)})) })
}

// answer is a response: its status, headers and JSON body.
type answer struct {
	status int
	header http.Header
	body   any
	raw    string
}

// call sends body (JSON unless a string or []byte) with the Authorization
// header auth ("" for none).
func (s *site) call(method, path, auth string, body any, header ...string) answer {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			s.t.Fatalf("%s %s: %d, not JSON: %q", method, path, resp.StatusCode, raw)
		}
	}
	if resp.StatusCode >= 500 {
		s.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return a
}

// as calls as the admin.
func (s *site) as(method, path string, body any) answer {
	s.t.Helper()
	return s.call(method, path, s.admin, body)
}

// want fails unless the answer has status.
func (a answer) want(t testing.TB, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.raw)
	}
	return a
}

// code fails unless the answer is an error with status and error_code.
func (a answer) code(t testing.TB, status, code int) answer {
	t.Helper()
	a.want(t, status)
	if got := a.num("error_code"); got != float64(code) {
		t.Fatalf("error_code %v, want %d: %s", got, code, a.raw)
	}
	return a
}

// get reads a dotted path of the body ("results.0.name").
func (a answer) get(path string) any {
	var v any = a.body
	if path == "" {
		return v
	}
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func (a answer) num(path string) float64 { n, _ := a.get(path).(float64); return n }
func (a answer) str(path string) string  { s, _ := a.get(path).(string); return s }
func (a answer) list(path string) []any  { l, _ := a.get(path).([]any); return l }

// names are the given key of each result.
func (a answer) names(key string) []string {
	var out []string
	for _, r := range a.list("results") {
		out = append(out, fmt.Sprint(r.(map[string]any)[key]))
	}
	return out
}

// path is a path with its id.
func path(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// user makes a user with a password and answers its id and Basic header.
func (s *site) user(name string) (float64, string) {
	s.t.Helper()
	a := s.as("POST", "/users/", map[string]any{"username": name, "email": name + "@example.test", "phone": "13800000000", "password": "Passw0rd-" + name}).want(s.t, 201)
	return a.num("id"), basicAuth(name, "Passw0rd-"+name)
}

// basicAuth is the Authorization header of HTTP Basic.
func basicAuth(name, password string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(name, password)
	return req.Header.Get("Authorization")
}
