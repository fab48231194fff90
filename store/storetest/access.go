package storetest

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/desktop/machine"
)

// testGrants checks the access policy's grants: to users and to groups, on one
// resource or on every one, granted twice without change, listed with filters
// and pages, removed, and gone with their user.
func testGrants(t *testing.T, s Store) {
	ctx := context.Background()
	ann, ben := newUser(t, s, "ann"), newUser(t, s, "ben")
	g := &core.Group{Name: "deployers"}
	ok(t, s.CreateGroup(ctx, g))
	toAnn := core.Grantee{Kind: core.GranteeUser, ID: ann.ID}
	toBen := core.Grantee{Kind: core.GranteeUser, ID: ben.ID}
	toGroup := core.Grantee{Kind: core.GranteeGroup, ID: g.ID}

	view := &core.Grant{Grantee: toAnn, Action: core.ActionApplicationView, ResourceID: "app-7", CreatedAt: base}
	ok(t, s.AddGrant(ctx, view))
	again := &core.Grant{Grantee: toAnn, Action: core.ActionApplicationView, ResourceID: "app-7", CreatedAt: base.Add(time.Hour)}
	ok(t, s.AddGrant(ctx, again))
	diff(t, base, again.CreatedAt) // the first grant stays
	deploy := &core.Grant{Grantee: toGroup, Action: core.ActionApplicationDeploy, CreatedAt: base.Add(time.Minute)}
	ok(t, s.AddGrant(ctx, deploy))
	host := &core.Grant{Grantee: toBen, Action: core.ActionServerView, ResourceID: "srv-1", CreatedAt: base.Add(2 * time.Minute)}
	ok(t, s.AddGrant(ctx, host))
	// The same action on another resource, or to another grantee, is another grant.
	other := &core.Grant{Grantee: toAnn, Action: core.ActionApplicationView, ResourceID: "app-8", CreatedAt: base.Add(3 * time.Minute)}
	ok(t, s.AddGrant(ctx, other))

	nobody := "0190b6c4-6d5a-7000-8000-0000000000ff"
	wantKind(t, s.AddGrant(ctx, &core.Grant{Grantee: core.Grantee{Kind: core.GranteeUser, ID: nobody}, Action: core.ActionServerView}), core.KindNotFound)
	wantKind(t, s.AddGrant(ctx, &core.Grant{Grantee: core.Grantee{Kind: core.GranteeGroup, ID: nobody}, Action: core.ActionServerView}), core.KindNotFound)

	list := func(f core.GrantFilter) ([]*core.Grant, int) {
		t.Helper()
		gs, n, err := s.ListGrants(ctx, f)
		ok(t, err)
		return gs, n
	}
	all, n := list(core.GrantFilter{})
	diff(t, 4, n)
	diff(t, []*core.Grant{view, deploy, host, other}, all)
	got, n := list(core.GrantFilter{Grantee: &toAnn})
	diff(t, 2, n)
	diff(t, []*core.Grant{view, other}, got)
	got, _ = list(core.GrantFilter{Grantee: &toGroup})
	diff(t, []*core.Grant{deploy}, got)
	got, _ = list(core.GrantFilter{ResourceID: ptr("app-7")})
	diff(t, []*core.Grant{view}, got)
	got, _ = list(core.GrantFilter{ResourceID: ptr("")}) // grants on every resource
	diff(t, []*core.Grant{deploy}, got)
	got, _ = list(core.GrantFilter{Actions: []core.Action{core.ActionApplicationDeploy, core.ActionServerView}})
	diff(t, []*core.Grant{deploy, host}, got)
	got, n = list(core.GrantFilter{Actions: []core.Action{}})
	diff(t, 0, n)
	diff(t, []*core.Grant{}, got)
	got, n = list(core.GrantFilter{Page: core.Page{Offset: 1, Limit: 2}})
	diff(t, 4, n)
	diff(t, []*core.Grant{deploy, host}, got)

	ok(t, s.RemoveGrant(ctx, core.Grant{Grantee: toAnn, Action: core.ActionApplicationView, ResourceID: "app-7"}))
	wantKind(t, s.RemoveGrant(ctx, core.Grant{Grantee: toAnn, Action: core.ActionApplicationView, ResourceID: "app-7"}), core.KindNotFound)
	wantKind(t, s.RemoveGrant(ctx, core.Grant{Grantee: toAnn, Action: core.ActionApplicationView}), core.KindNotFound) // not the grant on app-8
	got, _ = list(core.GrantFilter{Grantee: &toAnn})
	diff(t, []*core.Grant{other}, got)

	ok(t, s.DeleteUser(ctx, ben.ID))
	got, n = list(core.GrantFilter{})
	diff(t, 2, n)
	diff(t, []*core.Grant{deploy, other}, got)
}

