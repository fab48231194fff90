package testenv

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/apps"
	"hostdeck/core/services"
)

// AppTree stores n (at least 1000) applications five levels deep (10, 40,
// 150 and 800 on the first four levels, the rest leaves) in one transaction,
// and returns them in creation order: the tree the applications' benchmarks
// list.
func AppTree(tb testing.TB, st Store, n int) []*apps.Application {
	tb.Helper()
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
		tb.Fatal(err)
	}
	return all
}

// AppMember makes a member that holds grants on the applications all
// through three groups: application.view on every seventh, application.deploy
// on every eleventh, and application.restart on every application by a grant
// of its own. It returns the member and how many applications it sees.
func AppMember(tb testing.TB, st Store, name string, all []*apps.Application) (*core.User, int) {
	tb.Helper()
	ctx := context.Background()
	u := &core.User{Name: name, Role: core.RoleMember}
	if err := st.CreateUser(ctx, u); err != nil {
		tb.Fatal(err)
	}
	var groups []*core.Group
	for i := range 3 {
		g := &core.Group{Name: fmt.Sprintf("%s-team-%d", name, i)}
		if err := st.CreateGroup(ctx, g); err != nil {
			tb.Fatal(err)
		}
		if err := st.AddGroupMember(ctx, g.ID, u.ID); err != nil {
			tb.Fatal(err)
		}
		groups = append(groups, g)
	}
	visible := 0
	err := st.InTx(ctx, func(q services.Queries) error {
		grant := func(g core.Grantee, action core.Action, resource string) error {
			_, err := q.AddGrant(ctx, &core.Grant{Grantee: g, Action: action, ResourceID: resource})
			return err
		}
		for i, a := range all {
			g := core.Grantee{Kind: core.GranteeGroup, ID: groups[i%3].ID}
			if i%7 == 0 {
				visible++
				if err := grant(g, core.ActionApplicationView, a.ID); err != nil {
					return err
				}
			}
			if i%11 == 0 {
				if err := grant(g, core.ActionApplicationDeploy, a.ID); err != nil {
					return err
				}
			}
		}
		return grant(core.Grantee{Kind: core.GranteeUser, ID: u.ID}, core.ActionApplicationRestart, "")
	})
	if err != nil {
		tb.Fatal(err)
	}
	return u, visible
}

// CountingStore counts the reads of what the access policy must know of a
// user (whole, or for some resources): how many a use case costs.
type CountingStore struct {
	Store
	Reads atomic.Int64
}

func (s *CountingStore) UserAccess(ctx context.Context, id string) (*core.UserAccess, error) {
	s.Reads.Add(1)
	return s.Store.UserAccess(ctx, id)
}

func (s *CountingStore) UserAccessOn(ctx context.Context, id string, ids []string) (*core.UserAccess, error) {
	s.Reads.Add(1)
	return s.Store.(core.ScopedAccessStore).UserAccessOn(ctx, id, ids)
}
