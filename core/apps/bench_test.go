package apps_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/apps"
	"hostdeck/core/services"
	"hostdeck/internal/testenv"
)

// benchTree stores n applications five levels deep (10, 40, 150 and 800 of
// the first four levels, the rest leaves) in one transaction, and returns
// them in creation order.
func benchTree(b *testing.B, st testenv.Store, n int) []*apps.Application {
	b.Helper()
	ctx := context.Background()
	levels := []int{10, 40, 150, 800, n - 1000}
	var all []*apps.Application
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := st.InTx(ctx, func(q services.Queries) error {
		var above []*apps.Application
		for _, size := range levels {
			var level []*apps.Application
			for i := range size {
				a := &apps.Application{Name: fmt.Sprintf("n%d", len(all)), RunUser: "svc", StartupCmd: "./run", CreatedAt: at.Add(time.Duration(len(all)) * time.Millisecond)}
				a.FullName = a.Name
				if len(above) > 0 {
					p := above[i%len(above)]
					a.ParentID, a.FullName = p.ID, p.FullName+"."+a.Name
				}
				if err := q.CreateApp(ctx, a); err != nil {
					return err
				}
				level = append(level, a)
				all = append(all, a)
			}
			above = level
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return all
}

// BenchmarkListApps lists a member's applications a page of 50 at a time,
// with the actions it may take on each, among 10,000 applications five
// levels deep: it holds application.view on every seventh and
// application.deploy on every eleventh through three groups, and
// application.restart on every one. It reports the 99th percentile of a
// page's time and the reads of the member's grants a page costs (one).
func BenchmarkListApps(b *testing.B) {
	st := &countingStore{Store: testenv.SQLite(b)}
	e := testenv.NewWith(b, testenv.Options{Store: st})
	ctx := context.Background()
	all := benchTree(b, st, 10_000)
	u := &core.User{Name: "member", Role: core.RoleMember}
	if err := st.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	var groups []*core.Group
	for i := range 3 {
		g := &core.Group{Name: fmt.Sprintf("team-%d", i)}
		if err := st.CreateGroup(ctx, g); err != nil {
			b.Fatal(err)
		}
		if err := st.AddGroupMember(ctx, g.ID, u.ID); err != nil {
			b.Fatal(err)
		}
		groups = append(groups, g)
	}
	visible := 0
	err := st.InTx(ctx, func(q services.Queries) error {
		grant := func(i int, action core.Action) error {
			g := core.Grantee{Kind: core.GranteeGroup, ID: groups[i%3].ID}
			_, err := q.AddGrant(ctx, &core.Grant{Grantee: g, Action: action, ResourceID: all[i].ID})
			return err
		}
		for i := range all {
			if i%7 == 0 {
				visible++
				if err := grant(i, core.ActionApplicationView); err != nil {
					return err
				}
			}
			if i%11 == 0 {
				if err := grant(i, core.ActionApplicationDeploy); err != nil {
					return err
				}
			}
		}
		_, err := q.AddGrant(ctx, &core.Grant{Grantee: core.Grantee{Kind: core.GranteeUser, ID: u.ID}, Action: core.ActionApplicationRestart})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	mctx := memberCtx(u)
	pages := (visible + 49) / 50
	times := make([]time.Duration, 0, b.N)
	reads := st.reads.Load()
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
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms/page")
	b.ReportMetric(float64(st.reads.Load()-reads)/float64(b.N), "grant-reads/page")
}
