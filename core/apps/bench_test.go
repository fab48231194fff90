package apps_test

import (
	"slices"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/apps"
	"hostdeck/internal/testenv"
)

// BenchmarkListApps lists a member's applications a page of 50 at a time,
// with the actions it may take on each, among 10,000 applications five
// levels deep: it holds application.view on every seventh and
// application.deploy on every eleventh through three groups, and
// application.restart on every one. It reports the 99th percentile of a
// page's time and the reads of the member's grants a page costs (one).
func BenchmarkListApps(b *testing.B) {
	st := &testenv.CountingStore{Store: testenv.SQLite(b)}
	e := testenv.NewWith(b, testenv.Options{Store: st})
	u, visible := testenv.AppMember(b, st, "member", testenv.AppTree(b, st, 10_000))
	mctx := memberCtx(u)
	pages := (visible + 49) / 50
	times := make([]time.Duration, 0, b.N)
	reads := st.Reads.Load()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		l, err := e.Apps.List(mctx, apps.AppFilter{Page: core.Page{Limit: 50, Offset: (i % pages) * 50}})
		if err != nil {
			b.Fatal(err)
		}
		acts, err := e.Apps.Actions(mctx, l.Items)
		if err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
		if l.Total != visible || len(l.Items) == 0 || len(acts) != len(l.Items) ||
			!slices.Contains(acts[0], core.ActionApplicationView) || !slices.Contains(acts[0], core.ActionApplicationRestart) {
			b.Fatalf("page %d: %d of %d, actions %v", i%pages, len(l.Items), l.Total, acts)
		}
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(times[len(times)*99/100].Seconds()*1000, "p99-ms/page")
	b.ReportMetric(float64(st.Reads.Load()-reads)/float64(b.N), "grant-reads/page")
}
