package ops_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/ops"
	"hostdeck/core"
	"hostdeck/core/login"
	"hostdeck/internal/testenv"
)

// BenchmarkAppsPage serves GET /applications/?page_size=50 through the whole
// face (the key's lookup, the store's page of what the caller sees, the
// available_actions of every row, rendering) over 10,000 applications five
// levels deep, for a member holding grants through three roles (view on
// every seventh application, deploy on every eleventh, restart on all: 1,429
// applications, 29 pages) and for the admin, a page at a time through every
// page. The anchor in the same run, "prerendered", writes the member's first
// page from bytes held in memory. It reports each one's 99th percentile per
// page, and the member's reads of its grants per page (the permission check:
// one, whatever the page's size). It runs on SQLite, and on PostgreSQL when
// HOSTDECK_TEST_POSTGRES names one. Short: go test -run '^$' -bench AppsPage
// -benchtime 300x ./api/ops/.
func BenchmarkAppsPage(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchAppsPage(b, testenv.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchAppsPage(b, testenv.Postgres(b)) })
}

func benchAppsPage(b *testing.B, store testenv.Store) {
	st := &testenv.CountingStore{Store: store}
	env := testenv.NewWith(b, testenv.Options{Store: st})
	all := testenv.AppTree(b, st, 10_000)
	member, visible := testenv.AppMember(b, st, "member", all)
	h := ops.NewHandler(ops.Services{Core: env.Svc, Identity: env.Identity, Login: env.Login, Apps: env.Apps, Fleet: env.Fleet, Links: env.Links},
		ops.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	key := func(u *core.User) string {
		_, secret, err := env.Login.CreateKey(core.WithActor(context.Background(), login.ActorOf(u, testenv.Origin, "")), "bench", "")
		if err != nil {
			b.Fatal(err)
		}
		return "Token " + secret
	}
	memberKey, adminKey := key(member), key(env.Admin)
	get := func(auth string, page int) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/applications/?page_size=50&page="+strconv.Itoa(page), nil)
		r.Header.Set("Authorization", auth)
		return r
	}
	first := httptest.NewRecorder()
	h.ServeHTTP(first, get(memberKey, 1))
	want := []byte(`"count":` + strconv.Itoa(visible) + `,`)
	if first.Code != http.StatusOK || !bytes.Contains(first.Body.Bytes(), want) || !bytes.Contains(first.Body.Bytes(), []byte(`"deploy":true`)) {
		b.Fatalf("member's first page: %d %.300s", first.Code, first.Body)
	}
	prerendered := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write(first.Body.Bytes())
	})
	for _, bm := range []struct {
		name  string
		h     http.Handler
		auth  string
		pages int
	}{
		{"member", h, memberKey, (visible + 49) / 50},
		{"admin", h, adminKey, 200},
		{"prerendered", prerendered, memberKey, 1},
	} {
		b.Run(bm.name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			reads := st.Reads.Load()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				w := &discard{header: http.Header{}}
				r := get(bm.auth, i%bm.pages+1)
				start := time.Now()
				bm.h.ServeHTTP(w, r)
				times = append(times, time.Since(start))
				if w.status != http.StatusOK || w.n == 0 {
					b.Fatalf("page %d: status %d", i%bm.pages+1, w.status)
				}
				i++
			}
			slices.Sort(times)
			b.ReportMetric(times[len(times)*99/100].Seconds()*1000, "p99-ms/page")
			b.ReportMetric(float64(st.Reads.Load()-reads)/float64(len(times)), "grant-reads/page")
		})
	}
}

// discard is a ResponseWriter that counts what is written.
type discard struct {
	header http.Header
	status int
	n      int
}

func (d *discard) Header() http.Header { return d.header }
func (d *discard) WriteHeader(s int)   { d.status = s }
func (d *discard) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	d.n += len(p)
	return len(p), nil
}