// testUserAccess checks what the access policy reads of a user at once: its own
// grants and its groups' (not other users' or other groups'), its roles by
// project, the projects it owns and the machines assigned to it.
func testUserAccess(t *testing.T, st Store) {
	s := st
	ctx := context.Background()
	ann, ben := newUser(t, s, "ann"), newUser(t, s, "ben")
	mine, theirs := &core.Group{Name: "mine"}, &core.Group{Name: "theirs"}
	ok(t, s.CreateGroup(ctx, mine))
	ok(t, s.CreateGroup(ctx, theirs))
	ok(t, s.AddGroupMember(ctx, mine.ID, ann.ID))
	ok(t, s.AddGroupMember(ctx, theirs.ID, ben.ID))
	grant := func(to core.Grantee, action core.Action, resource string) core.Grant {
		t.Helper()
		g := core.Grant{Grantee: to, Action: action, ResourceID: resource}
		ok(t, s.AddGrant(ctx, &g))
		return core.Grant{Grantee: to, Action: action, ResourceID: resource} // as UserAccess answers: no time
	}
	own := grant(core.Grantee{Kind: core.GranteeUser, ID: ann.ID}, core.ActionApplicationView, "app-7")
	viaGroup := grant(core.Grantee{Kind: core.GranteeGroup, ID: mine.ID}, core.ActionApplicationDeploy, "")
	grant(core.Grantee{Kind: core.GranteeUser, ID: ben.ID}, core.ActionServerView, "")
	grant(core.Grantee{Kind: core.GranteeGroup, ID: theirs.ID}, core.ActionServerEdit, "")

	p1, p2 := &core.Project{Name: "p1"}, &core.Project{Name: "p2"}
	owned := &core.Project{Name: "owned", OwnerID: ann.ID}
	for _, p := range []*core.Project{p1, p2, owned, {Name: "ben's", OwnerID: ben.ID}} {
		ok(t, s.CreateProject(ctx, p))
	}
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: p1.ID, UserID: ann.ID, Role: core.RoleMember}))
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: p1.ID, UserID: ann.ID, Role: core.RoleAdmin}))
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: p2.ID, UserID: ann.ID, Role: core.RoleMember}))
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: p2.ID, UserID: ben.ID, Role: core.RoleAdmin}))
	m1 := &core.Instance{Name: "m1", ServerID: "srv-1", ProjectID: p1.ID, State: core.StateActive}
	m2 := &core.Instance{Name: "m2", ServerID: "srv-1", ProjectID: p1.ID, State: core.StateActive}
	ok(t, s.CreateInstance(ctx, m1))
	ok(t, s.CreateInstance(ctx, m2))
	ok(t, s.AddMachineAssignment(ctx, &machine.MachineAssignment{MachineID: m1.ID, SubjectType: machine.SubjectUser, SubjectID: ann.ID, AssignedAt: base}))
	ok(t, s.AddMachineAssignment(ctx, &machine.MachineAssignment{MachineID: m2.ID, SubjectType: machine.SubjectUser, SubjectID: ben.ID, AssignedAt: base}))

	ua, err := s.UserAccess(ctx, ann.ID)
	ok(t, err)
	slices.SortFunc(ua.Grants, func(a, b core.Grant) int { return cmp.Compare(a.Action, b.Action) })
	for _, roles := range ua.ProjectRoles {
		slices.Sort(roles)
	}
	diff(t, &core.UserAccess{
		Grants:        []core.Grant{viaGroup, own}, // application.deploy sorts first
		ProjectRoles:  map[string][]core.Role{p1.ID: {core.RoleAdmin, core.RoleMember}, p2.ID: {core.RoleMember}},
		OwnedProjects: []string{owned.ID},
		Assigned:      []string{m1.ID},
	}, ua)

	none, err := s.UserAccess(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	ok(t, err)
	diff(t, &core.UserAccess{ProjectRoles: map[string][]core.Role{}}, none)

	// Scoped to some resources: the grants on them and on every resource,
	// the rest whole.
	scoped, isScoped := st.(core.ScopedAccessStore)
	if !isScoped {
		t.Fatalf("%T is no core.ScopedAccessStore", st)
	}
	onApp8 := grant(core.Grantee{Kind: core.GranteeGroup, ID: mine.ID}, core.ActionApplicationView, "app-8")
	grant(core.Grantee{Kind: core.GranteeGroup, ID: theirs.ID}, core.ActionApplicationView, "app-8") // ben's group
	grant(core.Grantee{Kind: core.GranteeUser, ID: ben.ID}, core.ActionApplicationEdit, "app-7")
	for _, tc := range []struct {
		ids  []string
		want []core.Grant
	}{
		{[]string{"app-7", "app-8", "app-9"}, []core.Grant{viaGroup, own, onApp8}},
		{[]string{"app-8"}, []core.Grant{viaGroup, onApp8}},
		{[]string{}, []core.Grant{viaGroup}},
	} {
		ua, err := scoped.UserAccessOn(ctx, ann.ID, tc.ids)
		ok(t, err)
		slices.SortFunc(ua.Grants, func(a, b core.Grant) int {
			return cmp.Or(cmp.Compare(a.Action, b.Action), cmp.Compare(a.ResourceID, b.ResourceID))
		})
		diff(t, tc.want, ua.Grants)
		diff(t, []string{m1.ID}, ua.Assigned)
		diff(t, []string{owned.ID}, ua.OwnedProjects)
		if len(ua.ProjectRoles) != 2 {
			t.Fatalf("scoped %v: roles %v", tc.ids, ua.ProjectRoles)
		}
	}
}
