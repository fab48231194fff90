package billmgr_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/billmgr"
	"hostdeck/internal/loadbench"
	"hostdeck/internal/testenv"
)

// benchInstances is how many instances BenchmarkInstancesPage lists from.
const benchInstances = 3000

// BenchmarkInstancesPage serves one func=instances&out=json page of the default
// size (100) through the whole handler (decoding, the session, core, the store's
// page and count, rendering) over benchInstances instances seeded in the store:
// the first page, the middle one (the deepest OFFSET) and the last. Two anchors
// in the same run: "prerendered" writes the first page's answer from bytes held
// in memory, the floor; "whoami" is the same session's cheapest func, the cost
// of a call that lists nothing (the session's lookup and its recorded use, a
// write, included). Short: go test -run '^$' -bench InstancesPage -benchtime 200x.
func BenchmarkInstancesPage(b *testing.B) {
	env := testenv.New(b)
	seedInstances(b, env, "vm", "", benchInstances)
	h := billmgr.NewHandler(env.Hosting, env.Catalogue, env.Login, billmgr.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	sess := benchLogin(b, h)
	get := func(pnum int) *http.Request {
		if pnum == 0 {
			return httptest.NewRequest(http.MethodGet, "/?func=whoami&out=json&auth="+sess, nil)
		}
		return httptest.NewRequest(http.MethodGet, "/?func=instances&out=json&auth="+sess+"&p_num="+strconv.Itoa(pnum), nil)
	}
	first := serveOnce(b, h, get(1))
	if !bytes.Contains(first, []byte(`"p_elems":{"$":"`+strconv.Itoa(benchInstances)+`"}`)) {
		b.Fatalf("page 1 = %.300s", first)
	}
	pages := (benchInstances + 99) / 100
	for _, bm := range []struct {
		name string
		h    http.Handler
		pnum int // 0: func=whoami
	}{
		{"page1", h, 1},
		{"middle", h, (pages + 1) / 2},
		{"last", h, pages},
		{"prerendered", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			w.Write(first)
		}), 1},
		{"whoami", h, 0},
	} {
		b.Run(bm.name, func(b *testing.B) {
			size := len(serveOnce(b, bm.h, get(bm.pnum)))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				w := &discard{header: http.Header{}}
				bm.h.ServeHTTP(w, get(bm.pnum))
				if w.status != http.StatusOK || w.n != size {
					b.Fatalf("status %d, %d bytes, want %d", w.status, w.n, size)
				}
			}
		})
	}
}

// benchLogin opens a session through the handler.
func benchLogin(b *testing.B, h http.Handler) string {
	b.Helper()
	body := serveOnce(b, h, httptest.NewRequest(http.MethodGet,
		"/?func=auth&out=json&username="+testenv.AdminUser+"&password="+testenv.AdminPassword, nil))
	var doc struct {
		Doc struct {
			Auth struct {
				ID string `json:"$id"`
			} `json:"auth"`
		} `json:"doc"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Doc.Auth.ID == "" {
		b.Fatalf("auth = %s (%v)", body, err)
	}
	return doc.Doc.Auth.ID
}

// serveOnce serves r and returns the body of a 200 answer that is not an error.
func serveOnce(b *testing.B, h http.Handler, r *http.Request) []byte {
	b.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"error"`)) {
		b.Fatalf("%d %.300s", w.Code, w.Body.Bytes())
	}
	return w.Body.Bytes()
}

// discard is a ResponseWriter that counts the body and keeps nothing, so that
// the benchmark measures the handler, not a buffer.
type discard struct {
	header http.Header
	status int
	n      int
}

func (d *discard) Header() http.Header { return d.header }

func (d *discard) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}

func (d *discard) Write(p []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	d.n += len(p)
	return len(p), nil
}

// BenchmarkAuthSession is a call authenticated by a panel session, a token
// with an idle timeout, through the face: func=whoami, which reads nothing once
// the session is checked. Its anchor is a handler that writes the same bytes.
func BenchmarkAuthSession(b *testing.B) {
	env := testenv.New(b)
	h := billmgr.NewHandler(env.Hosting, env.Catalogue, env.Login, billmgr.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	sess := benchLogin(b, h)
	get := func() *http.Request {
		return httptest.NewRequest(http.MethodGet, "/?func=whoami&out=json&auth="+sess, nil)
	}
	first := serveOnce(b, h, get())
	for _, bm := range []struct {
		name string
		h    http.Handler
	}{
		{"face", h},
		{"replay", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			w.Write(first)
		})},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := &discard{header: http.Header{}}
				bm.h.ServeHTTP(w, get())
				if w.status != http.StatusOK || w.n != len(first) {
					b.Fatalf("status %d, %d bytes, want %d", w.status, w.n, len(first))
				}
			}
		})
	}
}

// BenchmarkListInstances serves func=instances&out=json pages of 50 over
// 100,000 instances seeded through the store, over real HTTP, 50 connections at
// once, beside a server replaying the same bytes (loadbench.Compare): the first
// page and page 1,000, the middle of the list, as deep as a page gets.
// Authentication is authinfo=user:password: a password the login guard has
// verified recently costs a user lookup and a hash, where a session (auth=)
// records its use, a write, on every request.
func BenchmarkListInstances(b *testing.B) {
	env := testenv.New(b)
	seedInstances(b, env, "vm", "", 100_000)
	h := billmgr.NewHandler(env.Hosting, env.Catalogue, env.Login, billmgr.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	for _, bm := range []struct {
		name, auth string
		page       int
	}{
		{"page=1", "authinfo=" + testenv.AdminUser + ":" + testenv.AdminPassword, 1},
		{"page=1000", "authinfo=" + testenv.AdminUser + ":" + testenv.AdminPassword, 1000},
	} {
		b.Run(bm.name, func(b *testing.B) {
			loadbench.Compare(b, h, loadbench.Request{
				Path: "/?func=instances&out=json&p_cnt=50&p_num=" + strconv.Itoa(bm.page) + "&" + bm.auth,
			})
		})
	}
}
